// The sequences real operations produce, against moto with the real bundled handler modules: an operator's rollback
// before a late event, a stale event, an abandoned rollout (the action's event, and the sweep), a late duplicate,
// abort then promote, a revert and a hotfix while an alarm fires.
import { PutMetricAlarmCommand, SetAlarmStateCommand, type CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { GetAliasCommand, PublishVersionCommand, UpdateFunctionCodeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { OperatorDeps } from '../../cli/operations';
import { encodeContinuation } from '../../deploy-functions/core/continuation';
import { deterministicZip } from '../../scripts/lib/bundle';
import { startCodePipelineRecorder, type CodePipelineRecorder } from '../../harness/codepipeline-recorder';
import { actionStateEvent, alarmEvent, scheduledEvent } from '../support/fake-aws';
import { requireMoto, startMoto, type MotoServer } from '../../harness/moto';
import { createLedgerTable, createSampleFunction, motoClients } from '../../harness/moto-fixtures';
import { lambdaContext } from '../../harness/lambda-context';

const FN = 'orders-api-ops';
const REF = { functionName: FN, alias: 'live' } as const;
const GENERATED = `lrp/${FN}/live/errors`;
const TABLE = 'lrp-ledger-ops';
type Handler = (event: unknown, context: unknown) => Promise<{ outcome: string }>;
type RollbackHandler = (event: unknown, context?: unknown) => Promise<{ action: string; reason: string }[]>;
/** The context Lambda gives the rollback function: its ARN tells it its own account and region. */
const context = (id: string) => lambdaContext({ functionName: 'lrp-rollback', timeoutSeconds: 60, awsRequestId: id });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.runIf(requireMoto('operations suite'))('real operations against moto', () => {
  let moto: MotoServer;
  let recorder: CodePipelineRecorder;
  let shiftTraffic: Handler;
  let rollbackFn: RollbackHandler;
  let operations: typeof import('../../cli/operations');
  let operator: OperatorDeps;
  let lambda: LambdaClient;
  let cloudwatch: CloudWatchClient;
  const live = async () => {
    const alias = await lambda.send(new GetAliasCommand({ FunctionName: FN, Name: 'live' }));
    return { version: alias.FunctionVersion, weights: alias.RoutingConfig?.AdditionalVersionWeights ?? {} };
  };
  const alarm = (state: 'OK' | 'ALARM') => cloudwatch.send(new SetAlarmStateCommand({ AlarmName: GENERATED, StateValue: state, StateReason: `set ${state}` }));
  const job = (jobId: string, params: Record<string, unknown>) => ({ 'CodePipeline.job': { id: jobId, data: { actionConfiguration: { configuration: { UserParameters: JSON.stringify({ functionName: FN, targetAlias: 'candidate', ...params }) } } } } });
  const runJob = (jobId: string, params: Record<string, unknown>) => recorder.runJob(shiftTraffic as never, jobId, job(jobId, params)['CodePipeline.job'].data);
  /** One invocation, as CodePipeline sends it for a job it created. */
  const invoke = (event: ReturnType<typeof job>, id: string) => {
    recorder.createJob(event['CodePipeline.job'].id, event['CodePipeline.job'].data);
    return shiftTraffic(event, context(id));
  };
  const history = () => operator.ledger.listDeployments(REF, 10);

  beforeAll(async () => {
    moto = await startMoto({ lambdaSimple: true });
    recorder = await startCodePipelineRecorder();
    ({ lambda, cloudwatch } = motoClients(moto));
    for (const [key, value] of Object.entries({ ...moto.env, AWS_ENDPOINT_URL_CODEPIPELINE: recorder.endpoint, LEDGER_TABLE: TABLE, HEALTH_CHECK_INTERVAL_SECONDS: '0.2', SAFETY_MARGIN_SECONDS: '1', MAX_INVOCATION_SECONDS: '2', ORPHAN_AFTER_SECONDS: '2' })) vi.stubEnv(key, value);
    vi.resetModules();
    shiftTraffic = (await import('../../deploy-functions/shift-traffic/handler')).handler as unknown as Handler;
    rollbackFn = (await import('../../deploy-functions/rollback/handler')).handler as unknown as RollbackHandler;
    operations = await import('../../cli/operations');
    const { LambdaAdapter } = await import('../../deploy-functions/aws/lambda');
    const { CloudWatchAdapter } = await import('../../deploy-functions/aws/cloudwatch');
    const { DynamoDbLedger } = await import('../../deploy-functions/aws/ledger');
    const { systemClock } = await import('../../deploy-functions/core/ports');
    operator = { lambda: new LambdaAdapter(), cloudwatch: new CloudWatchAdapter(), ledger: new DynamoDbLedger(TABLE), clock: systemClock, operator: 'alice' };
  }, 120_000);
  afterAll(async () => {
    vi.unstubAllEnvs();
    await recorder?.stop();
    await moto?.stop();
  });
  beforeEach(async () => {
    await moto.reset();
    await createLedgerTable(moto, TABLE);
    await createSampleFunction(moto, FN, [GENERATED]);
    recorder.reset();
  }, 60_000);

  it('an alarm event arriving after the operator rolled back never brings the bad version back', async () => {
    await runJob('job-1', { strategy: 'AllAtOnce', bakeMinutes: 10 });
    const breachAt = Date.now();
    await alarm('ALARM');
    await operations.rollback(operator, REF);
    const late = await rollbackFn(alarmEvent(GENERATED, 'ALARM', 'Threshold Crossed', breachAt), context('rb-1'));
    expect(late.map((a) => a.action)).toEqual(['NOTHING']);
    expect(await live()).toEqual({ version: '1', weights: {} });
    expect((await history())[0]).toMatchObject({ toVersion: '2', status: 'ROLLED_BACK', rolledBackBy: 'operator:alice' });
  }, 60_000);

  it('a stale event, from before the release started, does nothing', async () => {
    await runJob('job-1', { strategy: 'AllAtOnce', bakeMinutes: 10 });
    const actions = await rollbackFn(alarmEvent(GENERATED, 'ALARM', 'old breach', Date.now() - 3_600_000), context('rb-1'));
    expect(actions).toEqual([expect.objectContaining({ action: 'NOTHING', reason: expect.stringMatching(/no deployment had started/) })]);
    expect(await live()).toEqual({ version: '2', weights: {} });
  }, 60_000);

  it('a stopped execution\'s action event reverts its rollout, and the sweep reverts one nobody reports', async () => {
    const slow = { strategy: { steps: [{ percent: 10, minutes: 5 }] }, bakeMinutes: 0 };
    await invoke(job('job-1', { ...slow, pipelineExecutionId: 'exec-1' }), 'inv-1');
    expect(await live()).toEqual({ version: '1', weights: { '2': 0.1 } });
    // "Stop and abandon": CodePipeline stops the execution and reports the action abandoned.
    recorder.setExecution('exec-1', 'Stopped');
    const event = await rollbackFn(actionStateEvent('exec-1', 'ABANDONED', Date.now()), context('rb-1'));
    expect(event.map((a) => a.action)).toEqual(['ROLLED_BACK']);
    expect(await live()).toEqual({ version: '1', weights: {} });

    await invoke(job('job-2', slow), 'inv-2');
    expect(await live()).toEqual({ version: '1', weights: { '2': 0.1 } });
    await sleep(2_500);
    const swept = await rollbackFn(scheduledEvent(Date.now()), context('rb-2'));
    expect(swept).toEqual([expect.objectContaining({ action: 'ROLLED_BACK', reason: expect.stringMatching(/no heartbeat/) })]);
    expect(await live()).toEqual({ version: '1', weights: {} });
    expect((await history())[0]).toMatchObject({ status: 'ROLLED_BACK', errorCode: 'ORPHANED', rolledBackBy: 'sweep' });
  }, 60_000);

  it('a late duplicate of a job blocked by a firing alarm reports the same failure and starts nothing', async () => {
    await alarm('ALARM');
    const blocked = await runJob('job-1', { strategy: 'AllAtOnce' });
    expect(blocked.operation).toBe('PutJobFailureResult');
    await alarm('OK');
    await invoke(job('job-1', { strategy: 'AllAtOnce' }), 'late');
    const results = recorder.calls.filter((c) => c.input.jobId === 'job-1');
    expect(results.map((c) => c.operation)).toEqual(['PutJobFailureResult', 'PutJobFailureResult']);
    expect(results[1]!.input.failureDetails).toEqual(results[0]!.input.failureDetails);
    expect(await live()).toEqual({ version: '1', weights: {} });
    expect(await history()).toEqual([]);
  }, 60_000);

  it('an abort wins over a later promote', async () => {
    await invoke(job('job-1', { strategy: { steps: [{ percent: 10, minutes: 5 }] } }), 'inv-1');
    await operations.requestAction(operator, REF, 'ABORT');
    await expect(operations.requestAction({ ...operator, operator: 'bob' }, REF, 'PROMOTE')).rejects.toThrow(/an abort is pending.*promote refused/);
  }, 60_000);

  it('while an alarm fires: a revert goes through at once, a forward release needs a hotfix reason', async () => {
    await runJob('job-1', { strategy: 'AllAtOnce', bakeMinutes: 0 });
    const zip = deterministicZip({ 'index.mjs': new TextEncoder().encode('export const handler = async () => "v3";') });
    await lambda.send(new UpdateFunctionCodeCommand({ FunctionName: FN, ZipFile: zip }));
    const { Version: v3 } = await lambda.send(new PublishVersionCommand({ FunctionName: FN, Description: 'commit 3333333' }));
    await alarm('ALARM');
    const revert = await runJob('job-2', { targetAlias: undefined, targetVersion: '1', strategy: 'Canary10Percent5Minutes' });
    expect(revert.operation).toBe('PutJobSuccessResult');
    expect((await history())[0]).toMatchObject({ kind: 'REVERT', toVersion: '1', status: 'SUCCEEDED' });
    const blocked = await runJob('job-3', { targetAlias: undefined, targetVersion: v3, strategy: 'AllAtOnce' });
    expect(blocked.input.failureDetails).toMatchObject({ message: expect.stringMatching(/HotfixReason/) });
    const hotfix = await runJob('job-4', { targetAlias: undefined, targetVersion: v3, strategy: 'AllAtOnce', hotfixReason: 'INC-7 null check' });
    expect(hotfix.operation).toBe('PutJobSuccessResult');
    expect((await history())[0]).toMatchObject({ kind: 'HOTFIX', hotfixReason: 'INC-7 null check', toVersion: v3 });
    expect(await live()).toEqual({ version: v3, weights: {} });
  }, 60_000);

  it('trusts only what it should: an untagged alarm with a generated name, a foreign account\'s event, a job CodePipeline never created and a token it never issued change nothing', async () => {
    await runJob('job-1', { strategy: 'AllAtOnce', bakeMinutes: 10 });
    expect(await live()).toEqual({ version: '2', weights: {} });
    // Anyone allowed PutMetricAlarm can pick a generated-looking name; only infra's tags make it count.
    const impostor = `lrp/${FN}/live/impostor`;
    await cloudwatch.send(new PutMetricAlarmCommand({ AlarmName: impostor, Namespace: 'AWS/Lambda', MetricName: 'Errors', Statistic: 'Sum', Period: 60, EvaluationPeriods: 1, Threshold: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold' }));
    await cloudwatch.send(new SetAlarmStateCommand({ AlarmName: impostor, StateValue: 'ALARM', StateReason: 'made up' }));
    expect(await rollbackFn(alarmEvent(impostor), context('rb-1'))).toEqual([expect.objectContaining({ action: 'REFUSED', reason: expect.stringMatching(/tagged lrp:function=\(none\)/) })]);
    // The same breach, but reported from another account.
    expect(await rollbackFn({ ...alarmEvent(GENERATED), account: '999999999999' }, context('rb-2'))).toEqual([expect.objectContaining({ action: 'REFUSED', reason: 'event from account 999999999999, not 123456789012' })]);
    expect(await live()).toEqual({ version: '2', weights: {} });

    // Anyone allowed to invoke shift-traffic can write an event: for a job CodePipeline never created it is refused,
    // and on a real job a continuation token CodePipeline never issued is ignored.
    const [first] = await history();
    const forged = encodeContinuation({ deploymentId: first!.deploymentId, fromVersion: '2', toVersion: '1', cursor: { stepIndex: 0, stepStartedAt: 0, startedAt: 0 } });
    const madeUp = job('job-made-up', { targetAlias: undefined, targetVersion: '1', strategy: 'AllAtOnce' });
    expect(await shiftTraffic(madeUp, context('inv-x'))).toMatchObject({ outcome: 'refused' });
    recorder.createJob('job-2', job('job-2', { strategy: 'AllAtOnce' })['CodePipeline.job'].data);
    const real = recorder.eventOf('job-2');
    expect(await shiftTraffic({ 'CodePipeline.job': { ...real['CodePipeline.job'], data: { ...real['CodePipeline.job'].data, continuationToken: forged } } }, context('inv-y'))).toMatchObject({ outcome: 'ignored' });
    expect(recorder.calls.filter((c) => c.input.jobId === 'job-made-up' || c.input.jobId === 'job-2')).toEqual([]);
    expect(await live()).toEqual({ version: '2', weights: {} });
  }, 60_000);
});
