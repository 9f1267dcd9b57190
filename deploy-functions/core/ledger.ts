import type { OperatorRequest, RolloutCursor } from './rollout';
import type { TrafficStep } from './strategies';

/** Where a deployment is in its life. ROLLING_BACK: an undo was fenced and has not finished moving the alias yet. */
export const DeploymentStatus = {
  IN_PROGRESS: 'IN_PROGRESS',
  ROLLING_BACK: 'ROLLING_BACK',
  SUCCEEDED: 'SUCCEEDED',
  ROLLED_BACK: 'ROLLED_BACK',
  FAILED: 'FAILED',
} as const;
export type DeploymentStatus = (typeof DeploymentStatus)[keyof typeof DeploymentStatus];
/** The statuses a deployment ends in. */
export type FinalStatus = typeof DeploymentStatus.SUCCEEDED | typeof DeploymentStatus.ROLLED_BACK | typeof DeploymentStatus.FAILED;

/** Why a deployment moves traffic the way it does (see core/preflight). */
export const DeploymentKind = {
  /** Step by step with the configured strategy. */
  ROLLOUT: 'ROLLOUT',
  /** The alias still pointed at $LATEST: nothing to compare with, so all at once. */
  FIRST_RELEASE: 'FIRST_RELEASE',
  /** Back to a version that was fully live before and never replaced by a rollback: all at once, through firing alarms. */
  REVERT: 'REVERT',
  /** A forward release while alarms fire, with a reason: those alarms neither block nor roll it back. */
  HOTFIX: 'HOTFIX',
  /** An operator put the alias on a version by hand (`lrp rollback --to`). */
  MANUAL_ROLLBACK: 'MANUAL_ROLLBACK',
} as const;
export type DeploymentKind = (typeof DeploymentKind)[keyof typeof DeploymentKind];

/** An alarm already in ALARM when a hotfix started, and since when; only a later change to ALARM counts. */
export interface IgnoredAlarm {
  readonly name: string;
  readonly since: number;
}

/** One deployment of one function alias, as the ledger keeps it for history and recovery. */
export interface DeploymentRecord {
  readonly functionName: string;
  readonly alias: string;
  /** Time-sortable id: `<UTC start>-<job hash>`. */
  readonly deploymentId: string;
  readonly kind: DeploymentKind;
  /** CodePipeline job that runs it; absent for operator actions. */
  readonly jobId?: string;
  /** The pipeline execution it belongs to: an abandoned or failed action of that execution reverts it. */
  readonly pipelineExecutionId?: string;
  /** The pipeline and stage that ran it (CodePipeline's job context), for notices and their links. */
  readonly pipelineName?: string;
  readonly stage?: string;
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
  /** Until when an alarm still rolls a succeeded deployment back (while no later deployment closed the window). */
  readonly bakeUntil?: number;
  readonly bakeMinutes: number;
  readonly watchedAlarms: readonly string[];
  /** Hotfix: alarms in ALARM at the start, which count only if they change to ALARM again later. */
  readonly ignoredAlarms?: readonly IgnoredAlarm[];
  readonly hotfixReason?: string;
  /** Latest progress, so another invocation can take over. */
  readonly cursor?: RolloutCursor;
  /** Alias revision after this deployment's latest move: an undo moves the alias only from there. */
  readonly aliasRevision?: string;
  /** Last sign of life of the invocation running it; the sweep reverts it when this is too old. */
  readonly heartbeatAt?: number;
  readonly operatorRequest?: OperatorRequest;
  /** When and by whom the alias was put back, if it was. */
  readonly rolledBackAt?: number;
  readonly rolledBackBy?: string;
  /** Which recording of an undo ended it (`UndoResult.undoId`): its notice is sent by that one alone. */
  readonly undoId?: string;
}

/** The parts of a deployment its alias's summary repeats. */
export type DeploymentSummary = Pick<
  DeploymentRecord,
  'deploymentId' | 'kind' | 'status' | 'fromVersion' | 'toVersion' | 'startedAt' | 'endedAt' | 'bakeUntil' | 'watchedAlarms' | 'ignoredAlarms' | 'aliasRevision' | 'jobId'
>;

/** The summary of a deployment. */
export function summaryOf(record: DeploymentRecord): DeploymentSummary {
  const keys = ['deploymentId', 'kind', 'status', 'fromVersion', 'toVersion', 'startedAt', 'endedAt', 'bakeUntil', 'watchedAlarms', 'ignoredAlarms', 'aliasRevision', 'jobId'] as const;
  return Object.fromEntries(keys.filter((k) => record[k] !== undefined).map((k) => [k, record[k]])) as DeploymentSummary;
}

/** The lock of an alias: which deployment holds it, its fencing token, and the invocation leasing it now. */
export interface AliasLock {
  readonly deploymentId: string;
  /** Incremented by every acquisition: a write carrying an older fence is refused. */
  readonly fence: number;
  /** The invocation or actor holding it now. */
  readonly owner: string;
  /** After this, another invocation of the same deployment may take the lock over. */
  readonly leaseUntil: number;
  /** After this, another deployment may take the lock. */
  readonly expiresAt: number;
}

/** The per-alias summary: the lock, the latest deployment, the release in its bake window, and version history. */
export interface AliasLedgerState {
  readonly functionName: string;
  readonly alias: string;
  readonly lock?: AliasLock;
  /** Fence of the latest acquisition (kept when the lock is released, so fences only grow). */
  readonly fence?: number;
  /** The latest deployment, as much of it as the rollback function needs to judge an event without another read. */
  readonly latest?: DeploymentSummary;
  /** The last successful release, until its bake window ends, a later deployment starts, or it is rolled back. */
  readonly bakingDeploymentId?: string;
  readonly bakingFromVersion?: string;
  readonly bakingToVersion?: string;
  readonly bakeUntil?: number;
  /** The version the alias was on before the latest deployment started. */
  readonly knownGoodVersion?: string;
  /** Versions that were fully live at some point. */
  readonly liveVersions?: readonly string[];
  /** Versions a rollback replaced; only a new deployment of one puts it live again. */
  readonly replacedVersions?: readonly string[];
  /** A deployment whose undo was fenced but has not finished: no new deployment starts until it does. */
  readonly undoPending?: string;
  /** The alarms the latest release declared (the index entries this alias owns). */
  readonly declaredAlarms?: readonly string[];
}

/** A deployment still holding or owed traffic decisions: in flight, or with an undo not yet finished. */
export interface InFlightEntry {
  readonly functionName: string;
  readonly alias: string;
  readonly deploymentId: string;
  readonly status: typeof DeploymentStatus.IN_PROGRESS | typeof DeploymentStatus.ROLLING_BACK;
  readonly heartbeatAt: number;
  /** A manual rollback holds its lock only as long as an undo does. @default ROLLOUT */
  readonly kind?: DeploymentKind;
}

/** What CodePipeline was told for a job: recorded before it is told, so a late duplicate says the same and does nothing. */
export interface JobResult {
  readonly kind: 'succeeded' | 'failed';
  readonly message: string;
  readonly failureType?: 'JobFailed' | 'ConfigurationError';
  /** Stable code of a failure. */
  readonly errorCode?: string;
  readonly outputVariables?: Readonly<Record<string, string>>;
  readonly externalExecutionId?: string;
  readonly at: number;
}

/** The ledger's view of one CodePipeline job. */
export interface JobRecord {
  readonly jobId: string;
  readonly functionName?: string;
  readonly alias?: string;
  readonly deploymentId?: string;
  readonly owner?: string;
  readonly ownerUntil?: number;
  readonly result?: JobResult;
}

/** Deployment ids sort by start time (to the millisecond), so the ledger's history reads newest first without an index. */
export function newDeploymentId(startedAt: number, jobId: string): string {
  const stamp = new Date(startedAt).toISOString().replace(/[-:]/g, '').replace(/\.(\d+)Z$/, '$1Z');
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

/** The deployment moving traffic now (the lock is live), or else the one whose bake window is open. */
export function activeDeployment(state: AliasLedgerState | undefined, now: number): { deploymentId: string; phase: 'IN_FLIGHT' | 'BAKING' } | undefined {
  if (!state) return undefined;
  if (state.lock && state.lock.expiresAt > now) return { deploymentId: state.lock.deploymentId, phase: 'IN_FLIGHT' };
  if (state.bakingDeploymentId && state.bakeUntil !== undefined && now < state.bakeUntil) return { deploymentId: state.bakingDeploymentId, phase: 'BAKING' };
  return undefined;
}

/** Whether a deployment has its final status (ROLLING_BACK is not final: the alias may still be split). */
export function isFinal(status: DeploymentStatus): status is FinalStatus {
  return status === DeploymentStatus.SUCCEEDED || status === DeploymentStatus.ROLLED_BACK || status === DeploymentStatus.FAILED;
}

/**
 * The partition keys of the ledger table, by what they hold. Each deployment function's role may touch only the
 * partitions it owns (an IAM `dynamodb:LeadingKeys` condition), so the key layout lives here, beside the records.
 */
export const LEDGER_PARTITIONS = {
  /** `ALIAS#<function>#<alias>`: the alias summary (`STATE`) and its deployments (`DEP#<id>`). */
  alias: 'ALIAS#',
  /** `JOB#<job id>`: idempotency of CodePipeline jobs. */
  job: 'JOB#',
  /** `INFLIGHT`: the deployments in flight, one item per alias. */
  inFlight: 'INFLIGHT',
  /** `EXEC#<execution id>`: which deployment a pipeline execution started. */
  execution: 'EXEC#',
  /** `ALARM#<alarm name>`: the aliases a declared alarm guards. */
  alarm: 'ALARM#',
  /** `OVERRIDE#<function>`: uses of the deployment-window override. */
  override: 'OVERRIDE#',
} as const;
