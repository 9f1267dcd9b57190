// `npm run bench:engine`: against moto, (1) alarm event → alias restored by the rollback function, in milliseconds and
// AWS calls, against a bare UpdateAlias measured in the same run; (2) each deployment function's bundle size and
// module init time, against an empty module's init measured the same way, each with its verdict against issue 13's
// targets (zip ≤ 150 KB, init ≤ 15× the empty module's) and, when missed, by how much and which packages weigh most.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetAliasCommand, UpdateAliasCommand } from '@aws-sdk/client-lambda';
import { build } from 'esbuild';
import { bundleFunctions, esbuildOptions } from '../scripts/lib/bundle';
import { FunctionKind, discoverFunctions, type FunctionSource } from '../scripts/lib/functions';
import { alarmEvent, pipelineEvent } from '../harness/events';
import { startCodePipelineRecorder } from '../harness/codepipeline-recorder';
import { startMoto } from '../harness/moto';
import { createLedgerTable, createSampleFunction, motoClients } from '../harness/moto-fixtures';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
/** Issue 13's targets for a deployment function: its zip, and its module init against an empty module's. */
const TARGET_ZIP_KB = 150;
const TARGET_INIT_RATIO = 15;
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const root = process.cwd();
const kb = (bytes: number) => bytes / 1000;

/** What a deployment function's bundle is made of, by the group a package belongs to (first match wins). */
const GROUPS: readonly (readonly [string, RegExp])[] = [
  ['X-Ray tracing (Powertools Tracer, aws-xray-sdk-core)', /node_modules\/(@aws-lambda-powertools\/tracer|aws-xray-sdk-core|semver|cls-hooked|async-hook-jl|emitter-listener|shimmer|stack-chain)\//],
  ['AWS SDK', /node_modules\/(@aws-sdk|@smithy|@aws-crypto|@aws|tslib|fast-xml-parser|strnum|bowser)\//],
  ['Powertools logger and metrics', /node_modules\/@aws-lambda-powertools\//],
  ['zod/mini', /node_modules\/zod\//],
  ['own code', /^deploy-functions\//],
];

/** The groups that weigh most in a function's minified bundle, from esbuild's metafile: why a target is missed. */
async function heaviest(fn: FunctionSource, count = 3): Promise<string> {
  const options = esbuildOptions(root, fn);
  const { metafile } = await build({ ...options, write: false });
  const bytes = new Map<string, number>();
  for (const [path, input] of Object.entries(metafile!.outputs[options.outfile!]!.inputs)) {
    const group = GROUPS.find(([, pattern]) => pattern.test(path))?.[0] ?? 'other packages';
    bytes.set(group, (bytes.get(group) ?? 0) + input.bytesInOutput);
  }
  return [...bytes].sort((a, b) => b[1] - a[1]).slice(0, count).map(([name, size]) => `${name} ${kb(size).toFixed(0)} KB`).join(', ');
}

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
  console.log(`  targets (issue 13): zip ≤ ${TARGET_ZIP_KB} KB, init ≤ ${TARGET_INIT_RATIO}x the empty module's`);
  for (const result of results) {
    const fn = deployment.find((candidate) => candidate.name === result.name)!;
    const init = initMs(join(root, 'dist', result.name, 'index.mjs'));
    const ratio = init / emptyInit;
    const zipKb = kb(result.bytes);
    const misses = [
      ...(zipKb > TARGET_ZIP_KB ? [`zip by ${(zipKb - TARGET_ZIP_KB).toFixed(0)} KB`] : []),
      ...(ratio > TARGET_INIT_RATIO ? [`init by ${(ratio - TARGET_INIT_RATIO).toFixed(1)}x (${(init - TARGET_INIT_RATIO * emptyInit).toFixed(0)} ms)`] : []),
    ];
    const verdict = misses.length === 0 ? 'targets met' : `missed: ${misses.join(', ')}, because of what it loads (minified): ${await heaviest(fn)}`;
    console.log(`  ${result.name.padEnd(20)} zip ${zipKb.toFixed(1).padStart(6)} KB, bundle ${kb(statSync(join(root, 'dist', result.name, 'index.mjs')).size).toFixed(0).padStart(5)} KB, init ${init.toFixed(1).padStart(6)} ms vs empty ${emptyInit.toFixed(1)} ms = ${ratio.toFixed(1).padStart(4)}x — ${verdict}`);
  }
} finally {
  await recorder.stop();
  await moto.stop();
}
