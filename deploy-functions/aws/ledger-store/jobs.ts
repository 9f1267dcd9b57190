import type { JobRecord, JobResult } from '../../core/ledger';
import { INDEX_TTL_SECONDS, keys, type LedgerTable } from './table';

/** The job pointer as stored: its owner fields have their storage names. */
type StoredJob = JobRecord & { jobOwner?: string; jobLeaseUntil?: number };

/** The ledger's view of a job. */
export async function getJob(table: LedgerTable, jobId: string): Promise<JobRecord | undefined> {
  const item = (await table.raw(keys.job(jobId), 'ledger GetItem job')) as StoredJob | undefined;
  if (!item) return undefined;
  return {
    jobId,
    ...(item.functionName ? { functionName: item.functionName, alias: item.alias } : {}),
    ...(item.deploymentId ? { deploymentId: item.deploymentId } : {}),
    ...(item.jobOwner ? { owner: item.jobOwner, ownerUntil: item.jobLeaseUntil } : {}),
    ...(item.result ? { result: item.result } : {}),
  };
}

/** Makes `owner` the invocation that speaks for an unstarted job without a result. */
export function claimJob(table: LedgerTable, jobId: string, owner: string, until: number, now: number): Promise<boolean> {
  return table.update(
    {
      Key: keys.job(jobId),
      UpdateExpression: 'SET jobOwner = :owner, jobLeaseUntil = :until, #ttl = :ttl',
      ConditionExpression: 'attribute_not_exists(pk) OR (attribute_not_exists(deploymentId) AND attribute_not_exists(#result) AND (jobOwner = :owner OR jobLeaseUntil < :now))',
      ExpressionAttributeNames: { '#ttl': 'ttl', '#result': 'result' },
      ExpressionAttributeValues: { ':owner': owner, ':until': until, ':now': now, ':ttl': Math.floor(now / 1000) + INDEX_TTL_SECONDS },
    },
    'ledger claim job',
  );
}

/** Keeps a job's final result once; answers the one that stands. */
export async function recordJobResult(table: LedgerTable, jobId: string, result: JobResult): Promise<JobResult> {
  const recorded = await table.update(
    {
      Key: keys.job(jobId),
      UpdateExpression: 'SET #result = :result, #ttl = if_not_exists(#ttl, :ttl)',
      ConditionExpression: 'attribute_not_exists(#result)',
      ExpressionAttributeNames: { '#result': 'result', '#ttl': 'ttl' },
      ExpressionAttributeValues: { ':result': result, ':ttl': Math.floor(result.at / 1000) + INDEX_TTL_SECONDS },
    },
    'ledger record job result',
  );
  if (recorded) return result;
  return (await getJob(table, jobId))?.result ?? result;
}
