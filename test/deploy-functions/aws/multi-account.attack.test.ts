// Attack tests of issue 10's multi-account change, AWS adapter side: credentials that expire mid-rollout as each
// service says it, STS throttling, and an AssumeRole that never answers.
import { CloudWatchClient, DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import { GetAliasCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CloudWatchAdapter } from '../../../deploy-functions/aws/cloudwatch';
import { LambdaAdapter } from '../../../deploy-functions/aws/lambda';
import { DeployerRoleError, TargetClients } from '../../../deploy-functions/aws/target-clients';
import { ErrorCode } from '../../../deploy-functions/core/errors';

const TOOLING = { partition: 'aws', account: '123456789012', region: 'us-east-1' };
const TARGETS = [{ account: '210987654321', region: 'eu-west-1' }];
const PROD_FN = 'arn:aws:lambda:eu-west-1:210987654321:function:orders-api-prod';
const PROD_ALARM = 'arn:aws:cloudwatch:eu-west-1:210987654321:alarm:lrp/orders-api-prod/live/errors';
const awsError = (name: string, status = 400) => Object.assign(new Error(`${name}: The security token included in the request is expired`), { name, $metadata: { httpStatusCode: status } });

const sts = mockClient(STSClient);
const lambda = mockClient(LambdaClient);
const cloudwatch = mockClient(CloudWatchClient);

describe('GIVEN a deployment function acting in a target environment through its deployer role', () => {
  let assumed = 0;
  const targets = (extra: Partial<ConstructorParameters<typeof TargetClients>[0]> = {}) =>
    new TargetClients({ installation: 'lrp', sessionName: 'lrp-shift-traffic', home: TOOLING, targets: TARGETS, sts: new STSClient({ region: 'us-east-1' }), ...extra });
  beforeEach(() => {
    assumed = 0;
    sts.on(AssumeRoleCommand).callsFake(() => {
      assumed += 1;
      return { Credentials: { AccessKeyId: `ASIA${assumed}`, SecretAccessKey: 's', SessionToken: 't', Expiration: new Date(Date.now() + 15 * 60_000) } };
    });
  });
  afterEach(() => {
    sts.reset();
    lambda.reset();
    cloudwatch.reset();
  });

  it.each([
    ['Lambda (ExpiredTokenException)', 'ExpiredTokenException'],
    ['CloudWatch and other query services (ExpiredToken)', 'ExpiredToken'],
  ])('WHEN %s refuses a call for an expired token mid-rollout THEN the role is assumed again and the call made once more', async (_service, name) => {
    lambda.on(GetAliasCommand).rejectsOnce(awsError(name, 403)).resolves({ FunctionVersion: '2' });
    cloudwatch.on(DescribeAlarmsCommand).rejectsOnce(awsError(name, 403)).resolves({ MetricAlarms: [{ AlarmName: 'lrp/orders-api-prod/live/errors', AlarmArn: PROD_ALARM, StateValue: 'OK' }] });
    const shared = targets();
    const home = { region: 'us-east-1', credentials: { accessKeyId: 'HOME', secretAccessKey: 'h' } };
    expect((await new LambdaAdapter(new LambdaClient(home), shared).getAlias(PROD_FN, 'live')).version).toBe('2');
    expect(await new CloudWatchAdapter(new CloudWatchClient(home), shared).describeAlarms([PROD_ALARM])).toEqual([expect.objectContaining({ name: PROD_ALARM, state: 'OK' })]);
    expect(assumed).toBe(3);
  });

  it('WHEN STS throttles AssumeRole THEN it fails as throttled (retryable), naming the role, and the next call asks STS again', async () => {
    sts.reset();
    sts.on(AssumeRoleCommand).rejectsOnce(awsError('Throttling', 400)).resolves({ Credentials: { AccessKeyId: 'ASIA9', SecretAccessKey: 's', SessionToken: 't', Expiration: new Date(Date.now() + 15 * 60_000) } });
    lambda.on(GetAliasCommand).resolves({ FunctionVersion: '2' });
    const adapter = new LambdaAdapter(new LambdaClient({ region: 'us-east-1' }), targets());
    const failure = await adapter.getAlias(PROD_FN, 'live').catch((error: unknown) => error as DeployerRoleError);
    expect(failure).toBeInstanceOf(DeployerRoleError);
    expect(failure).toMatchObject({ code: ErrorCode.AWS_THROTTLED, message: expect.stringContaining('arn:aws:iam::210987654321:role/lrp-deployer-eu-west-1') as string });
    expect((failure as Error).message).not.toContain('did not answer');
    expect((await adapter.getAlias(PROD_FN, 'live')).version).toBe('2');
  });

  it('WHEN AssumeRole never answers THEN the call fails within the deadline as unavailable (retryable), and nothing waits for ever', async () => {
    sts.reset();
    // STS accepts the connection and never answers (a slow drip defeats the socket's idle timeout).
    sts.on(AssumeRoleCommand).callsFake(() => new Promise(() => undefined));
    lambda.on(GetAliasCommand).resolves({ FunctionVersion: '2' });
    const adapter = new LambdaAdapter(new LambdaClient({ region: 'us-east-1' }), targets({ assumeTimeoutMs: 50 }));
    const started = Date.now();
    const failure = await adapter.getAlias(PROD_FN, 'live').catch((error: unknown) => error as DeployerRoleError);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(failure).toMatchObject({ name: 'DeployerRoleError', code: ErrorCode.AWS_UNAVAILABLE, message: expect.stringContaining('lrp-deployer-eu-west-1') as string });
    expect(lambda.commandCalls(GetAliasCommand)).toHaveLength(0);
  }, 5_000);
});
