import * as z from '../core/zod';
import { judgeAlarmEvent } from '../core/alarm-events';
import { ErrorCode, InvalidEventError } from '../core/errors';
import { alarmArnOf, alarmRefOf, foreignOrigin, untrueAlarmEvent, untrustedGeneratedAlarm, type Home } from '../core/event-trust';
import { describeIssues } from '../core/issues';
import { DEFAULT_INSTALLATION, aliasOfGeneratedAlarm } from '../core/names';
import type { AlarmTagsPort, AliasRef, Clock, CloudWatchPort, LambdaPort, LedgerPort, LogPort, PipelinePort } from '../core/ports';
import type { Notices } from './notices';
import { withRetries } from './retry';
import { onExecutionStateChange, sweepOrphans } from './sweep';
import { undoDeployment, type UndoOutcome } from './undo';

/** What the rollback function needs from the world. */
export interface RollbackDeps {
  readonly lambda: LambdaPort;
  readonly ledger: LedgerPort;
  readonly clock: Clock;
  readonly logger: LogPort;
  /**
   * CloudWatch, to check an event against: the alarm is (or was just) in ALARM, and an alarm named like a generated
   * one carries the `lrp:function` / `lrp:alias` tags that match its name. Whoever may invoke the function could have
   * written the event.
   */
  readonly alarms: AlarmTagsPort & Pick<CloudWatchPort, 'describeAlarms'>;
  /** CodePipeline, to check an action-state event against: its execution really stopped or failed. */
  readonly pipeline: Pick<PipelinePort, 'executionStatus'>;
  /** The function's own account and region: events from anywhere else are refused. @default - not checked */
  readonly home?: Home;
  /** An in-flight deployment whose invocation sent no heartbeat for this long is reverted by the sweep. @default 900_000 */
  readonly orphanAfterMs?: number;
  /** Where its rollbacks, and the events it fails on, are announced. @default - not announced */
  readonly notices?: Notices;
  /** The installation whose generated alarms it acts on (`<installation>/<function>/<alias>/…`; LRP_INSTALLATION). @default 'lrp' */
  readonly installation?: string;
}

/** What the rollback function did for one alias. */
export interface RollbackAction {
  readonly functionName: string;
  readonly alias: string;
  readonly action: 'ROLLED_BACK' | 'COMPLETED' | 'ALREADY_ENDED' | 'NOTHING' | 'NOT_MOVED' | 'BUSY' | 'REFUSED';
  readonly reason: string;
  readonly deploymentId?: string;
  readonly toVersion?: string;
}

const base = { version: z.optional(z.string()), id: z.optional(z.string()), account: z.optional(z.string()), region: z.optional(z.string()), time: z.optional(z.string()), resources: z.optional(z.array(z.string())) };
const alarmEvent = z.object({
  ...base,
  source: z.literal('aws.cloudwatch'),
  'detail-type': z.literal('CloudWatch Alarm State Change'),
  detail: z.object({
    alarmName: z.string().check(z.minLength(1)),
    state: z.object({ value: z.enum(['OK', 'ALARM', 'INSUFFICIENT_DATA']), reason: z.optional(z.string()), timestamp: z.optional(z.string()) }),
  }),
});
const executionEvent = z.object({
  ...base,
  source: z.literal('aws.codepipeline'),
  'detail-type': z.literal('CodePipeline Action Execution State Change'),
  detail: z.object({ pipeline: z.string(), 'execution-id': z.string().check(z.minLength(1)), stage: z.optional(z.string()), action: z.optional(z.string()), state: z.string() }),
});
const scheduledEvent = z.object({ ...base, source: z.literal('aws.events'), 'detail-type': z.literal('Scheduled Event') });
const eventSchema = z.union([alarmEvent, executionEvent, scheduledEvent]);
export type AlarmEvent = z.infer<typeof alarmEvent>;
export type ExecutionEvent = z.infer<typeof executionEvent>;

/** The action an undo's outcome amounts to. */
export function actionOf(ref: AliasRef, outcome: UndoOutcome, reason: string): RollbackAction {
  switch (outcome.kind) {
    case 'UNDONE':
      return { ...ref, action: 'ROLLED_BACK', reason, deploymentId: outcome.deploymentId, toVersion: outcome.toVersion };
    case 'ALREADY_ENDED':
      return { ...ref, action: 'ALREADY_ENDED', reason: `deployment ${outcome.record?.deploymentId ?? ''} already ended`.trim(), ...(outcome.record ? { deploymentId: outcome.record.deploymentId } : {}) };
    case 'NOT_MOVED':
      return { ...ref, action: 'NOT_MOVED', reason: outcome.reason, deploymentId: outcome.deploymentId };
    case 'BUSY':
      return { ...ref, action: 'BUSY', reason: outcome.reason };
    case 'NOTHING_TO_UNDO':
      return { ...ref, action: 'NOTHING', reason: outcome.reason, deploymentId: outcome.deploymentId };
  }
}

/**
 * The rollback function: an alarm changing to ALARM undoes the deployment it counts against; a stopped, abandoned or
 * failed pipeline action undoes its execution's deployment; the 5-minute schedule sweeps orphaned rollouts. Errors are
 * thrown so EventBridge and Lambda retry the event, then dead-letter it; every event may be replayed safely.
 */
export async function handleRollbackEvent(event: unknown, deps: RollbackDeps, remainingMs = 60_000): Promise<RollbackAction[]> {
  const parsed = eventSchema.safeParse(event);
  if (!parsed.success) throw new InvalidEventError(`not an event the rollback function handles (alarm state change, pipeline action state change, schedule): ${describeIssues(parsed.error.issues).join('; ')}`);
  const foreign = foreignOrigin(parsed.data, deps.home ?? {});
  if (foreign) {
    // Definite, not an error: retrying a foreign event would change nothing.
    deps.logger.warn('event refused', { reason: foreign, source: parsed.data.source, account: parsed.data.account, region: parsed.data.region });
    return [{ functionName: '', alias: '', action: 'REFUSED', reason: foreign }];
  }
  const actions = await dispatch(parsed.data, deps, remainingMs);
  for (const action of actions) deps.logger.info('rollback decision', { ...action });
  return actions;
}

function dispatch(event: z.infer<typeof eventSchema>, deps: RollbackDeps, remainingMs: number): Promise<RollbackAction[]> {
  switch (event['detail-type']) {
    case 'CloudWatch Alarm State Change':
      return onAlarm(event, deps);
    case 'CodePipeline Action Execution State Change':
      return onExecutionStateChange(event, deps);
    case 'Scheduled Event':
      return sweepOrphans(deps, deps.clock.now() + remainingMs - 10_000);
  }
}

/**
 * Why CloudWatch does not bear the event out, or undefined when it does. Nothing in the event is taken on trust but
 * the alarm's name: the alarm must be in ALARM, or have changed state since the event says it went to ALARM (it may
 * have recovered since); and an alarm named like a generated one must carry the tags that match its name, read from
 * the alarm of that name in this account and region.
 */
async function vouchFor(event: AlarmEvent, deps: RollbackDeps, changedAt: number, generated: AliasRef | undefined): Promise<string | undefined> {
  const { alarmName } = event.detail;
  const { clock, alarms, home } = deps;
  const arn = alarmArnOf(alarmName, home ?? {}, event);
  const [[observed], tags] = await Promise.all([withRetries(clock, () => alarms.describeAlarms([alarmName])), generated ? withRetries(clock, () => alarms.tagsOf(arn)) : Promise.resolve(undefined)]);
  const unproven = untrueAlarmEvent(alarmName, changedAt, observed);
  if (unproven) return unproven;
  return generated ? untrustedGeneratedAlarm(alarmName, generated, tags) : undefined;
}

/** Judges the event for one alias and undoes the deployment it counts against, if any. */
async function judgeAndUndo(event: AlarmEvent, deps: RollbackDeps, ref: AliasRef, changedAt: number, generated: boolean, vouched: Promise<string | undefined>): Promise<RollbackAction> {
  const { alarmName, state } = event.detail;
  const { ledger, clock } = deps;
  // One read is usually enough: the alias summary carries its latest deployment.
  const summary = await withRetries(clock, () => ledger.getState(ref));
  const latest = summary?.latest;
  const history = latest && latest.startedAt <= changedAt ? [latest] : await withRetries(clock, () => ledger.listDeployments(ref, 25));
  const verdict = judgeAlarmEvent({ alarmName, changedAt, generated, state: summary, history });
  if (verdict.kind === 'NOTHING') return { ...ref, action: 'NOTHING', reason: verdict.reason };
  const refused = await vouched;
  if (refused) {
    deps.logger.warn('alarm refused', { alarmName, reason: refused });
    return { ...ref, action: 'REFUSED', reason: refused };
  }
  const reason = `${verdict.reason}${state.reason ? `: ${state.reason}` : ''}`;
  const outcome = await undoDeployment(deps, ref, verdict.deployment, { by: 'rollback-function', code: ErrorCode.ALARM_BREACHED, reason, alarmName: event.detail.alarmName });
  if (outcome.kind === 'BUSY') throw new Error(`${ref.functionName}:${ref.alias}: ${outcome.reason}; retrying the event`);
  return actionOf(ref, outcome, reason);
}

/** An alarm that changed to ALARM: for each alias it guards, the deployment it counts against is undone, at most one. */
async function onAlarm(received: AlarmEvent, deps: RollbackDeps): Promise<RollbackAction[]> {
  // A target environment's alarm is known by its ARN there, as the releases that watch it and its generated name say.
  const event = { ...received, detail: { ...received.detail, alarmName: alarmRefOf(received, deps.home ?? {}) } };
  const { alarmName, state } = event.detail;
  const { ledger, clock, logger } = deps;
  logger.appendKeys({ alarmName });
  if (state.value !== 'ALARM') return [];
  const now = clock.now();
  // Judged by when the alarm changed state, not when the event arrived: a late or replayed event counts against the
  // deployment of that moment, and nothing newer.
  const stamped = Date.parse(state.timestamp ?? event.time ?? '');
  const changedAt = Number.isFinite(stamped) ? Math.min(stamped, now) : now;
  const generated = aliasOfGeneratedAlarm(deps.installation ?? DEFAULT_INSTALLATION, alarmName);
  const actions: RollbackAction[] = [];
  // The alias a generated alarm names first, without waiting for the index: that undo is the one that must be quick.
  // CloudWatch is asked alongside the ledger, so checking the event costs no time before the alias moves.
  const vouched = vouchFor(event, deps, changedAt, generated);
  vouched.catch(() => undefined); // awaited only if the event counts; a failed read is then thrown and the event retried
  if (generated) actions.push(await judgeAndUndo(event, deps, generated, changedAt, true, vouched));
  // Then every alias whose release declared the alarm (a generated name may be declared by another function too).
  const indexed = await withRetries(clock, () => ledger.aliasesGuardedBy(alarmName));
  const same = (ref: AliasRef) => generated !== undefined && ref.functionName === generated.functionName && ref.alias === generated.alias;
  for (const ref of indexed.filter((r) => !same(r))) actions.push(await judgeAndUndo(event, deps, ref, changedAt, false, vouched));
  return actions;
}
