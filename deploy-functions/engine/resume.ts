import { DeploymentError, ErrorCode, InvalidEventError, JobOwnershipUnknownError } from '../core/errors';
import { DeploymentStatus, type DeploymentRecord } from '../core/ledger';
import type { AliasRef } from '../core/ports';
import { reconcile, type RolloutCursor } from '../core/rollout';
import type { RolloutSpec } from '../core/types';
import type { ShiftTrafficParameters } from '../core/user-parameters';
import { SHIFT_TRAFFIC, outcomeOfFinished } from './job-outcome';
import type { JobOutcome, PipelineJob } from './pipeline-job';
import { withRetries } from './retry';
import { Rollout, type HeldRollout } from './rollout-loop';
import type { ShiftTrafficDeps } from './settings';
import { undoDeployment } from './undo';

/** Where a resumed invocation picks a deployment up. */
export interface ResumePoint {
  readonly deploymentId: string;
  /** The cursor the continuation token carried (absent for a duplicate delivery of the first event). */
  readonly tokenCursor?: RolloutCursor;
  /**
   * A continuation: the previous invocation ended when it handed the token back, so its lease does not stand in the way.
   * A duplicate of the first event waits for a live lease instead.
   */
  readonly continuation: boolean;
}

/**
 * Picks a running deployment up: a continuation, or a duplicate delivery of the job that started it. It takes the lock
 * over (new fence) only while the deployment still runs, and then lets the alias decide where the rollout stands.
 * A deployment that ended reports how it ended and never moves the alias again.
 */
export async function resumeRelease(job: PipelineJob, params: ShiftTrafficParameters, point: ResumePoint, invocationId: string, deadline: number, deps: ShiftTrafficDeps): Promise<JobOutcome> {
  const { ledger, clock, logger, settings } = deps;
  const ref: AliasRef = { functionName: params.functionName, alias: params.alias };
  const { deploymentId } = point;
  logger.appendKeys({ deploymentId });
  const record = await withRetries(clock, () => ledger.getDeployment(ref, deploymentId), { until: deadline - settings.safetyMarginMs });
  // A token is trusted only when the ledger says it is this job's: its deployment, of this alias, started by this job.
  const refuse = (why: string) => {
    logger.warn('continuation token refused', { reason: why, jobId: job.id, deploymentId });
    return new InvalidEventError(`continuationToken: ${why}; nothing was moved`);
  };
  if (!record) throw refuse(`no deployment ${deploymentId} of ${ref.functionName}:${ref.alias} is recorded`);
  if (record.jobId !== job.id) throw refuse(`deployment ${deploymentId} belongs to another job`);
  if (point.continuation) {
    const started = await withRetries(clock, () => ledger.getJob(job.id), { until: deadline - settings.safetyMarginMs });
    if (started?.deploymentId !== deploymentId) throw refuse(`job ${job.id} started ${started?.deploymentId ?? 'no deployment'}, not ${deploymentId}`);
  }
  if (record.status !== DeploymentStatus.IN_PROGRESS) return outcomeOfFinished(record);
  const now = clock.now();
  // Without the ledger this invocation cannot know whether it may move anything: Lambda retries it later.
  const taken = await withRetries(
    clock,
    () => {
      const at = clock.now();
      return ledger.takeOver(ref, deploymentId, invocationId, { now: at, leaseUntil: at + settings.leaseTtlMs, lockUntil: at + settings.lockTtlMs, force: point.continuation });
    },
    { until: deadline - settings.safetyMarginMs },
  ).catch(
    (error: unknown) => {
      throw new JobOwnershipUnknownError(job.id, error);
    },
  );
  if (!taken) {
    const [latest, state] = await Promise.all([withRetries(clock, () => ledger.getDeployment(ref, deploymentId)), withRetries(clock, () => ledger.getState(ref))]);
    if (latest && latest.status !== DeploymentStatus.IN_PROGRESS) return outcomeOfFinished(latest);
    if (state?.lock?.deploymentId === deploymentId) return { kind: 'ignored', reason: `deployment ${deploymentId} is being run by another invocation` };
    return {
      kind: 'failed',
      externalExecutionId: deploymentId,
      error: new DeploymentError(ErrorCode.LOCK_LOST, `${ref.functionName}:${ref.alias}: deployment ${deploymentId} lost the alias lock while it waited (now ${state?.lock ? `held by ${state.lock.deploymentId}` : 'free'}); it moves nothing more`),
    };
  }
  const spec: RolloutSpec = { ...ref, fromVersion: record.fromVersion, toVersion: record.toVersion, steps: record.steps ?? [], bakeMinutes: record.bakeMinutes, alarms: record.watchedAlarms, analysis: params.analysis };
  // From here the lock is ours: whatever fails, the alias goes back before the job fails.
  const base = { spec, ref, deploymentId, fence: taken.fence, ignoredAlarms: record.ignoredAlarms ?? [], deadline, cursor: record.cursor ?? point.tokenCursor ?? { stepIndex: -1, stepStartedAt: now, startedAt: record.startedAt } };
  const safety = new Rollout(deps, base);
  return safety.guard(() => continueRelease(deps, record, point, base));
}

/** Lets the alias decide where a rollout picked up by this invocation stands, and carries on from there. */
async function continueRelease(deps: ShiftTrafficDeps, record: DeploymentRecord, point: ResumePoint, base: HeldRollout): Promise<JobOutcome> {
  const { lambda, ledger, clock, logger } = deps;
  const { spec, ref, deploymentId } = base;
  const now = clock.now();
  const routing = await withRetries(clock, () => lambda.getAlias(ref.functionName, ref.alias));
  const verdict = reconcile(spec, [record.cursor, point.tokenCursor], routing, clock.now());
  logger.info('resuming', { reconciliation: verdict.kind, routing });
  const held = { ...base, routing, ...(routing.revisionId ? { revisionId: routing.revisionId } : {}) };
  // A copy of the first event (not a continuation) finds the deployment without a live owner: the invocation that ran
  // it stopped, and its job may have ended already. It never moves traffic forward; it puts it back.
  const orphaned = !point.continuation && verdict.kind === 'RESUME';
  switch (orphaned ? 'CHANGED' : verdict.kind) {
    case 'RESUME':
      return new Rollout(deps, { ...held, cursor: (verdict as { cursor: RolloutCursor }).cursor }).run();
    case 'COMPLETE':
      return new Rollout(deps, { ...held, cursor: record.cursor ?? { stepIndex: spec.steps.length - 1, stepStartedAt: now, startedAt: record.startedAt } }).recordCompletion('completed by a previous invocation of this job');
    case 'UNDONE':
    case 'CHANGED': {
      const reason = orphaned
        ? 'the invocation running it stopped before the job ended, and a re-delivered event does not move traffic nobody watches'
        : verdict.kind === 'UNDONE'
          ? `the alias was put back on version ${spec.fromVersion} outside this deployment`
          : (verdict as { reason: string }).reason;
      const code = orphaned ? ErrorCode.ORPHANED : verdict.kind === 'UNDONE' ? ErrorCode.ROLLED_BACK_EXTERNALLY : ErrorCode.ALIAS_CHANGED_EXTERNALLY;
      const outcome = await undoDeployment(deps, ref, record, { by: SHIFT_TRAFFIC, code, reason, observed: routing, ...(routing.revisionId ? { knownRevision: routing.revisionId } : {}) });
      const ended = await withRetries(clock, () => ledger.getDeployment(ref, deploymentId));
      if (ended && ended.status !== DeploymentStatus.IN_PROGRESS) return outcomeOfFinished(ended);
      return { kind: 'failed', externalExecutionId: deploymentId, error: new DeploymentError(code, `${ref.functionName}:${ref.alias}: ${reason} (${outcome.kind})`) };
    }
  }
}
