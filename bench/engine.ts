// `npm run bench:engine`: against moto, (1) alarm event → alias restored by the rollback function, in milliseconds and
// AWS calls, against a bare UpdateAlias measured in the same run; (2) each deployment function's zip as the CDK uploads
// it and its module init time against an empty module's measured the same way, each with its verdict against issue
// 13's targets (zip ≤ 150 KB, init ≤ 15× the empty module's), by how much a target is met or missed, and what weighs
// most in the bundle. The bundles are built with the options synth deploys (scripts/lib/bundle.ts, esbuildOptions).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetAliasCommand, UpdateAliasCommand } from '@aws-sdk/client-lambda';
import { build } from 'esbuild';
import { DEPLOYMENT_ZIP_TARGET_KB, deployedZipBytes } from '../infra/lib/deployment-function-bundling';
import { bundleFunctions, esbuildOptions } from '../scripts/lib/bundle';
import { FunctionKind, discoverFunctions, type FunctionSource } from '../scripts/lib/functions';
import { alarmEvent, pipelineEvent } from '../harness/events';
import { startCodePipelineRecorder } from '../harness/codepipeline-recorder';
import { startMoto } from '../harness/moto';
import { lambdaContext } from '../harness/lambda-context';
import { createLedgerTable, createSampleFunction, motoClients } from '../harness/moto-fixtures';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
/** Issue 13's init target for a deployment function: its module init against an empty module's. */
const TARGET_INIT_RATIO = 15;
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const root = process.cwd();
const kb = (bytes: number) => bytes / 1000;

/** What a deployment function's bundle is made of, by the group a package belongs to (first match wins). */
const GROUPS: readonly (readonly [string, RegExp])[] = [
  ['SDK core (@smithy, @aws-sdk/core)', /node_modules\/(@smithy|@aws-sdk\/core|@aws-sdk\/types|@aws-crypto|@aws\/|tslib|bowser)\//],
  ['Lambda client', /node_modules\/@aws-sdk\/client-lambda\//],
  ['DynamoDB client', /node_modules\/(@aws-sdk\/(client-dynamodb|lib-dynamodb|util-dynamodb|dynamodb-codec|endpoint-cache|middleware-endpoint-discovery)|mnemonist|obliterator)\//],
  ['other SDK clients', /node_modules\/@aws-sdk\/client-/],
  ['Powertools logger and metrics', /node_modules\/@aws-lambda-powertools\//],
  ['zod/mini', /node_modules\/zod\//],
  ['signed S3, STS and SNS calls', /^deploy-functions\/aws\/(signed-request|s3|sts-assume-role|sns-publish)\.ts$/],
  ['own code', /^deploy-functions\//],
];

/** The groups that weigh most in a function's minified bundle, from esbuild's metafile: what its size is made of. */
async function heaviest(fn: FunctionSource, count = 4): Promise<string> {
  const options = esbuildOptions(root, fn);
  const { metafile } = await build({ ...options, write: false });
  const bytes = new Map<string, number>();
  for (const [path, input] of Object.entries(metafile!.outputs[options.outfile!]!.inputs)) {
    const group = GROUPS.find(([, pattern]) => pattern.test(path))?.[0] ?? 'other packages';
    bytes.set(group, (bytes.get(group) ?? 0) + input.bytesInOutput);
  }
  return [...bytes].sort((a, b) => b[1] - a[1]).slice(0, count).map(([name, size]) => `${name} ${kb(size).toFixed(0)}`).join(', ');
}

/** "met by 12.3 KB" / "missed by 4.5 KB": how far a value is from its target, and on which side. */
const against = (value: number, target: number, unit: string, digits = 1) =>
  `${value <= target ? 'met' : 'MISSED'} by ${Math.abs(target - value).toFixed(digits)}${unit}`;

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
  const context = lambdaContext({ functionName: 'lrp-deployment-function', timeoutSeconds: 60, awsRequestId: 'bench' });

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
    await rollback(alarmEvent(alarm), context);
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
  console.log(`  deployment functions, targets (issue 13): zip ≤ ${DEPLOYMENT_ZIP_TARGET_KB} KB as the CDK uploads it, init ≤ ${TARGET_INIT_RATIO}x the empty module's; KB = 1000 bytes`);
  for (const result of results) {
    const fn = deployment.find((candidate) => candidate.name === result.name)!;
    const bundle = join(root, 'dist', result.name, 'index.mjs');
    const init = initMs(bundle);
    const ratio = init / emptyInit;
    const zipKb = kb(deployedZipBytes(readFileSync(bundle)));
    console.log(`  ${result.name.padEnd(20)} zip ${zipKb.toFixed(1).padStart(5)} KB (${against(zipKb, DEPLOYMENT_ZIP_TARGET_KB, ' KB')}), init ${init.toFixed(1).padStart(5)} ms = ${ratio.toFixed(1).padStart(4)}x (${against(ratio, TARGET_INIT_RATIO, 'x')})`);
    console.log(`  ${''.padEnd(20)} minified ${kb(readFileSync(bundle).byteLength).toFixed(0)} KB, most of it (KB): ${await heaviest(fn)}`);
  }
} finally {
  await recorder.stop();
  await moto.stop();
}
