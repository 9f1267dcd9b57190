/**
 * The one way an alias moves backwards. Shift-traffic's own rollback, the rollback function, the orphan sweep and the
 * operator's `lrp rollback` and `lrp abort` all come here. An undo moves the alias only from the routing it observed
 * (conditional on the alias revision) and only to the deployment's fromVersion; once it has replaced a version, only a
 * new deployment of that version puts it live again.
 */
import { randomUUID } from 'node:crypto';
import { DeploymentError, ErrorCode } from '../core/errors';
import { DeploymentStatus, isFinal, type AliasLedgerState, type DeploymentRecord, type DeploymentSummary } from '../core/ledger';
import type { AliasRef, Clock, LambdaPort, LedgerPort, LogPort } from '../core/ports';
import type { AliasRouting } from '../core/types';
import { describeRouting, moveAlias, routesOnly, sameRouting } from './alias-moves';
import { noticeRollback, type Notices } from './notices';
import { ROLLBACK_ATTEMPTS, withRetries } from './retry';

/** What an undo needs from the world. */
export interface UndoDeps {
  readonly lambda: LambdaPort;
  readonly ledger: LedgerPort;
  readonly clock: Clock;
  readonly logger: LogPort;
  /** Where automatic rollbacks are announced. @default - not announced (the operator CLI) */
  readonly notices?: Notices;
}

/** How long an undo fenced first holds the alias: after this, the sweep or a retry may finish it. */
export const UNDO_LOCK_MS = 5 * 60_000;

/** How an undo ended. */
export type UndoOutcome =
  | { readonly kind: 'UNDONE'; readonly deploymentId: string; readonly toVersion: string }
  | { readonly kind: 'ALREADY_ENDED'; readonly record?: DeploymentRecord }
  /** The alias routes to other versions now: the deployment ended FAILED and the alias was left as it is. */
  | { readonly kind: 'NOT_MOVED'; readonly deploymentId: string; readonly reason: string }
  /** Another actor holds the alias (an undo in progress, or another deployment): try again later. */
  | { readonly kind: 'BUSY'; readonly reason: string }
  /** Nothing to go back to (a first release that succeeded): the deployment and the alias are left as they are. */
  | { readonly kind: 'NOTHING_TO_UNDO'; readonly deploymentId: string; readonly reason: string };

/** What to undo and why. */
export interface UndoRequest {
  /** `shift-traffic`, `rollback-function`, `sweep`, `pipeline-execution` or `operator:<name>`. */
  readonly by: string;
  readonly code: ErrorCode;
  readonly reason: string;
  /** The alarm that decided the undo, for its notice. @default - none */
  readonly alarmName?: string;
  /**
   * Take the alias lock (and mark the deployment ROLLING_BACK) before moving, so the running rollout stops: operators,
   * the sweep, stopped executions. The rollback function and the rollout itself move first, for speed. @default false
   */
  readonly fenceFirst?: boolean;
  /** The alias revision the caller knows the deployment left (else the one the ledger recorded). */
  readonly knownRevision?: string;
  /** The routing the caller just read: when it is already the target, nothing is written. */
  readonly observed?: AliasRouting;
  /**
   * Once the alias is back, a ledger that cannot record it does not fail the undo (the sweep records it later): for the
   * rollout undoing itself, whose job must report the rollback's real cause. @default false
   */
  readonly recordBestEffort?: boolean;
}

const whole = (version: string): AliasRouting => ({ version, weights: {} });

/** Undoes one deployment: puts the alias back on its fromVersion and records why. Throws on AWS failures (retry later). */
export async function undoDeployment(deps: UndoDeps, ref: AliasRef, deployment: DeploymentSummary, request: UndoRequest): Promise<UndoOutcome> {
  const { ledger, clock, logger } = deps;
  const id = deployment.deploymentId;
  const { fromVersion, toVersion } = deployment;
  if (fromVersion === '$LATEST' && deployment.status === DeploymentStatus.SUCCEEDED) {
    return { kind: 'NOTHING_TO_UNDO', deploymentId: id, reason: `deployment ${id} was the first release of ${ref.functionName}:${ref.alias}: there is no earlier version to go back to` };
  }
  logger.warn('undoing deployment', { deploymentId: id, functionName: ref.functionName, alias: ref.alias, by: request.by, code: request.code, reason: request.reason, toVersion: fromVersion });
  let fence: number | undefined;
  if (request.fenceFirst) {
    const undoer = `${request.by}:${clock.now()}`;
    const fenced = await withRetries(clock, () => ledger.beginUndo(ref, id, undoer, { now: clock.now(), lockUntil: clock.now() + UNDO_LOCK_MS }), { attempts: ROLLBACK_ATTEMPTS });
    if (!fenced) {
      const record = await withRetries(clock, () => ledger.getDeployment(ref, id));
      if (!record || isFinal(record.status)) return { kind: 'ALREADY_ENDED', ...(record ? { record } : {}) };
      return { kind: 'BUSY', reason: `${ref.functionName}:${ref.alias} is held by another deployment or undo; ${id} is ${record.status}` };
    }
    fence = fenced.fence;
  }
  // One id per recording, the same in every retry: a retry that finds the undo recorded with it knows the record is
  // its own (the first attempt's answer was lost), so the rollback is still announced, and only by this invocation.
  const undoId = randomUUID();
  let recordedAt = 0;
  const record = (result: { moved: boolean; reason: string; code: ErrorCode }) => {
    recordedAt = clock.now();
    return withRetries(clock, () => ledger.recordUndo(ref, id, { reason: result.reason, errorCode: result.code, at: clock.now(), by: request.by, moved: result.moved, undoId }), { attempts: ROLLBACK_ATTEMPTS });
  };
  const announce = () => noticeRollback(deps, ref, deployment, { by: request.by, code: request.code, reason: request.reason, ...(request.alarmName ? { alarmName: request.alarmName } : {}) }, recordedAt);

  if (fromVersion === '$LATEST') {
    await record({ moved: false, code: request.code, reason: `${request.reason}; the first release has no previous version to go back to, so the alias was left on ${toVersion}` });
    return { kind: 'NOT_MOVED', deploymentId: id, reason: 'first release: no previous version' };
  }
  const placed = await putBack(deps, ref, deployment, request, fence);
  if (placed.kind === 'FENCE_LOST') {
    // Another hand holds the alias now (another undo of this deployment took it over, or the lock lapsed and the next
    // deployment started): it finishes, or has finished, what this undo began; this one writes nothing.
    // No new deployment starts while the undo is pending, so the hand that took it over is another undo of this
    // deployment, moving the alias to the same version now: give it a few seconds to record it.
    const read = () => withRetries(clock, () => ledger.getDeployment(ref, id));
    let latest = await read();
    for (let look = 0; look < 5 && latest && !isFinal(latest.status); look += 1) {
      await clock.sleep(2_000);
      latest = await read();
    }
    logger.info('not undone by this hand: its fence was taken over before the alias could be moved', { deploymentId: id, status: latest?.status });
    if (!latest || isFinal(latest.status)) return { kind: 'ALREADY_ENDED', ...(latest ? { record: latest } : {}) };
    return { kind: 'BUSY', reason: `another hand took the undo of ${id} over (${latest.status}); it carries it on` };
  }
  if (placed.kind === 'SUPERSEDED') {
    logger.info('not undone: another deployment started (or its bake window closed) before the alias could be moved', { deploymentId: id });
    return { kind: 'ALREADY_ENDED', ...(await withRetries(clock, () => ledger.getDeployment(ref, id)).then((r) => (r ? { record: r } : {}))) };
  }
  if (placed.kind === 'FOREIGN') {
    const reason = `${request.reason}; not moved: the alias now routes to ${describeRouting(placed.routing)}, which this deployment did not set`;
    await record({ moved: false, code: ErrorCode.ALIAS_CHANGED_EXTERNALLY, reason });
    logger.error('undo found the alias on versions its deployment did not set: left as it is', { deploymentId: id, routing: placed.routing });
    return { kind: 'NOT_MOVED', deploymentId: id, reason };
  }
  const recorded = await record({ moved: true, code: request.code, reason: request.reason }).catch(async (error: unknown) => {
    if (!request.recordBestEffort) throw error;
    // An attempt may have been applied with its answer lost, the retries then failing on an outage: the deployment
    // is no longer in flight, so the sweep will not record (nor announce) it. The record says whether it is this undo's.
    const ended = await withRetries(clock, () => ledger.getDeployment(ref, id)).catch(() => undefined);
    if (ended?.status === DeploymentStatus.ROLLED_BACK && ended.undoId === undoId) return true;
    logger.error('the alias is back, but the ledger could not record the undo; the sweep will', { deploymentId: id, error: String(error) });
    return 'UNRECORDED' as const;
  });
  if (!recorded) {
    const ended = await withRetries(clock, () => ledger.getDeployment(ref, id));
    if (ended?.status === DeploymentStatus.ROLLED_BACK && ended.undoId === undoId) announce();
    return { kind: 'ALREADY_ENDED', ...(ended ? { record: ended } : {}) };
  }
  logger.info('deployment undone', { deploymentId: id, functionName: ref.functionName, alias: ref.alias, by: request.by, version: fromVersion });
  // Announced by whoever records it: an unrecorded undo is recorded, and announced, by the sweep.
  if (recorded === true) announce();
  return { kind: 'UNDONE', deploymentId: id, toVersion: fromVersion };
}

/**
 * Moves the alias from the deployment's routing back to its fromVersion: first conditional on the revision it knows,
 * then, on a conflict, from what it observes — as long as that routes only between the deployment's two versions.
 */
async function putBack(deps: UndoDeps, ref: AliasRef, deployment: DeploymentSummary, request: UndoRequest, fence: number | undefined): Promise<{ kind: 'MOVED' } | { kind: 'FOREIGN'; routing: AliasRouting } | { kind: 'SUPERSEDED' } | { kind: 'FENCE_LOST' }> {
  const { lambda, ledger, clock } = deps;
  const target = whole(deployment.fromVersion);
  const description = `lrp undo ${deployment.deploymentId} (${request.by})`;
  if (fence !== undefined) return putBackFenced(deps, ref, deployment, fence, description);
  if (request.observed && sameRouting(request.observed, target)) return { kind: 'MOVED' };
  // An unfenced undo races whoever holds the alias next: once another deployment started (or, for a baking release,
  // its bake window closed), the routing it observes is not its deployment's any more, even between the same two
  // versions — the next release of the same version shifts exactly like this one did.
  const superseded = async () => {
    const state = await withRetries(clock, () => ledger.getState(ref), { attempts: ROLLBACK_ATTEMPTS });
    return state?.latest?.deploymentId !== deployment.deploymentId || (deployment.status === DeploymentStatus.SUCCEEDED && state.bakingDeploymentId !== deployment.deploymentId);
  };
  let expected = request.knownRevision ?? deployment.aliasRevision;
  for (let attempt = 0; ; attempt += 1) {
    if (expected !== undefined) {
      try {
        // Conditional on a revision of this deployment's own routing: it lands only if nobody wrote since.
        await moveAlias(deps, ref, target, { expectedRevision: expected, description, attempts: ROLLBACK_ATTEMPTS });
        return { kind: 'MOVED' };
      } catch (error) {
        if (!(error instanceof DeploymentError) || error.code !== ErrorCode.ALIAS_CHANGED_EXTERNALLY || attempt >= 5) throw error;
      }
    }
    // Read the alias, then the ledger: whoever starts after that check writes the alias, changing the revision read.
    const current = await withRetries(clock, () => lambda.getAlias(ref.functionName, ref.alias), { attempts: ROLLBACK_ATTEMPTS });
    if (sameRouting(current, target)) return { kind: 'MOVED' };
    if (await superseded()) return { kind: 'SUPERSEDED' };
    if (!routesOnly(current, [deployment.fromVersion, deployment.toVersion])) return { kind: 'FOREIGN', routing: current };
    expected = current.revisionId ?? '';
  }
}

/**
 * The alias back under a fence: always written, conditional on the revision just read, even when it already routes
 * as asked. The fenced deployment may have renewed its lock just before the fence and still have a write on its way,
 * conditional on the revision it last saw: a new revision is what stops that write from landing.
 * The revision is read first, then the fence is checked: a hand that took the lock over after that check (another
 * undo, or a deployment started once the lock was released) must write the alias to move on, which changes the
 * revision this write is conditional on. Without the check, a slow undo whose fence another operator's undo took over
 * (and released) would put back the next deployment's first step, which routes between the same two versions.
 */
async function putBackFenced(deps: UndoDeps, ref: AliasRef, deployment: DeploymentSummary, fence: number, description: string): Promise<{ kind: 'MOVED' } | { kind: 'FOREIGN'; routing: AliasRouting } | { kind: 'FENCE_LOST' }> {
  const { lambda, ledger, clock } = deps;
  const target = whole(deployment.fromVersion);
  for (let attempt = 0; ; attempt += 1) {
    const current = await withRetries(clock, () => lambda.getAlias(ref.functionName, ref.alias), { attempts: ROLLBACK_ATTEMPTS });
    if (!holdsFence(await withRetries(clock, () => ledger.getState(ref), { attempts: ROLLBACK_ATTEMPTS }), deployment.deploymentId, fence)) return { kind: 'FENCE_LOST' };
    if (!routesOnly(current, [deployment.fromVersion, deployment.toVersion])) return { kind: 'FOREIGN', routing: current };
    try {
      await withRetries(clock, () => lambda.updateAlias(ref.functionName, ref.alias, target, { expectedRevisionId: current.revisionId, description }), { attempts: ROLLBACK_ATTEMPTS });
      return { kind: 'MOVED' };
    } catch (error) {
      // Changed since it was read (by the fenced writer, or by this write with its answer lost): read it again.
      if (!(error instanceof DeploymentError) || error.code !== ErrorCode.ALIAS_CHANGED_EXTERNALLY || attempt >= 5) throw error;
    }
  }
}

/** Whether the alias lock is still the one `fence` took for this deployment. */
export function holdsFence(state: AliasLedgerState | undefined, deploymentId: string, fence: number): boolean {
  return state?.lock?.deploymentId === deploymentId && state.lock.fence === fence;
}
