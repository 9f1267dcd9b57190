import type { RolloutCursor, OperatorRequest } from './rollout';
import type { TrafficStep } from './strategies';

/** The ledger table's name as the CDK app creates it; LEDGER_TABLE overrides it. */
export const DEFAULT_LEDGER_TABLE = 'lrp-ledger';

/** Final and running states of a deployment. */
export const DeploymentStatus = {
  IN_PROGRESS: 'IN_PROGRESS',
  SUCCEEDED: 'SUCCEEDED',
  ROLLED_BACK: 'ROLLED_BACK',
  FAILED: 'FAILED',
} as const;
export type DeploymentStatus = (typeof DeploymentStatus)[keyof typeof DeploymentStatus];

/** One deployment of one function alias, as the ledger keeps it for history and recovery. */
export interface DeploymentRecord {
  readonly functionName: string;
  readonly alias: string;
  /** Time-sortable id: `<UTC start>-<job hash>`. */
  readonly deploymentId: string;
  /** CodePipeline job that runs it; absent for operator actions. */
  readonly jobId?: string;
  readonly commit?: string;
  readonly fromVersion: string;
  readonly toVersion: string;
  readonly strategy: string;
  /** The intermediate steps, for progress reports (`lrp status`). */
  readonly steps?: readonly TrafficStep[];
  readonly status: DeploymentStatus;
  readonly reason?: string;
  /** Stable error code of a failed or rolled-back deployment. */
  readonly errorCode?: string;
  readonly startedAt: number;
  readonly endedAt?: number;
  /** Until when an alarm still rolls a succeeded deployment back. */
  readonly bakeUntil?: number;
  readonly bakeMinutes: number;
  readonly watchedAlarms: readonly string[];
  /** Latest progress, so another invocation can take over. */
  readonly cursor?: RolloutCursor;
  readonly operatorRequest?: OperatorRequest;
  /** When the alias was put back, if it was. */
  readonly rolledBackAt?: number;
  /** Who put the alias back: `shift-traffic`, `rollback-function` or an operator. */
  readonly rolledBackBy?: string;
}

/** The per-alias summary: lock, latest deployment, the release in its bake window, and the last known-good version. */
export interface AliasLedgerState {
  readonly functionName: string;
  readonly alias: string;
  readonly lockedBy?: string;
  readonly lockExpiresAt?: number;
  readonly lastDeploymentId?: string;
  readonly lastStatus?: DeploymentStatus;
  readonly lastFromVersion?: string;
  readonly lastToVersion?: string;
  /** The last successful release; set only on success, so a later release that fails before shifting cannot erase it. */
  readonly bakingDeploymentId?: string;
  readonly bakingFromVersion?: string;
  readonly bakingToVersion?: string;
  readonly bakeUntil?: number;
  /** The version the alias was on before the latest deployment started. */
  readonly knownGoodVersion?: string;
}

/** Deployment ids sort by start time, so the ledger's history reads newest first without an index. */
export function newDeploymentId(startedAt: number, jobId: string): string {
  const stamp = new Date(startedAt).toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  let hash = 0x811c9dc5;
  for (const char of jobId) hash = Math.imul(hash ^ char.charCodeAt(0), 0x01000193) >>> 0;
  return `${stamp}-${hash.toString(16).padStart(8, '0')}`;
}

/** The version to roll back to: the last release's target once its bake window passed, else the version it replaced. */
export function knownGoodVersion(state: AliasLedgerState | undefined, now: number): string | undefined {
  if (!state) return undefined;
  if (state.bakingDeploymentId && state.bakeUntil !== undefined) return now >= state.bakeUntil ? state.bakingToVersion : state.bakingFromVersion;
  return state.knownGoodVersion;
}

/** Whether a deployment is moving traffic now, or baking after it reached 100 %. */
export function activeDeployment(state: AliasLedgerState | undefined, now: number): { deploymentId: string; phase: 'IN_FLIGHT' | 'BAKING' } | undefined {
  if (!state) return undefined;
  if (state.lockedBy && (state.lockExpiresAt ?? 0) > now) return { deploymentId: state.lockedBy, phase: 'IN_FLIGHT' };
  if (state.bakingDeploymentId && state.bakeUntil !== undefined && now < state.bakeUntil) return { deploymentId: state.bakingDeploymentId, phase: 'BAKING' };
  return undefined;
}

/** What the rollback function should do for one alias, decided from its ledger summary alone. */
export type RollbackTarget =
  | { readonly kind: 'ROLL_BACK'; readonly deploymentId: string; readonly fromVersion: string; readonly phase: 'IN_FLIGHT' | 'BAKING' }
  | { readonly kind: 'ALREADY_ENDED'; readonly deploymentId: string }
  | { readonly kind: 'NO_PREVIOUS_VERSION'; readonly deploymentId: string }
  | { readonly kind: 'NOTHING' };

/**
 * For an alarm that changed state at `changedAt`: the deployment in flight now, else the release that was baking at
 * `changedAt`, and the version to put back. One read of the summary is enough, so the alias moves sooner.
 */
export function rollbackTarget(state: AliasLedgerState | undefined, now: number, changedAt: number): RollbackTarget {
  if (!state) return { kind: 'NOTHING' };
  if (state.lockedBy && (state.lockExpiresAt ?? 0) > now && state.lockedBy === state.lastDeploymentId) {
    if (state.lastStatus !== DeploymentStatus.IN_PROGRESS) return { kind: 'ALREADY_ENDED', deploymentId: state.lockedBy };
    if (!state.lastFromVersion || state.lastFromVersion === '$LATEST') return { kind: 'NO_PREVIOUS_VERSION', deploymentId: state.lockedBy };
    return { kind: 'ROLL_BACK', deploymentId: state.lockedBy, fromVersion: state.lastFromVersion, phase: 'IN_FLIGHT' };
  }
  if (state.bakingDeploymentId && state.bakeUntil !== undefined && Math.min(now, changedAt) < state.bakeUntil) {
    if (!state.bakingFromVersion || state.bakingFromVersion === '$LATEST') return { kind: 'NO_PREVIOUS_VERSION', deploymentId: state.bakingDeploymentId };
    return { kind: 'ROLL_BACK', deploymentId: state.bakingDeploymentId, fromVersion: state.bakingFromVersion, phase: 'BAKING' };
  }
  return { kind: 'NOTHING' };
}
