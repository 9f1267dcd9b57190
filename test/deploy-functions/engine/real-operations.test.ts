// The sequences real operations produce — an on-call engineer, late or replayed events, stopped executions, lapsed
// locks, ledger outages — against the real handlers over the in-memory model of AWS.
import { describe, expect, it } from 'vitest';
import { run } from '../../../cli/main';
import { rollback, requestAction } from '../../../cli/operations';
import { pipelineEvent } from '../../support/fake-aws';
import { REF, addVersion, history, live, operator, params } from '../../support/operations';
import { GENERATED_ALARM, USER_ALARM, standardWorld } from '../../support/simulation';

describe('an operator rollback, then the late alarm event', () => {
  it('never brings the bad version back, and the operator\'s record is the rollback of that release', async () => {
    // Arrange: release 1 → 2 baking; its alarm breaches.
    const world = standardWorld();
    await world.runJob('job-1', params());
    const breachAt = world.clock.now() + 60_000;
    await world.clock.advance(60_000);
    world.cloudwatch.setAlarm(GENERATED_ALARM, 'ALARM');
    // Act: the operator rolls back first; then the event arrives late, again, and once more from the dead-letter queue.
    await world.clock.drive(rollback(operator(world), REF));
    for (const delay of [60_000, 120_000, 3 * 3_600_000]) {
      await world.clock.advance(delay);
      await world.clock.drive(world.deliverAlarm(GENERATED_ALARM, breachAt));
    }
    // Assert
    expect(live(world)).toMatchObject({ version: '1', weights: {} });
    expect(world.rollbackActions.map((a) => a.action)).toEqual(['NOTHING', 'NOTHING', 'NOTHING']);
    const [release] = await history(world);
    expect(release).toMatchObject({ toVersion: '2', status: 'ROLLED_BACK', rolledBackBy: 'operator:alice' });
    expect((await world.ledger.getState(REF))?.replacedVersions).toEqual(['2']);
  });
});

describe('events judged by when the alarm changed', () => {
  it('a stale event from before a canary started does not fail it', async () => {
    const world = standardWorld({ settings: { maxInvocationMs: 60_000 } });
    const stale = world.clock.now();
    await world.clock.advance(3_600_000);
    world.clock.schedule(world.clock.now() + 90_000, () => world.deliverAlarm(GENERATED_ALARM, stale));
    await world.runJob('job-1', params());
    expect(world.pipeline.finalResults('job-1')[0]).toMatchObject({ kind: 'success' });
    expect(world.rollbackActions).toEqual([expect.objectContaining({ action: 'NOTHING', reason: expect.stringMatching(/no deployment had started/) })]);
  });

  it('one breach rolls back one release: the canary it hit, not the release baking before it', async () => {
    const world = standardWorld({ settings: { maxInvocationMs: 60_000 } });
    addVersion(world, '3');
    await world.runJob('job-0', params()); // R0: 1 → 2, baking for 30 minutes
    world.lambda.functions.get(REF.functionName)!.aliases.set('candidate', { version: '3', weights: {} });
    const start = world.clock.now();
    world.clock.schedule(start + 60_000, () => {
      world.cloudwatch.setAlarm(GENERATED_ALARM, 'ALARM');
      world.clock.schedule(world.clock.now() + 30_000, () => world.deliverAlarm(GENERATED_ALARM, start + 60_000));
    });
    await world.runJob('job-1', params()); // R1: 2 → 3, breached mid-canary
    await world.clock.drain();
    const [r1, r0] = await history(world);
    expect(r1).toMatchObject({ toVersion: '3', status: 'ROLLED_BACK' });
    expect(r0).toMatchObject({ toVersion: '2', status: 'SUCCEEDED' });
    expect(live(world)).toMatchObject({ version: '2', weights: {} });
    expect(world.rollbackActions.filter((a) => a.action === 'ROLLED_BACK').length).toBeLessThanOrEqual(1);
  });
});

describe('abandoned rollouts are recovered', () => {
  it('a stopped execution\'s action event reverts the rollout at once', async () => {
    const world = standardWorld({ settings: { maxInvocationMs: 60_000 } });
    const event = pipelineEvent('job-1', params({ pipelineExecutionId: 'exec-1' }));
    await world.invoke(event, 'job-1'); // 10 %, then a continuation token CodePipeline will never use
    expect(live(world).weights).toEqual({ '2': 0.1 });
    await world.clock.drive(world.deliverActionState('exec-1', 'ABANDONED'));
    expect(live(world)).toMatchObject({ version: '1', weights: {} });
    const [record] = await history(world);
    expect(record).toMatchObject({ status: 'ROLLED_BACK', errorCode: 'EXECUTION_STOPPED', rolledBackBy: 'pipeline-execution' });
  });

  it('without any event, the sweep reverts it once its heartbeats stopped for ORPHAN_AFTER_SECONDS', async () => {
    const world = standardWorld({ settings: { maxInvocationMs: 60_000 } });
    await world.invoke(pipelineEvent('job-1', params()), 'job-1');
    const stoppedAt = world.clock.now();
    world.scheduleSweeps(stoppedAt + 3_600_000);
    await world.clock.drain();
    const restore = world.lambda.changes.find((c) => c.routing.version === '1' && c.at > stoppedAt)!;
    expect(restore.at - stoppedAt).toBeGreaterThanOrEqual(world.orphanAfterMs);
    expect(restore.at - stoppedAt).toBeLessThanOrEqual(world.orphanAfterMs + 300_000);
    expect((await history(world))[0]).toMatchObject({ status: 'ROLLED_BACK', errorCode: 'ORPHANED', rolledBackBy: 'sweep' });
  });

  it('a continuation that arrives after the sweep reverted its deployment reports the failure and moves nothing', async () => {
    const world = standardWorld({ settings: { maxInvocationMs: 60_000 } });
    await world.invoke(pipelineEvent('job-1', params()), 'job-1');
    const token = [...world.pipeline.results].reverse().find((r) => r.kind === 'success' && r.continuationToken)!;
    world.scheduleSweeps(world.clock.now() + 1_800_000);
    await world.clock.drain();
    const changes = world.lambda.changes.length;
    await world.invoke(pipelineEvent('job-1', params(), token.kind === 'success' ? token.continuationToken : ''), 'job-1');
    expect(world.lambda.changes).toHaveLength(changes);
    expect(world.pipeline.finalResults('job-1')[0]).toMatchObject({ kind: 'failure', message: expect.stringMatching(/\[ORPHANED\]/) });
  });
});

describe('a job that ended stays ended', () => {
  it('a late duplicate of a job blocked by a firing alarm reports the same failure and shifts nothing', async () => {
    const world = standardWorld();
    world.cloudwatch.setAlarm(GENERATED_ALARM, 'ALARM');
    await world.runJob('job-1', params());
    world.cloudwatch.setAlarm(GENERATED_ALARM, 'OK');
    await world.clock.advance(5 * 60_000);
    await world.invoke(pipelineEvent('job-1', params()), 'job-1');
    expect(world.lambda.changes).toEqual([]);
    expect(world.pipeline.finalResults('job-1')).toHaveLength(1);
    expect(world.ledger.deployments.size).toBe(0);
  });
});

describe('lock fencing', () => {
  it('a continuation delayed past the lock TTL, after another release took the alias, fails and moves nothing', async () => {
    const world = standardWorld({ settings: { maxInvocationMs: 60_000, lockTtlMs: 600_000 } });
    addVersion(world, '3');
    await world.invoke(pipelineEvent('job-1', params({ strategy: 'AllAtOnce', bakeMinutes: 0 })), 'job-1'); // R1: 1 → 2, done
    world.lambda.functions.get(REF.functionName)!.aliases.set('candidate', { version: '3', weights: {} });
    await world.invoke(pipelineEvent('job-2', params({ strategy: 'Canary10Percent30Minutes' })), 'job-2'); // R2: 2 → 3 at 10 %
    const token = [...world.pipeline.results].reverse().find((r) => r.jobId === 'job-2' && r.kind === 'success' && r.continuationToken)!;
    // R2's continuation is delayed far past the lock TTL while R2's heartbeats are silent; the sweep reverts R2, and R3 starts.
    world.scheduleSweeps(world.clock.now() + 1_800_000);
    await world.clock.drain();
    expect(live(world)).toMatchObject({ version: '2', weights: {} });
    await world.runJob('job-3', params({ strategy: 'Canary10Percent5Minutes' }));
    const changes = world.lambda.changes.length;
    await world.invoke(pipelineEvent('job-2', params(), token.kind === 'success' ? token.continuationToken : ''), 'job-2');
    expect(world.lambda.changes).toHaveLength(changes);
    expect(world.pipeline.finalResults('job-3')[0]).toMatchObject({ kind: 'success' });
    expect(live(world)).toMatchObject({ version: '3', weights: {} });
  });

  it('when the lock cannot be renewed before it lapses, the invocation undoes its own shift while it still holds it', async () => {
    const world = standardWorld({ settings: { lockTtlMs: 120_000 } });
    world.clock.schedule(world.clock.now() + 30_000, () => (world.ledger.writesDown = true));
    await world.runJob('job-1', params());
    world.ledger.writesDown = false;
    expect(live(world)).toMatchObject({ version: '1', weights: {} });
    expect(world.pipeline.finalResults('job-1')[0]).toMatchObject({ kind: 'failure', message: expect.stringMatching(/\[LOCK_LOST\].*could not renew/) });
  });
});

describe('one truth for progress', () => {
  it('a lost progress write never makes a healthy release look externally changed', async () => {
    const world = standardWorld({ settings: { maxInvocationMs: 60_000 } });
    // The ledger goes down for two minutes right after the second step's alias move, before its progress is saved.
    const update = world.lambda.updateAlias.bind(world.lambda);
    world.lambda.updateAlias = async (...args) => {
      const moved = await update(...args);
      if (moved.weights['2'] === 0.5 && !world.ledger.writesDown) {
        world.ledger.writesDown = true;
        world.clock.schedule(world.clock.now() + 120_000, () => (world.ledger.writesDown = false));
      }
      return moved;
    };
    await world.runJob('job-1', params({ strategy: { steps: [{ percent: 10, minutes: 1 }, { percent: 50, minutes: 3 }] } }));
    expect(world.pipeline.finalResults('job-1')[0]).toMatchObject({ kind: 'success' });
    expect(live(world)).toMatchObject({ version: '2', weights: {} });
    const [record] = await history(world);
    expect(record).toMatchObject({ status: 'SUCCEEDED' });
    // The 50 % step held its full three minutes although the ledger's cursor was a step behind.
    const half = world.lambda.changes.find((c) => c.routing.weights['2'] === 0.5)!;
    const full = world.lambda.changes.find((c) => c.routing.version === '2')!;
    expect(full.at - half.at).toBeGreaterThanOrEqual(3 * 60_000);
  });
});

describe('operators', () => {
  it('an abort wins: a later promote is refused while the abort is pending', async () => {
    const world = standardWorld({ settings: { maxInvocationMs: 60_000 } });
    await world.invoke(pipelineEvent('job-1', params()), 'job-1');
    await world.clock.drive(requestAction(operator(world), REF, 'ABORT'));
    await expect(world.clock.drive(requestAction(operator(world, 'bob'), REF, 'PROMOTE'))).rejects.toThrow(/an abort is pending.*promote refused/);
  });

  it('lrp rollback fences the deployment, then moves the alias through throttling, then records', async () => {
    const world = standardWorld({ seed: 7, settings: { maxInvocationMs: 60_000 } });
    await world.invoke(pipelineEvent('job-1', params()), 'job-1');
    world.faults.rate = 0.5;
    const result = await world.clock.drive(rollback(operator(world), REF));
    world.faults.rate = 0;
    expect(result).toMatchObject({ toVersion: '1', stoppedDeployment: expect.any(String) });
    expect(live(world)).toMatchObject({ version: '1', weights: {} });
    expect((await history(world))[0]).toMatchObject({ status: 'ROLLED_BACK', rolledBackBy: 'operator:alice' });
  });

  it('lrp rollback --to refuses a version a rollback replaced', async () => {
    const world = standardWorld();
    await world.runJob('job-1', params({ bakeMinutes: 1 }));
    await world.clock.advance(2 * 60_000);
    await world.clock.drive(rollback(operator(world), REF, '1'));
    expect(live(world).version).toBe('1');
    await expect(world.clock.drive(rollback(operator(world), REF, '2'))).rejects.toThrow(/version 2 was replaced by a rollback/);
  });
});

describe('the alarm index belongs to the releases that declared alarms', () => {
  it('an alarm a release no longer declares does not roll later releases back', async () => {
    const world = standardWorld();
    addVersion(world, '3');
    await world.runJob('job-1', params({ bakeMinutes: 1 }));
    await world.clock.advance(2 * 60_000);
    world.lambda.functions.get(REF.functionName)!.aliases.set('candidate', { version: '3', weights: {} });
    await world.runJob('job-2', params({ alarms: [], bakeMinutes: 30 }));
    expect(await world.ledger.aliasesGuardedBy(USER_ALARM)).toEqual([]);
    world.cloudwatch.setAlarm(USER_ALARM, 'ALARM');
    await world.clock.drive(world.deliverAlarm(USER_ALARM));
    expect(live(world).version).toBe('3');
  });
});

describe('sequences that must keep changing nothing', () => {
  it('`lrp promote` after the deployment completed is refused with exit 2', async () => {
    const world = standardWorld();
    await world.runJob('job-1', params({ strategy: 'AllAtOnce' }));
    const changes = world.lambda.changes.length;
    const code = await world.clock.drive(run(['promote', REF.functionName], () => operator(world), () => undefined, () => undefined));
    expect(code).toBe(2);
    expect(world.lambda.changes).toHaveLength(changes);
  });

  it('`lrp abort` in the gap between two invocations: the continuation rolls back and the job fails ABORTED', async () => {
    const world = standardWorld({ settings: { maxInvocationMs: 60_000 }, continuationGapMs: 120_000 });
    world.clock.schedule(world.clock.now() + 70_000, () => run(['abort', REF.functionName], () => operator(world), () => undefined, () => undefined));
    await world.runJob('job-1', params());
    expect(world.pipeline.finalResults('job-1')[0]).toMatchObject({ kind: 'failure', message: expect.stringMatching(/ABORTED/) });
    expect(live(world)).toMatchObject({ version: '1', weights: {} });
  });

  it('a continuation token of another job\'s deployment fails that job and moves nothing', async () => {
    const world = standardWorld({ settings: { maxInvocationMs: 60_000 } });
    await world.invoke(pipelineEvent('job-1', params()), 'job-1');
    const token = [...world.pipeline.results].reverse().find((r) => r.kind === 'success' && r.continuationToken)!;
    const changes = world.lambda.changes.length;
    await world.invoke(pipelineEvent('job-X', params(), token.kind === 'success' ? token.continuationToken : ''), 'job-X');
    expect(world.lambda.changes).toHaveLength(changes);
    expect(world.pipeline.finalResults('job-X')[0]).toMatchObject({ kind: 'failure' });
  });
});
