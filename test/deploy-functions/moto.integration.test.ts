import { CloudWatchClient, SetAlarmStateCommand } from '@aws-sdk/client-cloudwatch';
import { GetAliasCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startCodePipelineRecorder, type RecordedCall } from '../../harness/codepipeline-recorder';
import { alarmEvent } from '../support/fake-aws';
import { requireMoto, type MotoServer } from '../../harness/moto';
import { importRollbackFunction, startEngineOnMoto, type EngineOnMoto, type RollbackActions } from '../support/engine-on-moto';
import { createLedgerTable, createSampleFunction, motoClients } from '../../harness/moto-fixtures';

const FN = 'orders-api-it';
const GENERATED = `lrp/${FN}/live/errors`;
const USER = `${FN}-latency`;
const TABLE = 'lrp-ledger';

type Handler = (event: unknown, context: unknown) => Promise<{ outcome: string; message: string }>;

describe.runIf(requireMoto('engine integration suite'))('deployment engine against moto', () => {
  let engine: EngineOnMoto | undefined;
  let moto: MotoServer;
  let recorder: Awaited<ReturnType<typeof startCodePipelineRecorder>>;
  let shiftTraffic: Handler;
  let rollback: (event: unknown) => Promise<RollbackActions>;
  let lambda: LambdaClient;
  let cloudwatch: CloudWatchClient;
  const resultsFor = (jobId: string): RecordedCall[] => recorder.calls.filter((call) => call.input.jobId === jobId);
  const liveAlias = async () => {
    const alias = await lambda.send(new GetAliasCommand({ FunctionName: FN, Name: 'live' }));
    return { version: alias.FunctionVersion, weights: alias.RoutingConfig?.AdditionalVersionWeights ?? {} };
  };

  /** Runs a job through its continuations like CodePipeline, returning the final call. */
  const runJob = (jobId: string, params: unknown) =>
    recorder.runJob(shiftTraffic as never, jobId, { actionConfiguration: { configuration: { UserParameters: typeof params === 'string' ? params : JSON.stringify(params) } } });

  beforeAll(async () => {
    engine = await startEngineOnMoto({ LEDGER_TABLE: TABLE });
    ({ moto, recorder } = engine);
    ({ lambda, cloudwatch } = motoClients(moto));
    shiftTraffic = (await import('../../deploy-functions/shift-traffic/handler')).handler as unknown as Handler;
    rollback = await importRollbackFunction();
  }, 120_000);

  afterAll(async () => {
    await engine?.stop();
  });

  beforeEach(async () => {
    await moto.reset();
    await createLedgerTable(moto, TABLE);
    await createSampleFunction(moto, FN, [GENERATED, USER]);
  }, 60_000);

  const params = (overrides: Record<string, unknown> = {}) => ({
    functionName: FN,
    targetAlias: 'candidate',
    strategy: { steps: [{ percent: 10, minutes: 0.05 }, { percent: 50, minutes: 0.02 }] },
    alarms: [USER],
    bakeMinutes: 10,
    ...overrides,
  });

  it('shifts live step by step through continuation tokens and reports success with output variables', async () => {
    const final = await runJob('job-ok', params());
    expect(final.operation).toBe('PutJobSuccessResult');
    expect(final.input.outputVariables).toMatchObject({ fromVersion: '1', toVersion: '2' });
    expect(resultsFor('job-ok').filter((call) => call.input.continuationToken).length).toBeGreaterThan(0);
    expect(await liveAlias()).toEqual({ version: '2', weights: {} });
  }, 60_000);

  it('rolls back in one alias update when an alarm goes to ALARM mid-rollout, naming the alarm', async () => {
    setTimeout(() => void cloudwatch.send(new SetAlarmStateCommand({ AlarmName: USER, StateValue: 'ALARM', StateReason: 'p99 above 800 ms' })), 800);
    const final = await runJob('job-breach', params({ strategy: { steps: [{ percent: 10, minutes: 0.2 }] } }));
    expect(final.operation).toBe('PutJobFailureResult');
    expect((final.input.failureDetails as { message: string }).message).toMatch(/\[ALARM_BREACHED\].*orders-api-it-latency/);
    expect(await liveAlias()).toEqual({ version: '1', weights: {} });
  }, 60_000);

  it('the rollback function restores the previous version during the bake window, once, however often the event comes', async () => {
    await runJob('job-bake', params({ strategy: 'AllAtOnce' }));
    expect(await liveAlias()).toEqual({ version: '2', weights: {} });
    await cloudwatch.send(new SetAlarmStateCommand({ AlarmName: GENERATED, StateValue: 'ALARM', StateReason: 'errors' }));
    const first = await rollback(alarmEvent(GENERATED));
    const second = await rollback(alarmEvent(GENERATED));
    expect(first.map((a) => a.action)).toEqual(['ROLLED_BACK']);
    expect(second.map((a) => a.action)).toEqual(['NOTHING']);
    expect(await liveAlias()).toEqual({ version: '1', weights: {} });
  }, 60_000);

  it('fails the job with a clear message for an unknown function and for malformed parameters', async () => {
    const unknown = await runJob('job-unknown', params({ functionName: 'nope' }));
    expect(unknown.input.failureDetails).toMatchObject({ type: 'ConfigurationError', message: expect.stringMatching(/FUNCTION_NOT_FOUND/) });
    const malformed = await runJob('job-malformed', '{"functionName":');
    expect(malformed.input.failureDetails).toMatchObject({ message: expect.stringMatching(/UserParameters: not valid JSON/) });
    expect(await liveAlias()).toEqual({ version: '1', weights: {} });
  }, 60_000);

  it('refuses a forward release while an alarm is already in ALARM', async () => {
    await cloudwatch.send(new SetAlarmStateCommand({ AlarmName: GENERATED, StateValue: 'ALARM', StateReason: 'already failing' }));
    const final = await runJob('job-blocked', params());
    expect((final.input.failureDetails as { message: string }).message).toMatch(/already in ALARM: a forward release is blocked/);
    expect(await liveAlias()).toEqual({ version: '1', weights: {} });
  }, 60_000);
});
