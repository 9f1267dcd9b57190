import { DeploymentStatus, summaryOf, type AliasLedgerState, type DeploymentRecord } from '../../core/ledger';
import type { AliasRef, UndoResult } from '../../core/ports';
import { fenceIs, updateItem } from './deployments';
import { keys, type LedgerTable } from './table';

const BAKE = ['bakingDeploymentId', 'bakingFromVersion', 'bakingToVersion', 'bakeUntil'];

/** The lock condition under which each status of a deployment may be undone: a running rollout is always overridden. */
function lockCondition(status: DeploymentRecord['status']): string | undefined {
  const free = 'attribute_not_exists(#lock) OR #lock.expiresAt < :now';
  switch (status) {
    case DeploymentStatus.IN_PROGRESS:
      return `(${free} OR #lock.deploymentId = :id)`;
    case DeploymentStatus.ROLLING_BACK:
      // Any undo of the same deployment may carry on another's: they all move the alias to the same version.
      return `(${free} OR #lock.deploymentId = :id)`;
    case DeploymentStatus.SUCCEEDED:
      return `(${free}) AND bakingDeploymentId = :id`;
    default:
      return undefined;
  }
}

/** Fences an undo: the deployment becomes ROLLING_BACK and `undoer` takes the lock with the next fence. */
export async function beginUndo(table: LedgerTable, ref: AliasRef, deploymentId: string, undoer: string, options: { now: number; lockUntil: number }): Promise<{ fence: number } | undefined> {
  const [record, state] = await Promise.all([
    table.get<DeploymentRecord>(keys.deployment(ref, deploymentId), 'ledger GetItem deployment'),
    table.get<AliasLedgerState>(keys.state(ref), 'ledger GetItem state'),
  ]);
  const lock = record ? lockCondition(record.status) : undefined;
  if (!record || !lock) return undefined;
  const fence = (state?.fence ?? 0) + 1;
  const previous = fenceIs(state?.fence);
  const baking = state?.bakingDeploymentId === deploymentId;
  const latest = state?.latest?.deploymentId === deploymentId;
  const ok = await table.transact(
    [
      updateItem(keys.deployment(ref, deploymentId), { set: ['#status = :undoing'], condition: '#status = :was', values: { ':undoing': DeploymentStatus.ROLLING_BACK, ':was': record.status } }),
      updateItem(keys.state(ref), {
        set: ['#fence = :fence', '#lock = :lock', 'undoPending = :id', ...(latest ? ['#latest.#status = :undoing'] : [])],
        remove: baking ? BAKE : [],
        condition: `${lock} AND ${previous.condition}${latest ? ' AND #latest.deploymentId = :id' : ''}`,
        values: {
          ...previous.values,
          ':fence': fence,
          ':lock': { deploymentId, fence, owner: undoer, leaseUntil: options.lockUntil, expiresAt: options.lockUntil },
          ':id': deploymentId,
          ':now': options.now,
          ...(lock.includes(':undoer') ? { ':undoer': undoer } : {}),
          ...(latest ? { ':undoing': DeploymentStatus.ROLLING_BACK } : {}),
        },
      }),
      { Put: { Item: { ...keys.inFlight(ref), functionName: ref.functionName, alias: ref.alias, deploymentId, status: DeploymentStatus.ROLLING_BACK, heartbeatAt: options.now } } },
    ],
    'ledger begin undo',
  );
  return ok ? { fence } : undefined;
}

/** Records an undo; then tidies the alias summary (lock, pending undo, bake window, replaced version) wherever it is ours. */
export async function recordUndo(table: LedgerTable, ref: AliasRef, deploymentId: string, result: UndoResult): Promise<boolean> {
  const moved = result.moved ?? true;
  const update = updateItem(keys.deployment(ref, deploymentId), {
    set: ['#status = :status', 'reason = :reason', 'errorCode = :code', 'rolledBackBy = :by', 'endedAt = if_not_exists(endedAt, :at)', ...(moved ? ['rolledBackAt = :at'] : []), ...(result.undoId ? ['undoId = :undoId'] : [])],
    remove: ['operatorRequest'],
    condition: '#status IN (:running, :undoing, :succeeded)',
    values: {
      ':status': moved ? DeploymentStatus.ROLLED_BACK : DeploymentStatus.FAILED,
      ':reason': result.reason,
      ':code': result.errorCode,
      ':by': result.by,
      ':at': result.at,
      ...(result.undoId ? { ':undoId': result.undoId } : {}),
      ':running': DeploymentStatus.IN_PROGRESS,
      ':undoing': DeploymentStatus.ROLLING_BACK,
      ':succeeded': DeploymentStatus.SUCCEEDED,
    },
  }).Update;
  const ended = await table.updateReturning<DeploymentRecord>(update, 'ledger record undo');
  // Tidied even when the deployment had ended already: a retried undo finishes what an interrupted one began.
  const record = ended ?? (await table.get<DeploymentRecord>(keys.deployment(ref, deploymentId), 'ledger GetItem deployment'));
  if (!record) return false;
  const mine = (field: string) => ({ condition: `${field} = :id`, values: { ':id': deploymentId } });
  await table.update(updateItem(keys.state(ref), { remove: ['#lock'], ...mine('#lock.deploymentId') }).Update, 'ledger release lock');
  await table.update(updateItem(keys.state(ref), { remove: ['undoPending'], ...mine('undoPending') }).Update, 'ledger clear pending undo');
  await table.update(updateItem(keys.state(ref), { remove: BAKE, ...mine('bakingDeploymentId') }).Update, 'ledger close bake window');
  const replaced = moved && record.status === DeploymentStatus.ROLLED_BACK;
  // The alias left the version: it is replaced, even when a later deployment started meanwhile.
  if (replaced) {
    await table.update(updateItem(keys.state(ref), { add: ['replacedVersions :toSet'], del: ['liveVersions :toSet'], values: { ':toSet': new Set([record.toVersion]) } }).Update, 'ledger mark replaced version');
  }
  await table.update(
    updateItem(keys.state(ref), {
      set: ['#latest = :latest', ...(replaced ? ['knownGoodVersion = :from'] : [])],
      condition: '#latest.deploymentId = :id',
      values: { ':id': deploymentId, ':latest': summaryOf(record), ...(replaced ? { ':from': record.fromVersion } : {}) },
    }).Update,
    'ledger update alias summary',
  );
  await table.remove(keys.inFlight(ref), { expression: 'deploymentId = :id', values: { ':id': deploymentId } }, 'ledger delete in-flight entry');
  return ended !== undefined;
}
