import { DeleteCommand, GetCommand, QueryCommand, TransactWriteCommand, UpdateCommand, type DynamoDBDocumentClient, type UpdateCommandInput } from '@aws-sdk/lib-dynamodb';
import { LEDGER_PARTITIONS } from '../../core/ledger';
import type { AliasRef } from '../../core/ports';
import { translateAwsError } from '../errors';

/** Keys of the ledger table (`pk`, `sk` strings; TTL attribute `ttl`). */
const P = LEDGER_PARTITIONS;
export const keys = {
  state: (ref: AliasRef) => ({ pk: `${P.alias}${ref.functionName}#${ref.alias}`, sk: 'STATE' }),
  deployment: (ref: AliasRef, id: string) => ({ pk: `${P.alias}${ref.functionName}#${ref.alias}`, sk: `DEP#${id}` }),
  job: (jobId: string) => ({ pk: `${P.job}${jobId}`, sk: 'JOB' }),
  inFlight: (ref: AliasRef) => ({ pk: P.inFlight, sk: `${ref.functionName}#${ref.alias}` }),
  execution: (id: string) => ({ pk: `${P.execution}${id}`, sk: 'EXEC' }),
  alarm: (name: string, ref: AliasRef) => ({ pk: `${P.alarm}${name}`, sk: `${P.alias}${ref.functionName}#${ref.alias}` }),
  override: (functionName: string) => `${P.override}${functionName}`,
} as const;

/** Job pointers, execution pointers and alarm index entries expire after this long (DynamoDB TTL). */
export const INDEX_TTL_SECONDS = 90 * 24 * 3600;

const INTERNAL = ['pk', 'sk', 'ttl', 'jobOwner', 'jobLeaseUntil'];

/** An item as the domain sees it: keys and bookkeeping removed, string sets as arrays. */
export function fromItem<T>(item: Record<string, unknown> | undefined): T | undefined {
  if (!item) return undefined;
  const copy: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(item)) if (!INTERNAL.includes(key)) copy[key] = value instanceof Set ? [...value].sort() : value;
  return copy as T;
}

/** Whether a transaction was cancelled by a failed condition (and not by a conflict or a throttle). */
function cancelledByCondition(error: unknown): boolean {
  const reasons = (error as { name?: string; CancellationReasons?: { Code?: string }[] }).CancellationReasons;
  return (error as { name?: string }).name === 'TransactionCanceledException' && (reasons ?? []).some((r) => r.Code === 'ConditionalCheckFailed');
}

/** The table and its client: reads, conditional writes that answer false, transactions that answer the failed item. */
export class LedgerTable {
  constructor(
    readonly name: string,
    readonly client: DynamoDBDocumentClient,
  ) {}

  async get<T>(key: { pk: string; sk: string }, operation: string): Promise<T | undefined> {
    try {
      const output = await this.client.send(new GetCommand({ TableName: this.name, Key: key, ConsistentRead: true }));
      return fromItem<T>(output.Item);
    } catch (error) {
      throw translateAwsError(error, operation);
    }
  }

  async raw(key: { pk: string; sk: string }, operation: string): Promise<Record<string, unknown> | undefined> {
    try {
      return (await this.client.send(new GetCommand({ TableName: this.name, Key: key, ConsistentRead: true }))).Item;
    } catch (error) {
      throw translateAwsError(error, operation);
    }
  }

  async query<T>(input: { KeyConditionExpression: string; ExpressionAttributeValues: Record<string, unknown>; ScanIndexForward?: boolean; Limit?: number }, operation: string): Promise<T[]> {
    try {
      const items: Record<string, unknown>[] = [];
      let start: Record<string, unknown> | undefined;
      do {
        const output = await this.client.send(new QueryCommand({ TableName: this.name, ConsistentRead: true, ...input, ...(start ? { ExclusiveStartKey: start } : {}) }));
        items.push(...(output.Items ?? []));
        start = input.Limit !== undefined && items.length >= input.Limit ? undefined : output.LastEvaluatedKey;
      } while (start);
      return items.slice(0, input.Limit ?? items.length).map((item) => fromItem<T>(item)!);
    } catch (error) {
      throw translateAwsError(error, operation);
    }
  }

  /** An update that answers false when its condition does not hold. */
  async update(input: Omit<UpdateCommandInput, 'TableName'>, operation: string): Promise<boolean> {
    try {
      await this.client.send(new UpdateCommand({ TableName: this.name, ...input }));
      return true;
    } catch (error) {
      if ((error as { name?: string }).name === 'ConditionalCheckFailedException') return false;
      throw translateAwsError(error, operation);
    }
  }

  /** An update that answers the item as it became, or undefined when its condition does not hold. */
  async updateReturning<T>(input: Omit<UpdateCommandInput, 'TableName'>, operation: string): Promise<T | undefined> {
    try {
      return fromItem<T>((await this.client.send(new UpdateCommand({ TableName: this.name, ...input, ReturnValues: 'ALL_NEW' }))).Attributes);
    } catch (error) {
      if ((error as { name?: string }).name === 'ConditionalCheckFailedException') return undefined;
      throw translateAwsError(error, operation);
    }
  }

  /** A conditional delete that answers false when its condition does not hold. */
  async remove(key: { pk: string; sk: string }, condition: { expression: string; values: Record<string, unknown> }, operation: string): Promise<boolean> {
    try {
      await this.client.send(new DeleteCommand({ TableName: this.name, Key: key, ConditionExpression: condition.expression, ExpressionAttributeValues: condition.values }));
      return true;
    } catch (error) {
      if ((error as { name?: string }).name === 'ConditionalCheckFailedException') return false;
      throw translateAwsError(error, operation);
    }
  }

  /** A transaction that answers false when a condition does not hold (the whole transaction then changed nothing). */
  async transact(items: Record<string, unknown>[], operation: string): Promise<boolean> {
    try {
      await this.client.send(new TransactWriteCommand({ TransactItems: items.map((item) => withTable(item, this.name)) as never }));
      return true;
    } catch (error) {
      if (cancelledByCondition(error)) return false;
      throw translateAwsError(error, operation);
    }
  }
}

function withTable(item: Record<string, unknown>, table: string): Record<string, unknown> {
  const [[kind, body]] = Object.entries(item) as [[string, Record<string, unknown>]];
  return { [kind]: { TableName: table, ...body } };
}
