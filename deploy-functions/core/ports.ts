import type { AlarmObservation, VersionStats } from './health';
import type { AliasLedgerState, DeploymentRecord, DeploymentStatus } from './ledger';
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
  /** One atomic alias update; with `expectedRevisionId`, fails if someone else changed the alias meanwhile. */
  updateAlias(functionName: string, alias: string, routing: AliasRouting, expectedRevisionId?: string): Promise<AliasRouting>;
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
}

/** A function alias an alarm guards. */
export interface AliasRef {
  readonly functionName: string;
  readonly alias: string;
}

/** The deployment ledger. Every write that guards a safety property is conditional. */
export interface LedgerPort {
  getState(functionName: string, alias: string): Promise<AliasLedgerState | undefined>;
  getDeployment(functionName: string, alias: string, deploymentId: string): Promise<DeploymentRecord | undefined>;
  /** The deployment a CodePipeline job started, if any (idempotency by job id). */
  findJob(jobId: string): Promise<(AliasRef & { readonly deploymentId: string }) | undefined>;
  /**
   * Makes this invocation the one that speaks for a job that has not started a deployment yet; false when another
   * live invocation (a duplicate delivery) already does. Only the owner may check, start, or report the job.
   */
  claimJob(jobId: string, owner: string, until: number, now: number): Promise<boolean>;
  /**
   * Records a new deployment, takes the alias lock until `lockUntil` and the invocation lease, all at once, if
   * `leaseOwner` still owns the job. Throws DeploymentLockedError when another live deployment holds the lock, or
   * (with `context.sameJob`) when the job is no longer this invocation's.
   */
  startDeployment(record: DeploymentRecord, options: { readonly lockUntil: number; readonly leaseOwner: string; readonly leaseUntil: number; readonly knownGoodVersion?: string }): Promise<void>;
  /** Takes or renews the lease of a running deployment; false when another live invocation holds it or it is no longer in progress. */
  claimLease(ref: AliasRef, deploymentId: string, owner: string, until: number, now: number): Promise<boolean>;
  /** Saves progress and extends the lock; false when the lease was lost or the deployment is no longer in progress. */
  saveProgress(ref: AliasRef, deploymentId: string, owner: string, progress: { readonly cursor: RolloutCursor; readonly leaseUntil: number; readonly lockUntil: number }): Promise<boolean>;
  /** Ends an in-progress deployment and releases its lock; false when it had already ended (the record then tells how). */
  finishDeployment(
    ref: AliasRef,
    deploymentId: string,
    result: { readonly status: Exclude<DeploymentStatus, 'IN_PROGRESS'>; readonly reason: string; readonly errorCode?: string; readonly endedAt: number; readonly bakeUntil?: number; readonly rolledBackBy?: string },
  ): Promise<boolean>;
  /** Marks a running or baking deployment rolled back (by the rollback function); false when it already ended otherwise. */
  markRolledBack(ref: AliasRef, deploymentId: string, result: { readonly reason: string; readonly errorCode: string; readonly endedAt: number; readonly rolledBackBy: string }): Promise<boolean>;
  /** Releases the lock if this deployment still holds it. */
  releaseLock(ref: AliasRef, deploymentId: string): Promise<void>;
  /** Leaves a promote/abort request for the running deployment. */
  requestOperatorAction(ref: AliasRef, deploymentId: string, request: OperatorRequest): Promise<boolean>;
  /** Newest first. */
  listDeployments(ref: AliasRef, limit: number): Promise<DeploymentRecord[]>;
  /** Remembers which aliases an alarm guards, for the rollback function. */
  indexAlarms(ref: AliasRef, alarms: readonly string[]): Promise<void>;
  aliasesGuardedBy(alarmName: string): Promise<AliasRef[]>;
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
  /** Throws ResourceNotFoundError (FUNCTION_NOT_FOUND) when the function or qualifier does not exist. */
  invoke(functionName: string, qualifier: string, payload: string): Promise<InvocationResult>;
}

/** Reads a CodePipeline input artifact with the job's temporary credentials. */
export interface ArtifactPort {
  fetch(location: { readonly bucketName: string; readonly objectKey: string }, credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string; readonly sessionToken: string }): Promise<Uint8Array>;
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
