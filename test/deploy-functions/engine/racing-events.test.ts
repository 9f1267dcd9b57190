// Events that arrive late, race a release's start, or name an alarm two releases care about.
import { describe, expect, it } from 'vitest';
import { run } from '../../../cli/main';
import { rollback } from '../../../cli/operations';
import { AwsCallError, ErrorCode } from '../../../deploy-functions/core/errors';
import { undoDeployment } from '../../../deploy-functions/engine/undo';
import { actionStateEvent, pipelineEvent } from '../../support/fake-aws';
import { MIN, REF, addVersion, history, live, operator, params, setCandidate } from '../../support/operations';
import { GENERATED_ALARM, USER_ALARM, standardWorld } from '../../support/simulation';

// CodePipeline's "Retry" keeps the pipeline execution id. The FAILED action-state event of the first attempt, delivered
// late (EventBridge retries for up to 2 h, then the DLQ is replayed), predates the deployment the retry started.
describe('a late action-state event of an earlier attempt of the same execution', () => {
  it('does not revert the deployment a retry of that execution started after the event', async () => {
    const world = standardWorld({ settings: { maxInvocationMs: 60_000 } });
    // Attempt 1 of execution exec-1: blocked, its alarm is firing. The action FAILS at `failedAt`.
    world.cloudwatch.setAlarm(GENERATED_ALARM, 'ALARM');
    await world.invoke(pipelineEvent('job-1', params({ pipelineExecutionId: 'exec-1' })), 'job-1');
    expect(world.pipeline.finalResults('job-1')[0]).toMatchObject({ kind: 'failure', message: expect.stringMatching(/ALARM_BREACHED/) });
    const failedAt = world.clock.now();
    const failedEvent = actionStateEvent('exec-1', 'FAILED', failedAt);
    // The alarm clears; the on-call engineer clicks "Retry" on the stage: same execution id, new job.
    world.cloudwatch.setAlarm(GENERATED_ALARM, 'OK');
    await world.clock.advance(2 * MIN);
    await world.invoke(pipelineEvent('job-2', params({ pipelineExecutionId: 'exec-1' })), 'job-2'); // 10 % on 2, healthy
    expect(live(world).weights).toEqual({ '2': 0.1 });
    const [retry] = await history(world);
    expect(retry!.startedAt).toBeGreaterThan(failedAt);
    // The first attempt's FAILED event arrives now (retried by EventBridge / replayed from the DLQ).
    await world.clock.drive(world.deliver(failedEvent, 'late FAILED of attempt 1'));
    // Expected: the event predates the deployment; it does nothing. The healthy canary keeps its 10 %.
    expect(world.rollbackActions.filter((a) => a.action === 'ROLLED_BACK')).toEqual([]);
    expect(live(world).weights).toEqual({ '2': 0.1 });
    expect((await history(world))[0]).toMatchObject({ status: 'IN_PROGRESS' });
  });
});

// The rollback function undoes a baking release R1 without fencing (for speed): only the alias revision guards it.
// While its UpdateAlias is throttled and retried, the next release R2 starts (ending R1's bake window), takes the lock
// and renews the alias revision. The undo's retry then conflicts, finds R1's window closed and does not land.
describe('an unfenced undo of a baking release racing the next release', () => {
  it('never writes the alias while another deployment holds the lock, and does not fail that deployment', async () => {
    const world = standardWorld();
    addVersion(world, '3');
    await world.runJob('job-1', params({ strategy: 'AllAtOnce', bakeMinutes: 30 })); // R1: 1 → 2, baking
    await world.clock.advance(5 * MIN);
    setCandidate(world, '3');
    // Throttle the first UpdateAlias of the rollback function and of R2 (API rate limits are per account).
    const update = world.lambda.updateAlias.bind(world.lambda);
    const throttled = new Set<string>();
    world.lambda.updateAlias = async (fn, alias, routing, options) => {
      const who = /undo .*rollback-function/.test(options?.description ?? '') ? 'rollback' : /step 1$/.test(options?.description ?? '') ? 'r2' : undefined;
      if (who && !throttled.has(who)) {
        throttled.add(who);
        throw new AwsCallError(ErrorCode.AWS_THROTTLED, 'UpdateAlias failed: TooManyRequestsException (throttled)');
      }
      return update(fn, alias, routing, options);
    };
    const changedAt = world.clock.now();
    world.cloudwatch.setAlarm(GENERATED_ALARM, 'ALARM');
    world.cloudwatch.setAlarm(GENERATED_ALARM, 'OK'); // a blip: OK again before R2's preflight reads it
    const event = world.deliverAlarm(GENERATED_ALARM, changedAt, 'blip during R1 bake');
    // R2 starts 50 ms later (its job was already on its way).
    world.clock.schedule(world.clock.now() + 50, () => world.invokeTask(pipelineEvent('job-2', params({ strategy: 'Canary10Percent5Minutes' })), 'job-2'));
    await world.clock.drive(event);
    await world.clock.advance(20 * MIN);
    const [r2, r1] = await history(world);
    const r2Writes = world.lambda.changes.filter((c) => c.at >= r2!.startedAt);
    // Expected: once R2 holds the lock, only R2 writes the alias; R2 (healthy) is not failed by R1's event.
    expect(r2Writes.map((c) => c.description)).toEqual(r2Writes.map(() => expect.stringContaining(r2!.deploymentId)));
    expect(r2).toMatchObject({ toVersion: '3', status: 'SUCCEEDED' });
    expect(r1).toMatchObject({ toVersion: '2' });
    expect(live(world)).toMatchObject({ version: '3', weights: {} });
  });
});

// Two functions whose alarms overlap: invoice-worker-prod declares orders-api-prod's generated alarm (it calls
// orders-api) in its UserParameters, and the alarm fires in invoice-worker's bake window.
const WORKER = { functionName: 'invoice-worker-prod', alias: 'live' } as const;
describe('an alarm declared by a release whose name looks generated for another function', () => {
  it('rolls back the baking release that declared it', async () => {
    const world = standardWorld();
    world.lambda.addFunction(WORKER.functionName, { '1': 'commit 1111111', '2': 'commit 2222222' }, { live: '1', candidate: '2' });
    await world.runJob('job-w', { ...WORKER, targetAlias: 'candidate', strategy: 'AllAtOnce', alarms: [GENERATED_ALARM], bakeMinutes: 30 });
    expect(world.lambda.routing(WORKER.functionName, 'live').version).toBe('2');
    expect(await world.ledger.aliasesGuardedBy(GENERATED_ALARM)).toEqual([WORKER]);
    await world.clock.advance(2 * MIN);
    world.cloudwatch.setAlarm(GENERATED_ALARM, 'ALARM');
    await world.clock.drive(world.deliverAlarm(GENERATED_ALARM));
    // Expected: invoice-worker's release, baking and watching that alarm, goes back to version 1.
    expect(world.rollbackActions).toContainEqual(expect.objectContaining({ ...WORKER, action: 'ROLLED_BACK' }));
    expect(world.lambda.routing(WORKER.functionName, 'live')).toMatchObject({ version: '1', weights: {} });
  });
});

// The alarm changes to ALARM after preflight read it as OK but before the deployment took the lock (the ledger
// throttled the start once). Its event predates the start, so nothing would judge it against this deployment: the
// deployment looks once more after taking the lock, and moves nothing.
describe('an alarm that changes between preflight and the start of an all-at-once release', () => {
  it('fails the release without moving anything', async () => {
    const world = standardWorld();
    const start = world.ledger.startDeployment.bind(world.ledger);
    let throttle = true;
    world.ledger.startDeployment = async (...args) => {
      if (throttle) {
        throttle = false;
        const changedAt = world.clock.now() + 100;
        world.clock.schedule(changedAt, () => {
          world.cloudwatch.setAlarm(GENERATED_ALARM, 'ALARM', 'Threshold Crossed');
          world.clock.schedule(changedAt + 20_000, () => world.deliverAlarm(GENERATED_ALARM, changedAt));
        });
        throw new AwsCallError(ErrorCode.AWS_THROTTLED, 'TransactWriteItems failed: ThrottlingException (throttled)');
      }
      return start(...args);
    };
    await world.runJob('job-1', params({ strategy: 'AllAtOnce', bakeMinutes: 30 }));
    await world.clock.advance(5 * MIN);
    await world.clock.drain();
    expect(world.cloudwatch.alarms.get(GENERATED_ALARM)?.state).toBe('ALARM');
    expect(world.pipeline.finalResults('job-1')[0]).toMatchObject({ kind: 'failure', message: expect.stringMatching(/ALARM_BREACHED.*changed to ALARM while this deployment was starting; nothing was shifted/) });
    expect(world.lambda.changes).toEqual([]);
    expect(live(world)).toMatchObject({ version: '1', weights: {} });
    expect((await world.ledger.getState(REF))?.bakingDeploymentId).toBeUndefined();
  });
});

// Release R2 (whose commit no longer declares the latency alarm) passes preflight but fails to take the lock, while R1,
// which declared the alarm, is still baking. Alarms a release drops leave the index only once it holds the alias.
describe('the alarm index and a release that never started', () => {
  it('keeps the alarms of the release still baking when a later release fails before taking the lock', async () => {
    const world = standardWorld();
    addVersion(world, '3');
    await world.runJob('job-1', params({ strategy: 'AllAtOnce', alarms: [USER_ALARM], bakeMinutes: 30 })); // R1: 1 → 2, baking
    await world.clock.advance(2 * MIN);
    setCandidate(world, '3');
    const start = world.ledger.startDeployment.bind(world.ledger);
    world.ledger.startDeployment = async (record, options) => {
      if (record.jobId === 'job-2') throw new AwsCallError(ErrorCode.AWS_THROTTLED, 'TransactWriteItems failed: ThrottlingException (throttled)');
      return start(record, options);
    };
    await world.runJob('job-2', params({ alarms: [] })); // R2 never starts
    expect(world.pipeline.finalResults('job-2')[0]).toMatchObject({ kind: 'failure' });
    expect(await history(world)).toHaveLength(1);
    expect((await world.ledger.getState(REF))?.bakingDeploymentId).toBeDefined(); // R1 still baking
    // R1's declared alarm fires inside its bake window.
    world.cloudwatch.setAlarm(USER_ALARM, 'ALARM');
    await world.clock.drive(world.deliverAlarm(USER_ALARM));
    expect(world.rollbackActions).toContainEqual(expect.objectContaining({ ...REF, action: 'ROLLED_BACK' }));
    expect(live(world)).toMatchObject({ version: '1', weights: {} });
  });
});

// A fenced undo that stalls: the execution is abandoned mid-canary, the rollback function fences the deployment but its
// UpdateAlias is throttled past its retries. 40 s later, the throttling over, the on-call engineer's `lrp rollback`
// carries the undo on at once (every undo of a deployment goes to the same version).
describe('an operator after a stalled fenced undo', () => {
  it('`lrp rollback` puts the alias back now instead of refusing for minutes', async () => {
    const world = standardWorld({ settings: { maxInvocationMs: 60_000 } });
    await world.invoke(pipelineEvent('job-1', params({ pipelineExecutionId: 'exec-1' })), 'job-1'); // 10 % on 2
    expect(live(world).weights).toEqual({ '2': 0.1 });
    // Lambda's control plane throttles every UpdateAlias for the next 35 s.
    const update = world.lambda.updateAlias.bind(world.lambda);
    const until = world.clock.now() + 35_000;
    world.lambda.updateAlias = async (...args) => {
      if (world.clock.now() < until) throw new AwsCallError(ErrorCode.AWS_THROTTLED, 'UpdateAlias failed: TooManyRequestsException (throttled)');
      return update(...args);
    };
    await world.clock.drive(world.deliverActionState('exec-1', 'ABANDONED'));
    expect(live(world).weights).toEqual({ '2': 0.1 }); // the undo stalled
    await world.clock.advance(40_000 - (world.clock.now() - (until - 35_000)));
    const errors: string[] = [];
    const code = await world.clock.drive(run(['rollback', REF.functionName], () => operator(world), () => undefined, (t) => errors.push(t)));
    expect(errors).toEqual([]);
    expect(code).toBe(0);
    expect(live(world)).toMatchObject({ version: '1', weights: {} });
  });
});

// Two on-call engineers roll back the same release. The first one's undo is fenced (ROLLING_BACK, its lock), then its
// process stalls (a throttled call retried, a laptop asleep). The second one's undo takes the fence over, puts the alias
// back and releases the lock; the next release starts and shifts its first step — between the same two versions.
describe('a fenced undo whose fence another hand took over', () => {
  /** D1 at 10 % on 2, and an undo of it by `operator:slow` whose process stalls for `stallMs` right after it fenced. */
  const stalledUndo = async (stallMs: number) => {
    const world = standardWorld({ settings: { maxInvocationMs: 60_000 } });
    await world.invoke(pipelineEvent('job-1', params()), 'job-1'); // D1: 10 % on 2, handed over
    const [d1] = await history(world);
    const beginUndo: typeof world.ledger.beginUndo = async (...args) => {
      const fenced = await world.ledger.beginUndo(...args);
      await world.clock.sleep(stallMs);
      return fenced;
    };
    const stalled = new Proxy(world.ledger, { get: (target, name, receiver) => (name === 'beginUndo' ? beginUndo : Reflect.get(target, name, receiver)) });
    const slow = undoDeployment({ ...operator(world, 'slow'), ledger: stalled, logger: world.logger }, REF, d1!, { by: 'operator:slow', code: ErrorCode.ROLLED_BACK_EXTERNALLY, reason: 'rolled back by slow', fenceFirst: true });
    return { world, d1: d1!, slow };
  };

  it('writes nothing once another operator finished the undo and the next release moved the alias', async () => {
    const { world, d1, slow } = await stalledUndo(MIN);
    world.clock.schedule(world.clock.now() + 1_000, () => rollback(operator(world, 'fast'), REF));
    world.clock.schedule(world.clock.now() + 10_000, () => world.invokeTask(pipelineEvent('job-2', params()), 'job-2'));
    const outcome = await world.clock.drive(slow);
    const [d2] = await history(world);
    // Expected: the second release's first step stays; the stalled undo finds its fence gone and moves nothing.
    expect(outcome).toMatchObject({ kind: 'ALREADY_ENDED', record: { deploymentId: d1.deploymentId, status: 'ROLLED_BACK', rolledBackBy: 'operator:fast' } });
    expect(world.lambda.changes.map((c) => c.description)).not.toContainEqual(expect.stringContaining('operator:slow'));
    expect(d2).toMatchObject({ jobId: 'job-2', status: 'IN_PROGRESS' });
    expect(live(world).weights).toEqual({ '2': 0.1 });
  });

  it('writes nothing once its lock lapsed, the sweep finished the undo and the next release moved the alias', async () => {
    const { world, d1, slow } = await stalledUndo(25 * MIN);
    world.scheduleSweeps(world.clock.now() + 15 * MIN);
    world.clock.schedule(world.clock.now() + 16 * MIN, () => world.invokeTask(pipelineEvent('job-2', params()), 'job-2'));
    const outcome = await world.clock.drive(slow);
    const [d2] = await history(world);
    // Expected: the sweep resumed the undo after UNDO_LOCK_MS; the stalled operator, back after the next release's
    // first step, moves nothing.
    expect(outcome).toMatchObject({ kind: 'ALREADY_ENDED', record: { deploymentId: d1.deploymentId, status: 'ROLLED_BACK', rolledBackBy: 'sweep', reason: 'its undo did not finish; resumed by the sweep' } });
    expect(world.lambda.changes.map((c) => c.description)).not.toContainEqual(expect.stringContaining('operator:slow'));
    expect(d2).toMatchObject({ jobId: 'job-2', status: 'IN_PROGRESS' });
    expect(live(world).weights).toEqual({ '2': 0.1 });
  });
});

// The rollback function undoes an in-flight release D1 without fencing (for speed). Its UpdateAlias hangs for a minute
// and times out unapplied. Meanwhile an operator rolls D1 back (fenced) and the next release D2 starts and shifts its
// first step between the same two versions. The rollback function's retry conflicts on the revision it knew.
describe('an unfenced undo of an in-flight release, stalled while the next release starts', () => {
  it('does not take the next release\'s step for its own and put it back', async () => {
    const world = standardWorld({ settings: { maxInvocationMs: 60_000 } });
    await world.invoke(pipelineEvent('job-1', params()), 'job-1'); // D1: 10 % on 2, handed over
    const update = world.lambda.updateAlias.bind(world.lambda);
    let stalled = false;
    world.lambda.updateAlias = async (fn, alias, routing, options) => {
      if (!stalled && /\(rollback-function\)$/.test(options?.description ?? '')) {
        stalled = true;
        await world.clock.sleep(MIN);
        throw new AwsCallError(ErrorCode.AWS_UNAVAILABLE, 'UpdateAlias failed: TimeoutError (the request was not applied)');
      }
      return update(fn, alias, routing, options);
    };
    const changedAt = world.clock.now();
    world.cloudwatch.setAlarm(USER_ALARM, 'ALARM');
    world.cloudwatch.setAlarm(USER_ALARM, 'OK'); // a blip: OK again before D2's preflight reads it
    const event = world.deliverAlarm(USER_ALARM, changedAt, 'blip during D1');
    world.clock.schedule(world.clock.now() + 1_000, () => rollback(operator(world, 'oncall'), REF));
    world.clock.schedule(world.clock.now() + 10_000, () => world.invokeTask(pipelineEvent('job-2', params()), 'job-2'));
    await world.clock.drive(event);
    const [d2, d1] = await history(world);
    // Expected: D1 is rolled back by the operator; D2 keeps its 10 %, and no undo of D1 writes after D2's first step.
    expect(d1).toMatchObject({ jobId: 'job-1', status: 'ROLLED_BACK', rolledBackBy: 'operator:oncall' });
    expect(d2).toMatchObject({ jobId: 'job-2', status: 'IN_PROGRESS' });
    const afterD2 = world.lambda.changes.filter((c) => c.at >= d2!.startedAt).map((c) => c.description);
    expect(afterD2).toEqual(afterD2.map(() => expect.stringContaining(d2!.deploymentId)));
    expect(live(world).weights).toEqual({ '2': 0.1 });
  });
});
