import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand, DynamoDBDocumentClient, PutCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { DeploymentError, ErrorCode } from '../core/errors';
import { DeploymentStatus, type AliasLedgerState, type DeploymentRecord, type InFlightEntry, type JobResult } from '../core/ledger';
import type { AliasRef, FinishResult, Heartbeat, LedgerPort, OperatorRequestOutcome, UndoResult, WindowOverrideRecord } from '../core/ports';
import type { OperatorRequest } from '../core/rollout';
import { clientConfig } from './client-config';
import { translateAwsError } from './errors';
import { finishDeployment, heartbeat, startDeployment, takeOver, updateItem } from './ledger-store/deployments';
import { claimJob, getJob, recordJobResult } from './ledger-store/jobs';
import { INDEX_TTL_SECONDS, LedgerTable, keys } from './ledger-store/table';
import { beginUndo, recordUndo } from './ledger-store/undo';

/** Created once per container and reused by warm invocations. */
export const dynamoDbClient = DynamoDBDocumentClient.from(new DynamoDBClient(clientConfig()), { marshallOptions: { removeUndefinedValues: true } });

/**
 * The deployment ledger in one DynamoDB table (`pk`, `sk` strings; TTL attribute `ttl`):
 * `ALIAS#<fn>#<alias>` / `STATE` — lock with its fence, latest deployment, bake window, version history;
 * `ALIAS#<fn>#<alias>` / `DEP#<deploymentId>` — one deployment (ids sort by start time);
 * `JOB#<jobId>` / `JOB` — the job's owner, its deployment, its final result;
 * `INFLIGHT` / `<fn>#<alias>` — the deployment in flight or being undone, with its last heartbeat (the sweep's list);
 * `EXEC#<executionId>` / `EXEC` — the deployment a pipeline execution started;
 * `ALARM#<name>` / `ALIAS#<fn>#<alias>` — which aliases a declared alarm guards;
 * `OVERRIDE#<fn>` / `<ISO time>#<jobId>` — who let a release through a closed deployment window, and why.
 * The same specifications run against it (on moto) and against the in-memory ledger of the tests.
 */
export class DynamoDbLedger implements LedgerPort {
  private readonly table: LedgerTable;

  constructor(tableName: string, client: DynamoDBDocumentClient = dynamoDbClient) {
    if (!tableName) throw new DeploymentError(ErrorCode.INVALID_PARAMETERS, 'LEDGER_TABLE is not set: the ledger table name is required');
    this.table = new LedgerTable(tableName, client);
  }

  getState(ref: AliasRef) {
    return this.table.get<AliasLedgerState>(keys.state(ref), 'ledger GetItem state');
  }
  getDeployment(ref: AliasRef, deploymentId: string) {
    return this.table.get<DeploymentRecord>(keys.deployment(ref, deploymentId), 'ledger GetItem deployment');
  }
  listDeployments(ref: AliasRef, limit: number) {
    const { pk } = keys.state(ref);
    return this.table.query<DeploymentRecord>({ KeyConditionExpression: 'pk = :pk AND begins_with(sk, :dep)', ExpressionAttributeValues: { ':pk': pk, ':dep': 'DEP#' }, ScanIndexForward: false, Limit: limit }, 'ledger history');
  }
  getJob(jobId: string) {
    return getJob(this.table, jobId);
  }
  claimJob(jobId: string, owner: string, until: number, now: number) {
    return claimJob(this.table, jobId, owner, until, now);
  }
  recordJobResult(jobId: string, result: JobResult) {
    return recordJobResult(this.table, jobId, result);
  }
  startDeployment(record: DeploymentRecord, options: { owner: string; now: number; leaseUntil: number; lockUntil: number }) {
    return startDeployment(this.table, record, options);
  }
  takeOver(ref: AliasRef, deploymentId: string, owner: string, options: { now: number; leaseUntil: number; lockUntil: number; force?: boolean }) {
    return takeOver(this.table, ref, deploymentId, owner, options);
  }
  heartbeat(ref: AliasRef, deploymentId: string, fence: number, progress: Heartbeat) {
    return heartbeat(this.table, ref, deploymentId, fence, progress);
  }
  finishDeployment(ref: AliasRef, deploymentId: string, fence: number, result: FinishResult) {
    return finishDeployment(this.table, ref, deploymentId, fence, result);
  }
  beginUndo(ref: AliasRef, deploymentId: string, undoer: string, options: { now: number; lockUntil: number }) {
    return beginUndo(this.table, ref, deploymentId, undoer, options);
  }
  recordUndo(ref: AliasRef, deploymentId: string, result: UndoResult) {
    return recordUndo(this.table, ref, deploymentId, result);
  }

  async requestOperatorAction(ref: AliasRef, deploymentId: string, request: OperatorRequest): Promise<OperatorRequestOutcome> {
    const promote = request === 'PROMOTE';
    const recorded = await this.table.update(
      updateItem(keys.deployment(ref, deploymentId), {
        set: ['operatorRequest = :request'],
        // An abort wins: a promote never overwrites one.
        condition: `#status = :running${promote ? ' AND (attribute_not_exists(operatorRequest) OR operatorRequest <> :abort)' : ''}`,
        values: { ':request': request, ':running': DeploymentStatus.IN_PROGRESS, ...(promote ? { ':abort': 'ABORT' } : {}) },
      }).Update,
      'ledger operator request',
    );
    if (recorded) return 'RECORDED';
    const record = await this.getDeployment(ref, deploymentId);
    return record?.status === DeploymentStatus.IN_PROGRESS && record.operatorRequest === 'ABORT' ? 'ABORT_PENDING' : 'NOT_RUNNING';
  }

  async indexAlarms(ref: AliasRef, alarms: readonly string[], options: { prune?: boolean } = {}): Promise<void> {
    const declared = (await this.getState(ref))?.declaredAlarms ?? [];
    const ttl = Math.floor(Date.now() / 1000) + INDEX_TTL_SECONDS;
    const requests = [
      ...alarms.map((name) => ({ PutRequest: { Item: { ...keys.alarm(name, ref), functionName: ref.functionName, alias: ref.alias, ttl } } })),
      ...(options.prune ? declared.filter((name) => !alarms.includes(name)).map((name) => ({ DeleteRequest: { Key: keys.alarm(name, ref) } })) : []),
    ];
    try {
      for (let i = 0; i < requests.length; i += 25) {
        let unprocessed: unknown[] | undefined = requests.slice(i, i + 25);
        for (let attempt = 0; unprocessed?.length && attempt < 5; attempt += 1) {
          const output: { UnprocessedItems?: Record<string, unknown[]> } = await this.table.client.send(new BatchWriteCommand({ RequestItems: { [this.table.name]: unprocessed as never } }));
          unprocessed = output.UnprocessedItems?.[this.table.name];
        }
        if (unprocessed?.length) throw new DeploymentError(ErrorCode.AWS_THROTTLED, `ledger index alarms: ${unprocessed.length} entries left unprocessed`);
      }
    } catch (error) {
      throw translateAwsError(error, 'ledger index alarms');
    }
    const now = options.prune ? [...alarms] : [...new Set([...declared, ...alarms])];
    await this.table.update(updateItem(keys.state(ref), { set: ['functionName = :fn', 'alias = :alias', 'declaredAlarms = :alarms'], values: { ':fn': ref.functionName, ':alias': ref.alias, ':alarms': now } }).Update, 'ledger declared alarms');
  }

  async aliasesGuardedBy(alarmName: string): Promise<AliasRef[]> {
    const items = await this.table.query<AliasRef>({ KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': `ALARM#${alarmName}` } }, 'ledger alarm index');
    return items.map((item) => ({ functionName: item.functionName, alias: item.alias }));
  }
  listInFlight() {
    return this.table.query<InFlightEntry>({ KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': 'INFLIGHT' } }, 'ledger in-flight deployments');
  }
  async findExecution(pipelineExecutionId: string) {
    const item = await this.table.get<AliasRef & { deploymentId: string }>(keys.execution(pipelineExecutionId), 'ledger GetItem execution');
    return item ? { functionName: item.functionName, alias: item.alias, deploymentId: item.deploymentId } : undefined;
  }

  async recordWindowOverride(record: WindowOverrideRecord): Promise<void> {
    try {
      await this.table.client.send(new PutCommand({ TableName: this.table.name, Item: { ...record, pk: keys.override(record.functionName), sk: `${new Date(record.at).toISOString()}#${record.jobId}` } }));
    } catch (error) {
      throw translateAwsError(error, 'ledger record window override');
    }
  }
  listWindowOverrides(functionName: string, limit: number) {
    return this.table.query<WindowOverrideRecord>({ KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': keys.override(functionName) }, ScanIndexForward: false, Limit: limit }, 'ledger window overrides');
  }

  /**
   * Every alias the ledger holds a state for, sorted. A Scan of the whole table: for an operator listing what exists
   * (`lrp status` outside a checkout), never on a deployment's path.
   */
  async knownAliases(): Promise<AliasRef[]> {
    const refs: AliasRef[] = [];
    try {
      let start: Record<string, unknown> | undefined;
      do {
        const output = await this.table.client.send(
          new ScanCommand({ TableName: this.table.name, FilterExpression: 'sk = :state', ExpressionAttributeValues: { ':state': 'STATE' }, ProjectionExpression: 'pk', ...(start ? { ExclusiveStartKey: start } : {}) }),
        );
        for (const item of output.Items ?? []) {
          const match = /^ALIAS#([^#]+)#([^#]+)$/.exec(String(item.pk));
          if (match) refs.push({ functionName: match[1]!, alias: match[2]! });
        }
        start = output.LastEvaluatedKey;
      } while (start);
    } catch (error) {
      throw translateAwsError(error, 'ledger Scan aliases');
    }
    return refs.sort((a, b) => `${a.functionName}#${a.alias}`.localeCompare(`${b.functionName}#${b.alias}`));
  }
}
