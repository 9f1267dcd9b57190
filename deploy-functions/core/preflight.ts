import { ErrorCode } from './errors';
import type { AlarmObservation } from './health';
import { DeploymentKind, knownGoodVersion, type AliasLedgerState, type IgnoredAlarm } from './ledger';
import type { TrafficStep } from './strategies';
import type { AliasRouting } from './types';

/** What the release asks for and what the world looks like before anything moves. */
export interface PreflightInput {
  /** The alias as it routes now. */
  readonly routing: AliasRouting;
  readonly toVersion: string;
  readonly state?: AliasLedgerState;
  readonly now: number;
  /** Every alarm the release watches (generated and declared), as read now. */
  readonly alarms: readonly AlarmObservation[];
  /** The steps of the configured strategy. */
  readonly steps: readonly TrafficStep[];
  /** Why a forward release may go out while alarms fire (empty: it may not). */
  readonly hotfixReason?: string;
}

/** The verdict: start a deployment of some kind, succeed without one, or refuse; each with a sentence. */
export type PreflightVerdict =
  | { readonly kind: 'NO_OP'; readonly reason: string }
  | { readonly kind: 'REFUSE'; readonly code: ErrorCode; readonly reason: string }
  | {
      readonly kind: 'START';
      readonly deploymentKind: DeploymentKind;
      readonly steps: readonly TrafficStep[];
      readonly watchedAlarms: readonly string[];
      readonly ignoredAlarms: readonly IgnoredAlarm[];
      readonly reason: string;
    };

/** A hotfix reason as given, or undefined for none (empty, or the pipeline variable's default `none`). */
export function hotfixReasonOf(value: string | undefined): string | undefined {
  const reason = value?.trim();
  return reason && reason.toLowerCase() !== 'none' ? reason : undefined;
}

/** A version the alias was fully on before, and that no rollback replaced since: going back to it is a revert. */
export function isRevert(state: AliasLedgerState | undefined, version: string, now: number): boolean {
  if (!state || state.replacedVersions?.includes(version)) return false;
  return (state.liveVersions ?? []).includes(version) || knownGoodVersion(state, now) === version;
}

/**
 * The preflight rules, in order: the alias must be whole; a release of what is already live is a no-op; the first
 * release (from $LATEST) and a revert go all at once; firing alarms block a forward release unless it carries a
 * hotfix reason, and then only alarms that change to ALARM during it count.
 */
export function preflight(input: PreflightInput): PreflightVerdict {
  const { routing, toVersion, state, now, alarms } = input;
  const split = Object.entries(routing.weights).filter(([, weight]) => weight > 0);
  if (split.length > 0) {
    const weights = split.map(([version, weight]) => `${Math.round(weight * 1000) / 10} % on ${version}`).join(', ');
    return {
      kind: 'REFUSE',
      code: ErrorCode.ALIAS_SPLIT,
      reason: `the alias routes to version ${routing.version} with ${weights} but no deployment holds it: an earlier rollout was left unfinished. The sweep puts it back within minutes; or run \`lrp rollback\``,
    };
  }
  if (routing.version === toVersion) return { kind: 'NO_OP', reason: `already fully on version ${toVersion}; nothing to shift` };
  const watchedAlarms = alarms.map((alarm) => alarm.name);
  if (isRevert(state, toVersion, now)) {
    return { kind: 'START', deploymentKind: DeploymentKind.REVERT, steps: [], watchedAlarms: [], ignoredAlarms: [], reason: `version ${toVersion} was fully live before and no rollback replaced it: a revert, all at once` };
  }
  const firing = alarms.filter((alarm) => alarm.state === 'ALARM');
  const first = routing.version === '$LATEST';
  const kind = first ? DeploymentKind.FIRST_RELEASE : DeploymentKind.ROLLOUT;
  const steps = first ? [] : input.steps;
  const reason = first ? 'first release: the alias pointed at $LATEST, so there is nothing to compare with; all at once' : `${steps.length} step(s) to version ${toVersion}`;
  if (firing.length === 0) return { kind: 'START', deploymentKind: kind, steps, watchedAlarms, ignoredAlarms: [], reason };
  const names = firing.map((alarm) => alarm.name).join(', ');
  const hotfixReason = hotfixReasonOf(input.hotfixReason);
  if (!hotfixReason) {
    const good = knownGoodVersion(state, now);
    return {
      kind: 'REFUSE',
      code: ErrorCode.ALARM_BREACHED,
      reason: `alarm ${names} already in ALARM: a forward release is blocked. Fix the cause; or release with a hotfix reason (pipeline variable HotfixReason); or revert${good ? ` to version ${good}` : ' to a version that was live before'}`,
    };
  }
  return {
    kind: 'START',
    deploymentKind: DeploymentKind.HOTFIX,
    steps,
    watchedAlarms,
    ignoredAlarms: firing.map((alarm) => ({ name: alarm.name, since: alarm.changedAt ?? now })),
    reason: `hotfix "${hotfixReason}" while ${names} in ALARM: only alarms changing to ALARM from now on, and the error-rate analysis, roll it back`,
  };
}
