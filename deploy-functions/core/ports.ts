import type { AlarmObservation, VersionStats } from './health';
import type { AliasLedgerState, DeploymentRecord, DeploymentStatus, InFlightEntry, JobRecord, JobResult } from './ledger';
import type { OperatorRequest, RolloutCursor } from './rollout';
import type { AliasRouting } from './types';

/** Time, injected so the engine runs on a virtual clock in tests. */
export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

/** The real clock. */
export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms))),
};

/** Structured logging: Powertools' Logger satisfies it. */
export interface LogPort {
  debug(message: string, ...extra: Record<string, unknown>[]): void;
  info(message: string, ...extra: Record<string, unknown>[]): void;
  warn(message: string, ...extra: Record<string, unknown>[]): void;
  error(message: string, ...extra: Record<string, unknown>[]): void;
  appendKeys(keys: Record<string, unknown>): void;
}

/** Lambda aliases and versions. */
export interface LambdaPort {
  /** Throws ResourceNotFoundError (FUNCTION_NOT_FOUND / ALIAS_NOT_FOUND). */
  getAlias(functionName: string, alias: string): Promise<AliasRouting>;
  /**
   * One atomic alias update; with `expectedRevisionId`, fails (ALIAS_CHANGED_EXTERNALLY) if someone else changed the
   * alias meanwhile. `description` names who moved it (the alias's Description), for people and the tests.
   */
  updateAlias(functionName: string, alias: string, routing: AliasRouting, options?: { readonly expectedRevisionId?: string; readonly description?: string }): Promise<AliasRouting>;
  /** Throws ResourceNotFoundError (VERSION_NOT_FOUND) when the version does not exist. */
  getVersion(functionName: string, version: string): Promise<{ readonly version: string; readonly description: string }>;
}

/** CloudWatch alarms and per-version Lambda metrics. */
export interface CloudWatchPort {
  /** The named alarms that exist (missing ones are simply absent). */
  describeAlarms(names: readonly string[]): Promise<AlarmObservation[]>;
  /** Every alarm whose name starts with the prefix. */
  describeAlarmsByPrefix(prefix: string): Promise<AlarmObservation[]>;
  /** Invocations and errors per executed version of an alias between two instants. */
  versionStats(functionName: string, alias: string, versions: readonly string[], from: number, to: number): Promise<Record<string, VersionStats>>;
}

/** The tags of an alarm, by its ARN (read through CloudWatch's ListTagsForResource). */
export interface AlarmTagsPort {
  tagsOf(alarmArn: string): Promise<Record<string, string>>;
}

/** How a CodePipeline job ends or continues. */
export interface JobSuccess {
  readonly summary: string;
  readonly continuationToken?: string;
  readonly outputVariables?: Record<string, string>;
  readonly percentComplete?: number;
  readonly externalExecutionId?: string;
}
export type JobFailureType = 'JobFailed' | 'ConfigurationError' | 'PermissionError' | 'SystemUnavailable';
export interface JobFailure {
  readonly message: string;
  readonly type: JobFailureType;
  readonly externalExecutionId?: string;
}

/** CodePipeline's job result API. */
export interface PipelinePort {
  succeed(jobId: string, result: JobSuccess): Promise<void>;
  fail(jobId: string, failure: JobFailure): Promise<void>;
  /** The job as CodePipeline recorded it (GetJobDetails), or undefined when CodePipeline has no such job. */
  jobDetails(jobId: string): Promise<PipelineJob | undefined>;
  /** A pipeline execution's status (GetPipelineExecution: InProgress, Stopping, Stopped, Failed, …), or undefined when there is none. */
  executionStatus(pipelineName: string, executionId: string): Promise<string | undefined>;
}

/** An S3 input artifact of a job. */
export interface PipelineArtifact {
  readonly name: string;
  readonly bucketName: string;
  readonly objectKey: string;
}

/** Temporary credentials CodePipeline gives the job for its artifacts. */
export interface ArtifactCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken: string;
}

/** The parts of a CodePipeline Lambda-invoke job the deployment functions use. */
export interface PipelineJob {
  readonly id: string;
  readonly userParameters?: string;
  readonly continuationToken?: string;
  readonly inputArtifacts: readonly PipelineArtifact[];
  readonly artifactCredentials?: ArtifactCredentials;
  /** The pipeline and stage running the job (GetJobDetails' pipelineContext). */
  readonly pipelineName?: string;
  readonly stage?: string;
}

/** A function alias an alarm guards. */
export interface AliasRef {
  readonly functionName: string;
  readonly alias: string;
}

/** Progress a running deployment saves with each heartbeat. */
export interface Heartbeat {
  readonly now: number;
  readonly leaseUntil: number;
  readonly lockUntil: number;
  readonly cursor?: RolloutCursor;
  readonly aliasRevision?: string;
}

/** How a running deployment ends by its own hand (an undo ends it through `recordUndo`). */
export interface FinishResult {
  readonly status: typeof DeploymentStatus.SUCCEEDED | typeof DeploymentStatus.FAILED;
  readonly reason: string;
  readonly errorCode?: string;
  readonly endedAt: number;
  /** Opens the bake window until then (SUCCEEDED only). */
  readonly bakeUntil?: number;
  /** The deployment put the alias back by hand (`lrp rollback --to`): its fromVersion counts as replaced by a rollback. */
  readonly replacesFrom?: boolean;
  readonly aliasRevision?: string;
}

/** How an undo ended. */
export interface UndoResult {
  readonly reason: string;
  readonly errorCode: string;
  readonly at: number;
  /** `shift-traffic`, `rollback-function`, `sweep`, `operator:<name>`. */
  readonly by: string;
  /**
   * False when the alias was not moved because someone else had already moved it to other versions: the deployment
   * then ends FAILED and no version counts as replaced. @default true
   */
  readonly moved?: boolean;
  /** Names this recording uniquely: a retry that finds it on the record knows the undo is its own. @default - none */
  readonly undoId?: string;
}

/** The answer to an operator's request. */
export type OperatorRequestOutcome = 'RECORDED' | 'ABORT_PENDING' | 'NOT_RUNNING';

/**
 * The deployment ledger. Every write that guards a safety property is conditional: on the lock's fencing token, the
 * deployment's status, or the job's owner. `false`/`undefined` answers mean the condition did not hold; errors are
 * AWS failures.
 */
export interface LedgerPort {
  getState(ref: AliasRef): Promise<AliasLedgerState | undefined>;
  getDeployment(ref: AliasRef, deploymentId: string): Promise<DeploymentRecord | undefined>;
  /** Newest first. */
  listDeployments(ref: AliasRef, limit: number): Promise<DeploymentRecord[]>;

  getJob(jobId: string): Promise<JobRecord | undefined>;
  /** Makes `owner` the invocation that speaks for a job; false when another live invocation does or the job has a result. */
  claimJob(jobId: string, owner: string, until: number, now: number): Promise<boolean>;
  /** Records a job's final result once; answers the result that stands (an earlier one wins). */
  recordJobResult(jobId: string, result: JobResult): Promise<JobResult>;

  /**
   * Records a new deployment, takes the alias lock with a new fence, and closes the previous release's bake window, at
   * once — if `owner` owns the job and neither a live lock nor an unfinished undo holds the alias. Throws
   * DeploymentLockedError (`context.sameJob` when the job already started a deployment).
   */
  startDeployment(record: DeploymentRecord, options: { readonly owner: string; readonly now: number; readonly leaseUntil: number; readonly lockUntil: number }): Promise<{ fence: number }>;
  /**
   * Another invocation of a running deployment takes its lock over (new fence) — when the lease is free or its own,
   * or regardless of the lease with `force` (a continuation: the invocation before it has ended).
   */
  takeOver(ref: AliasRef, deploymentId: string, owner: string, options: { readonly now: number; readonly leaseUntil: number; readonly lockUntil: number; readonly force?: boolean }): Promise<{ fence: number } | undefined>;
  /** Renews lock and lease and saves progress while `fence` holds the lock and the deployment runs. */
  heartbeat(ref: AliasRef, deploymentId: string, fence: number, progress: Heartbeat): Promise<boolean>;
  /** Ends a running deployment whose lock `fence` holds, releasing the lock. */
  finishDeployment(ref: AliasRef, deploymentId: string, fence: number, result: FinishResult): Promise<boolean>;

  /** Fences an undo before the alias moves: the deployment becomes ROLLING_BACK and `undoer` takes the lock (new fence). */
  beginUndo(ref: AliasRef, deploymentId: string, undoer: string, options: { readonly now: number; readonly lockUntil: number }): Promise<{ fence: number } | undefined>;
  /**
   * Records an undo that put the alias on the deployment's fromVersion: ROLLED_BACK, its lock released, its bake window
   * closed, its toVersion remembered as replaced. False when the deployment had already ended otherwise.
   */
  recordUndo(ref: AliasRef, deploymentId: string, result: UndoResult): Promise<boolean>;

  /** An abort always wins; a promote is refused while an abort is pending. */
  requestOperatorAction(ref: AliasRef, deploymentId: string, request: OperatorRequest): Promise<OperatorRequestOutcome>;
  /**
   * Indexes `alarms` as guarding the alias. With `prune`, they become its declared alarms and the ones it no longer
   * declares are removed: done only once the release that declares them holds the alias, so a release that fails to
   * start never unguards the one still baking.
   */
  indexAlarms(ref: AliasRef, alarms: readonly string[], options?: { readonly prune?: boolean }): Promise<void>;
  aliasesGuardedBy(alarmName: string): Promise<AliasRef[]>;
  /** Deployments in flight or with an unfinished undo, with their last heartbeat. */
  listInFlight(): Promise<InFlightEntry[]>;
  /** The deployment a pipeline execution started, if any. */
  findExecution(pipelineExecutionId: string): Promise<(AliasRef & { readonly deploymentId: string }) | undefined>;
  /** Records who let a release through a closed deployment window, and why. */
  recordWindowOverride(record: WindowOverrideRecord): Promise<void>;
  /** Overrides recorded for a function, newest first. */
  listWindowOverrides(functionName: string, limit: number): Promise<WindowOverrideRecord[]>;
}

/** What one synchronous invocation returned. */
export interface InvocationResult {
  /** Lambda's `FunctionError` when the function raised. */
  readonly functionError?: string;
  /** The response payload as text. */
  readonly payload: string;
  readonly executedVersion?: string;
}

/** Invokes a function version or alias synchronously. */
export interface InvokePort {
  /**
   * Throws ResourceNotFoundError (FUNCTION_NOT_FOUND) when the function or qualifier does not exist. When `signal`
   * aborts, the caller stops waiting: the request is abandoned (the function may still run to its end) and the call
   * rejects with TIMED_OUT.
   */
  invoke(functionName: string, qualifier: string, payload: string, options?: { readonly signal?: AbortSignal }): Promise<InvocationResult>;
}

/** Reads a CodePipeline input artifact with the job's temporary credentials. */
export interface ArtifactPort {
  fetch(
    location: { readonly bucketName: string; readonly objectKey: string },
    credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string; readonly sessionToken: string },
    options?: { readonly signal?: AbortSignal },
  ): Promise<Uint8Array>;
}

/** SSM Parameter Store. */
export interface ParameterPort {
  /** The parameter's value, or undefined when it does not exist. */
  get(name: string): Promise<string | undefined>;
}

/** An emergency override of the deployment window, as recorded for audit. */
export interface WindowOverrideRecord {
  readonly functionName: string;
  readonly jobId: string;
  readonly by: string;
  readonly reason: string;
  readonly at: number;
  readonly windowReason: string;
}

/** Publishes a notice to the notices topic (SNS). Throws on failure; callers decide that a notice never fails a rollback. */
export interface NotifierPort {
  publish(notice: { readonly subject: string; readonly message: string }): Promise<void>;
}
