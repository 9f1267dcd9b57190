// Drives the deployment functions' handlers the way CodePipeline and EventBridge would, over the in-memory AWS model.
import { createRollbackHandler, createShiftTrafficHandler } from '../../deploy-functions/engine/handlers';
import type { JobReport } from '../../deploy-functions/engine/pipeline-job';
import type { RollbackAction } from '../../deploy-functions/engine/rollback';
import { DEFAULT_SHIFT_TRAFFIC_SETTINGS, type ShiftTrafficSettings } from '../../deploy-functions/engine/shift-traffic';
import { FakeCloudWatch, FakeLambda, FakePipeline, Faults, MemoryLogger, VirtualClock, actionStateEvent, alarmEvent, fakeContext, pipelineEvent, scheduledEvent } from './fake-aws';
import { FakeLedger } from './fake-ledger';

/** Options of a simulated world. */
export interface WorldOptions {
  /** @default 1 */
  readonly seed?: number;
  /** Probability that any AWS call is throttled. @default 0 */
  readonly faultRate?: number;
  /** Probability that an alias update is applied but its answer lost. @default 0 */
  readonly lostResponseRate?: number;
  readonly settings?: Partial<ShiftTrafficSettings>;
  /** Lambda timeout of the shift-traffic function. @default 600_000 */
  readonly timeoutMs?: number;
  /** Time CodePipeline takes to re-invoke after a continuation. @default 30_000 */
  readonly continuationGapMs?: number;
  /** The rollback function's ORPHAN_AFTER_SECONDS, in ms. @default 900_000 */
  readonly orphanAfterMs?: number;
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
  const settings: ShiftTrafficSettings = { ...DEFAULT_SHIFT_TRAFFIC_SETTINGS, ...options.settings };
  const timeoutMs = options.timeoutMs ?? 600_000;
  const gap = options.continuationGapMs ?? 30_000;
  const shiftHandler = createShiftTrafficHandler({ pipeline, logger, clock }, { lambda, cloudwatch, ledger, clock, logger, settings });
  const orphanAfterMs = options.orphanAfterMs ?? 900_000;
  const rollbackHandler = createRollbackHandler({ lambda, ledger, clock, logger, orphanAfterMs });
  const overruns: Overrun[] = [];
  const deadLetters: { alarmName: string; error: string; event: unknown }[] = [];
  const rollbackActions: (RollbackAction & { event: string })[] = [];
  let requests = 0;

  /** Turns faults on once the world is set up (set-up itself never fails). */
  const enableFaults = () => {
    faults.rate = options.faultRate ?? 0;
    lambda.lostResponseRate = options.lostResponseRate ?? 0;
  };

  /** One invocation of the shift-traffic function (a task on the virtual clock). */
  const invokeTask = async (event: unknown, jobId: string): Promise<JobReport> => {
    // Lambda retries a failed asynchronous invocation twice, about a minute apart.
    for (let attempt = 1; ; attempt += 1) {
      const started = clock.now();
      try {
        const report = await shiftHandler(event, fakeContext(clock, timeoutMs, `req-${++requests}`));
        if (clock.now() - started > timeoutMs) overruns.push({ jobId, elapsedMs: clock.now() - started });
        return report;
      } catch (error) {
        if (attempt >= 3) throw error;
        await clock.sleep(60_000);
      }
    }
  };

  /** Runs a job as CodePipeline does: invoke, and re-invoke with each continuation token until a final result. */
  const startJob = async (jobId: string, params: unknown, jobOptions: { duplicateEvery?: number } = {}): Promise<JobReport[]> => {
    const reports: JobReport[] = [];
    let event = pipelineEvent(jobId, params);
    for (let round = 0; round < 2_000; round += 1) {
      const duplicate = jobOptions.duplicateEvery && round % jobOptions.duplicateEvery === 0;
      // A duplicate delivery of the same event runs in parallel (Lambda's at-least-once asynchronous invocation).
      const [report, copy] = await Promise.all([invokeTask(event, jobId), duplicate ? invokeTask(event, jobId) : Promise.resolve(undefined)]);
      reports.push(report, ...(copy ? [copy] : []));
      if (pipeline.finalResults(jobId).length > 0) return reports;
      const last = [...pipeline.results].reverse().find((r) => r.jobId === jobId);
      if (report.outcome === 'unreportable' || !last || last.kind !== 'success' || !last.continuationToken) return reports;
      await clock.sleep(gap);
      event = pipelineEvent(jobId, params, last.continuationToken);
    }
    throw new Error(`job ${jobId} did not end after 2000 invocations`);
  };

  /** Invokes once and runs the clock until the invocation ends. */
  const invoke = (event: unknown, jobId: string) => clock.drive(invokeTask(event, jobId));
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
  const deliverActionState = (executionId: string, state: Parameters<typeof actionStateEvent>[1]) => deliver(actionStateEvent(executionId, state, clock.now()), `${executionId}:${state}`);
  /** The 5-minute schedule's event: the sweep. */
  const sweep = () => deliver(scheduledEvent(clock.now()), `sweep@${clock.now()}`);
  /** Schedules the sweep every 5 minutes from now until `until`. */
  const scheduleSweeps = (until: number) => {
    for (let at = clock.now() + 300_000; at <= until; at += 300_000) clock.schedule(at, () => sweep());
  };

  return { clock, faults, lambda, cloudwatch, ledger, pipeline, logger, settings, orphanAfterMs, enableFaults, invoke, runJob, startJob, deliver, deliverAlarm, deliverActionState, sweep, scheduleSweeps, overruns, deadLetters, rollbackActions };
}
export type World = ReturnType<typeof createWorld>;

/** The usual set-up: function `orders-api-prod` with versions 1 and 2, `live` on 1, `candidate` on 2, one generated alarm. */
export function standardWorld(options: WorldOptions = {}) {
  const world = createWorld(options);
  world.lambda.addFunction('orders-api-prod', { '1': 'commit 1111111', '2': 'commit abcdef1234567' }, { live: '1', candidate: '2' });
  world.cloudwatch.setAlarm(GENERATED_ALARM, 'OK');
  world.cloudwatch.setAlarm(USER_ALARM, 'OK');
  return world;
}

/** The alarm infra generates for `orders-api-prod:live`. */
export const GENERATED_ALARM = 'lrp/orders-api-prod/live/errors';
/** An alarm a user declares in UserParameters. */
export const USER_ALARM = 'orders-api-prod-latency';
