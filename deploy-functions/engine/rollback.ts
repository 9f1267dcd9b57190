import { z } from 'zod';
import { ErrorCode, InvalidEventError } from '../core/errors';
import { describeIssues } from '../core/issues';
import { rollbackTarget } from '../core/ledger';
import type { AliasRef, Clock, LambdaPort, LedgerPort, LogPort } from '../core/ports';
import { ROLLBACK_ATTEMPTS, withRetries } from './retry';
import { aliasOfGeneratedAlarm } from '../core/names';

/** What the rollback function needs from the world. */
export interface RollbackDeps {
  readonly lambda: LambdaPort;
  readonly ledger: LedgerPort;
  readonly clock: Clock;
  readonly logger: LogPort;
}

const alarmEventSchema = z.object({
  'detail-type': z.literal('CloudWatch Alarm State Change'),
  time: z.string().optional(),
  resources: z.array(z.string()).optional(),
  detail: z.object({
    alarmName: z.string().min(1),
    state: z.object({ value: z.enum(['OK', 'ALARM', 'INSUFFICIENT_DATA']), reason: z.string().optional(), timestamp: z.string().optional() }),
  }),
});

/** What the rollback function did for one alias. */
export interface RollbackAction {
  readonly functionName: string;
  readonly alias: string;
  readonly action: 'ROLLED_BACK' | 'ALREADY_ROLLED_BACK' | 'NOTHING_IN_FLIGHT' | 'NO_PREVIOUS_VERSION';
  readonly reason: string;
  readonly toVersion?: string;
}

/**
 * Handles one "CloudWatch Alarm State Change" event: for every alias the alarm guards that has a deployment in
 * flight or baking, puts the alias back on the version before it in one update and records why. Idempotent under
 * duplicate delivery. Errors are thrown so EventBridge/Lambda retry and finally dead-letter the event.
 */
export async function rollbackOnAlarm(event: unknown, deps: RollbackDeps): Promise<RollbackAction[]> {
  const parsed = alarmEventSchema.safeParse(event);
  if (!parsed.success) {
    throw new InvalidEventError(`not a CloudWatch Alarm State Change event: ${describeIssues(parsed.error.issues).join('; ')}`);
  }
  const { alarmName, state } = parsed.data.detail;
  const { ledger, lambda, clock, logger } = deps;
  logger.appendKeys({ alarmName });
  if (state.value !== 'ALARM') {
    logger.info('alarm left ALARM or has no data: nothing to do', { state: state.value });
    return [];
  }

  // Judge by when the alarm changed state, not when the event arrived: a breach inside the bake window counts
  // even if the event is delivered (or retried) after the window closed.
  const stamped = Date.parse(state.timestamp ?? parsed.data.time ?? '');
  const key = (ref: AliasRef) => `${ref.functionName}:${ref.alias}`;
  const readState = (ref: AliasRef) => withRetries(clock, () => ledger.getState(ref.functionName, ref.alias));
  // A generated alarm names its alias: read its summary while the index of declared alarms is queried.
  const generated = aliasOfGeneratedAlarm(alarmName);
  const [generatedState, indexed] = await Promise.all([generated ? readState(generated) : Promise.resolve(undefined), withRetries(clock, () => ledger.aliasesGuardedBy(alarmName))]);
  const targets = new Map<string, AliasRef>();
  if (generated) targets.set(key(generated), generated);
  for (const ref of indexed) targets.set(key(ref), ref);
  if (targets.size === 0) {
    logger.info('alarm guards no alias this pipeline manages: nothing to do');
    return [];
  }

  const actions: RollbackAction[] = [];
  for (const ref of targets.values()) {
    const now = clock.now();
    const changedAt = Number.isFinite(stamped) ? Math.min(stamped, now) : now;
    const summary = generated && key(ref) === key(generated) ? generatedState : await readState(ref);
    const target = rollbackTarget(summary, now, changedAt);
    switch (target.kind) {
      case 'NOTHING':
        actions.push({ ...ref, action: 'NOTHING_IN_FLIGHT', reason: 'no deployment in flight or baking' });
        continue;
      case 'ALREADY_ENDED':
        actions.push({ ...ref, action: 'ALREADY_ROLLED_BACK', reason: `deployment ${target.deploymentId} already ended` });
        continue;
      case 'NO_PREVIOUS_VERSION':
        actions.push({ ...ref, action: 'NO_PREVIOUS_VERSION', reason: `deployment ${target.deploymentId} was the first release: there is no previous version to go back to` });
        continue;
      case 'ROLL_BACK': {
        const reason = `alarm ${alarmName} in ALARM${state.reason ? `: ${state.reason}` : ''} (${target.phase === 'BAKING' ? 'during the bake window' : 'during the rollout'})`;
        await withRetries(clock, () => lambda.updateAlias(ref.functionName, ref.alias, { version: target.fromVersion, weights: {} }), { attempts: ROLLBACK_ATTEMPTS });
        const marked = await withRetries(clock, () =>
          ledger.markRolledBack(ref, target.deploymentId, { reason, errorCode: ErrorCode.ALARM_BREACHED, endedAt: clock.now(), rolledBackBy: 'rollback-function' }),
        );
        actions.push(marked ? { ...ref, action: 'ROLLED_BACK', reason, toVersion: target.fromVersion } : { ...ref, action: 'ALREADY_ROLLED_BACK', reason: `deployment ${target.deploymentId} already ended` });
      }
    }
  }
  for (const action of actions) logger.info('rollback decision', { ...action });
  return actions;
}
