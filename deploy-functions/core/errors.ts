/** Stable codes of every failure the deployment functions report; pipelines and operators can match on them. */
export const ErrorCode = {
  INVALID_EVENT: 'INVALID_EVENT',
  INVALID_PARAMETERS: 'INVALID_PARAMETERS',
  FUNCTION_NOT_FOUND: 'FUNCTION_NOT_FOUND',
  ALIAS_NOT_FOUND: 'ALIAS_NOT_FOUND',
  VERSION_NOT_FOUND: 'VERSION_NOT_FOUND',
  ALARM_NOT_FOUND: 'ALARM_NOT_FOUND',
  ALARM_BREACHED: 'ALARM_BREACHED',
  METRIC_BREACHED: 'METRIC_BREACHED',
  HEALTH_UNKNOWN: 'HEALTH_UNKNOWN',
  DEPLOYMENT_LOCKED: 'DEPLOYMENT_LOCKED',
  ROLLED_BACK_EXTERNALLY: 'ROLLED_BACK_EXTERNALLY',
  ALIAS_CHANGED_EXTERNALLY: 'ALIAS_CHANGED_EXTERNALLY',
  ROLLBACK_FAILED: 'ROLLBACK_FAILED',
  /** The alias routes to two versions although no deployment holds it: an earlier rollout was left unfinished. */
  ALIAS_SPLIT: 'ALIAS_SPLIT',
  /** This invocation no longer holds the alias lock (it lapsed and another deployment, the sweep or an operator took it). */
  LOCK_LOST: 'LOCK_LOST',
  /** The sweep reverted a deployment whose invocation stopped sending heartbeats. */
  ORPHANED: 'ORPHANED',
  /** The pipeline execution running the deployment was stopped, abandoned, or its action failed or timed out. */
  EXECUTION_STOPPED: 'EXECUTION_STOPPED',
  ABORTED: 'ABORTED',
  TIMED_OUT: 'TIMED_OUT',
  TEST_CASE_FAILED: 'TEST_CASE_FAILED',
  WINDOW_CLOSED: 'WINDOW_CLOSED',
  ARTIFACT_UNREADABLE: 'ARTIFACT_UNREADABLE',
  AWS_THROTTLED: 'AWS_THROTTLED',
  AWS_ACCESS_DENIED: 'AWS_ACCESS_DENIED',
  AWS_UNAVAILABLE: 'AWS_UNAVAILABLE',
  AWS_ERROR: 'AWS_ERROR',
  JOB_ALREADY_ENDED: 'JOB_ALREADY_ENDED',
  INTERNAL: 'INTERNAL',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** Whether a failure comes from how the action was configured (CodePipeline `ConfigurationError`) or from the run. */
const CONFIGURATION_CODES: ReadonlySet<ErrorCode> = new Set([
  ErrorCode.INVALID_PARAMETERS,
  ErrorCode.FUNCTION_NOT_FOUND,
  ErrorCode.ALIAS_NOT_FOUND,
  ErrorCode.VERSION_NOT_FOUND,
  ErrorCode.ALARM_NOT_FOUND,
]);

/** Base error of the deployment functions: a stable code, a sentence for people, the cause and context fields. */
export class DeploymentError extends Error {
  override readonly name: string = 'DeploymentError';
  readonly code: ErrorCode;
  readonly context: Readonly<Record<string, unknown>>;

  constructor(code: ErrorCode, message: string, options: { cause?: unknown; context?: Record<string, unknown> } = {}) {
    super(message, { cause: options.cause });
    this.code = code;
    this.context = options.context ?? {};
  }

  /** True when retrying the same call later may succeed. */
  get retryable(): boolean {
    return this.code === ErrorCode.AWS_THROTTLED || this.code === ErrorCode.AWS_UNAVAILABLE;
  }

  /** True when the action's configuration is at fault rather than the run. */
  get isConfigurationError(): boolean {
    return CONFIGURATION_CODES.has(this.code);
  }
}

/** The event is not what the function is wired to receive. */
export class InvalidEventError extends DeploymentError {
  override readonly name = 'InvalidEventError';
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(ErrorCode.INVALID_EVENT, message, options);
  }
}

/** The action's UserParameters (or another user input) are invalid; the message names the field. */
export class InvalidParametersError extends DeploymentError {
  override readonly name = 'InvalidParametersError';
  constructor(message: string, options: { cause?: unknown; context?: Record<string, unknown> } = {}) {
    super(ErrorCode.INVALID_PARAMETERS, message, options);
  }
}

/** A function, alias, version or alarm the action names does not exist. */
export class ResourceNotFoundError extends DeploymentError {
  override readonly name = 'ResourceNotFoundError';
}

/** Another deployment holds the function+alias lock. */
export class DeploymentLockedError extends DeploymentError {
  override readonly name = 'DeploymentLockedError';
  constructor(message: string, context: Record<string, unknown>) {
    super(ErrorCode.DEPLOYMENT_LOCKED, message, { context });
  }

  /** The alias is held by another deployment. */
  static heldBy(functionName: string, alias: string, lockedBy: string | undefined, lockExpiresAt: number | undefined): DeploymentLockedError {
    const until = lockExpiresAt ? new Date(lockExpiresAt).toISOString() : 'unknown';
    return new DeploymentLockedError(
      `${functionName}:${alias} is locked by deployment ${lockedBy ?? 'unknown'} until ${until}; one deployment at a time per alias`,
      { lockedBy, lockExpiresAt },
    );
  }

  /** A duplicate delivery of the same job already started its deployment. */
  static sameJob(jobId: string): DeploymentLockedError {
    return new DeploymentLockedError(`job ${jobId} already started a deployment`, { sameJob: true });
  }
}

/** An AWS call failed; the code says whether it was throttling, access, availability or something else. */
export class AwsCallError extends DeploymentError {
  override readonly name = 'AwsCallError';
}

/** Wraps anything thrown into a DeploymentError, keeping the original as the cause. */
export function asDeploymentError(error: unknown): DeploymentError {
  if (error instanceof DeploymentError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new DeploymentError(ErrorCode.INTERNAL, `Unexpected error: ${message}`, { cause: error });
}

/**
 * This invocation could not find out whether it owns its job (the ledger was unreadable). Reporting anything could
 * contradict the invocation that does own it, so the handler raises and Lambda retries the invocation instead.
 */
export class JobOwnershipUnknownError extends DeploymentError {
  override readonly name = 'JobOwnershipUnknownError';
  constructor(jobId: string, cause: unknown) {
    super(ErrorCode.AWS_UNAVAILABLE, `could not tell whether this invocation owns job ${jobId}: ${asDeploymentError(cause).message}`, { cause });
  }
}

/** A manual rollback chose a version that a rollback replaced before it could take the lock. */
export function replacedMeanwhile(record: { readonly functionName: string; readonly alias: string; readonly toVersion: string }): InvalidParametersError {
  return new InvalidParametersError(`version ${record.toVersion} of ${record.functionName}:${record.alias} was replaced by a rollback meanwhile; only a new deployment of it (through the pipeline) puts it live again. Run \`lrp status\` and choose again`);
}
