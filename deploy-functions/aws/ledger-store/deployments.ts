import { DeploymentLockedError, replacedMeanwhile } from '../../core/errors';
import { DeploymentKind, DeploymentStatus, summaryOf, type AliasLedgerState, type DeploymentRecord } from '../../core/ledger';
import type { AliasRef, FinishResult, Heartbeat } from '../../core/ports';
import { INDEX_TTL_SECONDS, keys, type LedgerTable } from './table';

/** Names every expression of this module uses (several are DynamoDB reserved words). */
export const NAMES = { '#lock': 'lock', '#status': 'status', '#latest': 'latest', '#fence': 'fence', '#cursor': 'cursor', '#ttl': 'ttl', '#result': 'result', '#owner': 'owner' } as const;
const pick = (expression: string) => Object.fromEntries(Object.entries(NAMES).filter(([name]) => expression.includes(name)));

/** A transaction item for one update, naming only the attributes its expressions use. */
export function updateItem(key: { pk: string; sk: string }, update: { set?: string[]; remove?: string[]; add?: string[]; del?: string[]; condition?: string; values?: Record<string, unknown> }) {
  const clauses = [
    update.set?.length ? `SET ${update.set.join(', ')}` : '',
    update.remove?.length ? `REMOVE ${update.remove.join(', ')}` : '',
    update.add?.length ? `ADD ${update.add.join(', ')}` : '',
    update.del?.length ? `DELETE ${update.del.join(', ')}` : '',
  ].filter(Boolean);
  const expression = `${clauses.join(' ')} ${update.condition ?? ''}`;
  const names = pick(expression);
  return {
    Update: {
      Key: key,
      UpdateExpression: clauses.join(' '),
      ...(update.condition ? { ConditionExpression: update.condition } : {}),
      ...(Object.keys(names).length ? { ExpressionAttributeNames: names } : {}),
      ...(update.values && Object.keys(update.values).length ? { ExpressionAttributeValues: update.values } : {}),
    },
  };
}

/** The fence condition: the counter still has the value this writer read. */
export const fenceIs = (fence: number | undefined) => (fence === undefined ? { condition: 'attribute_not_exists(#fence)', values: {} } : { condition: '#fence = :prevFence', values: { ':prevFence': fence } });

const BAKE = ['bakingDeploymentId', 'bakingFromVersion', 'bakingToVersion', 'bakeUntil'];

/** Records a deployment, takes the alias lock with the next fence, closes the previous bake window, at once. */
export async function startDeployment(table: LedgerTable, record: DeploymentRecord, options: { owner: string; now: number; leaseUntil: number; lockUntil: number }): Promise<{ fence: number }> {
  const ref: AliasRef = record;
  for (let attempt = 0; ; attempt += 1) {
    const state = await table.get<AliasLedgerState>(keys.state(ref), 'ledger GetItem state');
    // A retry of a start whose answer was lost: the lock is already this deployment's, taken by this owner.
    if (state?.lock?.deploymentId === record.deploymentId && state.lock.owner === options.owner) return { fence: state.lock.fence };
    if ((state?.lock && state.lock.expiresAt >= options.now) || state?.undoPending) {
      throw DeploymentLockedError.heldBy(ref.functionName, ref.alias, state.lock?.deploymentId ?? state.undoPending, state.lock?.expiresAt);
    }
    // A rollback chose its version before taking the lock: one a rollback replaced meanwhile is not a place to go back to.
    const manual = record.kind === DeploymentKind.MANUAL_ROLLBACK;
    if (manual && state?.replacedVersions?.includes(record.toVersion)) throw replacedMeanwhile(record);
    const fence = (state?.fence ?? 0) + 1;
    const lock = { deploymentId: record.deploymentId, fence, owner: options.owner, leaseUntil: options.leaseUntil, expiresAt: options.lockUntil };
    const previous = fenceIs(state?.fence);
    const first = record.fromVersion !== '$LATEST';
    const ttl = Math.floor(options.now / 1000) + INDEX_TTL_SECONDS;
    const items = [
      ...(record.jobId
        ? [
            updateItem(keys.job(record.jobId), {
              set: ['functionName = :fn', 'alias = :alias', 'deploymentId = :id', '#ttl = :ttl'],
              condition: 'attribute_not_exists(deploymentId) AND attribute_not_exists(#result) AND jobOwner = :owner',
              values: { ':fn': record.functionName, ':alias': record.alias, ':id': record.deploymentId, ':ttl': ttl, ':owner': options.owner },
            }),
          ]
        : []),
      { Put: { Item: { ...record, ...keys.deployment(ref, record.deploymentId), heartbeatAt: options.now }, ConditionExpression: 'attribute_not_exists(pk)' } },
      updateItem(keys.state(ref), {
        set: ['functionName = :fn', 'alias = :alias', '#fence = :fence', '#lock = :lock', '#latest = :latest', ...(first ? ['knownGoodVersion = :from'] : [])],
        remove: BAKE,
        add: first ? ['liveVersions :fromSet'] : [],
        del: ['replacedVersions :toSet'],
        condition: `(attribute_not_exists(#lock) OR #lock.expiresAt < :now) AND attribute_not_exists(undoPending) AND ${previous.condition}${manual ? ' AND NOT contains(replacedVersions, :to)' : ''}`,
        values: {
          ...previous.values,
          ':fn': record.functionName,
          ':alias': record.alias,
          ':fence': fence,
          ':lock': lock,
          ':latest': summaryOf(record),
          ':now': options.now,
          ':toSet': new Set([record.toVersion]),
          ...(manual ? { ':to': record.toVersion } : {}),
          ...(first ? { ':from': record.fromVersion, ':fromSet': new Set([record.fromVersion]) } : {}),
        },
      }),
      { Put: { Item: { ...keys.inFlight(ref), functionName: ref.functionName, alias: ref.alias, deploymentId: record.deploymentId, status: DeploymentStatus.IN_PROGRESS, heartbeatAt: options.now, ...(record.kind ? { kind: record.kind } : {}) } } },
      ...(record.pipelineExecutionId ? [{ Put: { Item: { ...keys.execution(record.pipelineExecutionId), functionName: ref.functionName, alias: ref.alias, deploymentId: record.deploymentId, ttl } } }] : []),
    ];
    if (await table.transact(items, 'ledger start deployment')) return { fence };
    const job = record.jobId ? await table.raw(keys.job(record.jobId), 'ledger GetItem job') : undefined;
    if (record.jobId && (!job || job.deploymentId || job.result || job.jobOwner !== options.owner)) throw DeploymentLockedError.sameJob(record.jobId);
    // The fence moved on (another writer was faster): look again, a few times.
    if (attempt >= 3) throw DeploymentLockedError.heldBy(ref.functionName, ref.alias, 'a concurrent writer', undefined);
  }
}

/** Another invocation of a running deployment takes its lock over with the next fence. */
export async function takeOver(table: LedgerTable, ref: AliasRef, deploymentId: string, owner: string, options: { now: number; leaseUntil: number; lockUntil: number; force?: boolean }): Promise<{ fence: number } | undefined> {
  const state = await table.get<AliasLedgerState>(keys.state(ref), 'ledger GetItem state');
  const lock = state?.lock;
  if (!lock || lock.deploymentId !== deploymentId) return undefined;
  const fence = (state.fence ?? 0) + 1;
  const previous = fenceIs(state.fence);
  const lease = options.force ? '' : ' AND (#lock.#owner = :owner OR #lock.leaseUntil < :now)';
  const ok = await table.transact(
    [
      updateItem(keys.state(ref), {
        set: ['#fence = :fence', '#lock = :lock'],
        condition: `#lock.deploymentId = :id AND ${previous.condition}${lease}`,
        values: { ...previous.values, ':fence': fence, ':lock': { deploymentId, fence, owner, leaseUntil: options.leaseUntil, expiresAt: options.lockUntil }, ':id': deploymentId, ...(lease ? { ':owner': owner, ':now': options.now } : {}) },
      }),
      updateItem(keys.deployment(ref, deploymentId), { set: ['heartbeatAt = :now'], condition: '#status = :running', values: { ':now': options.now, ':running': DeploymentStatus.IN_PROGRESS } }),
      updateItem(keys.inFlight(ref), { set: ['heartbeatAt = :now'], condition: 'deploymentId = :id', values: { ':now': options.now, ':id': deploymentId } }),
    ],
    'ledger take over',
  );
  return ok ? { fence } : undefined;
}

/** Renews lock and lease and saves progress while `fence` holds the lock and the deployment runs. */
export function heartbeat(table: LedgerTable, ref: AliasRef, deploymentId: string, fence: number, progress: Heartbeat): Promise<boolean> {
  const revision = progress.aliasRevision !== undefined;
  return table.transact(
    [
      updateItem(keys.state(ref), {
        set: ['#lock.leaseUntil = :lease', '#lock.expiresAt = :lockUntil', ...(revision ? ['#latest.aliasRevision = :revision'] : [])],
        condition: '#lock.deploymentId = :id AND #lock.#fence = :fence',
        values: { ':lease': progress.leaseUntil, ':lockUntil': progress.lockUntil, ':id': deploymentId, ':fence': fence, ...(revision ? { ':revision': progress.aliasRevision } : {}) },
      }),
      updateItem(keys.deployment(ref, deploymentId), {
        set: ['heartbeatAt = :now', ...(progress.cursor ? ['#cursor = :cursor'] : []), ...(revision ? ['aliasRevision = :revision'] : [])],
        condition: '#status = :running',
        values: { ':now': progress.now, ':running': DeploymentStatus.IN_PROGRESS, ...(progress.cursor ? { ':cursor': progress.cursor } : {}), ...(revision ? { ':revision': progress.aliasRevision } : {}) },
      }),
      updateItem(keys.inFlight(ref), { set: ['heartbeatAt = :now'], condition: 'deploymentId = :id', values: { ':now': progress.now, ':id': deploymentId } }),
    ],
    'ledger heartbeat',
  );
}

/** Ends a running deployment whose lock `fence` holds, releasing the lock (SUCCEEDED opens the bake window). */
export async function finishDeployment(table: LedgerTable, ref: AliasRef, deploymentId: string, fence: number, result: FinishResult): Promise<boolean> {
  const record = await table.get<DeploymentRecord>(keys.deployment(ref, deploymentId), 'ledger GetItem deployment');
  if (!record || record.status !== DeploymentStatus.IN_PROGRESS) return false;
  const succeeded = result.status === DeploymentStatus.SUCCEEDED;
  const bakeUntil = succeeded ? (result.bakeUntil ?? result.endedAt) : undefined;
  const ended: DeploymentRecord = {
    ...record,
    status: result.status,
    reason: result.reason,
    endedAt: result.endedAt,
    ...(result.errorCode ? { errorCode: result.errorCode } : {}),
    ...(bakeUntil !== undefined ? { bakeUntil } : {}),
    ...(result.aliasRevision ? { aliasRevision: result.aliasRevision } : {}),
  };
  const manual = succeeded && result.replacesFrom;
  return table.transact(
    [
      updateItem(keys.state(ref), {
        set: ['#latest = :latest', ...(succeeded ? ['bakingDeploymentId = :id', 'bakingFromVersion = :from', 'bakingToVersion = :to', 'bakeUntil = :bakeUntil'] : []), ...(manual ? ['knownGoodVersion = :to'] : [])],
        remove: ['#lock'],
        add: [...(succeeded ? ['liveVersions :toSet'] : []), ...(manual ? ['replacedVersions :fromSet'] : [])],
        condition: '#lock.deploymentId = :id AND #lock.#fence = :fence',
        values: {
          ':latest': summaryOf(ended),
          ':id': deploymentId,
          ':fence': fence,
          ...(succeeded ? { ':from': record.fromVersion, ':to': record.toVersion, ':bakeUntil': bakeUntil, ':toSet': new Set([record.toVersion]) } : {}),
          ...(manual ? { ':fromSet': new Set([record.fromVersion]) } : {}),
        },
      }),
      updateItem(keys.deployment(ref, deploymentId), {
        set: ['#status = :status', 'reason = :reason', 'endedAt = :endedAt', ...(result.errorCode ? ['errorCode = :code'] : []), ...(bakeUntil !== undefined ? ['bakeUntil = :bakeUntil'] : []), ...(result.aliasRevision ? ['aliasRevision = :revision'] : [])],
        remove: ['operatorRequest'],
        // An abort an operator recorded wins over a success nobody has seen yet.
        condition: succeeded ? '#status = :running AND (attribute_not_exists(operatorRequest) OR operatorRequest <> :abort)' : '#status = :running',
        values: {
          ...(succeeded ? { ':abort': 'ABORT' } : {}),
          ':status': result.status,
          ':reason': result.reason,
          ':endedAt': result.endedAt,
          ':running': DeploymentStatus.IN_PROGRESS,
          ...(result.errorCode ? { ':code': result.errorCode } : {}),
          ...(bakeUntil !== undefined ? { ':bakeUntil': bakeUntil } : {}),
          ...(result.aliasRevision ? { ':revision': result.aliasRevision } : {}),
        },
      }),
      { Delete: { Key: keys.inFlight(ref), ConditionExpression: 'attribute_not_exists(pk) OR deploymentId = :id', ExpressionAttributeValues: { ':id': deploymentId } } },
    ],
    'ledger finish deployment',
  );
}
