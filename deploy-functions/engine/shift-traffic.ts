import { decodeContinuation } from '../core/continuation';
import { JobOwnershipUnknownError } from '../core/errors';
import type { JobRecord } from '../core/ledger';
import { ShiftTrafficParametersSchema, parseUserParameters } from '../core/user-parameters';
import { outcomeOfResult } from './job-outcome';
import type { JobOutcome, PipelineJob } from './pipeline-job';
import { resumeRelease } from './resume';
import { ROLLBACK_ATTEMPTS, withRetries } from './retry';
import type { ShiftTrafficDeps } from './settings';
import { startRelease } from './start';

export { DEFAULT_SHIFT_TRAFFIC_SETTINGS, type ShiftTrafficDeps, type ShiftTrafficSettings } from './settings';

/**
 * The shift-traffic action: moves `alias` to the target version step by step while watching alarms and per-version
 * metrics, rolls back by itself on a breach, and hands long waits over through continuation tokens. One invocation
 * speaks for a job; a job that ended stays ended, so a late duplicate reports the same result and moves nothing.
 */
export async function shiftTraffic(job: PipelineJob, remainingMs: number, invocationId: string, deps: ShiftTrafficDeps): Promise<JobOutcome> {
  const { ledger, clock, logger, settings } = deps;
  const params = parseUserParameters(ShiftTrafficParametersSchema, job.userParameters);
  logger.appendKeys({ functionName: params.functionName, alias: params.alias });
  const deadline = clock.now() + Math.min(remainingMs - settings.safetyMarginMs, settings.maxInvocationMs);

  if (job.continuationToken) {
    const token = decodeContinuation(job.continuationToken);
    return resumeRelease(job, params, { deploymentId: token.deploymentId, tokenCursor: token.cursor, continuation: true }, invocationId, deadline, deps);
  }
  const known = (record: JobRecord | undefined): Promise<JobOutcome> | undefined => {
    if (record?.result) {
      logger.info('job already ended: reporting its result again, moving nothing');
      return Promise.resolve(outcomeOfResult(record.result));
    }
    if (record?.deploymentId) return resumeRelease(job, params, { deploymentId: record.deploymentId, continuation: false }, invocationId, deadline, deps);
    return undefined;
  };
  let claimed: boolean;
  // Without the ledger nothing can be decided: keep trying while the invocation has time, then let Lambda retry it.
  const patiently = { attempts: ROLLBACK_ATTEMPTS, until: deadline - settings.safetyMarginMs } as const;
  try {
    const first = known(await withRetries(clock, () => ledger.getJob(job.id), patiently));
    if (first) return await first;
    // Only one invocation speaks for a job: a duplicate delivery must not fail it while the original is shifting.
    claimed = await withRetries(clock, () => ledger.claimJob(job.id, invocationId, clock.now() + settings.jobClaimMs, clock.now()), patiently);
    if (!claimed) {
      const again = known(await withRetries(clock, () => ledger.getJob(job.id), patiently));
      if (again) return await again;
    }
  } catch (error) {
    if (error instanceof JobOwnershipUnknownError) throw error;
    throw new JobOwnershipUnknownError(job.id, error);
  }
  if (!claimed) return { kind: 'ignored', reason: `job ${job.id} is being handled by another invocation` };
  return startRelease(job, params, invocationId, deadline, deps);
}
