import { DeploymentError, ErrorCode, asDeploymentError } from '../core/errors';
import { DeploymentKind, DeploymentStatus, type DeploymentRecord, type InFlightEntry } from '../core/ledger';
import { SHIFT_TRAFFIC_ACTION, aliasLabel } from '../core/names';
import type { AliasRef } from '../core/ports';
import { sameRouting } from './alias-moves';
import type { ExecutionEvent, RollbackAction, RollbackDeps } from './rollback';
import { actionOf } from './rollback';
import { ROLLBACK_ATTEMPTS, withRetries } from './retry';
import { finishManualRollback } from './manual-rollback';
import { UNDO_LOCK_MS, undoDeployment } from './undo';

/** Default of `RollbackDeps.orphanAfterMs`: the ORPHAN_AFTER_SECONDS environment variable overrides it. */
export const DEFAULT_ORPHAN_AFTER_MS = 900_000;

/** Execution statuses (GetPipelineExecution) that bear out a stopped, abandoned or failed action. */
const STOPPED_EXECUTIONS = new Set(['Stopping', 'Stopped', 'Failed', 'Cancelled', 'Superseded']);

/** Action states after which a pipeline execution's deployment can no longer be finished by its own job. */
const STOPPED_STATES = new Set(['ABANDONED', 'FAILED', 'CANCELED']);

/** A pipeline action stopped, was abandoned or failed: the deployment that execution started, if still running, goes back. */
export async function onExecutionStateChange(event: ExecutionEvent, deps: RollbackDeps): Promise<RollbackAction[]> {
  const { ledger, clock } = deps;
  const { 'execution-id': executionId, state, pipeline, action } = event.detail;
  if (!STOPPED_STATES.has(state) || (action !== undefined && action !== SHIFT_TRAFFIC_ACTION)) return [];
  const found = await withRetries(clock, () => ledger.findExecution(executionId));
  if (!found) return [];
  const ref: AliasRef = { functionName: found.functionName, alias: found.alias };
  const record = await withRetries(clock, () => ledger.getDeployment(ref, found.deploymentId));
  if (!record || (record.status !== DeploymentStatus.IN_PROGRESS && record.status !== DeploymentStatus.ROLLING_BACK)) {
    return [{ ...ref, action: 'NOTHING', reason: `deployment ${found.deploymentId} of execution ${executionId} already ended`, deploymentId: found.deploymentId }];
  }
  // Whoever may invoke the function could have written the event: CodePipeline must say the execution ended badly.
  const status = await withRetries(clock, () => deps.pipeline.executionStatus(pipeline, executionId));
  if (!status || !STOPPED_EXECUTIONS.has(status)) {
    const reason = `CodePipeline reports execution ${executionId} of ${pipeline} as ${status ?? 'unknown'}, not stopped or failed: the ${state} event is refused`;
    deps.logger.warn('event refused', { reason });
    return [{ ...ref, action: 'REFUSED', reason, deploymentId: record.deploymentId }];
  }
  // A retried stage keeps its execution id: an event from before this deployment started is about an earlier attempt.
  // Event times have whole seconds, hence the second of tolerance (nobody retries a stage within a second).
  const stoppedAt = Date.parse(event.time ?? '');
  if (Number.isFinite(stoppedAt) && stoppedAt + 1000 < record.startedAt) {
    return [{ ...ref, action: 'NOTHING', reason: `the ${state} event of execution ${executionId} (${event.time}) predates deployment ${record.deploymentId}, started by a retry of it`, deploymentId: record.deploymentId }];
  }
  const reason = `pipeline ${pipeline} execution ${executionId}: action ${action ?? '?'} ${state}; its deployment cannot finish`;
  const outcome = await undoDeployment(deps, ref, record, { by: 'pipeline-execution', code: ErrorCode.EXECUTION_STOPPED, reason, fenceFirst: true });
  if (outcome.kind === 'BUSY') throw new DeploymentError(ErrorCode.AWS_UNAVAILABLE, `${reason}: ${outcome.reason}; retrying`);
  return [actionOf(ref, outcome, reason)];
}

/**
 * The 5-minute sweep: every deployment whose invocation stopped sending heartbeats for `orphanAfterMs` is finished —
 * recorded as succeeded when the alias is already fully on its target, else put back — and every undo left unfinished
 * is resumed once its lock lapsed. Stops before `deadline`; the next sweep picks up the rest.
 */
export async function sweepOrphans(deps: RollbackDeps, deadline: number): Promise<RollbackAction[]> {
  const { ledger, clock } = deps;
  const orphanAfterMs = deps.orphanAfterMs ?? DEFAULT_ORPHAN_AFTER_MS;
  const entries = await withRetries(clock, () => ledger.listInFlight());
  const actions: RollbackAction[] = [];
  const failed: string[] = [];
  let code: ErrorCode | undefined;
  for (const entry of entries) {
    if (clock.now() >= deadline) break;
    // Undos and manual rollbacks hold their lock for UNDO_LOCK_MS; rollouts heartbeat and are orphaned after orphanAfterMs.
    const short = entry.status === DeploymentStatus.ROLLING_BACK || entry.kind === DeploymentKind.MANUAL_ROLLBACK;
    const stale = clock.now() - entry.heartbeatAt >= (short ? UNDO_LOCK_MS : orphanAfterMs);
    if (!stale) continue;
    // One alias that cannot be reached (its target environment gone from LRP_TARGET_ENVS, its role deleted) must not
    // keep every other orphan split: each is swept, then the failures are thrown together, naming each alias.
    try {
      actions.push(await sweepOne(deps, entry));
    } catch (error) {
      const failure = asDeploymentError(error);
      code ??= failure.code;
      failed.push(`${aliasLabel(entry)} (deployment ${entry.deploymentId}): ${failure.message}`);
    }
  }
  if (failed.length > 0) {
    deps.logger.error('sweep could not finish some deployments', { failed, swept: actions.length });
    throw new DeploymentError(code ?? ErrorCode.INTERNAL, `the sweep could not put back ${failed.join('; ')}`);
  }
  return actions;
}

async function sweepOne(deps: RollbackDeps, entry: InFlightEntry): Promise<RollbackAction> {
  const { ledger, lambda, clock, logger } = deps;
  const ref: AliasRef = { functionName: entry.functionName, alias: entry.alias };
  const record = await withRetries(clock, () => ledger.getDeployment(ref, entry.deploymentId));
  if (!record) return { ...ref, action: 'NOTHING', reason: `deployment ${entry.deploymentId} is missing from the ledger`, deploymentId: entry.deploymentId };
  const silentFor = Math.round((clock.now() - entry.heartbeatAt) / 1000);
  if (record.kind === DeploymentKind.MANUAL_ROLLBACK && record.status === DeploymentStatus.IN_PROGRESS) {
    // Never undone: carried on to the version the operator chose.
    const done = await finishManualRollback(deps, ref, record, 'sweep').catch((error: unknown) => ({ kind: 'BUSY' as const, reason: asDeploymentError(error).message }));
    const reason = `manual rollback to version ${record.toVersion} left unfinished for ${silentFor} s: ${done.kind === 'BUSY' ? done.reason : 'finished by the sweep'}`;
    return { ...ref, action: done.kind === 'BUSY' ? 'BUSY' : 'COMPLETED', reason, deploymentId: record.deploymentId };
  }
  if (record.status === DeploymentStatus.IN_PROGRESS) {
    const routing = await withRetries(clock, () => lambda.getAlias(ref.functionName, ref.alias));
    // An operator's abort pending on it wins over the success (the ledger refuses that success for ever): it goes back below.
    if (sameRouting(routing, { version: record.toVersion, weights: {} }) && record.operatorRequest !== 'ABORT') {
      // Fully moved, but its invocation stopped before recording it: record the success it reported.
      const now = clock.now();
      const taken = await withRetries(clock, () => ledger.takeOver(ref, record.deploymentId, `sweep:${now}`, { now, leaseUntil: now + UNDO_LOCK_MS, lockUntil: now + UNDO_LOCK_MS, force: true }));
      const reason = `completed; its invocation stopped ${silentFor} s before recording it, so the sweep did`;
      const finished =
        taken &&
        (await withRetries(clock, () => ledger.finishDeployment(ref, record.deploymentId, taken.fence, { status: DeploymentStatus.SUCCEEDED, reason, endedAt: now, bakeUntil: now + record.bakeMinutes * 60_000, ...(routing.revisionId ? { aliasRevision: routing.revisionId } : {}) }), { attempts: ROLLBACK_ATTEMPTS }));
      logger.info('sweep recorded a completed deployment', { deploymentId: record.deploymentId, finished });
      return { ...ref, action: finished ? 'COMPLETED' : 'BUSY', reason, deploymentId: record.deploymentId };
    }
  }
  const { code, reason } = orphanCause(record, silentFor);
  const outcome = await undoDeployment(deps, ref, record, { by: 'sweep', code, reason, fenceFirst: true });
  return actionOf(ref, outcome, reason);
}

/** Why the sweep puts a deployment back: its undo left unfinished, an operator's abort nobody applied, or silence. */
function orphanCause(record: Pick<DeploymentRecord, 'status' | 'operatorRequest' | 'errorCode'>, silentFor: number): { readonly code: ErrorCode; readonly reason: string } {
  if (record.status === DeploymentStatus.ROLLING_BACK) return { code: (record.errorCode as ErrorCode | undefined) ?? ErrorCode.ORPHANED, reason: 'its undo did not finish; resumed by the sweep' };
  if (record.status === DeploymentStatus.IN_PROGRESS && record.operatorRequest === 'ABORT') return { code: ErrorCode.ABORTED, reason: `aborted by an operator; its invocation sent no heartbeat for ${silentFor} s` };
  return { code: ErrorCode.ORPHANED, reason: `its invocation sent no heartbeat for ${silentFor} s: orphaned` };
}
