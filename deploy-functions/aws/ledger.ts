import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  BatchWriteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
  type UpdateCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { DeploymentLockedError, ErrorCode, DeploymentError } from '../core/errors';
import { DeploymentStatus, type AliasLedgerState, type DeploymentRecord } from '../core/ledger';
import type { AliasRef, LedgerPort, WindowOverrideRecord } from '../core/ports';
import type { OperatorRequest, RolloutCursor } from '../core/rollout';
import { clientConfig } from './client-config';
import { translateAwsError } from './errors';

/** Created once per container and reused by warm invocations. */
export const dynamoDbClient = DynamoDBDocumentClient.from(new DynamoDBClient(clientConfig()), {
  marshallOptions: { removeUndefinedValues: true },
});

/** Job pointers and alarm index entries expire after this long (DynamoDB TTL attribute `ttl`). */
const INDEX_TTL_SECONDS = 90 * 24 * 3600;

const aliasKey = (ref: AliasRef) => `ALIAS#${ref.functionName}#${ref.alias}`;
const STATE_SK = 'STATE';
const depSk = (deploymentId: string) => `DEP#${deploymentId}`;
const INTERNAL_FIELDS = ['pk', 'sk', 'leaseOwner', 'leaseUntil', 'ttl', 'jobOwner', 'jobLeaseUntil'] as const;

function strip<T>(item: Record<string, unknown> | undefined): T | undefined {
  if (!item) return undefined;
  const copy = { ...item };
  for (const field of INTERNAL_FIELDS) delete copy[field];
  return copy as T;
}

const conditionFailed = (error: unknown) => (error as { name?: string })?.name === 'ConditionalCheckFailedException';

/**
 * The deployment ledger in one DynamoDB table (`pk`, `sk` strings; TTL attribute `ttl`):
 * `ALIAS#<fn>#<alias>` / `STATE` — lock, latest deployment, known-good version;
 * `ALIAS#<fn>#<alias>` / `DEP#<deploymentId>` — one deployment (ids sort by start time);
 * `JOB#<jobId>` / `JOB` — idempotency pointer from a CodePipeline job to its deployment;
 * `ALARM#<name>` / `ALIAS#<fn>#<alias>` — which aliases an alarm guards;
 * `OVERRIDE#<fn>` / `<ISO time>#<jobId>` — who let a release through a closed deployment window, and why.
 */
export class DynamoDbLedger implements LedgerPort {
  constructor(
    private readonly tableName: string,
    private readonly client: DynamoDBDocumentClient = dynamoDbClient,
  ) {
    if (!tableName) throw new DeploymentError(ErrorCode.INVALID_PARAMETERS, 'LEDGER_TABLE is not set: the ledger table name is required');
  }

  private async get<T>(pk: string, sk: string, operation: string): Promise<T | undefined> {
    try {
      const output = await this.client.send(new GetCommand({ TableName: this.tableName, Key: { pk, sk }, ConsistentRead: true }));
      return strip<T>(output.Item);
    } catch (error) {
      throw translateAwsError(error, operation);
    }
  }

  /** An update that returns false when its condition does not hold. */
  private async conditionalUpdate(input: Omit<UpdateCommandInput, 'TableName'>, operation: string): Promise<boolean> {
    try {
      await this.client.send(new UpdateCommand({ TableName: this.tableName, ...input }));
      return true;
    } catch (error) {
      if (conditionFailed(error)) return false;
      throw translateAwsError(error, operation);
    }
  }

  getState(functionName: string, alias: string): Promise<AliasLedgerState | undefined> {
    return this.get<AliasLedgerState>(aliasKey({ functionName, alias }), STATE_SK, 'ledger GetItem state');
  }

  getDeployment(functionName: string, alias: string, deploymentId: string): Promise<DeploymentRecord | undefined> {
    return this.get<DeploymentRecord>(aliasKey({ functionName, alias }), depSk(deploymentId), 'ledger GetItem deployment');
  }

  async findJob(jobId: string): Promise<(AliasRef & { deploymentId: string }) | undefined> {
    const item = await this.get<Partial<AliasRef & { deploymentId: string }>>(`JOB#${jobId}`, 'JOB', 'ledger GetItem job');
    return item?.deploymentId ? { functionName: item.functionName!, alias: item.alias!, deploymentId: item.deploymentId } : undefined;
  }

  claimJob(jobId: string, owner: string, until: number, now: number): Promise<boolean> {
    return this.conditionalUpdate(
      {
        Key: { pk: `JOB#${jobId}`, sk: 'JOB' },
        UpdateExpression: 'SET jobOwner = :owner, jobLeaseUntil = :until, #ttl = :ttl',
        ConditionExpression: 'attribute_not_exists(pk) OR (attribute_not_exists(deploymentId) AND (jobOwner = :owner OR jobLeaseUntil < :now))',
        ExpressionAttributeNames: { '#ttl': 'ttl' },
        ExpressionAttributeValues: { ':owner': owner, ':until': until, ':now': now, ':ttl': Math.floor(now / 1000) + INDEX_TTL_SECONDS },
      },
      'ledger claim job',
    );
  }

  async startDeployment(
    record: DeploymentRecord,
    options: { lockUntil: number; leaseOwner: string; leaseUntil: number; knownGoodVersion?: string },
  ): Promise<void> {
    const pk = aliasKey(record);
    const now = record.startedAt;
    const ttl = Math.floor(now / 1000) + INDEX_TTL_SECONDS;
    const items = [
      ...(record.jobId
        ? [
            {
              Update: {
                TableName: this.tableName,
                Key: { pk: `JOB#${record.jobId}`, sk: 'JOB' },
                UpdateExpression: 'SET functionName = :fn, alias = :alias, deploymentId = :id, #ttl = :ttl',
                ConditionExpression: 'attribute_not_exists(deploymentId) AND jobOwner = :owner',
                ExpressionAttributeNames: { '#ttl': 'ttl' },
                ExpressionAttributeValues: { ':fn': record.functionName, ':alias': record.alias, ':id': record.deploymentId, ':ttl': ttl, ':owner': options.leaseOwner },
              },
            },
          ]
        : []),
      { Put: { TableName: this.tableName, Item: { ...record, pk, sk: depSk(record.deploymentId), leaseOwner: options.leaseOwner, leaseUntil: options.leaseUntil }, ConditionExpression: 'attribute_not_exists(pk)' } },
      {
        Update: {
          TableName: this.tableName,
          Key: { pk, sk: STATE_SK },
          UpdateExpression: `SET functionName = :fn, alias = :alias, lockedBy = :id, lockExpiresAt = :lockUntil, lastDeploymentId = :id, lastStatus = :status,
            lastFromVersion = :from, lastToVersion = :to${options.knownGoodVersion ? ', knownGoodVersion = :knownGood' : ''}`,
          ConditionExpression: 'attribute_not_exists(lockedBy) OR lockExpiresAt < :now',
          ExpressionAttributeValues: {
            ':fn': record.functionName,
            ':alias': record.alias,
            ':id': record.deploymentId,
            ':lockUntil': options.lockUntil,
            ':status': DeploymentStatus.IN_PROGRESS,
            ':from': record.fromVersion,
            ':to': record.toVersion,
            ':now': now,
            ...(options.knownGoodVersion ? { ':knownGood': options.knownGoodVersion } : {}),
          },
        },
      },
    ];
    try {
      await this.client.send(new TransactWriteCommand({ TransactItems: items }));
    } catch (error) {
      const reasons = (error as { CancellationReasons?: { Code?: string }[] }).CancellationReasons;
      if ((error as { name?: string }).name === 'TransactionCanceledException' && reasons) {
        const lockIndex = items.length - 1;
        if (record.jobId && reasons[0]?.Code === 'ConditionalCheckFailed') throw DeploymentLockedError.sameJob(record.jobId);
        if (reasons[lockIndex]?.Code === 'ConditionalCheckFailed') {
          const state = await this.getState(record.functionName, record.alias);
          throw DeploymentLockedError.heldBy(record.functionName, record.alias, state?.lockedBy, state?.lockExpiresAt);
        }
      }
      throw translateAwsError(error, 'ledger start deployment');
    }
  }

  claimLease(ref: AliasRef, deploymentId: string, owner: string, until: number, now: number): Promise<boolean> {
    return this.conditionalUpdate(
      {
        Key: { pk: aliasKey(ref), sk: depSk(deploymentId) },
        UpdateExpression: 'SET leaseOwner = :owner, leaseUntil = :until',
        ConditionExpression: '#status = :running AND (attribute_not_exists(leaseOwner) OR leaseOwner = :owner OR leaseUntil < :now)',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':owner': owner, ':until': until, ':now': now, ':running': DeploymentStatus.IN_PROGRESS },
      },
      'ledger claim lease',
    );
  }

  async saveProgress(ref: AliasRef, deploymentId: string, owner: string, progress: { cursor: RolloutCursor; leaseUntil: number; lockUntil: number }): Promise<boolean> {
    const saved = await this.conditionalUpdate(
      {
        Key: { pk: aliasKey(ref), sk: depSk(deploymentId) },
        UpdateExpression: 'SET #cursor = :cursor, leaseUntil = :leaseUntil',
        ConditionExpression: '#status = :running AND leaseOwner = :owner',
        ExpressionAttributeNames: { '#status': 'status', '#cursor': 'cursor' },
        ExpressionAttributeValues: { ':cursor': progress.cursor, ':leaseUntil': progress.leaseUntil, ':owner': owner, ':running': DeploymentStatus.IN_PROGRESS },
      },
      'ledger save progress',
    );
    if (!saved) return false;
    await this.conditionalUpdate(
      {
        Key: { pk: aliasKey(ref), sk: STATE_SK },
        UpdateExpression: 'SET lockExpiresAt = :lockUntil',
        ConditionExpression: 'lockedBy = :id',
        ExpressionAttributeValues: { ':lockUntil': progress.lockUntil, ':id': deploymentId },
      },
      'ledger extend lock',
    );
    return true;
  }

  async finishDeployment(
    ref: AliasRef,
    deploymentId: string,
    result: { status: Exclude<DeploymentStatus, 'IN_PROGRESS'>; reason: string; errorCode?: string; endedAt: number; bakeUntil?: number; rolledBackBy?: string },
  ): Promise<boolean> {
    const finished = await this.conditionalUpdate(
      {
        Key: { pk: aliasKey(ref), sk: depSk(deploymentId) },
        UpdateExpression: `SET #status = :status, reason = :reason, endedAt = :endedAt${result.errorCode ? ', errorCode = :code' : ''}${result.bakeUntil !== undefined ? ', bakeUntil = :bakeUntil' : ''}${result.rolledBackBy ? ', rolledBackBy = :by' : ''} REMOVE leaseOwner, leaseUntil, operatorRequest`,
        ConditionExpression: '#status = :running',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: {
          ':status': result.status,
          ':reason': result.reason,
          ':endedAt': result.endedAt,
          ':running': DeploymentStatus.IN_PROGRESS,
          ...(result.errorCode ? { ':code': result.errorCode } : {}),
          ...(result.bakeUntil !== undefined ? { ':bakeUntil': result.bakeUntil } : {}),
          ...(result.rolledBackBy ? { ':by': result.rolledBackBy } : {}),
        },
      },
      'ledger finish deployment',
    );
    if (finished) {
      // Only a success opens a bake window; a failure leaves the previous release's window alone.
      await (result.status === DeploymentStatus.SUCCEEDED
        ? this.updateStateIfLatest(
            ref,
            deploymentId,
            'SET lastStatus = :status, bakingDeploymentId = :id, bakingFromVersion = lastFromVersion, bakingToVersion = lastToVersion, bakeUntil = :bakeUntil',
            { ':status': result.status, ':bakeUntil': result.bakeUntil ?? result.endedAt },
          )
        : this.updateStateIfLatest(ref, deploymentId, 'SET lastStatus = :status', { ':status': result.status }));
    }
    await this.releaseLock(ref, deploymentId);
    return finished;
  }

  async markRolledBack(ref: AliasRef, deploymentId: string, result: { reason: string; errorCode: string; endedAt: number; rolledBackBy: string }): Promise<boolean> {
    const marked = await this.conditionalUpdate(
      {
        Key: { pk: aliasKey(ref), sk: depSk(deploymentId) },
        // endedAt stays when the rollout had already ended (a rollback during the bake window).
        UpdateExpression: 'SET #status = :rolledBack, reason = :reason, errorCode = :code, endedAt = if_not_exists(endedAt, :endedAt), rolledBackAt = :endedAt, rolledBackBy = :by REMOVE bakeUntil, operatorRequest',
        ConditionExpression: '#status IN (:running, :succeeded)',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: {
          ':rolledBack': DeploymentStatus.ROLLED_BACK,
          ':reason': result.reason,
          ':code': result.errorCode,
          ':endedAt': result.endedAt,
          ':by': result.rolledBackBy,
          ':running': DeploymentStatus.IN_PROGRESS,
          ':succeeded': DeploymentStatus.SUCCEEDED,
        },
      },
      'ledger mark rolled back',
    );
    if (marked) {
      await this.updateStateIfLatest(ref, deploymentId, 'SET lastStatus = :status', { ':status': DeploymentStatus.ROLLED_BACK });
      await this.conditionalUpdate(
        {
          Key: { pk: aliasKey(ref), sk: STATE_SK },
          UpdateExpression: 'SET knownGoodVersion = bakingFromVersion REMOVE bakingDeploymentId, bakingFromVersion, bakingToVersion, bakeUntil',
          ConditionExpression: 'bakingDeploymentId = :id',
          ExpressionAttributeValues: { ':id': deploymentId },
        },
        'ledger close bake window',
      );
    }
    return marked;
  }

  /** Updates the alias summary only while `deploymentId` is still its latest deployment (`:id` is bound to it). */
  private updateStateIfLatest(ref: AliasRef, deploymentId: string, updateExpression: string, values: Record<string, unknown>): Promise<boolean> {
    return this.conditionalUpdate(
      {
        Key: { pk: aliasKey(ref), sk: STATE_SK },
        UpdateExpression: updateExpression,
        ConditionExpression: 'lastDeploymentId = :id',
        ExpressionAttributeValues: { ...values, ':id': deploymentId },
      },
      'ledger update state',
    );
  }

  async releaseLock(ref: AliasRef, deploymentId: string): Promise<void> {
    await this.conditionalUpdate(
      {
        Key: { pk: aliasKey(ref), sk: STATE_SK },
        UpdateExpression: 'REMOVE lockedBy, lockExpiresAt',
        ConditionExpression: 'lockedBy = :id',
        ExpressionAttributeValues: { ':id': deploymentId },
      },
      'ledger release lock',
    );
  }

  requestOperatorAction(ref: AliasRef, deploymentId: string, request: OperatorRequest): Promise<boolean> {
    return this.conditionalUpdate(
      {
        Key: { pk: aliasKey(ref), sk: depSk(deploymentId) },
        UpdateExpression: 'SET operatorRequest = :request',
        ConditionExpression: '#status = :running',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':request': request, ':running': DeploymentStatus.IN_PROGRESS },
      },
      'ledger operator request',
    );
  }

  async listDeployments(ref: AliasRef, limit: number): Promise<DeploymentRecord[]> {
    try {
      const output = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :dep)',
          ExpressionAttributeValues: { ':pk': aliasKey(ref), ':dep': 'DEP#' },
          ScanIndexForward: false,
          Limit: limit,
        }),
      );
      return (output.Items ?? []).map((item) => strip<DeploymentRecord>(item)!);
    } catch (error) {
      throw translateAwsError(error, 'ledger history');
    }
  }

  async indexAlarms(ref: AliasRef, alarms: readonly string[]): Promise<void> {
    const ttl = Math.floor(Date.now() / 1000) + INDEX_TTL_SECONDS;
    for (let i = 0; i < alarms.length; i += 25) {
      const requests = alarms.slice(i, i + 25).map((name) => ({ PutRequest: { Item: { pk: `ALARM#${name}`, sk: aliasKey(ref), functionName: ref.functionName, alias: ref.alias, ttl } } }));
      try {
        let unprocessed: typeof requests | undefined = requests;
        for (let attempt = 0; unprocessed && unprocessed.length > 0 && attempt < 5; attempt += 1) {
          const output = await this.client.send(new BatchWriteCommand({ RequestItems: { [this.tableName]: unprocessed } }));
          unprocessed = output.UnprocessedItems?.[this.tableName] as typeof requests | undefined;
        }
      } catch (error) {
        throw translateAwsError(error, 'ledger index alarms');
      }
    }
  }

  async aliasesGuardedBy(alarmName: string): Promise<AliasRef[]> {
    try {
      const output = await this.client.send(
        new QueryCommand({ TableName: this.tableName, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': `ALARM#${alarmName}` } }),
      );
      return (output.Items ?? []).map((item) => ({ functionName: item.functionName as string, alias: item.alias as string }));
    } catch (error) {
      throw translateAwsError(error, 'ledger alarm index');
    }
  }

  async recordWindowOverride(record: WindowOverrideRecord): Promise<void> {
    try {
      await this.client.send(
        new PutCommand({ TableName: this.tableName, Item: { ...record, pk: `OVERRIDE#${record.functionName}`, sk: `${new Date(record.at).toISOString()}#${record.jobId}` } }),
      );
    } catch (error) {
      throw translateAwsError(error, 'ledger record window override');
    }
  }

  async listWindowOverrides(functionName: string, limit: number): Promise<WindowOverrideRecord[]> {
    try {
      const output = await this.client.send(
        new QueryCommand({ TableName: this.tableName, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': `OVERRIDE#${functionName}` }, ScanIndexForward: false, Limit: limit }),
      );
      return (output.Items ?? []).map((item) => strip<WindowOverrideRecord>(item)!);
    } catch (error) {
      throw translateAwsError(error, 'ledger window overrides');
    }
  }
}
