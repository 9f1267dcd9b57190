// The random scenarios of the engine's property test: every actor the product meets — breaches and their events
// (late, retried, replayed from the dead-letter queue, stale), operators, stopped executions, continuations delayed
// past the lock TTL, ledger outages, duplicate and late deliveries, competing releases, AWS faults — on the model.
import fc from 'fast-check';
import { rollback, requestAction, type OperatorDeps } from '../../cli/operations';
import { PredefinedStrategy } from '../../deploy-functions/core/strategies';
import { pipelineEvent } from './fake-aws';
import { GENERATED_ALARM, USER_ALARM, standardWorld } from './simulation';

export const REF = { functionName: 'orders-api-prod', alias: 'live' } as const;
export const MIN = 60_000;
export const SWEEP_PERIOD = 5 * MIN;

const customSteps = fc
  .uniqueArray(fc.integer({ min: 1, max: 99 }), { minLength: 0, maxLength: 4 })
  .chain((percents) => fc.tuple(...percents.sort((a, b) => a - b).map((percent) => fc.constantFrom(0, 0.5, 1, 3).map((minutes) => ({ percent, minutes })))))
  .map((steps) => ({ steps }));
const maybe = <T>(arb: fc.Arbitrary<T>, freq = 3) => fc.option(arb, { nil: undefined, freq });

/** One scenario. */
export const scenario = fc.record({
  seed: fc.integer({ min: 1, max: 0x7fffffff }),
  strategy: fc.oneof(fc.constantFrom(...Object.values(PredefinedStrategy)), customSteps),
  firstRelease: fc.integer({ min: 0, max: 5 }).map((n) => n === 0),
  breach: maybe(fc.record({ afterMs: fc.integer({ min: 0, max: 45 * MIN }), alarm: fc.constantFrom(GENERATED_ALARM, USER_ALARM), eventDelayMs: fc.integer({ min: 0, max: 60_000 }) }), 1),
  // The same event again: retried, late, or replayed from the dead-letter queue hours later.
  replays: fc.array(fc.integer({ min: 1_000, max: 4 * 3_600_000 }), { maxLength: 3 }),
  // An event whose alarm changed an hour before the release started.
  staleEventAtMs: maybe(fc.integer({ min: 0, max: 30 * MIN })),
  targetErrorRate: fc.constantFrom(0, 0, 0.005, 0.3),
  faultRate: fc.constantFrom(0, 0, 0.05, 0.2),
  lostResponseRate: fc.constantFrom(0, 0, 0.1),
  // An alias update that hangs in the network: the caller times out, the request lands (or is refused) later.
  stallRate: fc.constantFrom(0, 0, 0, 0.05),
  ledgerLostAnswerRate: fc.constantFrom(0, 0, 0, 0.05),
  duplicateEvery: fc.constantFrom(0, 0, 1, 3),
  // Lambda delivers an event at least once: a copy of the first one may come up to its 15-minute maximum event age later.
  lateDuplicateMs: maybe(fc.integer({ min: 60_000, max: 15 * MIN })),
  competingJobAfterMs: maybe(fc.integer({ min: 0, max: 30 * MIN })),
  maxInvocationMs: fc.constantFrom(60_000, 300_000, 540_000),
  // Mostly prompt continuations; sometimes delayed past the lock TTL.
  gapMs: fc.oneof({ weight: 5, arbitrary: fc.integer({ min: 1_000, max: 120_000 }) }, { weight: 1, arbitrary: fc.integer({ min: 20 * MIN, max: 45 * MIN }) }),
  bakeMinutes: fc.integer({ min: 0, max: 30 }),
  operator: maybe(fc.record({ atMs: fc.integer({ min: 0, max: 40 * MIN }), command: fc.constantFrom('rollback', 'rollbackTo1', 'abort', 'promote', 'abortThenPromote', 'twoOperators') })),
  stop: maybe(fc.record({ afterInvocations: fc.integer({ min: 1, max: 4 }), event: fc.constantFrom('ABANDONED', 'FAILED', 'CANCELED', 'none'), eventDelayMs: fc.integer({ min: 0, max: 5 * MIN }) })),
  ledgerOutage: maybe(fc.record({ atMs: fc.integer({ min: 0, max: 30 * MIN }), durationMs: fc.integer({ min: 10_000, max: 10 * MIN }) })),
});
export type Scenario = typeof scenario extends fc.Arbitrary<infer T> ? T : never;

function params(s: Scenario) {
  return { ...REF, targetAlias: 'candidate', strategy: s.strategy, alarms: [USER_ALARM], bakeMinutes: s.bakeMinutes, pipelineExecutionId: 'exec-A' };
}

/** Runs one scenario, with every actor, until nothing is left to happen. */
export async function play(s: Scenario) {
  const world = standardWorld({ seed: s.seed, faultRate: s.faultRate, lostResponseRate: s.lostResponseRate, stallRate: s.stallRate ?? 0, ledgerLostAnswerRate: s.ledgerLostAnswerRate, settings: { maxInvocationMs: s.maxInvocationMs }, continuationGapMs: s.gapMs });
  if (s.firstRelease) world.lambda.functions.get(REF.functionName)!.aliases.set('live', { version: '$LATEST', weights: {}, revisionId: 'first' });
  world.cloudwatch.errorRates.set('1', 0.005);
  world.cloudwatch.errorRates.set('2', s.targetErrorRate);
  const start = world.clock.now();
  const ops: OperatorDeps = { lambda: world.lambda, cloudwatch: world.cloudwatch, ledger: world.ledger, clock: world.clock, operator: 'oncall' };
  const quietly = (task: () => Promise<unknown>) => () => task().catch(() => undefined);
  let lastActivity = start;
  const jobs = ['job-A'];
  let breachAt: number | undefined;
  if (s.breach) {
    const { afterMs, alarm, eventDelayMs } = s.breach;
    world.clock.schedule(start + afterMs, () => {
      breachAt = world.clock.now();
      world.cloudwatch.setAlarm(alarm, 'ALARM', 'injected breach');
      for (const delay of [eventDelayMs, ...s.replays]) world.clock.schedule(breachAt + delay, () => world.deliverAlarm(alarm, breachAt!, `breach ${alarm}`));
    });
  }
  if (s.staleEventAtMs !== undefined) world.clock.schedule(start + s.staleEventAtMs, () => world.deliverAlarm(GENERATED_ALARM, start - 3_600_000, 'stale'));
  if (s.operator) {
    const act = { rollback: () => rollback(ops, REF), rollbackTo1: () => rollback(ops, REF, '1'), abort: () => requestAction(ops, REF, 'ABORT'), promote: () => requestAction(ops, REF, 'PROMOTE') };
    const at = start + s.operator.atMs;
    if (s.operator.command === 'abortThenPromote') {
      world.clock.schedule(at, quietly(act.abort));
      world.clock.schedule(at + 1_000, quietly(act.promote));
    } else if (s.operator.command === 'twoOperators') {
      // Two on-call engineers at once: one names the version, the other takes the default.
      world.clock.schedule(at, quietly(act.rollbackTo1));
      world.clock.schedule(at + 50, quietly(() => rollback({ ...ops, operator: 'second' }, REF)));
    } else world.clock.schedule(at, quietly(act[s.operator.command]));
  }
  if (s.ledgerOutage) {
    world.clock.schedule(start + s.ledgerOutage.atMs, () => (world.ledger.writesDown = true));
    world.clock.schedule(start + s.ledgerOutage.atMs + s.ledgerOutage.durationMs, () => (world.ledger.writesDown = false));
  }
  if (s.competingJobAfterMs !== undefined) {
    jobs.push('job-B');
    world.clock.schedule(start + s.competingJobAfterMs, () => world.startJob('job-B', { ...params(s), pipelineExecutionId: 'exec-B', targetAlias: undefined, targetVersion: '2' }).then(() => (lastActivity = world.clock.now())));
  }
  const stop = s.stop && {
    stopAfter: s.stop.afterInvocations,
    onStop: () => {
      if (s.stop!.event !== 'none') world.clock.schedule(world.clock.now() + s.stop!.eventDelayMs, () => world.deliverActionState('exec-A', s.stop!.event as 'ABANDONED'));
    },
  };
  if (s.lateDuplicateMs !== undefined) world.clock.schedule(start + s.lateDuplicateMs, () => world.invokeTask(pipelineEvent('job-A', params(s)), 'job-A'));
  let running = true;
  world.sweepWhile(() => running || world.clock.now() < lastActivity + world.orphanAfterMs + 3 * SWEEP_PERIOD || world.ledger.inFlight.size > 0);
  world.enableFaults();
  await world.runJob('job-A', params(s), { duplicateEvery: s.duplicateEvery, ...(stop ?? {}) });
  lastActivity = world.clock.now();
  // An action CodePipeline timed out emits its FAILED state change like any other.
  if (world.timedOut.has('job-A')) world.clock.schedule(world.clock.now() + 1_000, () => world.deliverActionState('exec-A', 'FAILED'));
  running = false;
  await world.clock.drain();
  if (world.clock.taskErrors.length > 0) throw world.clock.taskErrors[0];
  world.faults.rate = 0;
  return { world, jobs, breachAt, records: await world.ledger.listDeployments(REF, 100), end: world.clock.now() };
}

