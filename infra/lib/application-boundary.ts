import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';
import { installationFromEnv } from '../../deploy-functions/core/names';
import { applicationBoundaryName } from './installation-names';
import { perStage } from './placeholders';

/**
 * The name of the permissions boundary the packager puts on every role an application template creates: the one of the
 * installation in LRP_INSTALLATION, which each pipeline's build project sets (`lrp-app-boundary` when unset). The
 * pipelines' CloudFormation roles may create or change a role only with it attached, so whoever can push to the
 * release branch can give a function at most what the boundary allows.
 */
export const APPLICATION_BOUNDARY_NAME = applicationBoundaryName(installationFromEnv(process.env));

/** One statement of the boundary: what application functions may do at most. */
export interface BoundaryStatement {
  readonly actions: string[];
  /** ARNs; `${Partition}`, `${Region}` and `${Account}` are filled in. */
  readonly resources: string[];
  readonly conditions?: Record<string, Record<string, string | string[]>>;
  /** Why functions need it (shown in the cdk-nag acknowledgement of its wildcard resources). */
  readonly reason: string;
}

const inAccount = (service: string, resource: string) => `arn:\${Partition}:${service}:\${Region}:\${Account}:${resource}`;

/**
 * What application functions normally need, in this account and region: logs and traces, the data-plane calls of the
 * services Lambda functions read and write, and VPC networking. No IAM, no STS, no control-plane calls; S3 only on
 * buckets of this account. Override it with `applicationBoundary.allow` in the release configuration.
 */
export const DEFAULT_APPLICATION_BOUNDARY: BoundaryStatement[] = [
  { actions: ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents'], resources: [inAccount('logs', 'log-group:/aws/lambda/*')], reason: 'Function logs (what AWSLambdaBasicExecutionRole grants).' },
  { actions: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'], resources: ['*'], reason: 'X-Ray tracing; these calls support no resource-level permissions.' },
  { actions: ['cloudwatch:PutMetricData'], resources: ['*'], reason: 'Custom metrics; PutMetricData supports no resource-level permissions.' },
  {
    actions: ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:ChangeMessageVisibility', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:SendMessage'],
    resources: [inAccount('sqs', '*')],
    reason: 'Consuming and sending SQS messages on queues of this account and region (the batch calls are authorised as these).',
  },
  {
    actions: [
      'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:Query', 'dynamodb:Scan', 'dynamodb:BatchGetItem', 'dynamodb:BatchWriteItem',
      'dynamodb:ConditionCheckItem', 'dynamodb:DescribeTable', 'dynamodb:DescribeStream', 'dynamodb:GetRecords', 'dynamodb:GetShardIterator', 'dynamodb:ListStreams',
    ],
    resources: [inAccount('dynamodb', 'table/*')],
    reason: 'Item reads and writes, and stream reads, on tables of this account and region.',
  },
  {
    actions: ['kinesis:DescribeStream', 'kinesis:DescribeStreamSummary', 'kinesis:GetRecords', 'kinesis:GetShardIterator', 'kinesis:ListShards', 'kinesis:SubscribeToShard', 'kinesis:PutRecord', 'kinesis:PutRecords'],
    resources: [inAccount('kinesis', 'stream/*')],
    reason: 'Reading and writing Kinesis streams of this account and region.',
  },
  {
    actions: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject', 's3:ListBucket'],
    resources: ['arn:${Partition}:s3:::*'],
    conditions: { StringEquals: { 's3:ResourceAccount': '${Account}' } },
    reason: 'Object reads and writes; bucket ARNs carry no account, so a condition keeps them to buckets of this account.',
  },
  { actions: ['sns:Publish'], resources: [inAccount('sns', '*')], reason: 'Publishing to topics of this account and region.' },
  { actions: ['events:PutEvents'], resources: [inAccount('events', 'event-bus/*')], reason: 'Putting events on buses of this account and region.' },
  { actions: ['states:StartExecution'], resources: [inAccount('states', 'stateMachine:*')], reason: 'Starting state machines of this account and region.' },
  { actions: ['lambda:InvokeFunction'], resources: [inAccount('lambda', 'function:*')], reason: 'Invoking functions of this account and region (never the deployment functions: denied below).' },
  { actions: ['ssm:GetParameter', 'ssm:GetParameters', 'ssm:GetParametersByPath'], resources: [inAccount('ssm', 'parameter/*')], reason: 'Reading configuration parameters of this account and region.' },
  { actions: ['secretsmanager:GetSecretValue'], resources: [inAccount('secretsmanager', 'secret:*')], reason: 'Reading secrets of this account and region.' },
  { actions: ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey'], resources: [inAccount('kms', 'key/*')], reason: 'Using customer keys of this account and region (key policies still decide; the release pipeline\'s own keys are denied below).' },
  {
    actions: ['ec2:CreateNetworkInterface', 'ec2:DescribeNetworkInterfaces', 'ec2:DeleteNetworkInterface', 'ec2:AssignPrivateIpAddresses', 'ec2:UnassignPrivateIpAddresses'],
    resources: ['*'],
    reason: 'Functions in a VPC (what AWSLambdaVPCAccessExecutionRole grants); these calls support no narrower resource.',
  },
];

/** The release pipeline's own resources: no application role may touch them, whatever the boundary allows. */
export interface ProtectedResources {
  readonly artifactBucketArn: string;
  /** The bucket the artifact bucket's access logs go to. */
  readonly accessLogsBucketArn: string;
  readonly ledgerTableArn: string;
  readonly keyArns: readonly string[];
  /** The rollback function's dead-letter queue: the only trace of a rollback that failed. */
  readonly deadLetterQueueArn: string;
  /** The deployment functions, e.g. `arn:aws:lambda:eu-central-1:123456789012:function:lrp-*`. */
  readonly deploymentFunctionsArn: string;
}

/**
 * Calls Lambda makes with a function's role outside its code (the `lambda:SourceFunctionArn` key is then absent):
 * reading event sources, decrypting environment variables, VPC interfaces, dead-letter queues and destinations.
 * Everything else a role under the boundary does must come from a Lambda function's code.
 */
export const LAMBDA_SERVICE_CALLS = [
  'sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:ChangeMessageVisibility', 'sqs:GetQueueAttributes', 'sqs:SendMessage',
  'dynamodb:DescribeStream', 'dynamodb:GetRecords', 'dynamodb:GetShardIterator', 'dynamodb:ListStreams',
  'kinesis:DescribeStream', 'kinesis:DescribeStreamSummary', 'kinesis:GetRecords', 'kinesis:GetShardIterator', 'kinesis:ListShards', 'kinesis:SubscribeToShard',
  'kms:Decrypt', 'sns:Publish', 'events:PutEvents', 'lambda:InvokeFunction',
  'ec2:CreateNetworkInterface', 'ec2:DescribeNetworkInterfaces', 'ec2:DeleteNetworkInterface', 'ec2:AssignPrivateIpAddresses', 'ec2:UnassignPrivateIpAddresses',
];

/**
 * The boundary as a managed policy with a fixed name: its allow statements, then denies on the pipeline's own resources.
 * IAM names are per account, so one policy serves every region the account's stages deploy to: `${Region}` becomes
 * each of `regions`. A target account holds none of the tooling resources: `protect` is then empty.
 * @param regions @default - the stack's region
 */
export function createApplicationBoundary(scope: Construct, id: string, name: string, allow: readonly BoundaryStatement[], protect: ProtectedResources | undefined, regions?: readonly string[]): iam.ManagedPolicy {
  const stack = Stack.of(scope);
  const envs = (regions ?? [stack.region]).map((region) => ({ partition: stack.partition, region, account: stack.account }));
  const fill = (values: string | readonly string[]) => [...new Set([values].flat().flatMap((value) => envs.flatMap((env) => perStage(value, [], env))))];
  const statements = allow.map(
    (statement) =>
      new iam.PolicyStatement({
        actions: [...statement.actions],
        resources: statement.resources.flatMap((r) => fill(r)),
        ...(statement.conditions ? { conditions: Object.fromEntries(Object.entries(statement.conditions).map(([op, keys]) => [op, Object.fromEntries(Object.entries(keys).map(([k, v]) => [k, Array.isArray(v) ? fill(v) : fill(v)[0]]))])) } : {}),
      }),
  );
  // CDK's bootstrap assets hold the deployment functions' code: overwriting them would change what the next deploy runs.
  const bootstrapAssets = envs.map((env) => `arn:${stack.partition}:s3:::cdk-*-assets-${stack.account}-${env.region}`);
  const buckets = protect ? [protect.artifactBucketArn, protect.accessLogsBucketArn, ...bootstrapAssets] : bootstrapAssets;
  statements.push(
    new iam.PolicyStatement({
      sid: 'NeverTheReleasePipeline',
      effect: iam.Effect.DENY,
      actions: ['s3:*', 'dynamodb:*', 'kms:*', 'lambda:*', 'sqs:*'],
      resources: [
        ...buckets.flatMap((bucket) => [bucket, `${bucket}/*`]),
        ...(protect
          ? [protect.ledgerTableArn, `${protect.ledgerTableArn}/*`, ...protect.keyArns, protect.deadLetterQueueArn, protect.deploymentFunctionsArn, `${protect.deploymentFunctionsArn}:*`]
          : []),
      ],
    }),
    // A role whose trust a template wrote can be assumed by others: their sessions carry no lambda:SourceFunctionArn.
    new iam.PolicyStatement({
      sid: 'OnlyFromLambdaFunctions',
      effect: iam.Effect.DENY,
      notActions: LAMBDA_SERVICE_CALLS,
      resources: ['*'],
      conditions: { Null: { 'lambda:SourceFunctionArn': 'true' } },
    }),
  );
  return new iam.ManagedPolicy(scope, id, {
    managedPolicyName: name,
    description: 'Permissions boundary of every role the release pipelines\' application templates create',
    statements,
  });
}

/** The boundary's ARN in a stack's account (by name: it is the same in every stack of the installation). */
export function applicationBoundaryArn(stack: Stack, name: string): string {
  return stack.formatArn({ service: 'iam', region: '', resource: 'policy', resourceName: name });
}
