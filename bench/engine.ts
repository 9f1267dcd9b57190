// `npm run bench:engine`: against moto, (1) alarm event → alias restored by the rollback function, in milliseconds and
// AWS calls, against a bare UpdateAlias measured in the same run; (2) each deployment function's bundle size and
// module init time, against an empty module's init measured the same way.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetAliasCommand, UpdateAliasCommand } from '@aws-sdk/client-lambda';
import { bundleFunctions } from '../scripts/lib/bundle';
import { FunctionKind, discoverFunctions } from '../scripts/lib/functions';
import { alarmEvent, pipelineEvent } from '../harness/events';
import { startCodePipelineRecorder } from '../harness/codepipeline-recorder';
import { startMoto } from '../harness/moto';
import { createLedgerTable, createSampleFunction, motoClients } from '../harness/moto-fixtures';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const root = process.cwd();

const moto = await startMoto({ lambdaSimple: true });
const recorder = await startCodePipelineRecorder();
try {
  Object.assign(process.env, moto.env, {
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', AWS_ENDPOINT_URL_CODEPIPELINE: recorder.endpoint, LEDGER_TABLE: 'bench-ledger', POWERTOOLS_METRICS_DISABLED: 'true', LOG_LEVEL: 'SILENT' });
  await createLedgerTable(moto, 'bench-ledger');
  const { lambdaClient } = await import('../deploy-functions/aws/lambda');
  const { dynamoDbClient } = await import('../deploy-functions/aws/ledger');
  const shiftTraffic = (await import('../deploy-functions/shift-traffic/handler')).handler;
  const rollback = (await import('../deploy-functions/rollback/handler')).handler;
  let calls = 0;
  const names: string[] = [];
  for (const client of [lambdaClient, dynamoDbClient]) {
    client.middlewareStack.add((next, context) => async (args) => {
      calls += 1;
      names.push(String((context as { commandName?: string }).commandName));
      return next(args);
    }, { step: 'initialize', name: 'benchCallCounter' });
  }
  const { lambda } = motoClients(moto);
  const context = { awsRequestId: 'bench', getRemainingTimeInMillis: () => 60_000 } as never;

  const rollbackMs: number[] = [];
  const bareMs: number[] = [];
  let rollbackCalls = 0;
  let movedOnCall = 0;
  for (let round = 0; round < ROUNDS; round += 1) {
    const fn = `bench-fn-${round}`;
    const alarm = `lrp/${fn}/live/errors`;
    await createSampleFunction(moto, fn, [alarm]);
    const release = pipelineEvent(`job-${round}`, { functionName: fn, targetAlias: 'candidate', strategy: 'AllAtOnce', bakeMinutes: 30 });
    recorder.createJob(release['CodePipeline.job'].id, release['CodePipeline.job'].data);
    await shiftTraffic(release, context);
    const before = calls;
    names.length = 0;
    const started = performance.now();
    await rollback(alarmEvent(alarm));
    rollbackMs.push(performance.now() - started);
    rollbackCalls = calls - before;
    movedOnCall = names.indexOf('UpdateAliasCommand') + 1;
    const alias = await lambda.send(new GetAliasCommand({ FunctionName: fn, Name: 'live' }));
    if (alias.FunctionVersion !== '1') throw new Error(`round ${round}: alias not restored`);
    const bareStarted = performance.now();
    await lambda.send(new UpdateAliasCommand({ FunctionName: fn, Name: 'live', FunctionVersion: '2' }));
    bareMs.push(performance.now() - bareStarted);
  }

  const deployment = discoverFunctions(root).filter((fn) => fn.kind === FunctionKind.DEPLOYMENT);
  const results = await bundleFunctions(deployment, { root });
  const scratch = mkdtempSync(join(tmpdir(), 'lrp-bench-init-'));
  const empty = join(scratch, 'empty.mjs');
  writeFileSync(empty, 'export const handler = async () => ({});\n');
  const initMs = (file: string) => {
    const samples = Array.from({ length: ROUNDS }, () =>
      Number(
        execFileSync(process.execPath, ['--input-type=module', '-e', `const t = performance.now(); await import(${JSON.stringify(file)}); console.log(performance.now() - t);`], {
          env: { ...process.env, AWS_REGION: 'us-east-1', LEDGER_TABLE: 'bench' },
          encoding: 'utf8',
        }).trim(),
      ),
    );
    return median(samples);
  };
  const emptyInit = initMs(empty);

  console.log(`bench:engine — against moto on loopback, ${ROUNDS} rounds, medians (Node ${process.version})`);
  console.log(`  alarm event → alias restored (rollback function): ${median(rollbackMs).toFixed(1)} ms, ${rollbackCalls} AWS calls; the alias moves on call ${movedOnCall} (${names.join(', ')})`);
  console.log(`  baseline: one bare UpdateAlias:                  ${median(bareMs).toFixed(1)} ms, 1 AWS call`);
  console.log(`  ratio rollback / bare UpdateAlias:               ${(median(rollbackMs) / median(bareMs)).toFixed(2)}x time, ${rollbackCalls}x calls`);
  console.log(`  module init of an empty module (baseline):       ${emptyInit.toFixed(1)} ms`);
  for (const result of results) {
    const init = initMs(join(root, 'dist', result.name, 'index.mjs'));
    console.log(`  ${result.name.padEnd(20)} zip ${String(result.bytes).padStart(7)} bytes, bundle ${String(statSync(join(root, 'dist', result.name, 'index.mjs')).size).padStart(8)} bytes, init ${init.toFixed(1)} ms (${(init / emptyInit).toFixed(1)}x empty)`);
  }
} finally {
  await recorder.stop();
  await moto.stop();
}
