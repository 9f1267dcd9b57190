import { describe, expect, it, vi } from 'vitest';
import { rollback } from '../../../cli/operations';
import { AwsCallError, ErrorCode } from '../../../deploy-functions/core/errors';
import { createRollbackHandler } from '../../../deploy-functions/engine/handlers';
import { Notices } from '../../../deploy-functions/engine/notices';
import { pipelineEvent } from '../../support/fake-aws';
import { FakeNotifier } from '../../support/fake-notifier';
import { REF, history, live, operator, params } from '../../support/operations';
import { GENERATED_ALARM, USER_ALARM, standardWorld } from '../../support/simulation';

/** The standard world, its jobs run by the `lrp-orders-api` pipeline's `prod` stage, execution `exec-1`. */
const world = (options: Parameters<typeof standardWorld>[0] = {}) => {
  const w = standardWorld(options);
  w.pipeline.context = { pipelineName: 'lrp-orders-api', stage: 'prod' };
  return w;
};
const release = params({ pipelineExecutionId: 'exec-1' });

describe('rollback notices', () => {
  it('shift-traffic announces its own rollback once, naming the alarm, the versions, the commit and both console pages', async () => {
    // Arrange
    const w = world();
    w.clock.schedule(w.clock.now() + 2 * 60_000, () => w.cloudwatch.setAlarm(USER_ALARM, 'ALARM', 'p99 latency above 800 ms'));
    // Act
    await w.runJob('job-1', release);
    // Assert
    const [record] = await history(w);
    expect(w.notifier.published).toHaveLength(1);
    const [notice] = w.notifier.published;
    expect(notice!.subject).toBe('[lrp] orders-api-prod:live rolled back 2 -> 1 (ALARM_BREACHED)');
    expect(notice!.body).toEqual({
      version: 1,
      kind: 'ROLLED_BACK',
      functionName: 'orders-api-prod',
      stage: 'prod',
      alias: 'live',
      fromVersion: '2',
      toVersion: '1',
      commit: 'abcdef1234567',
      deploymentId: record!.deploymentId,
      cause: { code: 'ALARM_BREACHED', by: 'shift-traffic', alarmName: USER_ALARM, reason: expect.stringContaining('p99 latency above 800 ms') },
      pipeline: { name: 'lrp-orders-api', executionId: 'exec-1' },
      links: {
        pipelineExecution: 'https://us-east-1.console.aws.amazon.com/codesuite/codepipeline/pipelines/lrp-orders-api/executions/exec-1/timeline',
        alarm: `https://us-east-1.console.aws.amazon.com/cloudwatch/home?region=us-east-1#alarmsV2:alarm/${USER_ALARM}`,
      },
      at: new Date(record!.rolledBackAt!).toISOString(),
    });
  });

  it('the rollback function announces a rollback in the bake window once, however often the alarm event is delivered', async () => {
    // Arrange
    const w = world();
    await w.runJob('job-1', release);
    w.cloudwatch.setAlarm(GENERATED_ALARM, 'ALARM', 'Threshold Crossed');
    const changedAt = w.clock.now();
    // Act: the event, a duplicate, and a replay an hour later
    await w.clock.drive(Promise.all([w.deliverAlarm(GENERATED_ALARM, changedAt), w.deliverAlarm(GENERATED_ALARM, changedAt)]));
    await w.clock.advance(60 * 60_000);
    await w.clock.drive(w.deliverAlarm(GENERATED_ALARM, changedAt));
    // Assert
    expect(live(w)).toMatchObject({ version: '1', weights: {} });
    expect(w.notifier.published.map((n) => [n.body.kind, n.body.cause.by, n.body.cause.alarmName])).toEqual([['ROLLED_BACK', 'rollback-function', GENERATED_ALARM]]);
    expect(w.notifier.published[0]!.body.links.alarm).toBe('https://us-east-1.console.aws.amazon.com/cloudwatch/home?region=us-east-1#alarmsV2:alarm/lrp%2Forders-api-prod%2Flive%2Ferrors');
  });

  it('the sweep announces an orphaned rollout it put back', async () => {
    // Arrange: the invocation stops after its first step and nothing continues it
    const w = world({ settings: { maxInvocationMs: 60_000 } });
    await w.invoke(pipelineEvent('job-1', release), 'job-1');
    // Act
    w.scheduleSweeps(w.clock.now() + 3_600_000);
    await w.clock.drain();
    // Assert
    expect(w.notifier.published.map((n) => [n.body.cause.code, n.body.cause.by, n.body.fromVersion, n.body.toVersion])).toEqual([['ORPHANED', 'sweep', '2', '1']]);
  });

  it('says nothing of an operator\'s rollback: the operator knows', async () => {
    // Arrange
    const w = world();
    await w.runJob('job-1', release);
    // Act
    await w.clock.drive(rollback(operator(w), REF));
    // Assert
    expect(live(w).version).toBe('1');
    expect(w.notifier.published).toEqual([]);
  });

  it('never fails or holds up a rollback: a publish that fails is logged and counted, and the job reports the breach', async () => {
    // Arrange
    const w = world();
    w.notifier.failing = true;
    w.clock.schedule(w.clock.now() + 2 * 60_000, () => w.cloudwatch.setAlarm(USER_ALARM, 'ALARM', 'p99 latency above 800 ms'));
    // Act
    await w.runJob('job-1', release);
    // Assert
    expect(live(w)).toMatchObject({ version: '1', weights: {} });
    expect((await history(w))[0]).toMatchObject({ status: 'ROLLED_BACK', rolledBackBy: 'shift-traffic' });
    expect(w.pipeline.finalResults('job-1')).toEqual([expect.objectContaining({ kind: 'failure', message: expect.stringContaining('[ALARM_BREACHED]') })]);
    expect(w.logger.entries).toContainEqual(expect.objectContaining({ level: 'error', message: 'notice not published', extra: [expect.objectContaining({ notice: 'ROLLED_BACK', error: expect.stringContaining('KMSAccessDeniedException') })] }));
  });

  it('counts each published and each failed notice as a metric', async () => {
    // Arrange
    const notifier = new FakeNotifier();
    const metrics = { addMetric: vi.fn() };
    const w = world();
    const notices = new Notices({ notifier, logger: w.logger, metrics });
    // Act
    notices.post(() => ({ subject: 's', message: '{"kind":"ROLLED_BACK"}' }), {});
    await notices.flush();
    notifier.failing = true;
    notices.post(() => ({ subject: 's', message: '{}' }), {});
    await notices.flush();
    // Assert
    expect(metrics.addMetric.mock.calls).toEqual([
      ['NoticesPublished', 'Count', 1],
      ['NoticesFailed', 'Count', 1],
    ]);
  });

  it('the rollback function announces an event it fails on: it is retried, then dead-lettered', async () => {
    // Arrange: the ledger cannot be read, so the event cannot be judged
    const w = world();
    const notifier = new FakeNotifier();
    const handler = createRollbackHandler({ lambda: w.lambda, ledger: w.ledger, clock: w.clock, logger: w.logger, alarms: w.cloudwatch, pipeline: w.pipeline, notices: new Notices({ notifier, logger: w.logger, region: 'eu-west-1' }) });
    w.ledger.getState = () => Promise.reject(new Error('ledger unreachable'));
    w.ledger.aliasesGuardedBy = () => Promise.reject(new Error('ledger unreachable'));
    w.cloudwatch.setAlarm(GENERATED_ALARM, 'ALARM');
    const { alarmEvent } = await import('../../support/fake-aws');
    // Act
    await expect(w.clock.drive(handler(alarmEvent(GENERATED_ALARM, 'ALARM', 'Threshold Crossed', w.clock.now())))).rejects.toThrow();
    // Assert
    expect(notifier.published).toHaveLength(1);
    expect(notifier.published[0]!.subject).toBe(`[lrp] rollback function failed on ${GENERATED_ALARM}: retried, then dead-lettered`);
    expect(notifier.published[0]!.body).toMatchObject({ version: 1, kind: 'ROLLBACK_FAILED', cause: { code: 'ROLLBACK_FAILED', by: 'rollback-function', alarmName: GENERATED_ALARM, reason: expect.stringContaining('dead-letter queue') }, links: { alarm: expect.stringContaining('eu-west-1.console.aws.amazon.com') } });
  });
});

// The rollout puts the alias back; the ledger applies its record of the undo but the answer is lost, and the retries
// then meet an outage. The deployment is no longer in flight, so the sweep never records (nor announces) it.
describe('a rollback whose record was applied with its answer lost, then a ledger outage', () => {
  it('is still announced once, by the rollout that recorded it', async () => {
    // Arrange
    const w = world();
    const recordUndo = w.ledger.recordUndo.bind(w.ledger);
    w.ledger.recordUndo = async (...args) => {
      const applied = await recordUndo(...args);
      if (applied) {
        w.ledger.writesDown = true;
        w.clock.schedule(w.clock.now() + 60_000, () => (w.ledger.writesDown = false));
        throw new AwsCallError(ErrorCode.AWS_UNAVAILABLE, 'TransactWriteItems failed: TimeoutError (answer lost after the write was applied)');
      }
      return applied;
    };
    w.clock.schedule(w.clock.now() + 2 * 60_000, () => w.cloudwatch.setAlarm(USER_ALARM, 'ALARM', 'p99 latency above 800 ms'));
    // Act
    await w.runJob('job-1', release);
    // Assert
    const [record] = await history(w);
    expect(record).toMatchObject({ status: 'ROLLED_BACK', rolledBackBy: 'shift-traffic' });
    expect(w.notifier.published.map((n) => n.body.kind)).toEqual(['ROLLED_BACK']);
    expect(live(w)).toMatchObject({ version: '1', weights: {} });
  });
});
