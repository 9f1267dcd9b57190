import { DeploymentKind, DeploymentStatus, type AliasLedgerState, type DeploymentSummary } from './ledger';

/** What one alarm event means for one alias. */
export type AlarmEventVerdict =
  | { readonly kind: 'UNDO'; readonly deployment: DeploymentSummary; readonly phase: 'IN_FLIGHT' | 'BAKING'; readonly reason: string }
  | { readonly kind: 'NOTHING'; readonly reason: string };

/** What the judgement needs to know about the event and the alias. */
export interface AlarmEventInput {
  readonly alarmName: string;
  /** When the alarm changed to ALARM (`detail.state.timestamp`), not when the event arrived. */
  readonly changedAt: number;
  /** The alarm is one generated for this alias: it guards every deployment of it. */
  readonly generated: boolean;
  readonly state: AliasLedgerState | undefined;
  /** The alias's deployments, newest first, back to at least the one started before `changedAt`. */
  readonly history: readonly DeploymentSummary[];
}

/**
 * Which deployment an alarm event counts against: the one that was in flight, or else baking, when the alarm changed
 * state — the latest one started at or before that instant. It counts only if that deployment watched the alarm, is
 * still running or still in its bake window (no later release, operator or rollback closed it), and had a previous
 * version to go back to. So a stale event never fails a newer release, one event undoes at most one deployment, and a
 * deployment an operator ended is never reopened.
 */
export function judgeAlarmEvent(input: AlarmEventInput): AlarmEventVerdict {
  const { alarmName, changedAt, state } = input;
  const deployment = input.history.find((d) => d.startedAt <= changedAt);
  if (!deployment) return { kind: 'NOTHING', reason: `no deployment had started when ${alarmName} changed to ALARM at ${iso(changedAt)}` };
  const id = deployment.deploymentId;
  if (deployment.kind === DeploymentKind.MANUAL_ROLLBACK) return { kind: 'NOTHING', reason: `${id} was an operator's rollback: events never undo it` };
  if (deployment.kind === DeploymentKind.REVERT) return { kind: 'NOTHING', reason: `${id} was a revert to a version live before: events never undo it` };
  const watched = input.generated || deployment.watchedAlarms.includes(alarmName);
  if (!watched) return { kind: 'NOTHING', reason: `${id} did not watch ${alarmName}` };
  const exempt = deployment.ignoredAlarms?.find((a) => a.name === alarmName);
  if (exempt && changedAt <= exempt.since) return { kind: 'NOTHING', reason: `${alarmName} was already in ALARM when hotfix ${id} started` };
  if (deployment.fromVersion === '$LATEST') return { kind: 'NOTHING', reason: `${id} was the first release: there is no previous version to go back to` };
  switch (deployment.status) {
    case DeploymentStatus.IN_PROGRESS:
    case DeploymentStatus.ROLLING_BACK:
      return { kind: 'UNDO', deployment, phase: 'IN_FLIGHT', reason: `alarm ${alarmName} changed to ALARM at ${iso(changedAt)}, during the rollout of ${id}` };
    case DeploymentStatus.SUCCEEDED: {
      if (state?.bakingDeploymentId !== id) return { kind: 'NOTHING', reason: `the bake window of ${id} was closed (a later deployment started, or an operator ended it)` };
      if (deployment.bakeUntil !== undefined && changedAt >= deployment.bakeUntil) return { kind: 'NOTHING', reason: `${alarmName} changed to ALARM after the bake window of ${id} ended` };
      const during = deployment.endedAt !== undefined && changedAt < deployment.endedAt ? 'during the rollout' : 'during the bake window';
      return { kind: 'UNDO', deployment, phase: 'BAKING', reason: `alarm ${alarmName} changed to ALARM at ${iso(changedAt)}, ${during} of ${id}` };
    }
    default:
      return { kind: 'NOTHING', reason: `${id} already ended (${deployment.status})` };
  }
}

const iso = (ms: number) => new Date(ms).toISOString();
