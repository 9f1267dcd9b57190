import * as z from '../core/zod';
import { DeploymentError, ErrorCode, InvalidEventError, JobOwnershipUnknownError, asDeploymentError } from '../core/errors';
import { describeIssues } from '../core/issues';
import type { Clock, JobFailureType, LogPort, PipelineJob, PipelinePort } from '../core/ports';
import { ROLLBACK_ATTEMPTS, withRetries } from './retry';

/** Reporting a result is as critical as a rollback: a job without one hangs until CodePipeline times it out. */
const REPORT = { attempts: ROLLBACK_ATTEMPTS } as const;

export type { ArtifactCredentials, PipelineArtifact, PipelineJob } from '../core/ports';

const artifactSchema = z.object({
  name: z.string(),
  location: z.object({ s3Location: z.object({ bucketName: z.string(), objectKey: z.string() }) }),
});
const jobEventSchema = z.object({
  'CodePipeline.job': z.object({
    id: z.string().check(z.minLength(1)),
    data: z.optional(
      z.object({
        actionConfiguration: z.optional(z.object({ configuration: z.optional(z.object({ UserParameters: z.optional(z.string()) })) })),
        inputArtifacts: z.optional(z.array(artifactSchema)),
        artifactCredentials: z.optional(z.object({ accessKeyId: z.string(), secretAccessKey: z.string(), sessionToken: z.string() })),
        continuationToken: z.optional(z.string()),
      }),
    ),
  }),
});

/** The job id of anything that looks like a CodePipeline event, so even a malformed job can be failed. */
export function jobIdOf(event: unknown): string | undefined {
  const job = (event as Record<string, unknown> | null)?.['CodePipeline.job'] as { id?: unknown } | undefined;
  return typeof job?.id === 'string' && job.id.length > 0 ? job.id : undefined;
}

/** Validates a CodePipeline Lambda-invoke event. */
export function parsePipelineJob(event: unknown): PipelineJob {
  const result = jobEventSchema.safeParse(event);
  if (!result.success) {
    const fields = describeIssues(result.error.issues).join('; ');
    throw new InvalidEventError(`not a CodePipeline job event: ${fields}`, { cause: result.error });
  }
  return jobOf(result.data['CodePipeline.job']);
}

/** A job's data as the event and GetJobDetails both carry it. */
export function jobOf(job: z.infer<typeof jobEventSchema>['CodePipeline.job']): PipelineJob {
  return {
    id: job.id,
    userParameters: job.data?.actionConfiguration?.configuration?.UserParameters,
    continuationToken: job.data?.continuationToken,
    inputArtifacts: (job.data?.inputArtifacts ?? []).map((a) => ({ name: a.name, bucketName: a.location.s3Location.bucketName, objectKey: a.location.s3Location.objectKey })),
    artifactCredentials: job.data?.artifactCredentials,
  };
}

/** How a unit of work ended: CodePipeline hears exactly one of these per invocation (nothing for `ignored`). */
export type JobOutcome =
  | { readonly kind: 'succeeded'; readonly summary: string; readonly outputVariables?: Record<string, string>; readonly externalExecutionId?: string }
  | { readonly kind: 'continue'; readonly summary: string; readonly continuationToken: string; readonly percentComplete?: number; readonly externalExecutionId?: string }
  | { readonly kind: 'failed'; readonly error: DeploymentError; readonly externalExecutionId?: string }
  /** Another invocation owns the job (duplicate delivery): report nothing. */
  | { readonly kind: 'ignored'; readonly reason: string };

/** An outcome that ends the job. */
export type FinalOutcome = Extract<JobOutcome, { kind: 'succeeded' | 'failed' }>;

/** What the runner did, returned by the handler for logs and tests. */
export interface JobReport {
  readonly jobId?: string;
  readonly outcome: JobOutcome['kind'] | 'unreportable' | 'refused';
  readonly message: string;
}

/** CodePipeline's limits on a failure message and a summary. */
const MAX_FAILURE_MESSAGE = 5000;
const MAX_SUMMARY = 2048;
const truncate = (text: string, max: number) => (text.length <= max ? text : `${text.slice(0, max - 1)}…`);

function failureType(error: DeploymentError): JobFailureType {
  return error.isConfigurationError ? 'ConfigurationError' : 'JobFailed';
}

/**
 * Runs one invocation of a CodePipeline job: parses the event, runs the work, and reports the outcome with
 * bounded retries. The work never leaves the job without a result: any exception becomes a job failure with a
 * clear message. Only when CodePipeline itself cannot be told does it throw, so Lambda retries the invocation.
 */
export async function runPipelineJob(
  event: unknown,
  deps: {
    readonly pipeline: PipelinePort;
    readonly logger: LogPort;
    readonly clock: Clock;
    /**
     * Keeps a final outcome before CodePipeline hears it, and answers the outcome that stands (an earlier one wins), so
     * a late duplicate of an ended job reports the same and does nothing. @default - not kept
     */
    readonly keepResult?: (jobId: string, outcome: FinalOutcome) => Promise<FinalOutcome>;
  },
  work: (job: PipelineJob) => Promise<JobOutcome>,
): Promise<JobReport> {
  const jobId = jobIdOf(event);
  if (!jobId) {
    deps.logger.error('event carries no CodePipeline job id: nothing to report to', { eventKeys: Object.keys((event as object) ?? {}) });
    return { outcome: 'unreportable', message: 'event carries no CodePipeline job id' };
  }
  deps.logger.appendKeys({ jobId });

  const job = await jobToRun(jobId, event, deps);
  if (job.kind === 'refused') {
    deps.logger.warn('event refused', { reason: job.reason });
    return { jobId, outcome: job.outcome, message: job.reason };
  }
  let outcome: JobOutcome;
  try {
    outcome = await work(job.job);
  } catch (error) {
    if (error instanceof JobOwnershipUnknownError) {
      deps.logger.error('job ownership unknown: raising so Lambda retries this invocation', { reason: error.message });
      throw error;
    }
    outcome = { kind: 'failed', error: asDeploymentError(error) };
  }

  if (deps.keepResult && (outcome.kind === 'succeeded' || outcome.kind === 'failed')) outcome = await deps.keepResult(jobId, outcome);
  try {
    return await report(jobId, outcome, deps);
  } catch (error) {
    const failure = asDeploymentError(error);
    if (failure.code !== ErrorCode.JOB_ALREADY_ENDED) throw failure;
    // A re-delivered invocation of a job that already has its final result: nothing more to say.
    deps.logger.info('job already ended: result not reported again', { outcome: outcome.kind });
    return { jobId, outcome: 'ignored', message: failure.message };
  }
}

/**
 * The job as CodePipeline recorded it: whoever may invoke the function can write any event, so only the job id is
 * taken from it. An unknown job is refused (there is nobody to report to); a continuation token that is not the job's
 * current one (a stale duplicate, or made up) is refused without a report; everything else comes from CodePipeline.
 */
async function jobToRun(jobId: string, event: unknown, deps: { readonly pipeline: PipelinePort; readonly logger: LogPort; readonly clock: Clock }): Promise<{ kind: 'run'; job: PipelineJob } | { kind: 'refused'; outcome: 'refused' | 'ignored'; reason: string }> {
  const recorded = await withRetries(deps.clock, () => deps.pipeline.jobDetails(jobId), REPORT).catch((error: unknown) => {
    // Without CodePipeline's record nothing may be done, and nothing can be reported: Lambda retries the invocation.
    throw new JobOwnershipUnknownError(jobId, error);
  });
  if (!recorded) return { kind: 'refused', outcome: 'refused', reason: `CodePipeline has no job ${jobId}: the event was not sent by a pipeline` };
  let claimed: PipelineJob | undefined;
  try {
    claimed = parsePipelineJob(event);
  } catch {
    claimed = undefined;
  }
  const token = claimed?.continuationToken;
  if (token !== recorded.continuationToken) {
    // While CodePipeline holds a token the job is between invocations: only the one carrying it speaks for the job.
    return {
      kind: 'refused',
      outcome: 'ignored',
      reason: token === undefined ? `job ${jobId} is waiting for its continuation: a copy of its first event does nothing` : `the event's continuation token is not job ${jobId}'s current one (a stale duplicate, or made up): nothing done`,
    };
  }
  if (claimed && claimed.userParameters !== recorded.userParameters) deps.logger.warn('the event\'s UserParameters differ from CodePipeline\'s job: using CodePipeline\'s', { jobId });
  return { kind: 'run', job: recorded };
}

async function report(jobId: string, outcome: JobOutcome, deps: { readonly pipeline: PipelinePort; readonly logger: LogPort; readonly clock: Clock }): Promise<JobReport> {
  switch (outcome.kind) {
    case 'ignored':
      deps.logger.info('invocation ignored', { reason: outcome.reason });
      return { jobId, outcome: 'ignored', message: outcome.reason };
    case 'failed': {
      const message = truncate(`[${outcome.error.code}] ${outcome.error.message}`, MAX_FAILURE_MESSAGE);
      deps.logger.error('job failed', { code: outcome.error.code, reason: outcome.error.message, context: outcome.error.context });
      await withRetries(deps.clock, () => deps.pipeline.fail(jobId, { message, type: failureType(outcome.error), externalExecutionId: outcome.externalExecutionId }), REPORT);
      return { jobId, outcome: 'failed', message };
    }
    case 'continue':
      deps.logger.info('job continues', { summary: outcome.summary });
      await withRetries(deps.clock, () =>
        deps.pipeline.succeed(jobId, {
          summary: truncate(outcome.summary, MAX_SUMMARY),
          continuationToken: outcome.continuationToken,
          percentComplete: outcome.percentComplete,
          externalExecutionId: outcome.externalExecutionId,
        }),
        REPORT,
      );
      return { jobId, outcome: 'continue', message: outcome.summary };
    case 'succeeded':
      deps.logger.info('job succeeded', { summary: outcome.summary, outputVariables: outcome.outputVariables });
      await withRetries(deps.clock, () =>
        deps.pipeline.succeed(jobId, {
          summary: truncate(outcome.summary, MAX_SUMMARY),
          outputVariables: outcome.outputVariables,
          externalExecutionId: outcome.externalExecutionId,
        }),
        REPORT,
      );
      return { jobId, outcome: 'succeeded', message: outcome.summary };
  }
}
