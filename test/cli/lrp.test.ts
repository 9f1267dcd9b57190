import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetAliasCommand, UpdateAliasCommand } from '@aws-sdk/client-lambda';
import { SetAlarmStateCommand } from '@aws-sdk/client-cloudwatch';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { DeploymentStatus, newDeploymentId } from '../../deploy-functions/core/ledger';
import { requireMoto, startMoto, type MotoServer } from '../../harness/moto';
import { createLedgerTable, createSampleFunction, motoClients } from '../../harness/moto-fixtures';

const root = join(import.meta.dirname, '..', '..');
const FN = 'orders-api-prod';
const ALARM = `lrp/${FN}/live/errors`;
let inFlightId: string;
type Cli = typeof import('../../cli/main');
type AwsDeps = typeof import('../../cli/aws-deps').awsDeps;
type Ledger = import('../../deploy-functions/aws/ledger').DynamoDbLedger;

describe.runIf(requireMoto('CLI suite'))('lrp against moto', () => {
  let moto: MotoServer;
  let cli: Cli;
  let awsDeps: AwsDeps;
  let ledger: Ledger;
  let clients: ReturnType<typeof motoClients>;
  const lrp = async (...argv: string[]) => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await cli.run(argv, async (table) => ({ ...(await awsDeps(table)), operator: 'alice' }), (t) => out.push(t), (t) => err.push(t));
    return { code, out: out.join('\n'), err: err.join('\n') };
  };
  const live = async () => {
    const alias = await clients.lambda.send(new GetAliasCommand({ FunctionName: FN, Name: 'live' }));
    return { version: alias.FunctionVersion, weights: alias.RoutingConfig?.AdditionalVersionWeights ?? {} };
  };

  beforeAll(async () => {
    moto = await startMoto({ lambdaSimple: true });
    clients = motoClients(moto);
    for (const [key, value] of Object.entries({ ...moto.env, LEDGER_TABLE: 'cli-ledger' })) vi.stubEnv(key, value);
    vi.resetModules();
    cli = await import('../../cli/main');
    ({ awsDeps } = await import('../../cli/aws-deps'));
    const { DynamoDbLedger } = await import('../../deploy-functions/aws/ledger');
    ledger = new DynamoDbLedger('cli-ledger');
  }, 120_000);
  afterAll(async () => {
    vi.unstubAllEnvs();
    await moto?.stop();
  });

  beforeEach(async () => {
    await moto.reset();
    await createLedgerTable(moto, 'cli-ledger');
    await createSampleFunction(moto, FN, [ALARM]);
    // A canary in flight: 10 % of live on version 2, recorded in the ledger as the shift-traffic function would.
    const now = Date.now();
    inFlightId = newDeploymentId(now - 60_000, 'job-in-flight');
    await clients.lambda.send(new UpdateAliasCommand({ FunctionName: FN, Name: 'live', FunctionVersion: '1', RoutingConfig: { AdditionalVersionWeights: { '2': 0.1 } } }));
    await ledger.claimJob('job-in-flight', 'engine', now + 600_000, now - 60_000);
    await ledger.startDeployment(
      {
        functionName: FN,
        alias: 'live',
        deploymentId: inFlightId,
        kind: 'ROLLOUT',
        jobId: 'job-in-flight',
        fromVersion: '1',
        toVersion: '2',
        strategy: 'Canary10Percent5Minutes',
        steps: [{ percent: 10, minutes: 5 }],
        status: DeploymentStatus.IN_PROGRESS,
        startedAt: now - 60_000,
        bakeMinutes: 10,
        watchedAlarms: [ALARM],
        cursor: { stepIndex: 0, stepStartedAt: now - 60_000, startedAt: now - 60_000 },
      },
      { owner: 'engine', now: now - 60_000, leaseUntil: now + 60_000, lockUntil: now + 600_000 },
    );
  }, 60_000);

  it('status shows the weights, the candidate, the step with its time left, and alarm states', async () => {
    await clients.cloudwatch.send(new SetAlarmStateCommand({ AlarmName: ALARM, StateValue: 'ALARM', StateReason: 'test' }));
    const table = await lrp('status', FN);
    expect(table.code).toBe(0);
    expect(table.out).toMatch(/orders-api-prod:live\s+1 \(90 %\) \+ 2 \(10 %\)\s+2\s+1→2 step 1\/1, 10 %, [34]m\d\ds left\s+ALARM: lrp\/orders-api-prod\/live\/errors/);
    const json = JSON.parse((await lrp('--json', 'status', FN)).out) as { inFlight: { secondsLeft: number; percentOnTarget: number } }[];
    expect(json[0]!.inFlight).toMatchObject({ percentOnTarget: 10, deploymentId: inFlightId });
    expect(json[0]!.inFlight.secondsLeft).toBeGreaterThan(200);
  });

  it('promote and abort leave a request the running deployment acts on; an abort wins over a later promote', async () => {
    expect((await lrp('promote', FN)).code).toBe(0);
    expect((await ledger.getDeployment({ functionName: FN, alias: 'live' }, inFlightId))?.operatorRequest).toBe('PROMOTE');
    expect((await lrp('abort', FN)).out).toBe(`abort requested for deployment ${inFlightId}; its shift-traffic function acts on it within 10 s`);
    expect((await ledger.getDeployment({ functionName: FN, alias: 'live' }, inFlightId))?.operatorRequest).toBe('ABORT');
    const promote = await lrp('promote', `arn:aws:lambda:us-east-1:123456789012:function:${FN}`);
    expect(promote).toMatchObject({ code: 2, err: expect.stringMatching(/an abort is pending for deployment .*: promote refused/) });
    expect((await ledger.getDeployment({ functionName: FN, alias: 'live' }, inFlightId))?.operatorRequest).toBe('ABORT');
  });

  it('rollback stops the deployment in flight and puts live fully back, recorded in the ledger', async () => {
    const result = await lrp('rollback', FN);
    expect(result).toMatchObject({ code: 0, out: `orders-api-prod:live now on version 1 (was 1); deployment ${inFlightId} rolled back` });
    expect(await live()).toEqual({ version: '1', weights: {} });
    expect(await ledger.getDeployment({ functionName: FN, alias: 'live' }, inFlightId)).toMatchObject({ status: 'ROLLED_BACK', rolledBackBy: 'operator:alice', reason: 'rolled back by alice to version 1' });
    expect((await lrp('promote', FN)).err).toMatch(/no deployment of orders-api-prod:live is in flight/);
  });

  it('rollback --to moves to a named version when nothing is in flight, and history shows it', async () => {
    await lrp('rollback', FN);
    // Version 2 was replaced by that rollback: only a new deployment of it puts it live again.
    expect((await lrp('rollback', FN, '--to', '2')).err).toMatch(/version 2 was replaced by a rollback/);
    await clients.lambda.send(new UpdateAliasCommand({ FunctionName: FN, Name: 'candidate', FunctionVersion: '1' }));
    const resolved = await lrp('rollback', FN, '--to', 'candidate');
    expect(resolved).toMatchObject({ code: 0, out: expect.stringMatching(/^candidate is version 1; .*now on version 1/) });
    expect(await live()).toEqual({ version: '1', weights: {} });
    const records = JSON.parse((await lrp('--json', 'history', FN)).out) as { strategy: string; status: string; toVersion: string }[];
    expect(records[0]).toMatchObject({ strategy: 'Canary10Percent5Minutes', status: 'ROLLED_BACK', toVersion: '2' });
    expect((await lrp('history', FN)).out).toMatch(/^STARTED\s+KIND\s+FROM\s+TO\s+STRATEGY\s+STATUS/);
  });

  it.each([
    [['status', 'nope-prod'], 3, /function nope-prod does not exist/],
    [['rollback', FN, '--to', '9'], 3, /version 9 of function orders-api-prod does not exist/],
    [['frobnicate'], 2, /unknown command 'frobnicate'/],
    [['rollback', FN, '--to', '$LATEST'], 2, /\$LATEST cannot be rolled back to/],
    [['rollback', FN, '--to', 'arn:aws:lambda:us-east-1:123456789012:function:other:3'], 2, /is a version of other, not of orders-api-prod/],
  ])('lrp %j exits %i with a clear message', async (argv, code, message) => {
    const result = await lrp(...argv);
    expect(result.code).toBe(code);
    expect(result.err).toMatch(message);
  });

  it.each([
    [['--json', 'status', 'nope-prod'], 3, { code: 'FUNCTION_NOT_FOUND', message: expect.stringMatching(/function nope-prod does not exist/) }],
    [['--json', 'frobnicate'], 2, { code: 'USAGE', message: "unknown command 'frobnicate'" }],
    [['--json', 'rollback', FN, '--to', '$LATEST'], 2, { code: 'INVALID_PARAMETERS', message: expect.stringMatching(/\$LATEST cannot be rolled back to/) }],
  ])('lrp %j exits %i and prints the error as JSON, nothing on stderr', async (argv, code, error) => {
    const result = await lrp(...argv);
    expect(result.code).toBe(code);
    expect(JSON.parse(result.out)).toEqual({ error });
    expect(result.err).toBe('');
  });

  describe('the built bin', () => {
    const bin = join(root, 'cli', 'dist', 'lrp.mjs');
    const bare = () => ({ PATH: process.env.PATH, HOME: mkdtempSync(join(tmpdir(), 'lrp-home-')), AWS_REGION: 'us-east-1', AWS_EC2_METADATA_DISABLED: 'true', LEDGER_TABLE: 'cli-ledger' });
    const lrpBin = (argv: string[], env: NodeJS.ProcessEnv, cwd = root) => spawnSync('node', [bin, ...argv], { cwd, env, encoding: 'utf8' });
    beforeAll(() => {
      const build = spawnSync('node', [join(root, 'scripts', 'build-cli.mjs'), '--quiet'], { encoding: 'utf8' });
      expect(build.status, build.stderr).toBe(0);
    }, 60_000);

    it('explains missing credentials and unreachable endpoints', () => {
      const noCredentials = lrpBin(['status', FN], { ...bare(), AWS_ENDPOINT_URL: moto.endpoint });
      expect(noCredentials.status).toBe(4);
      expect(noCredentials.stderr).toMatch(/no AWS credentials found/);
      const unreachable = lrpBin(['status', FN], { ...bare(), ...moto.env, AWS_ENDPOINT_URL: 'http://127.0.0.1:9' });
      expect(unreachable.status).toBe(5);
      expect(unreachable.stderr).toMatch(/cannot reach AWS \(AWS_ENDPOINT_URL=http:\/\/127.0.0.1:9\)/);
    }, 60_000);

    it('--region and --profile choose where and as whom, over the environment', () => {
      // moto keeps each region apart: the function exists in us-east-1 only.
      expect(lrpBin(['status', FN], { ...bare(), ...moto.env }).status).toBe(0);
      const elsewhere = lrpBin(['--region', 'eu-west-1', 'status', FN], { ...bare(), ...moto.env });
      expect(elsewhere.status, elsewhere.stderr).toBe(3);
      const home = mkdtempSync(join(tmpdir(), 'lrp-profile-'));
      writeFileSync(join(home, 'credentials'), '[ops]\naws_access_key_id = testing\naws_secret_access_key = testing\n');
      writeFileSync(join(home, 'config'), '[profile ops]\nregion = us-east-1\n');
      const files = { AWS_SHARED_CREDENTIALS_FILE: join(home, 'credentials'), AWS_CONFIG_FILE: join(home, 'config'), AWS_ENDPOINT_URL: moto.endpoint };
      const { AWS_REGION: _region, ...noRegion } = bare();
      expect(lrpBin(['status', FN], { ...noRegion, ...files }).status).not.toBe(0);
      const asOps = lrpBin(['--profile', 'ops', 'status', FN], { ...noRegion, ...files });
      expect(asOps.status, asOps.stderr).toBe(0);
      expect(asOps.stdout).toMatch(/orders-api-prod:live/);
    }, 60_000);

    it('records the caller\'s AWS identity as the operator of a rollback', async () => {
      const rolledBack = lrpBin(['rollback', FN], { ...bare(), ...moto.env, USER: 'mallory' });
      expect(rolledBack.status, rolledBack.stderr).toBe(0);
      const record = await ledger.getDeployment({ functionName: FN, alias: 'live' }, inFlightId);
      expect(record).toMatchObject({ status: 'ROLLED_BACK', rolledBackBy: expect.stringMatching(/^operator:arn:aws:(iam|sts)::\d{12}:/) });
      expect(record?.rolledBackBy).not.toContain('mallory');
    }, 60_000);

    it('outside a checkout, status lists the aliases the ledger knows; in one, the configured functions', () => {
      const elsewhere = mkdtempSync(join(tmpdir(), 'lrp-cwd-'));
      const outside = lrpBin(['status'], { ...bare(), ...moto.env, LEDGER_TABLE: 'cli-ledger' }, elsewhere);
      expect(outside.status, outside.stderr).toBe(0);
      expect(outside.stdout).toMatch(/no release\.config\.ts here: the 1 function\(s\) whose live alias the ledger knows/);
      expect(outside.stdout).toMatch(/orders-api-prod:live/);
      const inside = lrpBin(['--json', 'status'], { ...bare(), ...moto.env, LEDGER_TABLE: 'cli-ledger' });
      expect(inside.status, inside.stderr).toBe(0);
      // Of the configured <function>-<stage>s, only orders-api-prod exists here; the others are skipped as not deployed.
      expect((JSON.parse(inside.stdout) as { functionName: string }[]).map((s) => s.functionName)).toEqual([FN]);
    }, 60_000);
  });
});
