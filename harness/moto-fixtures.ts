import { spawnSync } from 'node:child_process';
import { CloudWatchClient, PutMetricAlarmCommand, SetAlarmStateCommand } from '@aws-sdk/client-cloudwatch';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateAliasCommand, CreateFunctionCommand, LambdaClient, PublishVersionCommand, UpdateFunctionCodeCommand } from '@aws-sdk/client-lambda';
import { ALARM_TAGS, aliasOfGeneratedAlarm } from '../deploy-functions/core/names';
import { deterministicZip } from '../scripts/lib/bundle';
import type { MotoServer } from './moto';

/** SDK clients pointed at a moto server. */
export function motoClients(moto: MotoServer) {
  const config = { endpoint: moto.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } };
  return { lambda: new LambdaClient(config), cloudwatch: new CloudWatchClient(config), dynamodb: new DynamoDBClient(config) };
}

/** Creates the ledger table (`pk`, `sk`) the deployment functions expect. */
export async function createLedgerTable(moto: MotoServer, tableName: string): Promise<void> {
  await motoClients(moto).dynamodb.send(
    new CreateTableCommand({
      TableName: tableName,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }, { AttributeName: 'sk', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }, { AttributeName: 'sk', KeyType: 'RANGE' }],
    }),
  );
}

/** The tags infra gives a generated alarm (`lrp/<function>/<alias>/…`), or undefined for any other name. */
export function generatedAlarmTags(alarmName: string) {
  const ref = aliasOfGeneratedAlarm(alarmName);
  return ref ? [{ Key: ALARM_TAGS.function, Value: ref.functionName }, { Key: ALARM_TAGS.alias, Value: ref.alias }] : undefined;
}

/**
 * A function with versions 1 and 2, `live` on 1 and `candidate` on 2, and the given alarms in OK.
 * Lambda in moto needs the execution role in its IAM first; the AWS CLI signs that request.
 */
export async function createSampleFunction(moto: MotoServer, functionName: string, alarms: readonly string[]): Promise<void> {
  const { lambda, cloudwatch } = motoClients(moto);
  const trust = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }] });
  const role = spawnSync('aws', ['iam', 'create-role', '--role-name', `${functionName}-role`, '--assume-role-policy-document', trust], { env: { ...process.env, ...moto.env }, encoding: 'utf8' });
  if (role.status !== 0 && !/EntityAlreadyExists/.test(role.stderr)) throw new Error(`could not create the role in moto: ${role.stderr}`);
  const zip = (text: string) => deterministicZip({ 'index.mjs': new TextEncoder().encode(`export const handler = async () => ${JSON.stringify(text)};`) });
  await lambda.send(
    new CreateFunctionCommand({
      FunctionName: functionName,
      Runtime: 'nodejs24.x',
      Role: `arn:aws:iam::123456789012:role/${functionName}-role`,
      Handler: 'index.handler',
      Code: { ZipFile: zip('v1') },
      Description: 'commit 1111111',
      Publish: true,
    }),
  );
  await lambda.send(new UpdateFunctionCodeCommand({ FunctionName: functionName, ZipFile: zip('v2') }));
  await lambda.send(new PublishVersionCommand({ FunctionName: functionName, Description: 'commit abcdef1' }));
  await lambda.send(new CreateAliasCommand({ FunctionName: functionName, Name: 'live', FunctionVersion: '1' }));
  await lambda.send(new CreateAliasCommand({ FunctionName: functionName, Name: 'candidate', FunctionVersion: '2' }));
  for (const name of alarms) {
    await cloudwatch.send(
      new PutMetricAlarmCommand({
        AlarmName: name,
        Namespace: 'AWS/Lambda',
        MetricName: 'Errors',
        Dimensions: [{ Name: 'FunctionName', Value: functionName }, { Name: 'Resource', Value: `${functionName}:live` }],
        Statistic: 'Sum',
        Period: 60,
        EvaluationPeriods: 1,
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        // Tagged as infra tags the alarms it generates: the rollback function trusts a generated name only with them.
        ...(generatedAlarmTags(name) ? { Tags: generatedAlarmTags(name) } : {}),
      }),
    );
    await cloudwatch.send(new SetAlarmStateCommand({ AlarmName: name, StateValue: 'OK', StateReason: 'set-up' }));
  }
}
