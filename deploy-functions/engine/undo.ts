/**
 * The one way an alias moves backwards. Shift-traffic's own rollback, the rollback function, the orphan sweep and the
 * operator's `lrp rollback` and `lrp abort` all come here. An undo moves the alias only from the routing it observed
 * (conditional on the alias revision) and only to the deployment's fromVersion; once it has replaced a version, only a
 * new deployment of that version puts it live again.
 */
import { DeploymentError, ErrorCode } from '../core/errors';
import { DeploymentKind, DeploymentStatus, isFinal, newDeploymentId, type DeploymentRecord, type DeploymentSummary } from '../core/ledger';
import type { AliasRef, Clock, LambdaPort, LedgerPort, LogPort } from '../core/ports';
import type { AliasRouting } from '../core/types';
import { describeRouting, moveAlias, routesOnly, sameRouting } from './alias-moves';
import { ROLLBACK_ATTEMPTS, withRetries } from './retry';

/** What an undo needs from the world. */
export interface UndoDeps {
  readonly lambda: LambdaPort;
  readonly ledger: LedgerPort;
  readonly clock: Clock;
  readonly logger: LogPort;
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
  | { readonly kind: 'BUSY'; readonly reason: string };

/** What to undo and why. */
export interface UndoRequest {
  /** `shift-traffic`, `rollback-function`, `sweep`, `pipeline-execution` or `operator:<name>`. */
  readonly by: string;
  readonly code: ErrorCode;
  readonly reason: string;
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
  logger.warn('undoing deployment', { deploymentId: id, by: request.by, code: request.code, reason: request.reason, toVersion: fromVersion });
  if (request.fenceFirst) {
    const undoer = `${request.by}:${clock.now()}`;
    const fenced = await withRetries(clock, () => ledger.beginUndo(ref, id, undoer, { now: clock.now(), lockUntil: clock.now() + UNDO_LOCK_MS }), { attempts: ROLLBACK_ATTEMPTS });
    if (!fenced) {
      const record = await withRetries(clock, () => ledger.getDeployment(ref, id));
      if (!record || isFinal(record.status)) return { kind: 'ALREADY_ENDED', ...(record ? { record } : {}) };
      return { kind: 'BUSY', reason: `${ref.functionName}:${ref.alias} is held by another deployment or undo; ${id} is ${record.status}` };
    }
  }
  const record = (result: { moved: boolean; reason: string; code: ErrorCode }) =>
    withRetries(clock, () => ledger.recordUndo(ref, id, { reason: result.reason, errorCode: result.code, at: clock.now(), by: request.by, moved: result.moved }), { attempts: ROLLBACK_ATTEMPTS });

  if (fromVersion === '$LATEST') {
    await record({ moved: false, code: request.code, reason: `${request.reason}; the first release has no previous version to go back to, so the alias was left on ${toVersion}` });
    return { kind: 'NOT_MOVED', deploymentId: id, reason: 'first release: no previous version' };
  }
  const placed = await putBack(deps, ref, deployment, request);
  if (placed.kind === 'FOREIGN') {
    const reason = `${request.reason}; not moved: the alias now routes to ${describeRouting(placed.routing)}, which this deployment did not set`;
    await record({ moved: false, code: ErrorCode.ALIAS_CHANGED_EXTERNALLY, reason });
    logger.error('undo found the alias on versions its deployment did not set: left as it is', { deploymentId: id, routing: placed.routing });
    return { kind: 'NOT_MOVED', deploymentId: id, reason };
  }
  const recorded = await record({ moved: true, code: request.code, reason: request.reason }).catch((error: unknown) => {
    if (!request.recordBestEffort) throw error;
    logger.error('the alias is back, but the ledger could not record the undo; the sweep will', { deploymentId: id, error: String(error) });
    return true;
  });
  if (!recorded) {
    return { kind: 'ALREADY_ENDED', ...(await withRetries(clock, () => ledger.getDeployment(ref, id)).then((r) => (r ? { record: r } : {}))) };
  }
  logger.info('deployment undone', { deploymentId: id, by: request.by, version: fromVersion });
  return { kind: 'UNDONE', deploymentId: id, toVersion: fromVersion };
}

/**
 * Moves the alias from the deployment's routing back to its fromVersion: first conditional on the revision it knows,
 * then, on a conflict, from what it observes — as long as that routes only between the deployment's two versions.
 */
async function putBack(deps: UndoDeps, ref: AliasRef, deployment: DeploymentSummary, request: UndoRequest): Promise<{ kind: 'MOVED' } | { kind: 'FOREIGN'; routing: AliasRouting }> {
  const { lambda, clock } = deps;
  const target = whole(deployment.fromVersion);
  const description = `lrp undo ${deployment.deploymentId} (${request.by})`;
  if (request.observed && sameRouting(request.observed, target)) return { kind: 'MOVED' };
  let expected = request.knownRevision ?? deployment.aliasRevision;
  for (let attempt = 0; ; attempt += 1) {
    if (expected !== undefined) {
      try {
        await moveAlias(deps, ref, target, { expectedRevision: expected, description, attempts: ROLLBACK_ATTEMPTS });
        return { kind: 'MOVED' };
      } catch (error) {
        if (!(error instanceof DeploymentError) || error.code !== ErrorCode.ALIAS_CHANGED_EXTERNALLY || attempt >= 5) throw error;
      }
    }
    const current = await withRetries(clock, () => lambda.getAlias(ref.functionName, ref.alias), { attempts: ROLLBACK_ATTEMPTS });
    if (sameRouting(current, target)) return { kind: 'MOVED' };
    if (!routesOnly(current, [deployment.fromVersion, deployment.toVersion])) return { kind: 'FOREIGN', routing: current };
    expected = current.revisionId ?? '';
  }
}

/** What `rollBackTo` did. */
export type ManualRollback = { readonly kind: 'MOVED'; readonly deploymentId: string; readonly from: string } | { readonly kind: 'ALREADY_THERE' };

/**
 * Puts the alias on `version` by hand when no deployment is in flight or baking (`lrp rollback --to`): recorded as a
 * manual rollback under the alias lock; the version it leaves counts as replaced by a rollback.
 */
export async function rollBackTo(deps: UndoDeps, ref: AliasRef, version: string, by: string): Promise<ManualRollback> {
  const { lambda, ledger, clock } = deps;
  const routing = await withRetries(clock, () => lambda.getAlias(ref.functionName, ref.alias));
  if (sameRouting(routing, whole(version))) return { kind: 'ALREADY_THERE' };
  const now = clock.now();
  const deploymentId = newDeploymentId(now, `manual:${by}:${now}`);
  const record: DeploymentRecord = {
    functionName: ref.functionName,
    alias: ref.alias,
    deploymentId,
    kind: DeploymentKind.MANUAL_ROLLBACK,
    fromVersion: routing.version,
    toVersion: version,
    strategy: 'ManualRollback',
    status: DeploymentStatus.IN_PROGRESS,
    startedAt: now,
    bakeMinutes: 0,
    watchedAlarms: [],
    reason: `rolled back by ${by} to version ${version}`,
  };
  const { fence } = await ledger.startDeployment(record, { owner: by, now, leaseUntil: now + UNDO_LOCK_MS, lockUntil: now + UNDO_LOCK_MS });
  let moved: AliasRouting;
  try {
    moved = await moveAlias(deps, ref, whole(version), { expectedRevision: routing.revisionId, description: `lrp manual rollback ${deploymentId} (${by})`, attempts: ROLLBACK_ATTEMPTS });
  } catch (error) {
    const reason = `could not move ${ref.functionName}:${ref.alias} to version ${version}: ${(error as Error).message}`;
    await ledger.finishDeployment(ref, deploymentId, fence, { status: DeploymentStatus.FAILED, reason, errorCode: ErrorCode.ROLLBACK_FAILED, endedAt: clock.now() });
    throw error;
  }
  await withRetries(clock, () =>
    ledger.finishDeployment(ref, deploymentId, fence, { status: DeploymentStatus.SUCCEEDED, reason: record.reason!, endedAt: clock.now(), bakeUntil: clock.now(), replacesFrom: true, ...(moved.revisionId ? { aliasRevision: moved.revisionId } : {}) }),
    { attempts: ROLLBACK_ATTEMPTS },
  );
  return { kind: 'MOVED', deploymentId, from: routing.version };
}
