/**
 * Manual rollbacks: `lrp rollback --to` when nothing is in flight or baking, and the hand that finishes one another hand
 * began. A manual rollback is a deployment of its own (MANUAL_ROLLBACK) under the alias lock, never undone: it moves
 * towards the version an operator chose as safe.
 */
import { DeploymentError, ErrorCode, asDeploymentError } from '../core/errors';
import { DeploymentKind, DeploymentStatus, isFinal, newDeploymentId, type DeploymentRecord } from '../core/ledger';
import type { AliasRef } from '../core/ports';
import type { AliasRouting } from '../core/types';
import { describeRouting, moveAlias, routesOnly, sameRouting } from './alias-moves';
import { ROLLBACK_ATTEMPTS, withRetries } from './retry';
import { UNDO_LOCK_MS, type UndoDeps } from './undo';

const whole = (version: string): AliasRouting => ({ version, weights: {} });

/** What `rollBackTo` and `finishManualRollback` did. */
export type ManualRollback = { readonly kind: 'MOVED'; readonly deploymentId: string; readonly from: string } | { readonly kind: 'ALREADY_THERE' };

/**
 * Puts the alias on `version` by hand when no deployment is in flight or baking (`lrp rollback --to`): recorded as a
 * manual rollback under the alias lock; the version it leaves counts as replaced by a rollback. Every alias write
 * follows a renewal of the lock, so once another hand took the rollback over, this one writes nothing more.
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
  const owner = `${by}:${now}`;
  // Idempotent for its owner: a retry after a lost answer finds the lock already taken by this rollback.
  const { fence } = await withRetries(clock, () => ledger.startDeployment(record, { owner, now, leaseUntil: now + UNDO_LOCK_MS, lockUntil: now + UNDO_LOCK_MS }));
  return carryOutManualRollback(deps, ref, record, fence, routing);
}

/**
 * Finishes a manual rollback another hand began and did not end (its answer lost, its process stopped, or another
 * operator's): takes its lock over and carries it on to the version it was going to. A manual rollback is never
 * undone: it moves towards the version an operator chose as safe.
 */
export async function finishManualRollback(deps: UndoDeps, ref: AliasRef, record: DeploymentRecord, by: string): Promise<ManualRollback | { readonly kind: 'BUSY'; readonly reason: string }> {
  const { lambda, ledger, clock } = deps;
  const now = clock.now();
  const taken = await withRetries(clock, () => ledger.takeOver(ref, record.deploymentId, `${by}:${now}`, { now, leaseUntil: now + UNDO_LOCK_MS, lockUntil: now + UNDO_LOCK_MS, force: true }), { attempts: ROLLBACK_ATTEMPTS });
  if (!taken) {
    const latest = await withRetries(clock, () => ledger.getDeployment(ref, record.deploymentId));
    if (latest && isFinal(latest.status)) return latest.status === DeploymentStatus.SUCCEEDED ? { kind: 'MOVED', deploymentId: latest.deploymentId, from: latest.fromVersion } : { kind: 'BUSY', reason: `manual rollback ${latest.deploymentId} ended ${latest.status}` };
    const state = await withRetries(clock, () => ledger.getState(ref));
    if (state?.lock && state.lock.deploymentId !== record.deploymentId) {
      // Its lock lapsed and another deployment holds the alias now: the manual rollback is over, without touching it.
      await withRetries(clock, () => ledger.recordUndo(ref, record.deploymentId, { reason: `manual rollback superseded: its lock lapsed and ${state.lock!.deploymentId} holds the alias`, errorCode: ErrorCode.LOCK_LOST, at: clock.now(), by, moved: false }), { attempts: ROLLBACK_ATTEMPTS });
      return { kind: 'BUSY', reason: `${ref.functionName}:${ref.alias} is held by ${state.lock.deploymentId}` };
    }
    return { kind: 'BUSY', reason: `manual rollback ${record.deploymentId} could not be taken over` };
  }
  const routing = await withRetries(clock, () => lambda.getAlias(ref.functionName, ref.alias), { attempts: ROLLBACK_ATTEMPTS });
  return carryOutManualRollback(deps, ref, record, taken.fence, routing);
}

/** Moves the alias to the manual rollback's version (from what it routes now) and records it, under the given fence. */
async function carryOutManualRollback(deps: UndoDeps, ref: AliasRef, record: DeploymentRecord, fence: number, routing: AliasRouting): Promise<ManualRollback> {
  const { ledger, clock } = deps;
  const { deploymentId, fromVersion, toVersion } = record;
  const heartbeat = async () => {
    const at = clock.now();
    const held = await ledger.heartbeat(ref, deploymentId, fence, { now: at, leaseUntil: at + UNDO_LOCK_MS, lockUntil: at + UNDO_LOCK_MS });
    if (!held) throw new DeploymentError(ErrorCode.LOCK_LOST, `manual rollback ${deploymentId} of ${ref.functionName}:${ref.alias} was taken over by another hand; this one writes nothing more`);
  };
  const finish = async (result: { status: typeof DeploymentStatus.SUCCEEDED | typeof DeploymentStatus.FAILED; reason: string; errorCode?: ErrorCode; aliasRevision?: string }) => {
    const finished = await withRetries(clock, () => ledger.finishDeployment(ref, deploymentId, fence, { ...result, endedAt: clock.now(), bakeUntil: clock.now(), replacesFrom: result.status === DeploymentStatus.SUCCEEDED }), { attempts: ROLLBACK_ATTEMPTS });
    if (finished) return;
    const latest = await withRetries(clock, () => ledger.getDeployment(ref, deploymentId));
    if (latest?.status !== DeploymentStatus.SUCCEEDED) throw new DeploymentError(ErrorCode.LOCK_LOST, `manual rollback ${deploymentId} was taken over by another hand (now ${latest?.status ?? 'missing'})`);
  };
  let moved: AliasRouting = routing;
  if (!sameRouting(routing, whole(toVersion))) {
    if (!routesOnly(routing, [fromVersion, toVersion])) {
      const reason = `could not move ${ref.functionName}:${ref.alias} to version ${toVersion}: it now routes to ${describeRouting(routing)}, which this rollback did not set`;
      await finish({ status: DeploymentStatus.FAILED, reason, errorCode: ErrorCode.ALIAS_CHANGED_EXTERNALLY });
      throw new DeploymentError(ErrorCode.ALIAS_CHANGED_EXTERNALLY, reason);
    }
    try {
      moved = await moveAlias(deps, ref, whole(toVersion), { expectedRevision: routing.revisionId, description: `lrp manual rollback ${deploymentId} (${record.reason ?? ''})`, attempts: ROLLBACK_ATTEMPTS, beforeEachAttempt: heartbeat });
    } catch (error) {
      const failure = asDeploymentError(error);
      if (failure.code === ErrorCode.LOCK_LOST) throw failure;
      await finish({ status: DeploymentStatus.FAILED, reason: `could not move ${ref.functionName}:${ref.alias} to version ${toVersion}: ${failure.message}`, errorCode: ErrorCode.ROLLBACK_FAILED }).catch(() => undefined);
      throw failure;
    }
  }
  await finish({ status: DeploymentStatus.SUCCEEDED, reason: record.reason ?? `rolled back to version ${toVersion}`, ...(moved.revisionId ? { aliasRevision: moved.revisionId } : {}) });
  return { kind: 'MOVED', deploymentId, from: fromVersion };
}
