import { ErrorCode } from './errors';
import { HealthPhase, type HealthVerdict } from './health';
import type { AliasRouting, RolloutSpec } from './types';

/** Progress of one rollout: small and serialisable, it travels in the continuation token and the ledger. */
export interface RolloutCursor {
  /** Index of the step whose weight is in place; `-1` before the first shift. */
  readonly stepIndex: number;
  /** When the current step's weight was set (ms since epoch). */
  readonly stepStartedAt: number;
  readonly startedAt: number;
  /** Since when every check was inconclusive; absent after a conclusive one. */
  readonly inconclusiveSince?: number;
}

/** A request an operator left in the ledger for a running rollout. */
export type OperatorRequest = 'PROMOTE' | 'ABORT';

/** What to do next; each kind carries the sentence that explains it. */
export type RolloutDecision =
  | { readonly kind: 'SHIFT'; readonly stepIndex: number; readonly percent: number; readonly reason: string }
  | { readonly kind: 'COMPLETE'; readonly reason: string }
  | { readonly kind: 'WAIT'; readonly until: number; readonly reason: string }
  | { readonly kind: 'ROLLBACK'; readonly code: ErrorCode; readonly reason: string; /** The alarm or metric that failed, if one did. */ readonly source?: string };

/** Consecutive inconclusive checks are tolerated this long; then the rollout is rolled back as unknown health. */
export const DEFAULT_INCONCLUSIVE_LIMIT_MS = 5 * 60_000;
/** A rollout that has not finished after this long is rolled back (CodePipeline ends actions at 24 h). */
export const MAX_ROLLOUT_MS = 23 * 60 * 60_000;

/** The cursor of a rollout that has not shifted anything yet. */
export function initialCursor(now: number): RolloutCursor {
  return { stepIndex: -1, stepStartedAt: now, startedAt: now };
}

/** The first move of a rollout: the first step's weight, or straight to 100 % when there are no steps. */
export function firstDecision(spec: RolloutSpec): RolloutDecision {
  const first = spec.steps[0];
  if (!first) return { kind: 'COMPLETE', reason: 'no intermediate steps: moving all traffic at once' };
  return { kind: 'SHIFT', stepIndex: 0, percent: first.percent, reason: `step 1/${spec.steps.length}: ${first.percent} % to version ${spec.toVersion}` };
}

/**
 * The next action, a pure function of (spec, cursor, verdict, operator request, now).
 * Abort and failure roll back; promote completes; inconclusive holds the current step until a conclusive verdict
 * (rolling back once it lasted `inconclusiveLimitMs`); a successful check advances when the step's time is up.
 */
export function decide(
  spec: RolloutSpec,
  cursor: RolloutCursor,
  verdict: HealthVerdict,
  now: number,
  options: { readonly operatorRequest?: OperatorRequest; readonly inconclusiveLimitMs?: number } = {},
): { decision: RolloutDecision; cursor: RolloutCursor } {
  const keep = (decision: RolloutDecision, next: RolloutCursor = cursor) => ({ decision, cursor: next });
  if (options.operatorRequest === 'ABORT') return keep({ kind: 'ROLLBACK', code: ErrorCode.ABORTED, reason: 'aborted by an operator' });
  if (verdict.phase === HealthPhase.FAILED) {
    const code = verdict.source?.startsWith('Errors/') ? ErrorCode.METRIC_BREACHED : ErrorCode.ALARM_BREACHED;
    return keep({ kind: 'ROLLBACK', code, reason: verdict.reason, ...(verdict.source ? { source: verdict.source } : {}) });
  }
  if (now - cursor.startedAt > MAX_ROLLOUT_MS) {
    return keep({ kind: 'ROLLBACK', code: ErrorCode.TIMED_OUT, reason: `rollout ran longer than ${MAX_ROLLOUT_MS / 3_600_000} h` });
  }
  if (options.operatorRequest === 'PROMOTE') return keep({ kind: 'COMPLETE', reason: 'promoted by an operator: skipping the remaining steps' });

  if (verdict.phase === HealthPhase.INCONCLUSIVE) {
    const since = cursor.inconclusiveSince ?? now;
    const limit = options.inconclusiveLimitMs ?? DEFAULT_INCONCLUSIVE_LIMIT_MS;
    if (now - since >= limit) {
      return keep({ kind: 'ROLLBACK', code: ErrorCode.HEALTH_UNKNOWN, reason: `health unknown for ${Math.round((now - since) / 1000)} s: ${verdict.reason}` });
    }
    return keep({ kind: 'WAIT', until: now, reason: `holding step: ${verdict.reason}` }, { ...cursor, inconclusiveSince: since });
  }

  const settled: RolloutCursor = { stepIndex: cursor.stepIndex, stepStartedAt: cursor.stepStartedAt, startedAt: cursor.startedAt };
  const step = spec.steps[cursor.stepIndex];
  const due = step ? cursor.stepStartedAt + step.minutes * 60_000 : cursor.stepStartedAt;
  if (now < due) return keep({ kind: 'WAIT', until: due, reason: `step ${cursor.stepIndex + 1}/${spec.steps.length} healthy: ${verdict.reason}` }, settled);

  const nextIndex = cursor.stepIndex + 1;
  const next = spec.steps[nextIndex];
  if (!next) return keep({ kind: 'COMPLETE', reason: `all steps healthy: ${verdict.reason}` }, settled);
  return keep(
    { kind: 'SHIFT', stepIndex: nextIndex, percent: next.percent, reason: `step ${nextIndex + 1}/${spec.steps.length}: ${next.percent} % to version ${spec.toVersion}` },
    settled,
  );
}

/** The cursor after a decision was carried out at `now`. */
export function advanceCursor(cursor: RolloutCursor, decision: RolloutDecision, now: number): RolloutCursor {
  return decision.kind === 'SHIFT' ? { stepIndex: decision.stepIndex, stepStartedAt: now, startedAt: cursor.startedAt } : cursor;
}

/** The alias routing a decision asks for: one atomic alias update, never a partial one. */
export function routingFor(spec: RolloutSpec, decision: Exclude<RolloutDecision, { kind: 'WAIT' }>): AliasRouting {
  switch (decision.kind) {
    case 'SHIFT':
      return { version: spec.fromVersion, weights: { [spec.toVersion]: decision.percent / 100 } };
    case 'COMPLETE':
      return { version: spec.toVersion, weights: {} };
    case 'ROLLBACK':
      return { version: spec.fromVersion, weights: {} };
  }
}

/** Percentage of traffic on the new version for progress reports. */
export function percentOnTarget(spec: RolloutSpec, cursor: RolloutCursor): number {
  return cursor.stepIndex < 0 ? 0 : (spec.steps[cursor.stepIndex]?.percent ?? 100);
}

/** What a resumed invocation makes of the alias it finds, given the progress the ledger and its token remember. */
export type Reconciliation =
  | { readonly kind: 'RESUME'; readonly cursor: RolloutCursor }
  /** Fully on the target: a previous invocation moved everything but could not record it. */
  | { readonly kind: 'COMPLETE' }
  /** Fully back on the previous version although the rollout had shifted: it was undone. */
  | { readonly kind: 'UNDONE' }
  /** Someone else set a routing this rollout never set: undo it if it routes only between our versions, else leave it. */
  | { readonly kind: 'CHANGED'; readonly reason: string; readonly ownVersionsOnly: boolean };

/**
 * One truth for progress: the alias is what traffic sees, so it decides. The cursors only say since when a step has been
 * in place; a progress write lost to a ledger outage (the ledger's cursor behind the token's, or both behind the alias)
 * never makes a healthy rollout look externally changed.
 */
export function reconcile(spec: RolloutSpec, cursors: readonly (RolloutCursor | undefined)[], routing: AliasRouting, now: number): Reconciliation {
  const known = cursors.filter((c): c is RolloutCursor => c !== undefined);
  const startedAt = Math.min(...known.map((c) => c.startedAt), now);
  const weights = Object.entries(routing.weights).filter(([, w]) => w > 0);
  if (routing.version === spec.toVersion && weights.length === 0) return { kind: 'COMPLETE' };
  if (routing.version === spec.fromVersion && weights.length === 0) {
    const latest = known.reduce<RolloutCursor | undefined>((best, c) => (!best || c.stepIndex > best.stepIndex ? c : best), undefined);
    if (!latest || latest.stepIndex < 0) return { kind: 'RESUME', cursor: latest ?? initialCursor(now) };
    return { kind: 'UNDONE' };
  }
  const ownVersionsOnly = routing.version === spec.fromVersion && weights.every(([version]) => version === spec.toVersion);
  if (ownVersionsOnly) {
    const weight = routing.weights[spec.toVersion]!;
    const stepIndex = spec.steps.findIndex((step) => Math.abs(step.percent / 100 - weight) < 1e-6);
    if (stepIndex >= 0) {
      const same = known.filter((c) => c.stepIndex === stepIndex).sort((a, b) => a.stepStartedAt - b.stepStartedAt)[0];
      return { kind: 'RESUME', cursor: same ?? { stepIndex, stepStartedAt: now, startedAt } };
    }
  }
  const expected = known.length ? `step ${Math.max(...known.map((c) => c.stepIndex)) + 1} of ${spec.steps.length}` : 'its start';
  const found = [`version ${routing.version}`, ...weights.map(([v, w]) => `${Math.round(w * 1000) / 10} % on ${v}`)].join(' with ');
  return { kind: 'CHANGED', ownVersionsOnly, reason: `alias changed outside this deployment: expected ${spec.fromVersion} → ${spec.toVersion} at ${expected}, found ${found}` };
}
