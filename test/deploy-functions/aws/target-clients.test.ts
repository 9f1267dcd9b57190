import { CloudWatchClient, DescribeAlarmsCommand, GetMetricDataCommand, ListTagsForResourceCommand } from '@aws-sdk/client-cloudwatch';
import { GetAliasCommand, InvokeCommand, LambdaClient, UpdateAliasCommand } from '@aws-sdk/client-lambda';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CloudWatchAdapter } from '../../../deploy-functions/aws/cloudwatch';
import { LambdaAdapter, LambdaInvoker } from '../../../deploy-functions/aws/lambda';
import { DeployerRoleError, TargetClients, envOfFunctionArn, runsAtHome } from '../../../deploy-functions/aws/target-clients';
import { ErrorCode } from '../../../deploy-functions/core/errors';

const TOOLING = { partition: 'aws', account: '123456789012', region: 'us-east-1' };
const PROD_FN = 'arn:aws:lambda:eu-west-1:210987654321:function:orders-api-prod';
const PROD_ALARM = 'arn:aws:cloudwatch:eu-west-1:210987654321:alarm:lrp/orders-api-prod/live/errors';
const ROLE = 'arn:aws:iam::210987654321:role/lrp-deployer-eu-west-1';
const awsError = (name: string, status = 400) => Object.assign(new Error(`${name}: nope`), { name, $metadata: { httpStatusCode: status } });

const sts = mockClient(STSClient);
const lambda = mockClient(LambdaClient);
const cloudwatch = mockClient(CloudWatchClient);

/** Credentials STS hands out, expiring `minutes` after `now`; each call's key says which call it was. */
function stsAnswers(now: () => number, minutes = 15) {
  let n = 0;
  sts.on(AssumeRoleCommand).callsFake(() => {
    n += 1;
    return { Credentials: { AccessKeyId: `ASIA${n}`, SecretAccessKey: 's', SessionToken: 't', Expiration: new Date(now() + minutes * 60_000) } };
  });
}

/** The client a mocked command was sent through: its region and the key of its credentials. */
async function clientOf(call: { thisValue: unknown }) {
  const client = call.thisValue as LambdaClient | CloudWatchClient;
  const credentials = await (client.config.credentials as () => Promise<{ accessKeyId: string }>)();
  return { region: await client.config.region(), key: credentials.accessKeyId };
}

describe('TargetClients', () => {
  let now = 1_750_000_000_000;
  const clock = () => now;
  const homeLambda = new LambdaClient({ region: 'us-east-1', credentials: { accessKeyId: 'HOME', secretAccessKey: 'h' } });
  const targets = () => new TargetClients({ installation: 'lrp', sessionName: 'lrp-shift-traffic', home: TOOLING, sts: new STSClient({ region: 'us-east-1' }), now: clock });

  beforeEach(() => {
    now = 1_750_000_000_000;
    stsAnswers(clock);
  });
  afterEach(() => {
    sts.reset();
    lambda.reset();
    cloudwatch.reset();
  });

  it('serves a plain name and a function ARN of its own environment with its own client, assuming nothing', async () => {
    // Arrange
    lambda.on(GetAliasCommand).resolves({ FunctionVersion: '1' });
    const adapter = new LambdaAdapter(homeLambda, targets());
    // Act
    await adapter.getAlias('orders-api-staging', 'live');
    await adapter.getAlias('arn:aws:lambda:us-east-1:123456789012:function:orders-api-staging', 'live');
    // Assert
    expect(lambda.commandCalls(GetAliasCommand).map((c) => c.thisValue)).toEqual([homeLambda, homeLambda]);
    expect(sts.commandCalls(AssumeRoleCommand)).toHaveLength(0);
  });

  it('serves a function ARN of another account with a client of its region holding the deployer role, passing the ARN on', async () => {
    // Arrange
    lambda.on(UpdateAliasCommand).resolves({ FunctionVersion: '2' });
    // Act
    await new LambdaAdapter(homeLambda, targets()).updateAlias(PROD_FN, 'live', { version: '2', weights: {} });
    // Assert
    const [call] = lambda.commandCalls(UpdateAliasCommand);
    expect(call!.args[0].input.FunctionName).toBe(PROD_FN);
    expect(await clientOf(call!)).toEqual({ region: 'eu-west-1', key: 'ASIA1' });
    const assumed = sts.commandCalls(AssumeRoleCommand)[0]!.args[0].input;
    expect(assumed.RoleArn).toBe(ROLE);
    expect(assumed.RoleSessionName).toMatch(/^lrp-shift-traffic-[0-9a-f]{8}$/);
  });

  it('assumes the role once per environment and reuses its clients and credentials across services and calls', async () => {
    // Arrange
    lambda.on(GetAliasCommand).resolves({ FunctionVersion: '1' });
    cloudwatch.on(DescribeAlarmsCommand).resolves({ MetricAlarms: [] });
    const shared = targets();
    const adapter = new LambdaAdapter(homeLambda, shared);
    const alarms = new CloudWatchAdapter(new CloudWatchClient({ region: 'us-east-1' }), shared);
    // Act
    await adapter.getAlias(PROD_FN, 'live');
    await adapter.getAlias(PROD_FN, 'candidate');
    await alarms.describeAlarms([PROD_ALARM]);
    // Assert
    const [first, second] = lambda.commandCalls(GetAliasCommand);
    expect(first!.thisValue).toBe(second!.thisValue);
    expect(await clientOf(cloudwatch.commandCalls(DescribeAlarmsCommand)[0]!)).toEqual({ region: 'eu-west-1', key: 'ASIA1' });
    expect(sts.commandCalls(AssumeRoleCommand)).toHaveLength(1);
  });

  it('renews the credentials before they expire, not after', async () => {
    // Arrange
    const shared = targets();
    const env = { partition: 'aws', account: '210987654321', region: 'eu-west-1' };
    // Act
    const first = await shared.credentialsOf(env);
    now += 8 * 60_000; // 7 minutes left: still good
    const second = await shared.credentialsOf(env);
    now += 2 * 60_000; // 5 minutes left: renewed, within the margin
    const third = await shared.credentialsOf(env);
    // Assert
    expect([first.accessKeyId, second.accessKeyId, third.accessKeyId]).toEqual(['ASIA1', 'ASIA1', 'ASIA2']);
  });

  it('assumes the role again and repeats the call once when the target refuses an expired token', async () => {
    // Arrange
    lambda.on(GetAliasCommand).rejectsOnce(awsError('ExpiredTokenException', 403)).resolves({ FunctionVersion: '4' });
    // Act
    const routing = await new LambdaAdapter(homeLambda, targets()).getAlias(PROD_FN, 'live');
    // Assert
    expect(routing.version).toBe('4');
    const calls = lambda.commandCalls(GetAliasCommand);
    expect(await clientOf(calls[1]!)).toEqual({ region: 'eu-west-1', key: 'ASIA2' });
  });

  it('fails with a typed error naming the role and what to check when AssumeRole is denied, and asks again next time', async () => {
    // Arrange
    sts.reset();
    sts.on(AssumeRoleCommand).rejectsOnce(awsError('AccessDenied', 403)).resolves({ Credentials: { AccessKeyId: 'ASIA9', SecretAccessKey: 's', SessionToken: 't', Expiration: new Date(now + 900_000) } });
    lambda.on(GetAliasCommand).resolves({ FunctionVersion: '1' });
    const adapter = new LambdaAdapter(homeLambda, targets());
    // Act
    const failure = await adapter.getAlias(PROD_FN, 'live').catch((error: unknown) => error);
    // Assert
    expect(failure).toBeInstanceOf(DeployerRoleError);
    expect(failure).toMatchObject({ code: ErrorCode.AWS_ACCESS_DENIED, retryable: false });
    expect((failure as Error).message).toContain(`assuming the deployer role ${ROLE} failed`);
    expect((failure as Error).message).toContain('deploy the target stack in 210987654321/eu-west-1');
    await expect(adapter.getAlias(PROD_FN, 'live')).resolves.toMatchObject({ version: '1' });
  });

  it('says STS could not be reached as a retryable failure', async () => {
    // Arrange
    sts.reset();
    sts.on(AssumeRoleCommand).rejects(Object.assign(new Error('connect ECONNREFUSED'), { name: 'TimeoutError' }));
    // Act
    const failure = await new LambdaInvoker(homeLambda, targets()).invoke(PROD_FN, 'candidate', '{}').catch((error: unknown) => error);
    // Assert
    expect(failure).toMatchObject({ code: ErrorCode.AWS_UNAVAILABLE, retryable: true });
    expect((failure as Error).message).toContain(ROLE);
    expect(lambda.commandCalls(InvokeCommand)).toHaveLength(0);
  });

  it('refuses an environment of another partition before asking STS', async () => {
    // Act
    const failure = await new LambdaAdapter(homeLambda, targets()).getAlias('arn:aws-cn:lambda:cn-north-1:210987654321:function:orders-api-prod', 'live').catch((error: unknown) => error);
    // Assert
    expect(failure).toMatchObject({ code: ErrorCode.INVALID_PARAMETERS });
    expect((failure as Error).message).toContain('cannot be assumed across partitions');
    expect(sts.commandCalls(AssumeRoleCommand)).toHaveLength(0);
  });

  it('refuses an environment that is not one of its targets, naming it and the targets, before asking STS', async () => {
    // Arrange
    lambda.on(GetAliasCommand).resolves({ FunctionVersion: '1' });
    const shared = new TargetClients({ home: TOOLING, targets: [{ account: '210987654321', region: 'eu-west-1' }], sts: new STSClient({ region: 'us-east-1' }), now: clock });
    // Act
    const failure = await new LambdaAdapter(homeLambda, shared).getAlias('arn:aws:lambda:eu-west-1:210987654322:function:orders-api-prod', 'live').catch((error: unknown) => error);
    // Assert
    expect(failure).toMatchObject({ code: ErrorCode.INVALID_PARAMETERS, retryable: false });
    expect((failure as Error).message).toContain('210987654322/eu-west-1 is not a target environment of this installation (LRP_TARGET_ENVS: 210987654321/eu-west-1)');
    expect(sts.commandCalls(AssumeRoleCommand)).toHaveLength(0);
    await expect(new LambdaAdapter(homeLambda, shared).getAlias(PROD_FN, 'live')).resolves.toBeDefined();
  });

  it('refuses, in a deployment function, a function ARN of its own environment: the ledger knows that function by name', async () => {
    // Arrange
    const shared = new TargetClients({ home: TOOLING, targets: [], sts: new STSClient({ region: 'us-east-1' }), now: clock });
    // Act
    const failure = await new LambdaAdapter(homeLambda, shared).updateAlias('arn:aws:lambda:us-east-1:123456789012:function:orders-api-staging', 'live', { version: '2', weights: {} }).catch((error: unknown) => error);
    // Assert
    expect(failure).toMatchObject({ code: ErrorCode.INVALID_PARAMETERS });
    expect((failure as Error).message).toContain('name it orders-api-staging');
    expect(lambda.commandCalls(UpdateAliasCommand)).toHaveLength(0);
  });

  it('keeps credentials that still hold when their renewal fails mid-rollout, and asks STS again shortly after', async () => {
    // Arrange
    const shared = targets();
    const env = { partition: 'aws', account: '210987654321', region: 'eu-west-1' };
    await shared.credentialsOf(env);
    sts.reset();
    sts.on(AssumeRoleCommand).rejectsOnce(Object.assign(new Error('timeout'), { name: 'TimeoutError' })).resolves({ Credentials: { AccessKeyId: 'ASIA-NEW', SecretAccessKey: 's', SessionToken: 't', Expiration: new Date(now + 30 * 60_000) } });
    // Act
    now += 10 * 60_000; // 5 minutes left: due for renewal, STS does not answer
    const kept = await shared.credentialsOf(env);
    now += 5_000;
    const stillKept = await shared.credentialsOf(env);
    now += 10_000;
    const renewed = await shared.credentialsOf(env);
    // Assert
    expect([kept.accessKeyId, stillKept.accessKeyId, renewed.accessKeyId]).toEqual(['ASIA1', 'ASIA1', 'ASIA-NEW']);
    expect(sts.commandCalls(AssumeRoleCommand)).toHaveLength(2);
  });

  it('fails when credentials cannot be renewed and the last ones are about to expire', async () => {
    // Arrange
    const shared = targets();
    const env = { partition: 'aws', account: '210987654321', region: 'eu-west-1' };
    await shared.credentialsOf(env);
    sts.reset();
    sts.on(AssumeRoleCommand).rejects(awsError('AccessDenied', 403));
    // Act
    now += 15 * 60_000 - 20_000; // 20 s left
    // Assert
    await expect(shared.credentialsOf(env)).rejects.toBeInstanceOf(DeployerRoleError);
  });

  it('asks who the caller is once, the first time an ARN is routed (the CLI), and serves its own environment directly', async () => {
    // Arrange
    lambda.on(GetAliasCommand).resolves({ FunctionVersion: '1' });
    let asked = 0;
    const shared = new TargetClients({ sts: new STSClient({ region: 'us-east-1' }), now: clock, resolveHome: () => Promise.resolve({ ...TOOLING, account: String((asked += 1) && TOOLING.account) }) });
    const adapter = new LambdaAdapter(homeLambda, shared);
    // Act
    await adapter.getAlias('orders-api-staging', 'live');
    await adapter.getAlias('arn:aws:lambda:us-east-1:123456789012:function:orders-api-staging', 'live');
    await adapter.getAlias(PROD_FN, 'live');
    // Assert
    expect(asked).toBe(1);
    expect(lambda.commandCalls(GetAliasCommand).map((c) => c.thisValue === homeLambda)).toEqual([true, true, false]);
  });

  it('learns its own environment from the Lambda context before each invocation', async () => {
    // Arrange
    lambda.on(GetAliasCommand).resolves({ FunctionVersion: '1' });
    const shared = new TargetClients({ sts: new STSClient({ region: 'us-east-1' }), now: clock });
    const handler = runsAtHome(shared, (_event: unknown, _context: { invokedFunctionArn: string }) => new LambdaAdapter(homeLambda, shared).getAlias(PROD_FN, 'live'));
    // Act
    await handler({}, { invokedFunctionArn: 'arn:aws:lambda:eu-west-1:210987654321:function:lrp-shift-traffic' });
    // Assert: the function runs in that very environment, so its own client serves it
    expect(lambda.commandCalls(GetAliasCommand)[0]!.thisValue).toBe(homeLambda);
    expect(envOfFunctionArn('arn:aws-us-gov:lambda:us-gov-west-1:111122223333:function:x:live')).toEqual({ partition: 'aws-us-gov', region: 'us-gov-west-1', account: '111122223333' });
  });
});

describe('CloudWatchAdapter across environments', () => {
  const home = new CloudWatchClient({ region: 'us-east-1', credentials: { accessKeyId: 'HOME', secretAccessKey: 'h' } });
  const targets = () => new TargetClients({ home: TOOLING, sts: new STSClient({ region: 'us-east-1' }), now: () => 1_750_000_000_000 });
  beforeEach(() => stsAnswers(() => 1_750_000_000_000));
  afterEach(() => {
    sts.reset();
    cloudwatch.reset();
  });

  it('reads each alarm in its own environment and answers under the name it was asked by', async () => {
    // Arrange
    cloudwatch.on(DescribeAlarmsCommand, { AlarmNames: ['lrp/orders-api-prod/live/errors'] }).resolves({ MetricAlarms: [{ AlarmName: 'lrp/orders-api-prod/live/errors', AlarmArn: PROD_ALARM, StateValue: 'ALARM' }] });
    cloudwatch.on(DescribeAlarmsCommand, { AlarmNames: ['team-slo'] }).resolves({ MetricAlarms: [{ AlarmName: 'team-slo', StateValue: 'OK' }] });
    // Act
    const observed = await new CloudWatchAdapter(home, targets()).describeAlarms([PROD_ALARM, 'team-slo']);
    // Assert
    expect(observed.map((a) => [a.name, a.state])).toEqual([[PROD_ALARM, 'ALARM'], ['team-slo', 'OK']]);
    const calls = cloudwatch.commandCalls(DescribeAlarmsCommand);
    expect(calls.map((c) => c.thisValue === home)).toEqual([false, true]);
  });

  it('does not take a same-named alarm of another account for the one asked by ARN', async () => {
    // Arrange: a client that reached the wrong account answers with that account's alarm
    cloudwatch.on(DescribeAlarmsCommand).resolves({ MetricAlarms: [{ AlarmName: 'lrp/orders-api-prod/live/errors', AlarmArn: 'arn:aws:cloudwatch:eu-west-1:999999999999:alarm:lrp/orders-api-prod/live/errors', StateValue: 'OK' }] });
    // Act
    const observed = await new CloudWatchAdapter(home).describeAlarms([PROD_ALARM]);
    // Assert
    expect(observed).toEqual([]);
  });

  it('finds the generated alarms of a function ARN by the ARN prefix, and reads its metrics by its name there', async () => {
    // Arrange
    cloudwatch.on(DescribeAlarmsCommand).resolves({ MetricAlarms: [{ AlarmName: 'lrp/orders-api-prod/live/errors', AlarmArn: PROD_ALARM, StateValue: 'OK' }] });
    cloudwatch.on(GetMetricDataCommand).resolves({ MetricDataResults: [{ Id: 'inv0', Values: [3] }] });
    cloudwatch.on(ListTagsForResourceCommand).resolves({ Tags: [{ Key: 'lrp:function', Value: 'orders-api-prod' }] });
    const adapter = new CloudWatchAdapter(home, targets());
    // Act
    const generated = await adapter.describeAlarmsByPrefix('arn:aws:cloudwatch:eu-west-1:210987654321:alarm:lrp/orders-api-prod/live/');
    const stats = await adapter.versionStats(PROD_FN, 'live', ['2'], 0, 60_000);
    const tags = await adapter.tagsOf(PROD_ALARM);
    // Assert
    expect(generated.map((a) => a.name)).toEqual([PROD_ALARM]);
    expect(cloudwatch.commandCalls(DescribeAlarmsCommand)[0]!.args[0].input.AlarmNamePrefix).toBe('lrp/orders-api-prod/live/');
    expect(stats).toEqual({ '2': { invocations: 3, errors: 0 } });
    const dimensions = cloudwatch.commandCalls(GetMetricDataCommand)[0]!.args[0].input.MetricDataQueries![0]!.MetricStat!.Metric!.Dimensions;
    expect(dimensions).toContainEqual({ Name: 'FunctionName', Value: 'orders-api-prod' });
    expect(tags).toEqual({ 'lrp:function': 'orders-api-prod' });
    for (const call of [...cloudwatch.commandCalls(GetMetricDataCommand), ...cloudwatch.commandCalls(ListTagsForResourceCommand)]) {
      expect(await clientOf(call)).toEqual({ region: 'eu-west-1', key: 'ASIA1' });
    }
  });
});
