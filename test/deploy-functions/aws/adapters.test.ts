import { DescribeAlarmsCommand, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { CodePipelineClient, PutJobFailureResultCommand, PutJobSuccessResultCommand } from '@aws-sdk/client-codepipeline';
import { GetAliasCommand, GetFunctionConfigurationCommand, LambdaClient, UpdateAliasCommand } from '@aws-sdk/client-lambda';
import { GetCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { CloudWatchAdapter, cloudWatchClient } from '../../../deploy-functions/aws/cloudwatch';
import { CodePipelineAdapter } from '../../../deploy-functions/aws/codepipeline';
import { translateAwsError } from '../../../deploy-functions/aws/errors';
import { LambdaAdapter } from '../../../deploy-functions/aws/lambda';
import { DynamoDbLedger, dynamoDbClient } from '../../../deploy-functions/aws/ledger';
import { DeploymentLockedError, ErrorCode } from '../../../deploy-functions/core/errors';
import { alarmsThatCount } from '../../../deploy-functions/core/health';
import { DeploymentStatus } from '../../../deploy-functions/core/ledger';

const awsError = (name: string, message = name, status = 400) => Object.assign(new Error(message), { name, $metadata: { httpStatusCode: status } });

describe('translateAwsError', () => {
  it.each([
    ['ThrottlingException', 400, ErrorCode.AWS_THROTTLED, true],
    ['AccessDeniedException', 403, ErrorCode.AWS_ACCESS_DENIED, false],
    ['ServiceUnavailableException', 503, ErrorCode.AWS_UNAVAILABLE, true],
    ['ValidationException', 400, ErrorCode.AWS_ERROR, false],
  ])('maps %s to %s', (name, status, code, retryable) => {
    const error = translateAwsError(awsError(name, 'boom', status), 'Op');
    expect(error.code).toBe(code);
    expect(error.retryable).toBe(retryable);
    expect(error.message).toContain('Op failed');
    expect(error.cause).toBeDefined();
  });
});

describe('LambdaAdapter', () => {
  const lambda = mockClient(LambdaClient);
  afterEach(() => lambda.reset());

  it('reads an alias as version, weights and revision', async () => {
    lambda.on(GetAliasCommand).resolves({ FunctionVersion: '3', RoutingConfig: { AdditionalVersionWeights: { '4': 0.1 } }, RevisionId: 'rev' });
    await expect(new LambdaAdapter().getAlias('fn', 'live')).resolves.toEqual({ version: '3', weights: { '4': 0.1 }, revisionId: 'rev' });
  });

  it('tells a missing function from a missing alias', async () => {
    lambda.on(GetAliasCommand).rejectsOnce(awsError('ResourceNotFoundException', 'Function not found: arn:aws:lambda:fn')).rejectsOnce(awsError('ResourceNotFoundException', 'Alias not found: arn'));
    await expect(new LambdaAdapter().getAlias('fn', 'live')).rejects.toMatchObject({ code: ErrorCode.FUNCTION_NOT_FOUND });
    await expect(new LambdaAdapter().getAlias('fn', 'live')).rejects.toMatchObject({ code: ErrorCode.ALIAS_NOT_FOUND });
  });

  it('updates an alias in one call, conditional on the revision when given, saying who moved it', async () => {
    lambda.on(UpdateAliasCommand).resolves({ FunctionVersion: '3', RoutingConfig: { AdditionalVersionWeights: { '4': 0.25 } }, RevisionId: 'r2' });
    await new LambdaAdapter().updateAlias('fn', 'live', { version: '3', weights: { '4': 0.25 } }, { expectedRevisionId: 'r1', description: 'lrp d1 step 1' });
    expect(lambda.commandCalls(UpdateAliasCommand)[0]!.args[0].input).toEqual({
      FunctionName: 'fn',
      Name: 'live',
      FunctionVersion: '3',
      RoutingConfig: { AdditionalVersionWeights: { '4': 0.25 } },
      RevisionId: 'r1',
      Description: 'lrp d1 step 1',
    });
  });

  it('reports a revision conflict as a change made by someone else', async () => {
    lambda.on(UpdateAliasCommand).rejects(awsError('PreconditionFailedException'));
    await expect(new LambdaAdapter().updateAlias('fn', 'live', { version: '3', weights: {} }, { expectedRevisionId: 'old' })).rejects.toMatchObject({ code: ErrorCode.ALIAS_CHANGED_EXTERNALLY });
  });

  it('reports a missing version', async () => {
    lambda.on(GetFunctionConfigurationCommand).rejects(awsError('ResourceNotFoundException'));
    await expect(new LambdaAdapter().getVersion('fn', '9')).rejects.toMatchObject({ code: ErrorCode.VERSION_NOT_FOUND, message: 'version 9 of function fn does not exist' });
  });
});

describe('CloudWatchAdapter', () => {
  const cloudwatch = mockClient(cloudWatchClient);
  afterEach(() => cloudwatch.reset());

  it('pages through metric and composite alarms', async () => {
    cloudwatch
      .on(DescribeAlarmsCommand)
      .resolvesOnce({ MetricAlarms: [{ AlarmName: 'a', StateValue: 'OK' }], NextToken: 't' })
      .resolvesOnce({ CompositeAlarms: [{ AlarmName: 'b', StateValue: 'ALARM', StateReason: 'child' }] });
    await expect(new CloudWatchAdapter().describeAlarmsByPrefix('lrp/fn/live/')).resolves.toEqual([
      { name: 'a', state: 'OK' },
      { name: 'b', state: 'ALARM', reason: 'child' },
    ]);
    expect(cloudwatch.commandCalls(DescribeAlarmsCommand)[1]!.args[0].input).toMatchObject({ AlarmNamePrefix: 'lrp/fn/live/', NextToken: 't' });
  });

  it('dates a state change by its last transition, not by the last update of its evaluation state or reason', async () => {
    const transitioned = new Date('2026-11-25T08:00:00Z');
    cloudwatch.on(DescribeAlarmsCommand).resolves({ MetricAlarms: [{ AlarmName: 'a', StateValue: 'ALARM', StateReason: 'r', StateTransitionedTimestamp: transitioned, StateUpdatedTimestamp: new Date('2026-11-25T09:05:00Z') }] });
    const [alarm] = await new CloudWatchAdapter().describeAlarms(['a']);
    expect(alarm!.changedAt).toBe(transitioned.getTime());
    // A hotfix that started at 09:00 while `a` was in ALARM (since 08:00) keeps ignoring it.
    expect(alarmsThatCount([alarm!], [{ name: 'a', since: Date.parse('2026-11-25T09:00:00Z') }])).toEqual([]);
  });

  it('sums invocations and errors per executed version of the alias', async () => {
    cloudwatch.on(GetMetricDataCommand).resolves({
      MetricDataResults: [
        { Id: 'inv0', Values: [10, 5] },
        { Id: 'err0', Values: [1] },
        { Id: 'inv1', Values: [7] },
        { Id: 'err1', Values: [] },
      ],
    });
    await expect(new CloudWatchAdapter().versionStats('fn', 'live', ['1', '2'], 0, 120_000)).resolves.toEqual({ '1': { invocations: 15, errors: 1 }, '2': { invocations: 7, errors: 0 } });
    const query = cloudwatch.commandCalls(GetMetricDataCommand)[0]!.args[0].input.MetricDataQueries![0]!;
    expect(query.MetricStat!.Metric!.Dimensions).toEqual([
      { Name: 'FunctionName', Value: 'fn' },
      { Name: 'Resource', Value: 'fn:live' },
      { Name: 'ExecutedVersion', Value: '1' },
    ]);
  });
});

describe('CodePipelineAdapter', () => {
  const pipeline = mockClient(CodePipelineClient);
  afterEach(() => pipeline.reset());

  it('sends output variables only with a final success', async () => {
    pipeline.on(PutJobSuccessResultCommand).resolves({});
    await new CodePipelineAdapter().succeed('j', { summary: 's', continuationToken: 'tok', outputVariables: { a: '1' }, percentComplete: 10 });
    await new CodePipelineAdapter().succeed('j', { summary: 's', outputVariables: { a: '1' } });
    const [continuing, final] = pipeline.commandCalls(PutJobSuccessResultCommand).map((c) => c.args[0].input);
    expect(continuing).toEqual({ jobId: 'j', continuationToken: 'tok', executionDetails: { summary: 's', percentComplete: 10 } });
    expect(final).toEqual({ jobId: 'j', outputVariables: { a: '1' }, executionDetails: { summary: 's' } });
  });

  it('treats a job that already ended as such, not as a retryable failure', async () => {
    pipeline.on(PutJobFailureResultCommand).rejects(awsError('InvalidJobStateException'));
    await expect(new CodePipelineAdapter().fail('j', { message: 'm', type: 'JobFailed' })).rejects.toMatchObject({ code: ErrorCode.JOB_ALREADY_ENDED });
  });
});

describe('DynamoDbLedger', () => {
  const dynamo = mockClient(dynamoDbClient);
  afterEach(() => dynamo.reset());
  const record = {
    functionName: 'fn',
    alias: 'live',
    deploymentId: 'd1',
    jobId: 'j1',
    fromVersion: '1',
    toVersion: '2',
    kind: 'ROLLOUT' as const,
    pipelineExecutionId: 'exec-1',
    strategy: 'AllAtOnce',
    status: DeploymentStatus.IN_PROGRESS,
    startedAt: 1000,
    bakeMinutes: 10,
    watchedAlarms: [],
  };

  it('refuses to work without a table name', () => {
    expect(() => new DynamoDbLedger('')).toThrow(/LEDGER_TABLE is not set/);
  });

  it('starts a deployment in one transaction: job pointer, record, lock with the next fence, in-flight entry, execution pointer', async () => {
    dynamo.on(GetCommand).resolves({ Item: { fence: 4 } });
    dynamo.on(TransactWriteCommand).resolves({});
    await expect(new DynamoDbLedger('t').startDeployment(record, { owner: 'inv', now: 1000, leaseUntil: 2000, lockUntil: 5000 })).resolves.toEqual({ fence: 5 });
    const items = dynamo.commandCalls(TransactWriteCommand)[0]!.args[0].input.TransactItems!;
    expect(items.map((i) => Object.keys(i)[0])).toEqual(['Update', 'Put', 'Update', 'Put', 'Put']);
    expect(items[2]!.Update!.ConditionExpression).toBe('(attribute_not_exists(#lock) OR #lock.expiresAt < :now) AND attribute_not_exists(undoPending) AND #fence = :prevFence');
    expect(items[2]!.Update!.ExpressionAttributeValues![':lock']).toEqual({ deploymentId: 'd1', fence: 5, owner: 'inv', leaseUntil: 2000, expiresAt: 5000 });
  });

  it('names the holder when the alias is locked', async () => {
    dynamo.on(GetCommand).resolves({ Item: { fence: 2, lock: { deploymentId: 'other', fence: 2, owner: 'x', leaseUntil: 0, expiresAt: Date.UTC(2026, 0, 1) } } });
    const failure = new DynamoDbLedger('t').startDeployment(record, { owner: 'inv', now: 1000, leaseUntil: 2000, lockUntil: 5000 });
    await expect(failure).rejects.toBeInstanceOf(DeploymentLockedError);
    await expect(failure).rejects.toThrow(/locked by deployment other until 2026-01-01T00:00:00.000Z/);
  });

  it('answers false, not an error, when a conditional write loses', async () => {
    dynamo.on(UpdateCommand).rejects(awsError('ConditionalCheckFailedException'));
    await expect(new DynamoDbLedger('t').claimJob('j1', 'inv', 2, 1)).resolves.toBe(false);
  });
});
