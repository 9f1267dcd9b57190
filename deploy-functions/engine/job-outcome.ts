import { DeploymentError, ErrorCode } from '../core/errors';
import { DeploymentStatus, type DeploymentRecord, type JobResult } from '../core/ledger';
import type { JobOutcome } from './pipeline-job';

/** Who the shift-traffic function records as having rolled back its own rollouts. */
export const SHIFT_TRAFFIC = 'shift-traffic';

/** The job's result once its deployment ended, however it ended: the same answer for every re-delivery. */
export function outcomeOfFinished(record: DeploymentRecord): JobOutcome {
  if (record.status === DeploymentStatus.SUCCEEDED) {
    return {
      kind: 'succeeded',
      externalExecutionId: record.deploymentId,
      summary: `${record.functionName}:${record.alias} now on version ${record.toVersion} (from ${record.fromVersion}); ${record.reason ?? ''}`.trim(),
      outputVariables: {
        fromVersion: record.fromVersion,
        toVersion: record.toVersion,
        deploymentId: record.deploymentId,
        ...(record.bakeUntil !== undefined ? { bakeUntil: new Date(record.bakeUntil).toISOString() } : {}),
      },
    };
  }
  const external = record.rolledBackBy !== undefined && record.rolledBackBy !== SHIFT_TRAFFIC;
  const code = (record.errorCode as ErrorCode | undefined) ?? (external ? ErrorCode.ROLLED_BACK_EXTERNALLY : ErrorCode.INTERNAL);
  const verb =
    record.status === DeploymentStatus.ROLLED_BACK
      ? `rolled back${external ? ` by ${record.rolledBackBy}` : ''} to version ${record.fromVersion}`
      : record.status === DeploymentStatus.ROLLING_BACK
        ? `is being rolled back to version ${record.fromVersion}`
        : 'failed';
  return {
    kind: 'failed',
    externalExecutionId: record.deploymentId,
    error: new DeploymentError(code, `${record.functionName}:${record.alias} ${verb}: ${record.reason ?? 'no reason recorded'}`, {
      context: { deploymentId: record.deploymentId, fromVersion: record.fromVersion, toVersion: record.toVersion },
    }),
  };
}

/** A final outcome as the ledger keeps it for the job. */
export function jobResultOf(outcome: Extract<JobOutcome, { kind: 'succeeded' | 'failed' }>, at: number): JobResult {
  if (outcome.kind === 'succeeded') {
    return { kind: 'succeeded', message: outcome.summary, at, ...(outcome.outputVariables ? { outputVariables: outcome.outputVariables } : {}), ...(outcome.externalExecutionId ? { externalExecutionId: outcome.externalExecutionId } : {}) };
  }
  return {
    kind: 'failed',
    message: outcome.error.message,
    failureType: outcome.error.isConfigurationError ? 'ConfigurationError' : 'JobFailed',
    at,
    errorCode: outcome.error.code,
    ...(outcome.externalExecutionId ? { externalExecutionId: outcome.externalExecutionId } : {}),
  };
}

/** The outcome a recorded result stands for: what a late duplicate of an ended job reports again. */
export function outcomeOfResult(result: JobResult): Extract<JobOutcome, { kind: 'succeeded' | 'failed' }> {
  if (result.kind === 'succeeded') {
    return { kind: 'succeeded', summary: result.message, ...(result.outputVariables ? { outputVariables: { ...result.outputVariables } } : {}), ...(result.externalExecutionId ? { externalExecutionId: result.externalExecutionId } : {}) };
  }
  const code = (result.errorCode as ErrorCode | undefined) ?? ErrorCode.JOB_ALREADY_ENDED;
  return { kind: 'failed', error: new DeploymentError(code, result.message), ...(result.externalExecutionId ? { externalExecutionId: result.externalExecutionId } : {}) };
}
