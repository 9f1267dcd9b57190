// Drives the deployment functions' handlers the way CodePipeline and EventBridge would, over the in-memory AWS model.
import { createRollbackHandler, createShiftTrafficHandler } from '../../deploy-functions/engine/handlers';
import type { JobReport } from '../../deploy-functions/engine/pipeline-job';
import type { RollbackAction } from '../../deploy-functions/engine/rollback';
import { DEFAULT_SHIFT_TRAFFIC_SETTINGS, type ShiftTrafficSettings } from '../../deploy-functions/engine/shift-traffic';
import { FakeCloudWatch, FakeLambda, FakePipeline, Faults, MemoryLogger, VirtualClock, actionStateEvent, alarmEvent, fakeContext, pipelineEvent, scheduledEvent, type RecordedResult } from './fake-aws';
import { Notices } from '../../deploy-functions/engine/notices';
import { FakeLedger } from './fake-ledger';
import { FakeNotifier } from './fake-notifier';

/** How long (virtual time) `sweepWhile` sweeps at most: far beyond any scenario's rollout, bake window and orphan timeout. */
export const SWEEP_HORIZON_MS = 7 * 24 * 3_600_000;

/** Options of a simulated world. */
export interface WorldOptions {
  /** @default 1 */
  readonly seed?: number;
  /** Probability that any AWS call is throttled. @default 0 */
  readonly faultRate?: number;
  /** Probability that an alias update is applied but its answer lost. @default 0 */
  readonly lostResponseRate?: number;
  /** Probability that an alias update stalls in the network (up to 15 s; past 5 s the caller times out). @default 0 */
  readonly stallRate?: number;
  /** How often a ledger write is applied but its answer lost. @default 0 */
  readonly ledgerLostAnswerRate?: number;
  readonly settings?: Partial<ShiftTrafficSettings>;
  /** Lambda timeout of the shift-traffic function. @default 600_000 */
  readonly timeoutMs?: number;
  /** Time CodePipeline takes to re-invoke after a continuation. @default 30_000 */
  readonly continuationGapMs?: number;
  /** The rollback function's ORPHAN_AFTER_SECONDS, in ms. @default 900_000 */
  readonly orphanAfterMs?: number;
  /** LRP_INSTALLATION of both deployment functions. @default - unset (lrp) */
  readonly installation?: string;
}

/** An invocation that ran past its Lambda timeout, which would leave the job without a result. */
export interface Overrun {
  readonly jobId: string;
  readonly elapsedMs: number;
}

/** A simulated account: the model, the handlers, and helpers to run jobs and deliver alarm events. */
export function createWorld(options: WorldOptions = {}) {
  const clock = new VirtualClock();
  const faults = new Faults(options.seed ?? 1, 0);
  const lambda = new FakeLambda(clock, faults);
  const cloudwatch = new FakeCloudWatch(lambda, faults, clock);
  const ledger = new FakeLedger(faults);
  const pipeline = new FakePipeline(clock, faults);
  const logger = new MemoryLogger();
  // The notices topic: both deployment functions announce their rollbacks on it.
  const notifier = new FakeNotifier();
  const notices = new Notices({ notifier, logger, region: 'us-east-1' });
  const settings: ShiftTrafficSettings = { ...DEFAULT_SHIFT_TRAFFIC_SETTINGS, ...options.settings };
  const timeoutMs = options.timeoutMs ?? 600_000;
  const gap = options.continuationGapMs ?? 30_000;
  const installation = options.installation !== undefined ? { installation: options.installation } : {};
  const shiftHandler = createShiftTrafficHandler({ pipeline, logger, clock }, { lambda, cloudwatch, ledger, clock, logger, settings, notices, ...installation });
  const orphanAfterMs = options.orphanAfterMs ?? 900_000;
  const rollbackHandler = createRollbackHandler({ lambda, ledger, clock, logger, orphanAfterMs, alarms: cloudwatch, pipeline, home: { account: '123456789012', region: 'us-east-1' }, notices, ...installation });
  const overruns: Overrun[] = [];
  /** Jobs whose execution was stopped before they ended: CodePipeline takes no result for them. */
  const abandoned = new Set<string>();
  /** Jobs CodePipeline failed itself, because every invocation of an event failed. */
  const timedOut = new Set<string>();
  const deadLetters: { alarmName: string; error: string; event: unknown }[] = [];
  const rollbackActions: (RollbackAction & { event: string })[] = [];
  let requests = 0;
  const forged = new WeakSet<object>();

  /** Turns faults on once the world is set up (set-up itself never fails). */
  const enableFaults = () => {
    faults.rate = options.faultRate ?? 0;
    lambda.lostResponseRate = options.lostResponseRate ?? 0;
    faults.stallRate = options.stallRate ?? 0;
    ledger.lostAnswerRate = options.ledgerLostAnswerRate ?? 0;
  };

  /** One invocation of the shift-traffic function (a task on the virtual clock). */
  const invokeTask = async (event: unknown, jobId: string): Promise<JobReport> => {
    // The pipeline created the job this event stands for (`invokeForged` delivers one it did not create).
    if (!(typeof event === 'object' && event !== null && forged.has(event))) {
      try {
        pipeline.createJob(event);
      } catch {
        // Not a job event: CodePipeline created nothing.
      }
    }
    // Lambda retries a failed asynchronous invocation twice, about a minute apart.
    for (let attempt = 1; ; attempt += 1) {
      const started = clock.now();
      try {
        const report = await shiftHandler(event, fakeContext(clock, timeoutMs, `req-${++requests}`));
        if (clock.now() - started > timeoutMs) overruns.push({ jobId, elapsedMs: clock.now() - started });
        return report;
      } catch (error) {
        if (attempt < 3) {
          await clock.sleep(60_000);
          continue;
        }
        // Lambda gave up on the event; CodePipeline hears nothing from this invocation.
        return { jobId, outcome: 'unreportable', message: `invocation failed three times: ${(error as Error).message}` };
      }
    }
  };

  /** The next result CodePipeline receives for a job after `since`, or undefined when none came within its 20-minute action timeout. */
  const nextResult = async (jobId: string, since: number, after: number): Promise<RecordedResult | undefined> => {
    const deadline = since + 20 * 60_000;
    for (;;) {
      const result = pipeline.results.find((r) => r.jobId === jobId && r.at >= since && r.seq > after);
      if (result) return result;
      if (clock.now() >= deadline) return undefined;
      await clock.sleep(Math.min(1_000, deadline - clock.now()));
    }
  };
  /**
   * Runs a job as CodePipeline does: invoke, and re-invoke with each continuation token until a final result. With
   * `stopAfter`, the execution is stopped (abandoned) after that many invocations: no further one comes, and `onStop`
   * runs (the action's state-change event, if any).
   */
  const startJob = async (jobId: string, params: unknown, jobOptions: { duplicateEvery?: number; stopAfter?: number; onStop?: () => void } = {}): Promise<JobReport[]> => {
    const reports: JobReport[] = [];
    let event = pipelineEvent(jobId, params);
    let seen = -1;
    for (let round = 0; round < 2_000; round += 1) {
      if (jobOptions.stopAfter !== undefined && round >= jobOptions.stopAfter) {
        abandoned.add(jobId);
        jobOptions.onStop?.();
        return reports;
      }
      const since = clock.now();
      const duplicate = jobOptions.duplicateEvery && round % jobOptions.duplicateEvery === 0;
      // A duplicate delivery of the same event runs in parallel (Lambda's at-least-once asynchronous invocation).
      const invocations = [invokeTask(event, jobId), ...(duplicate ? [invokeTask(event, jobId)] : [])].map((task) => task.then((report) => reports.push(report)));
      // CodePipeline reacts to whatever answers for the job — this invocation, or another delivery of an event of it.
      const result = await nextResult(jobId, since, seen);
      if (!result) {
        await Promise.all(invocations);
        timedOut.add(jobId);
        await pipeline.timeOut(jobId);
        return reports;
      }
      seen = result.seq;
      if (result.kind === 'failure' || !result.continuationToken) {
        await Promise.all(invocations);
        return reports;
      }
      await clock.sleep(gap);
      event = pipelineEvent(jobId, params, result.continuationToken);
    }
    throw new Error(`job ${jobId} did not end after 2000 invocations`);
  };

  /** Invokes once and runs the clock until the invocation ends. */
  const invoke = (event: unknown, jobId: string) => clock.drive(invokeTask(event, jobId));
  /** An event someone allowed to invoke the function wrote, not the pipeline: CodePipeline's record is left as it is. */
  const invokeForged = (event: object, jobId: string) => {
    forged.add(event);
    return invoke(event, jobId);
  };
  /** Runs a whole job, driving the clock. */
  const runJob = (jobId: string, params: unknown, jobOptions: { duplicateEvery?: number } = {}) => clock.drive(startJob(jobId, params, jobOptions));

  /** Delivers an event to the rollback function, retrying as EventBridge/Lambda would, then dead-lettering it. */
  const deliver = async (event: unknown, label: string, attempt = 1): Promise<RollbackAction[]> => {
    try {
      const actions = await rollbackHandler(event, fakeContext(clock, 120_000, `rb-${++requests}`));
      rollbackActions.push(...actions.map((action) => ({ ...action, event: label })));
      return actions;
    } catch (error) {
      if (attempt >= 3) {
        deadLetters.push({ alarmName: label, error: (error as Error).message, event });
        return [];
      }
      clock.schedule(clock.now() + 60_000, () => deliver(event, label, attempt + 1));
      return [];
    }
  };
  /** An alarm's state-change event; `changedAt` is the state change, not the delivery. */
  const deliverAlarm = (alarmName: string, changedAt = clock.now(), label = `${alarmName}@${changedAt}`) => deliver(alarmEvent(alarmName, 'ALARM', 'Threshold Crossed', changedAt), label);
  /** A pipeline action state change of an execution. */
  const deliverActionState = (executionId: string, state: Parameters<typeof actionStateEvent>[1]) => {
    // What CodePipeline's own record of the execution says after such an action state.
    const status = { ABANDONED: 'Stopped', FAILED: 'Failed', CANCELED: 'Cancelled', SUCCEEDED: 'Succeeded', STARTED: 'InProgress' }[state];
    pipeline.executions.set(executionId, status);
    return deliver(actionStateEvent(executionId, state, clock.now()), `${executionId}:${state}`);
  };
  /** The 5-minute schedule's event: the sweep. */
  const sweep = () => deliver(scheduledEvent(clock.now()), `sweep@${clock.now()}`);
  /** Schedules the sweep every 5 minutes from now until `until`. */
  const scheduleSweeps = (until: number) => {
    for (let at = clock.now() + 300_000; at <= until; at += 300_000) clock.schedule(at, () => sweep());
  };
  /**
   * Runs the sweep every 5 minutes for as long as `keepGoing` says, checked at each tick, and for at most `horizonMs` of
   * virtual time: a deployment that never ends then fails the invariants with its counterexample instead of hanging.
   */
  const sweepWhile = (keepGoing: () => boolean, horizonMs = SWEEP_HORIZON_MS) => {
    const until = clock.now() + horizonMs;
    const tick = () => {
      if (!keepGoing() || clock.now() >= until) return;
      clock.schedule(clock.now() + 300_000, async () => {
        await sweep();
        tick();
      });
    };
    tick();
  };

  return { clock, faults, lambda, cloudwatch, ledger, pipeline, logger, notifier, settings, orphanAfterMs, enableFaults, invoke, invokeForged, runJob, startJob, deliver, deliverAlarm, deliverActionState, sweep, scheduleSweeps, sweepWhile, invokeTask, abandoned, timedOut, overruns, deadLetters, rollbackActions };
}
export type World = ReturnType<typeof createWorld>;

/** The usual set-up: function `orders-api-prod` with versions 1 and 2, `live` on 1, `candidate` on 2, one generated alarm. */
export function standardWorld(options: WorldOptions = {}) {
  const world = createWorld(options);
  world.lambda.addFunction('orders-api-prod', { '1': 'commit 1111111', '2': 'commit abcdef1234567' }, { live: '1', candidate: '2' });
  world.cloudwatch.setAlarm(GENERATED_ALARM, 'OK');
  world.cloudwatch.tags.set(GENERATED_ALARM, { 'lrp:function': 'orders-api-prod', 'lrp:alias': 'live' });
  world.cloudwatch.setAlarm(USER_ALARM, 'OK');
  return world;
}

/** The alarm infra generates for `orders-api-prod:live`. */
export const GENERATED_ALARM = 'lrp/orders-api-prod/live/errors';
/** An alarm a user declares in UserParameters. */
export const USER_ALARM = 'orders-api-prod-latency';
