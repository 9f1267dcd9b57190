// `npm run pipeline:local`: the whole release flow on this machine, against moto (an AWS emulator on loopback),
// with the real deployment functions' handlers and time-compressed steps:
//   build → unit tests → package (to the emulator's S3) → deploy (Lambda API: moto has no SAM transform)
//   → integration tests on `candidate` → canary release 1 of each function, shown by `lrp status --watch`
//   → release 2 of the first function, whose alarm goes to ALARM mid-rollout → automatic rollback
// The functions are every one `release.config.ts` configures that has a folder under functions/ (harness/local-release.ts).
// Two accounts, as teams run it: each release is deployed and tested in staging in the tooling account (moto's default),
// then in production in a second account and region (harness/local-release.ts puts the stage there, as release.config.ts
// would with its account and region fields). The deployment functions run with the tooling account's credentials only
// and act on production through its deployer role; every step says in which account it ran.
// It ends with the status table, the ledger history and a timeline of traffic weight with the alarm marked.
// LRP_LOCAL_SUMMARY=<file> also writes the final state as JSON (used by the test).
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Context } from 'aws-lambda';
import { SetAlarmStateCommand } from '@aws-sdk/client-cloudwatch';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetAliasCommand } from '@aws-sdk/client-lambda';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { startCodePipelineRecorder, type PipelineHandler } from '../harness/codepipeline-recorder';
import { startMoto } from '../harness/moto';
import { PythonToolsSource, ensurePythonTools } from '../harness/python-tools';
import { alarmEvent } from '../harness/events';
import { invokeHandler, lambdaContext } from '../harness/lambda-context';
import { LOCAL_TOOLING, loadReleaseConfig, localReleaseConfig, planLocalRelease } from '../harness/local-release';
import { motoAccount } from '../harness/moto-accounts';
import { LocalStage, exportOf, templateSettings } from '../harness/local-stage';
import { planRelease } from '../infra/lib/release-plan';
import { StageEnvironments } from '../infra/lib/stage-environments';
import { bundleFunctions, deterministicZip } from './lib/bundle';
import { FunctionKind, discoverFunctions, type FunctionSource } from './lib/functions';
import { packageFunctions, resolveCommitSha } from './lib/package';
import { caseFilesOf, caseSourceOf } from '../infra/lib/case-source';
import { CaseFormat } from '../deploy-functions/core/cases';
import { DEFAULT_INSTALLATION, aliasLabel, deployerRoleName, generatedAlarmName, stageFunctionName } from '../deploy-functions/core/names';

const root = process.cwd();
const configured = await loadReleaseConfig(root);
const plan = planLocalRelease(root, configured);
const STAGE = plan.stage;
const STAGES = [...plan.earlierStages, STAGE];
// Where each stage deploys, and each action's UserParameters, exactly as synth plans them for this configuration.
const localConfig = localReleaseConfig(configured, plan);
const environments = StageEnvironments.of(localConfig, LOCAL_TOOLING);
const pipelines = planRelease(localConfig, { casesOf: (name) => caseSourceOf(root, name), environments });
/** The UserParameters synth gives action `action` of `fn`'s stage `stage`, or undefined when that stage has no such action. */
const userParametersOf = (fn: string, stage: string, action: string): Record<string, unknown> | undefined => {
  const planned = pipelines.find((p) => p.function.name === fn)?.stages.find((s) => s.name === `Deploy-${stage}`)?.actions.find((a) => a.kind === 'invoke' && a.name === action);
  return planned?.kind === 'invoke' ? planned.userParameters : undefined;
};
/** How the deployment functions name `fn` in `stage`: its name in the tooling account, its ARN in another. */
const refOf = (fn: string, stage: string) => environments.functionRef(fn, stage);
/** The role standing in for the CDK bootstrap deploy role of a target account: what CloudFormation would deploy with. */
const DEPLOY_ROLE = 'lrp-local-deploy';
/** Who acts in a stage's account: CloudFormation's stand-in (deploy, publish) or a deployment function (tests, shifts). */
type Actor = 'deploy' | 'deployment function';
/** Where a step ran, as the summary shows it: the account and region, and the role assumed there (none at home). */
const whereOf = (stage: string, actor: Actor = 'deployment function') => {
  const env = environments.of(stage);
  return { stage, account: env.account, region: env.region, actor, ...(env.remote ? { via: actor === 'deploy' ? DEPLOY_ROLE : deployerRoleName(DEFAULT_INSTALLATION, env.region) } : {}) };
};
const inAccount = (stage: string, actor?: Actor) => {
  const where = whereOf(stage, actor);
  return `[${where.stage}: account ${where.account} ${where.region}${where.via ? `, through ${where.via}` : ''}]`;
};
/** Every step that acted in an account, in order: the summary's record of where each ran. */
const placed: (ReturnType<typeof whereOf> & { readonly title: string })[] = [];
const STEP_SECONDS = 3;
const started = performance.now();
const elapsed = () => ((performance.now() - started) / 1000).toFixed(1).padStart(5);

/** Runs one step, printing it with its duration; a failing step ends the run with its message. */
async function step<T>(title: string, work: () => Promise<T> | T, options: { readonly showsOutput?: boolean } = {}): Promise<T> {
  // A step that prints as it goes (the rollouts, through lrp status --watch) ends its title line first.
  const indent = options.showsOutput ? '           ' : '';
  process.stdout.write(`[${elapsed()} s] ▶ ${title} … ${options.showsOutput ? '\n' : ''}`);
  const begin = performance.now();
  try {
    const result = await work();
    console.log(`${indent}✓ ${Math.round(performance.now() - begin)} ms`);
    return result;
  } catch (error) {
    console.log(`${indent}✗`);
    throw error;
  }
}

const discovered = new Map(discoverFunctions(root).filter((fn) => fn.kind === FunctionKind.APPLICATION).map((fn) => [fn.name, fn]));
const applications = plan.functions.map((name) => discovered.get(name)!);
const commit = resolveCommitSha(root);

await step(`build ${applications.length} functions (esbuild, zip)`, () => bundleFunctions(applications, { root }));
await step('unit tests of the functions (vitest)', () => {
  const run = spawnSync('npx', ['vitest', 'run', 'test/functions', '--reporter=dot'], { cwd: root, encoding: 'utf8', env: { ...process.env, CI: '' } });
  if (run.status !== 0) throw new Error(`unit tests failed:\n${run.stdout}${run.stderr}`);
});
await step('Python tools: moto, cfn-lint, the AWS CLI (the machine\'s, else pinned in .lrp/python)', () => {
  const tools = ensurePythonTools({ root });
  if (tools.source === PythonToolsSource.MISSING) throw new Error('moto, cfn-lint or the AWS CLI is missing and LRP_PYTHON_BOOTSTRAP=0: install them (pip install "moto[server]" cfn-lint awscli)');
  return tools;
});
const moto = await step('start the AWS emulator (moto) on loopback', () => startMoto({ lambdaSimple: true }));
const recorder = await startCodePipelineRecorder();
const config = { endpoint: moto.endpoint, region: LOCAL_TOOLING.region, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } };
const s3 = new S3Client({ ...config, forcePathStyle: true });
const samples: { t: number; fn: string; version: string; weights: Record<string, number> }[] = [];
const marks: { t: number; label: string }[] = [];
const clock = () => (performance.now() - started) / 1000;
try {
  Object.assign(process.env, moto.env, {
    AWS_ENDPOINT_URL_CODEPIPELINE: recorder.endpoint,
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    LEDGER_TABLE: 'lrp-ledger',
    S3_FORCE_PATH_STYLE: 'true',
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'SILENT',
    POWERTOOLS_METRICS_DISABLED: 'true',
    HEALTH_CHECK_INTERVAL_SECONDS: '0.2',
    MAX_INVOCATION_SECONDS: '2',
    SAFETY_MARGIN_SECONDS: '0.5',
    // As the tooling stack configures the deployment functions: the remote stages' environments.
    LRP_TARGET_ENVS: environments.targetEnvsVariable,
  });
  // The deployment functions, loaded after the environment points their SDK clients at the emulator. They hold the
  // tooling account's credentials only (the `test` keys): production is reached through its deployer role.
  const shiftTraffic = (await import('../deploy-functions/shift-traffic/handler')).handler as unknown as PipelineHandler;
  const integrationTest = (await import('../deploy-functions/integration-test/handler')).handler as unknown as PipelineHandler;
  const rollback = (await import('../deploy-functions/rollback/handler')).handler as (event: unknown, context: Context) => Promise<{ action: string; reason: string }[]>;
  const { aliasStatus, history } = await import('../cli/operations');
  const { awsDeps } = await import('../cli/aws-deps');
  const { run: runCli } = await import('../cli/main');
  const { statusTable, historyTable } = await import('../cli/format');
  const functionArnOf = (name: string) => `arn:aws:lambda:${LOCAL_TOOLING.region}:${LOCAL_TOOLING.account}:function:${name}`;

  // Each stage in its account, as its own deploy role (CloudFormation in AWS) reaches it.
  const stages = new Map<string, LocalStage>();
  for (const stage of STAGES) stages.set(stage, new LocalStage(root, stage, await motoAccount(moto, environments.of(stage), { defaultAccount: LOCAL_TOOLING.account, roleName: DEPLOY_ROLE }), commit));
  const account = (stage: string) => stages.get(stage)!.account;

  await step('create the artifact bucket and the ledger table (tooling account)', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'lrp-artifacts' }));
    await new DynamoDBClient(config).send(
      new CreateTableCommand({
        TableName: 'lrp-ledger',
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }, { AttributeName: 'sk', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }, { AttributeName: 'sk', KeyType: 'RANGE' }],
      }),
    );
  });
  await step('package (aws cloudformation package → emulator S3)', () =>
    packageFunctions(applications, { root, bucket: 'lrp-artifacts', commitSha: commit, tool: 'aws', env: { ...process.env, ...moto.env } }),
  );

  for (const stage of STAGES) {
    const target = stages.get(stage)!;
    const shifts = userParametersOf(plan.alarmTarget, stage, 'ShiftTraffic') !== undefined;
    await step(`deploy ${applications.map((a) => stageFunctionName(a.name, stage)).join(', ')} (Lambda API; version 1 live${shifts ? ', alarms' : ''}) ${inAccount(stage, 'deploy')}`, async () => {
      // As the target stack creates it there: trusted by the tooling account only.
      if (environments.of(stage).remote) await target.account.createRole(deployerRoleName(DEFAULT_INSTALLATION, target.account.env.region), { AWS: `arn:aws:iam::${LOCAL_TOOLING.account}:root` });
      await target.deploy(applications, { alarms: shifts });
    });
  }
  const publish = (name: string, stage: string, release: number) => stages.get(stage)!.publish(name, release);

  // What each function is tested with, as synth decides it: its integration cases, else its events as smoke cases.
  const caseSources = new Map(
    applications.map((app) => {
      const source = caseSourceOf(root, app.name);
      if (!source || 'missing' in source) throw new Error(source?.missing ?? `functions/${app.name} does not exist`);
      return [app.name, source] as const;
    }),
  );
  // The build output artifact, as CodeBuild would hand it to the pipeline: the cases (or events) of every function.
  const artifact = deterministicZip(Object.fromEntries(applications.flatMap((app) => caseFilesOf(root, caseSources.get(app.name)!).map((file) => [file, readFileSync(join(root, file))]))));
  await s3.send(new PutObjectCommand({ Bucket: 'lrp-artifacts', Key: 'local/BuildOutput.zip', Body: artifact }));

  /**
   * Runs the integration-test action synth plans for the stage against `candidate`. Moto runs no code without Docker,
   * so the stage's account is given the answers the real bundles give.
   */
  const integrationTests = async (app: FunctionSource, stage: string, jobId: string) => {
    const { name } = app;
    const source = caseSources.get(name)!;
    const files = caseFilesOf(root, source);
    const settings = templateSettings(root, name);
    for (const [key, value] of Object.entries(settings.variables)) process.env[key] = value;
    const bundle = (await import(`${pathToFileURL(join(root, 'dist', name, 'index.mjs')).href}?local`)) as Record<string, (event: unknown, context: Context) => Promise<unknown>>;
    const handler = bundle[exportOf(app)]!;
    const { env } = account(stage);
    const context = () => lambdaContext({ functionName: stageFunctionName(name, stage), qualifier: 'candidate', timeoutSeconds: settings.timeout, memoryLimitInMB: settings.memory, region: env.region, accountId: env.account });
    const answers = [];
    for (const file of files) {
      const content = JSON.parse(readFileSync(join(root, file), 'utf8')) as { event?: unknown };
      // A case file holds its event; an events file is the event.
      const event = source.format === CaseFormat.CASES ? content.event : content;
      answers.push(JSON.stringify(await invokeHandler(handler, event, context())));
    }
    await fetch(`${moto.endpoint}/moto-api/static/lambda-simple/response`, { method: 'POST', body: JSON.stringify({ results: answers, region: env.region, account_id: env.account }) });
    const result = await recorder.runJob(
      integrationTest,
      jobId,
      {
        actionConfiguration: { configuration: { UserParameters: JSON.stringify({ ...userParametersOf(name, stage, 'IntegrationTests'), concurrency: 1 }) } },
        inputArtifacts: [{ name: 'BuildOutput', location: { s3Location: { bucketName: 'lrp-artifacts', objectKey: 'local/BuildOutput.zip' } } }],
        artifactCredentials: { accessKeyId: 'test', secretAccessKey: 'test', sessionToken: 'test' },
      },
      { invokedFunctionArn: functionArnOf('lrp-integration-test') },
    );
    if (result.operation !== 'PutJobSuccessResult') throw new Error((result.input.failureDetails as { message: string }).message);
    return (result.input.outputVariables as { passed: string }).passed;
  };

  /** What `lrp status --watch` answered for each rollout: 0 succeeded, 1 rolled back. */
  const watchExits: { functionName: string; jobId: string; exitCode: number }[] = [];
  /**
   * Shifts `live` with the action synth plans, its canary time-compressed, shown as it happens by `lrp status --watch`
   * (started first, as the engineer on call would, one line per change), and sampled for the timeline meanwhile.
   */
  const shift = async (name: string, jobId: string, during?: () => void) => {
    const functionName = refOf(name, STAGE);
    const watching = runCli(['status', '--watch', '--interval', '0.25', functionName], (table, needs) => awsDeps(table, needs), (line) => console.log(`           │ ${line}`), (line) => console.error(`           │ ${line}`), {
      isTty: false,
    });
    const sampler = setInterval(() => {
      void account(STAGE)
        .lambda.send(new GetAliasCommand({ FunctionName: stageFunctionName(name, STAGE), Name: 'live' }))
        .then((a) => samples.push({ t: clock(), fn: name, version: a.FunctionVersion!, weights: a.RoutingConfig?.AdditionalVersionWeights ?? {} }));
    }, 100);
    during?.();
    // Synth's parameters with the canary compressed to seconds; the pipeline's own variables are not filled here.
    const { pipelineExecutionId: _execution, hotfixReason: _hotfix, ...planned } = userParametersOf(name, STAGE, 'ShiftTraffic')!;
    try {
      return await recorder.runJob(
        shiftTraffic,
        jobId,
        { actionConfiguration: { configuration: { UserParameters: JSON.stringify({ ...planned, strategy: { steps: [{ percent: 10, minutes: STEP_SECONDS / 60 }, { percent: 50, minutes: STEP_SECONDS / 60 }] }, bakeMinutes: 1 }) } } },
        { invokedFunctionArn: functionArnOf('lrp-shift-traffic') },
      );
    } finally {
      // A little longer, so the timeline shows where traffic settled.
      await new Promise((resolve) => setTimeout(resolve, 600));
      clearInterval(sampler);
      watchExits.push({ functionName, jobId, exitCode: await watching });
    }
  };

  /** A step that acts in a stage's account, recorded with where it ran. */
  const placedStep = <T>(stage: string, title: string, work: () => Promise<T>, options: { readonly showsOutput?: boolean; readonly actor?: Actor } = {}) => {
    placed.push({ title, ...whereOf(stage, options.actor) });
    return step(`${title} ${inAccount(stage, options.actor)}`, work, options);
  };
  /** Release `release` of `app` through the stages before production: publish, then the integration tests synth plans there. */
  const throughEarlierStages = async (app: FunctionSource, release: number) => {
    for (const stage of plan.earlierStages) {
      const version = await placedStep(stage, `release ${release} of ${app.name}: publish version, move candidate in ${stage}`, () => publish(app.name, stage, release), { actor: 'deploy' });
      if (userParametersOf(app.name, stage, 'IntegrationTests')) {
        const passed = await placedStep(stage, `release ${release} of ${app.name}: integration tests on ${stage} candidate (v${version})`, () => integrationTests(app, stage, `it-${release}-${app.name}-${stage}`));
        console.log(`           ${passed} cases passed`);
      }
    }
  };

  // Release 1 of every function: staging, then a healthy canary in production.
  for (const app of applications) {
    await throughEarlierStages(app, 1);
    const version = await placedStep(STAGE, `release 1 of ${app.name}: publish version, move candidate`, () => publish(app.name, STAGE, 1), { actor: 'deploy' });
    const passed = await placedStep(STAGE, `release 1 of ${app.name}: integration tests on candidate (v${version})`, () => integrationTests(app, STAGE, `it-1-${app.name}`));
    console.log(`           ${passed} cases passed`);
    const result = await placedStep(STAGE, `release 1 of ${app.name}: shift live to v${version} (10 % → 50 % → 100 %, ${STEP_SECONDS} s per step)`, () => shift(app.name, `shift-1-${app.name}`), { showsOutput: true });
    console.log(`           ${result.operation === 'PutJobSuccessResult' ? 'succeeded' : 'FAILED'}: ${(result.input.executionDetails as { summary?: string } | undefined)?.summary ?? (result.input.failureDetails as { message: string }).message}`);
  }

  // Release 2 of the first function: its error alarm fires during the canary; the engine and the rollback function react.
  const target = plan.alarmTarget;
  const alarm = generatedAlarmName(DEFAULT_INSTALLATION, stageFunctionName(target, STAGE), 'live', 'errors');
  const prod = account(STAGE);
  const rollbackContext = () => lambdaContext({ functionName: 'lrp-rollback', timeoutSeconds: 120, region: LOCAL_TOOLING.region, accountId: LOCAL_TOOLING.account });
  await throughEarlierStages(discovered.get(target)!, 2);
  const version = await placedStep(STAGE, `release 2 of ${target}: publish version, move candidate`, () => publish(target, STAGE, 2), { actor: 'deploy' });
  await placedStep(STAGE, `release 2 of ${target}: integration tests on candidate (v${version})`, () => integrationTests(discovered.get(target)!, STAGE, `it-2-${target}`));
  const failed = await placedStep(
    STAGE,
    `release 2 of ${target}: shift live to v${version}; ${alarm} goes to ALARM after ${STEP_SECONDS / 2} s`,
    () =>
      shift(target, `shift-2-${target}`, () => {
        setTimeout(() => {
          marks.push({ t: clock(), label: `${alarm} → ALARM` });
          void prod.cloudwatch
            .send(new SetAlarmStateCommand({ AlarmName: alarm, StateValue: 'ALARM', StateReason: 'Threshold Crossed: 12 errors in 1 minute (injected by pipeline:local)' }))
            .then(() =>
              // As the target stack forwards it to the tooling account's bus: the alarm's account and region, when it changed state.
              rollback(alarmEvent(alarm, 'ALARM', 'Threshold Crossed', Date.now(), prod.env), rollbackContext()),
            );
        }, (STEP_SECONDS / 2) * 1000);
      }),
    { showsOutput: true },
  );
  console.log(`           ${failed.operation === 'PutJobFailureResult' ? 'rolled back' : 'UNEXPECTED SUCCESS'}: ${(failed.input.failureDetails as { message?: string } | undefined)?.message ?? ''}`);
  // The same alarm event, forged as coming from an account that is no target: refused, whatever it names.
  const forged = await step('a forged alarm event from account 999999999999 (no target)', () => rollback(alarmEvent(alarm, 'ALARM', 'Threshold Crossed', Date.now(), { account: '999999999999', region: prod.env.region }), rollbackContext()));
  console.log(`           ${forged.map((a) => `${a.action}: ${a.reason}`).join('; ')}`);

  const deps = await awsDeps('lrp-ledger');
  const statuses = [];
  for (const app of applications) statuses.push(await aliasStatus(deps, { functionName: refOf(app.name, STAGE), alias: 'live' }));
  const histories: Record<string, Awaited<ReturnType<typeof history>>> = {};
  for (const app of applications) histories[app.name] = await history(deps, { functionName: refOf(app.name, STAGE), alias: 'live' });
  console.log(`\nStatus (lrp status):\n${statusTable(statuses)}`);
  for (const app of applications) console.log(`\nHistory of ${aliasLabel({ functionName: refOf(app.name, STAGE), alias: 'live' })} (lrp history):\n${historyTable(histories[app.name]!)}`);

  const aliasIn = (stage: string, name: string) => stages.get(stage)!.live(name);
  // Where production's aliases are, and are not: moved in the production account only; the tooling account (both
  // regions) has no function of that name, and production's account none of the staging functions.
  const placement = [];
  const tooling = new LocalStage(root, 'tooling', await motoAccount(moto, { ...LOCAL_TOOLING, region: prod.env.region }, { defaultAccount: LOCAL_TOOLING.account, roleName: DEPLOY_ROLE }), commit);
  for (const app of applications) {
    const prodName = stageFunctionName(app.name, STAGE);
    placement.push({
      function: app.name,
      prodAccount: await aliasIn(STAGE, prodName),
      toolingAccount: await aliasIn(plan.earlierStages[0] ?? STAGE, prodName),
      toolingAccountProdRegion: await tooling.live(prodName),
      stagingInProdAccount: await Promise.all(plan.earlierStages.map((stage) => aliasIn(STAGE, stageFunctionName(app.name, stage)))),
      // Staging moves only candidate: its live alias stays on the version it was deployed with.
      stagingLive: await Promise.all(plan.earlierStages.map((stage) => aliasIn(stage, stageFunctionName(app.name, stage)))),
    });
  }
  console.log(`\nWhere each step ran (account, region, role assumed there, by whom):\n${placed.map((p) => `  ${p.account} ${p.region.padEnd(9)} ${(p.via ?? '-').padEnd(22)} ${p.actor.padEnd(19)} ${p.title}`).join('\n')}`);

  // Timeline of the second release: share of live traffic on the new version over time.
  const second = samples.filter((s) => s.fn === target && s.t >= (samples.find((x) => x.fn === target && (x.version === version || x.weights[version] !== undefined))?.t ?? Infinity) - 0.3);
  console.log(`\nTimeline of ${stageFunctionName(target, STAGE)} release 2 (traffic on v${version}):`);
  let lastPrinted = -1;
  for (const sample of second) {
    const percent = sample.version === version ? 100 : Math.round((sample.weights[version] ?? 0) * 100);
    const mark = marks.find((m) => m.t <= sample.t && m.t > lastPrinted);
    if (sample.t - lastPrinted < 0.25 && !mark) continue;
    console.log(`  ${sample.t.toFixed(2).padStart(6)} s  ${'█'.repeat(Math.round(percent / 5)).padEnd(20, '·')} ${String(percent).padStart(3)} %${mark ? `   ◀ ${mark.label}` : ''}`);
    lastPrinted = sample.t;
  }

  if (process.env.LRP_LOCAL_SUMMARY) {
    writeFileSync(
      process.env.LRP_LOCAL_SUMMARY,
      JSON.stringify({ released: plan.functions, stage: STAGE, stages: STAGES.map((stage) => whereOf(stage)), steps: placed, placement, forged, statuses, histories, secondRelease: { function: target, version, result: failed.operation }, watchExits }, null, 2),
    );
  }
  console.log(`\npipeline:local finished in ${elapsed().trim()} s`);
} finally {
  await recorder.stop();
  await moto.stop();
}
