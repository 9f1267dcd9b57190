import type { Context } from 'aws-lambda';
import { asDeploymentError } from '../core/errors';
import { rollbackFailedNotice } from '../core/notices';
import type { Home } from '../core/event-trust';
import type { Clock, LogPort, PipelinePort } from '../core/ports';
import { jobResultOf, outcomeOfResult } from './job-outcome';
import { runPipelineJob, type FinalOutcome, type JobOutcome, type JobReport, type PipelineJob } from './pipeline-job';
import { ROLLBACK_ATTEMPTS, withRetries } from './retry';
import { failureFacts } from './failure-facts';
import type { Notices } from './notices';
import { handleRollbackEvent, type RollbackAction, type RollbackDeps } from './rollback';
import { shiftTraffic, type ShiftTrafficDeps } from './shift-traffic';

/** The slice of Powertools Metrics the handlers use. */
export interface MetricsPort {
  addMetric(name: string, unit: 'Count', value: number): void;
  publishStoredMetrics(): void;
}

/** What a CodePipeline-invoked handler needs besides its work. */
export interface PipelineHandlerDeps {
  readonly pipeline: PipelinePort;
  readonly logger: LogPort;
  readonly clock: Clock;
  readonly metrics?: MetricsPort;
  readonly keepResult?: (jobId: string, outcome: FinalOutcome) => Promise<FinalOutcome>;
  /** Notices posted while the job ran, published (or given up) before the invocation returns. @default - none */
  readonly notices?: Pick<Notices, 'flush'>;
}

/**
 * A Lambda handler for a CodePipeline action. `work` may be an Error (a configuration problem found at start-up):
 * then every job is failed with it, rather than the container crashing and the job waiting for its timeout.
 */
export function createPipelineHandler(deps: PipelineHandlerDeps, work: Error | ((job: PipelineJob, context: Context) => Promise<JobOutcome>)) {
  return async (event: unknown, context: Context): Promise<JobReport> => {
    const report = await runPipelineJob(event, deps, async (job) => {
      if (work instanceof Error) throw asDeploymentError(work);
      return work(job, context);
    });
    // After the job's result is reported: a notice never delays it.
    await deps.notices?.flush();
    deps.metrics?.addMetric(`Job_${report.outcome}`, 'Count', 1);
    deps.metrics?.publishStoredMetrics();
    return report;
  };
}

/** The shift-traffic handler over the given ports: every final result is kept in the ledger before it is reported. */
export function createShiftTrafficHandler(handlerDeps: PipelineHandlerDeps, engineDeps: ShiftTrafficDeps | Error) {
  const keepResult =
    engineDeps instanceof Error
      ? undefined
      : async (jobId: string, outcome: FinalOutcome): Promise<FinalOutcome> => {
          try {
            const kept = await withRetries(engineDeps.clock, () => engineDeps.ledger.recordJobResult(jobId, jobResultOf(outcome, engineDeps.clock.now())), { attempts: ROLLBACK_ATTEMPTS });
            return kept.kind === outcome.kind && kept.message === (outcome.kind === 'succeeded' ? outcome.summary : outcome.error.message) ? outcome : outcomeOfResult(kept);
          } catch (error) {
            // CodePipeline must still hear the result; the job's claim keeps late duplicates out meanwhile.
            engineDeps.logger.error('could not keep the job result in the ledger', { error: asDeploymentError(error).message });
            return outcome;
          }
        };
  return createPipelineHandler(
    { ...handlerDeps, ...(keepResult ? { keepResult } : {}), ...(engineDeps instanceof Error || !engineDeps.notices ? {} : { notices: engineDeps.notices }) },
    engineDeps instanceof Error ? engineDeps : (job, context) => shiftTraffic(job, context.getRemainingTimeInMillis(), context.awsRequestId, engineDeps),
  );
}

/** The rollback handler over the given ports: throws on failure so the event is retried, then dead-lettered. */
export function createRollbackHandler(deps: RollbackDeps & { readonly metrics?: MetricsPort; readonly homeOf?: (context: Context | undefined) => Home }) {
  return async (event: unknown, context?: Context): Promise<RollbackAction[]> => {
    try {
      const home = deps.homeOf?.(context) ?? deps.home;
      const actions = await handleRollbackEvent(event, { ...deps, ...(home ? { home } : {}) }, context?.getRemainingTimeInMillis() ?? 60_000);
      deps.metrics?.addMetric('RollbacksPerformed', 'Count', actions.filter((a) => a.action === 'ROLLED_BACK').length);
      return actions;
    } catch (error) {
      deps.logger.error('rollback failed; the event will be retried, then sent to the dead-letter queue', { error: asDeploymentError(error).message });
      deps.metrics?.addMetric('RollbackErrors', 'Count', 1);
      // The function cannot tell its last attempt: each failed one says it will be retried, then dead-lettered.
      deps.notices?.post(() => rollbackFailedNotice({ ...failureFacts(event), error: asDeploymentError(error).message, at: deps.clock.now(), ...(deps.notices?.region ? { region: deps.notices.region } : {}) }), { notice: 'ROLLBACK_FAILED' });
      throw error;
    } finally {
      await deps.notices?.flush();
      deps.metrics?.publishStoredMetrics();
    }
  };
}
