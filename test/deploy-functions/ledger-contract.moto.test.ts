import { afterAll, beforeAll, describe } from 'vitest';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoDbLedger } from '../../deploy-functions/aws/ledger';
import { requireMoto, startMoto, type MotoServer } from '../../harness/moto';
import { createLedgerTable } from '../../harness/moto-fixtures';
import { ledgerContract } from './ledger-contract';

describe.runIf(requireMoto('ledger contract on DynamoDB'))('DynamoDB ledger on moto', () => {
  let moto: MotoServer;
  let client: DynamoDBDocumentClient;
  let tables = 0;
  beforeAll(async () => {
    moto = await startMoto();
    client = DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint: moto.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } }), { marshallOptions: { removeUndefinedValues: true } });
  }, 60_000);
  afterAll(() => moto?.stop());

  ledgerContract('the DynamoDB ledger', async () => {
    const table = `contract-${++tables}`;
    await createLedgerTable(moto, table);
    return new DynamoDbLedger(table, client);
  });
});
