import { join } from 'node:path';
import { ArnFormat, Duration, Lazy, PhysicalName, RemovalPolicy, Stack, Validations, type IResolveContext, type StackProps } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { LEDGER_PARTITIONS } from '../../deploy-functions/core/ledger';
import type { ReleaseConfig } from '../config';
import { applicationBoundaryArn, createApplicationBoundary } from './application-boundary';
import { addDeploymentNotices } from './deployment-notices';
import { createDeploymentGuard } from './deployment-role';
import { DEPLOYMENT_FUNCTION_HANDLER, deploymentFunctionCode } from './deployment-function-bundling';
import { InstallationNames } from './installation-names';
import { alarmNameGroups, alarmStateChangePattern, declaredAlarmNames } from './alarm-patterns';
import { StageEnvironments } from './stage-environments';
import { DeploymentFunction } from './release-plan';
import { METRICS_NAMESPACE, SHIFT_TRAFFIC_ACTION, deployerRoleArn, stageFunctionName } from '../../deploy-functions/core/names';

/** Key prefix of the function code `npm run package` uploads (`functions/<name>/<content hash>`). */
export const FUNCTION_CODE_PREFIX = 'functions/';
/** Key prefix of the build cache (`cache/<name>`). */
export const BUILD_CACHE_PREFIX = 'cache/';

/** Project root: entries and the lock file are resolved against it. */
const ROOT = join(import.meta.dirname, '..', '..');

export { alarmNameGroups } from './alarm-patterns';

/** Props of the shared tooling stack. */
export interface ToolingStackProps extends StackProps {
  readonly config: ReleaseConfig;
  /**
   * Where each stage deploys; stages in other accounts or regions are reached through their target stacks.
   * @default - every stage in this stack's account and region
   */
  readonly environments?: StageEnvironments;
}

/** How each deployment function is sized: timeouts set to what it needs (see the README). */
const SIZING: Record<DeploymentFunction, { timeout: Duration; memorySize: number; description: string; environment?: Record<string, string> }> = {
  // MAX_INVOCATION_SECONDS (540) + SAFETY_MARGIN_SECONDS (20) + room to report.
  'shift-traffic': { timeout: Duration.minutes(10), memorySize: 256, description: 'Moves the live alias step by step, watching alarms and per-version metrics', environment: { MAX_INVOCATION_SECONDS: '540', SAFETY_MARGIN_SECONDS: '20' } },
  // Cases run with bounded concurrency; INVOKE_TIMEOUT_SECONDS bounds each.
  'integration-test': { timeout: Duration.minutes(5), memorySize: 256, description: 'Runs integration cases against a new version', environment: { INVOKE_TIMEOUT_SECONDS: '60' } },
  'deploy-window': { timeout: Duration.seconds(30), memorySize: 128, description: 'Lets production releases through only inside deployment windows' },
  // Undoes with up to ~30 s of back-off each, plus the ledger; the sweep stops 10 s before the timeout.
  rollback: {
    timeout: Duration.minutes(2),
    memorySize: 256,
    description: 'Puts an alias back when an alarm fires, a pipeline execution stops, or a rollout is orphaned',
    environment: { ORPHAN_AFTER_SECONDS: '900' },
  },
};

/**
 * Shared by every function's pipeline: the artifact bucket and its key, the deployment functions (one least-privilege
 * role each), the ledger, the approval/notice topic, and the alarm → rollback rule with its dead-letter queue.
 */
export class ToolingStack extends Stack {
  /** Every name the installation gives what it creates. */
  readonly names: InstallationNames;
  readonly artifactKey: kms.Key;
  readonly artifactBucket: s3.Bucket;
  /** The permissions boundary of every role an application template creates (`<installation>-app-boundary`). */
  readonly applicationBoundary: iam.ManagedPolicy;
  readonly ledger: dynamodb.Table;
  readonly topicKey: kms.Key;
  readonly topic: sns.Topic;
  readonly rollbackDeadLetters: sqs.Queue;
  readonly functions: Record<DeploymentFunction, lambda.Function>;

  /** Where each stage deploys. */
  readonly environments: StageEnvironments;

  constructor(scope: Construct, id: string, props: ToolingStackProps) {
    super(scope, id, props);
    const { config } = props;
    const environments = props.environments ?? StageEnvironments.local(config);
    this.environments = environments;
    this.names = new InstallationNames(config.installation);
    const names = this.names;

    this.artifactKey = new kms.Key(this, 'ArtifactKey', { description: 'Lambda Release Pipeline artifacts', enableKeyRotation: true, removalPolicy: RemovalPolicy.RETAIN });
    const accessLogs = new s3.Bucket(this, 'AccessLogs', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      lifecycleRules: [{ expiration: Duration.days(365) }],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    Validations.of(accessLogs).acknowledge({ id: 'AwsSolutions-S1', reason: 'This bucket receives the artifact bucket access logs; logging it into itself would loop.' });
    this.artifactBucket = new s3.Bucket(this, 'Artifacts', {
      // Named at synth only when a target account's roles name it (a remote stage); otherwise CloudFormation names it.
      bucketName: PhysicalName.GENERATE_IF_NEEDED,
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: this.artifactKey,
      bucketKeyEnabled: true,
      enforceSSL: true,
      versioned: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      serverAccessLogsBucket: accessLogs,
      serverAccessLogsPrefix: 'artifacts/',
      lifecycleRules: [
        // Pipeline artifacts (CodePipeline keys them under the pipeline's name) and the build cache expire.
        { id: 'pipeline-artifacts', prefix: names.pipelinePrefix, expiration: Duration.days(config.artifactRetentionDays) },
        { id: 'build-cache', prefix: BUILD_CACHE_PREFIX, expiration: Duration.days(config.artifactRetentionDays) },
        // Function code under `functions/` never expires while current: a stack rolling back to an older template needs
        // the code that template names, however old (content-hashed keys are uploaded once and reused).
        { id: 'superseded-versions', noncurrentVersionExpiration: Duration.days(7), abortIncompleteMultipartUploadAfter: Duration.days(1), expiredObjectDeleteMarker: true },
      ],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // Code objects must be encrypted with the artifact key. An upload without encryption headers gets the bucket's
    // default (SSE-KMS, the artifact key) — that is also how the parts of a multipart upload arrive, so they must pass.
    // An upload that names anything else is refused: SSE-S3, another key, or aws:kms without a key id (S3 would use
    // aws/s3). Two statements, because the keys within one condition must all match to deny.
    const sse = 's3:x-amz-server-side-encryption';
    for (const conditions of [
      { Null: { [sse]: 'false' }, StringNotEquals: { [sse]: 'aws:kms' } },
      { Null: { [sse]: 'false' }, StringNotEquals: { [`${sse}-aws-kms-key-id`]: this.artifactKey.keyArn } },
    ]) {
      this.artifactBucket.addToResourcePolicy(
        new iam.PolicyStatement({
          effect: iam.Effect.DENY,
          principals: [new iam.AnyPrincipal()],
          actions: ['s3:PutObject'],
          resources: [this.artifactBucket.arnForObjects(`${FUNCTION_CODE_PREFIX}*`)],
          conditions,
        }),
      );
    }

    this.letTargetsRead();

    this.ledger = new dynamodb.Table(this, 'Ledger', {
      // Named after the installation, so the operator CLI finds it (`lrp --installation`; LEDGER_TABLE overrides).
      tableName: names.ledgerTable,
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      timeToLiveAttribute: 'ttl',
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.topicKey = new kms.Key(this, 'TopicKey', { description: 'Lambda Release Pipeline approvals and notices', enableKeyRotation: true });
    // Named by CloudFormation after the stack (`<installation>-tooling-Approvals…`); the display name says whose it is.
    this.topic = new sns.Topic(this, 'Approvals', { displayName: `${names.installation}: Lambda Release Pipeline approvals and notices`, masterKey: this.topicKey, enforceSSL: true });
    // Pipelines publish their deployment notices through CodeStar Notifications, from this account only.
    const notifications = new iam.ServicePrincipal('codestar-notifications.amazonaws.com');
    const fromThisAccount = { StringEquals: { 'aws:SourceAccount': this.account } };
    this.topic.addToResourcePolicy(new iam.PolicyStatement({ principals: [notifications], actions: ['sns:Publish'], resources: [this.topic.topicArn], conditions: fromThisAccount }));
    // In a key policy `*` means this key.
    this.topicKey.addToResourcePolicy(new iam.PolicyStatement({ principals: [notifications], actions: ['kms:GenerateDataKey', 'kms:Decrypt'], resources: ['*'], conditions: fromThisAccount }));

    this.rollbackDeadLetters = new sqs.Queue(this, 'RollbackDeadLetters', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    Validations.of(this.rollbackDeadLetters).acknowledge({ id: 'AwsSolutions-SQS3', reason: 'This queue is itself the dead-letter queue of the rollback function and its EventBridge rule.' });

    // The ceiling of every role an application template creates; the pipelines' CloudFormation roles require it.
    // One policy per account: it also bounds the functions of stages in this account's other regions.
    const regions = [this.region, ...environments.targets.filter((t) => t.account === this.account).map((t) => t.region)];
    this.applicationBoundary = createApplicationBoundary(this, 'ApplicationBoundary', names.applicationBoundary, config.applicationBoundary.allow, {
      artifactBucketArn: this.artifactBucket.bucketArn,
      accessLogsBucketArn: accessLogs.bucketArn,
      ledgerTableArn: this.ledger.tableArn,
      keyArns: [this.artifactKey.keyArn, this.topicKey.keyArn],
      deadLetterQueueArn: this.rollbackDeadLetters.queueArn,
      deploymentFunctionsArn: this.formatArn({ service: 'lambda', resource: 'function', resourceName: names.deploymentFunction('*'), arnFormat: ArnFormat.COLON_RESOURCE_NAME }),
    }, regions);

    // Every CloudFormation role of the function pipelines carries it: what no deploy permission may grant.
    createDeploymentGuard(this, 'DeploymentGuard', names.deploymentGuard, applicationBoundaryArn(this, names.applicationBoundary), {
      artifactBucketArn: this.artifactBucket.bucketArn,
      artifactKeyArn: this.artifactKey.keyArn,
      ledgerTableArn: this.ledger.tableArn,
      topicKeyArn: this.topicKey.keyArn,
      topicArn: this.topic.topicArn,
      deadLetterQueueArn: this.rollbackDeadLetters.queueArn,
      deploymentFunctionsArn: this.formatArn({ service: 'lambda', resource: 'function', resourceName: names.deploymentFunction('*'), arnFormat: ArnFormat.COLON_RESOURCE_NAME }),
    });

    this.functions = {
      // CodePipeline invokes it asynchronously: an event older than 15 minutes (a late duplicate) is dropped.
      'shift-traffic': this.deploymentFunction(DeploymentFunction.SHIFT_TRAFFIC, config, { maxEventAge: Duration.minutes(15) }),
      'integration-test': this.deploymentFunction(DeploymentFunction.INTEGRATION_TEST, config),
      'deploy-window': this.deploymentFunction(DeploymentFunction.DEPLOY_WINDOW, config),
      rollback: this.deploymentFunction(DeploymentFunction.ROLLBACK, config, { retryAttempts: 2, deadLetterQueue: this.rollbackDeadLetters }),
    };
    this.grantDeploymentPermissions(config);
    // Rollbacks are announced on the topic; dead letters and function failures raise alarms on it.
    addDeploymentNotices(this, {
      topic: this.topic,
      topicKey: this.topicKey,
      deadLetters: this.rollbackDeadLetters,
      functions: Object.values(this.functions),
      publishers: [this.functions['shift-traffic'], this.functions.rollback],
      alarmNames: names.noticeAlarms,
    });

    const rollbackTarget = () => new targets.LambdaFunction(this.functions.rollback, { deadLetterQueue: this.rollbackDeadLetters, retryAttempts: 8, maxEventAge: Duration.hours(2) });
    // Only alarms the releases can care about reach the function: this installation's generated names, and the ones the configuration
    // declares (in as many rules as EventBridge's pattern size needs).
    // With target environments, their stacks forward their alarms here: the rules match this account and theirs only.
    const targetAccounts = [...new Set(environments.targets.map((t) => t.account).filter((account) => account !== this.account))];
    const accounts = environments.targets.length > 0 ? [this.account, ...targetAccounts] : undefined;
    alarmNameGroups(names.alarmRoot, declaredAlarmNames(config, config.stages.map((stage) => stage.name))).forEach((alarmNames, index) => {
      new events.Rule(this, index === 0 ? 'AlarmStateChange' : `AlarmStateChange${index + 1}`, {
        description: 'A generated or declared CloudWatch alarm entering ALARM: the rollback function decides which deployment, if any, it counts against',
        eventPattern: alarmStateChangePattern(alarmNames, accounts),
        targets: [rollbackTarget()],
      });
    });
    // The default bus takes the forwarded alarm events of exactly the target accounts.
    for (const account of targetAccounts) {
      new events.CfnEventBusPolicy(this, `AlarmsFrom${account}`, {
        eventBusName: 'default',
        statementId: `${names.installation}-alarms-from-${account}`,
        statement: {
          Sid: `${names.installation}-alarms-from-${account}`,
          Effect: 'Allow',
          Principal: { AWS: `arn:${this.partition}:iam::${account}:root` },
          Action: 'events:PutEvents',
          Resource: this.formatArn({ service: 'events', resource: 'event-bus', resourceName: 'default' }),
          Condition: { StringEquals: { 'events:source': 'aws.cloudwatch' } },
        },
      });
    }
    // By prefix, to stay within the pattern size with fifty pipelines: an installation named like this one plus a dash
    // (`lrp-b` beside `lrp`) sends events of its pipelines too, which find no execution in this ledger and do nothing.
    new events.Rule(this, 'PipelineActionStopped', {
      description: 'A release pipeline\'s shift-traffic action abandoned, failed or canceled: the rollback function reverts the deployment of that execution',
      eventPattern: {
        source: ['aws.codepipeline'],
        detailType: ['CodePipeline Action Execution State Change'],
        detail: { pipeline: [{ prefix: names.pipelinePrefix }], action: [SHIFT_TRAFFIC_ACTION], state: ['ABANDONED', 'FAILED', 'CANCELED'] },
      },
      targets: [rollbackTarget()],
    });
    new events.Rule(this, 'OrphanSweep', {
      description: 'Every 5 minutes: the rollback function reverts rollouts whose invocation stopped sending heartbeats',
      schedule: events.Schedule.rate(Duration.minutes(5)),
      targets: [rollbackTarget()],
    });
  }

  /**
   * The artifact key's ARN as any stack may write it: the key's own in this account and region; in a target
   * environment's stacks, which cannot reference it (a key has no name), every key of this account and region. Only the
   * artifact key's policy lets the target accounts' roles use it (`letTargetsRead`), so that reaches no other key.
   */
  get artifactKeyArnAnywhere(): string {
    return Lazy.uncachedString({
      produce: (context: IResolveContext) => {
        const consumer = Stack.of(context.scope);
        return consumer.account === this.account && consumer.region === this.region ? this.artifactKey.keyArn : `arn:${this.partition}:kms:${this.region}:${this.account}:key/*`;
      },
    });
  }

  /**
   * The target accounts' pipeline roles (the target stacks', named `<installation>-target-…`) may read pipeline
   * artifacts and function code: CodePipeline's grants name the objects, these policies name who in those accounts.
   */
  private letTargetsRead(): void {
    const accounts = [...new Set(this.environments.targets.map((t) => t.account))].filter((account) => account !== this.account);
    if (accounts.length === 0) return;
    const principals = accounts.map((account) => new iam.AccountPrincipal(account));
    const conditions = { ArnLike: { 'aws:PrincipalArn': accounts.map((account) => `arn:${this.partition}:iam::${account}:role/${this.names.targetRolePrefix}*`) } };
    this.artifactBucket.addToResourcePolicy(new iam.PolicyStatement({ sid: 'TargetAccountsRead', principals, actions: ['s3:GetObject', 's3:GetObjectVersion'], resources: [this.artifactBucket.arnForObjects('*')], conditions }));
    // In a key policy `*` means this key.
    this.artifactKey.addToResourcePolicy(new iam.PolicyStatement({ sid: 'TargetAccountsDecrypt', principals, actions: ['kms:Decrypt', 'kms:DescribeKey'], resources: ['*'], conditions }));
  }

  private deploymentFunction(name: DeploymentFunction, config: ReleaseConfig, extra: Partial<lambda.FunctionOptions> = {}): lambda.Function {
    const sizing = SIZING[name];
    const logGroup = new logs.LogGroup(this, `${name}-logs`, { retention: logs.RetentionDays.THREE_MONTHS, removalPolicy: RemovalPolicy.DESTROY });
    // A role of its own, allowed to write only its own log group (not the account-wide AWSLambdaBasicExecutionRole).
    const role = new iam.Role(this, `${name}-role`, { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'), description: `Execution role of ${this.names.deploymentFunction(name)}` });
    logGroup.grant(role, 'logs:CreateLogStream', 'logs:PutLogEvents');
    const fn = new NodejsFunction(this, name, {
      role,
      functionName: this.names.deploymentFunction(name),
      // Bundled as `npm run build` bundles it (SDK included, env credentials only): see deployment-function-bundling.ts.
      code: deploymentFunctionCode(ROOT, name),
      handler: DEPLOYMENT_FUNCTION_HANDLER,
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      description: sizing.description,
      timeout: sizing.timeout,
      memorySize: sizing.memorySize,
      tracing: lambda.Tracing.ACTIVE,
      loggingFormat: lambda.LoggingFormat.JSON,
      logGroup,
      environment: {
        LOG_LEVEL: config.logLevel,
        LEDGER_TABLE: this.ledger.tableName,
        // The engine's prefix comes from here, never from a constant: generated alarms, stacks, …
        LRP_INSTALLATION: config.installation,
        POWERTOOLS_SERVICE_NAME: this.names.deploymentFunction(name),
        POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
        // The accounts and regions stages deploy to besides this one: reached through their deployer roles.
        ...(this.environments.targets.length > 0 ? { LRP_TARGET_ENVS: this.environments.targetEnvsVariable } : {}),
        ...sizing.environment,
      },
      ...extra,
    });
    return fn;
  }

  /** Each deployment function may do only what it needs, on the managed functions, their aliases and the ledger. */
  private grantDeploymentPermissions(config: ReleaseConfig): void {
    // One statement per configured function (its stage functions and their `:*` qualifiers): with many functions,
    // CDK can then spread the statements over several policies, each within IAM's size limits.
    // Stages in other accounts or regions are reached through their deployer roles, not from here.
    const localStages = config.stages.filter((stage) => !this.environments.of(stage.name).remote);
    const managedByFunction = config.functions.map((fn) =>
      localStages.flatMap((stage) => {
        const arn = this.formatArn({ service: 'lambda', resource: 'function', resourceName: stageFunctionName(fn.name, stage.name), arnFormat: ArnFormat.COLON_RESOURCE_NAME });
        return [arn, `${arn}:*`];
      }),
    );
    const onManaged = (fn: lambda.Function, actions: string[]) => {
      for (const resources of managedByFunction) if (resources.length > 0) fn.addToRolePolicy(new iam.PolicyStatement({ actions, resources }));
    };
    const { functions: f } = this;
    // Only the deployment functions that act on functions may assume the deployer roles, and only those of the target environments.
    const deployers = this.environments.targets.map((t) => deployerRoleArn(t.partition, config.installation, t.account, t.region));
    if (deployers.length > 0) {
      for (const name of [DeploymentFunction.SHIFT_TRAFFIC, DeploymentFunction.INTEGRATION_TEST, DeploymentFunction.ROLLBACK] as const)
        f[name].addToRolePolicy(new iam.PolicyStatement({ actions: ['sts:AssumeRole'], resources: deployers }));
    }
    // CodePipeline's job APIs support no resource-level permissions: `*` is the only possible resource. GetJobDetails
    // reads the job as CodePipeline recorded it, so an event someone else wrote never decides what is done.
    const jobResults = new iam.PolicyStatement({ actions: ['codepipeline:GetJobDetails', 'codepipeline:PutJobSuccessResult', 'codepipeline:PutJobFailureResult'], resources: ['*'] });
    for (const name of [DeploymentFunction.SHIFT_TRAFFIC, DeploymentFunction.INTEGRATION_TEST, DeploymentFunction.DEPLOY_WINDOW] as const) f[name].addToRolePolicy(jobResults);

    onManaged(f['shift-traffic'], ['lambda:GetAlias', 'lambda:UpdateAlias', 'lambda:GetFunctionConfiguration']);
    // DescribeAlarms and GetMetricData support no resource-level permissions: `*` is the only possible resource.
    f['shift-traffic'].addToRolePolicy(new iam.PolicyStatement({ actions: ['cloudwatch:DescribeAlarms', 'cloudwatch:GetMetricData'], resources: ['*'] }));
    // Transactions are authorised per item action (there is no TransactWriteItems action).
    const P = LEDGER_PARTITIONS;
    this.grantLedger(f['shift-traffic'], ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:Query', 'dynamodb:BatchWriteItem', 'dynamodb:ConditionCheckItem'], [P.alias, P.job, P.inFlight, P.execution, P.alarm]);

    // The undo path reads the alias when the revision it knows is stale.
    onManaged(f.rollback, ['lambda:GetAlias', 'lambda:UpdateAlias']);
    // An event is checked against CloudWatch and CodePipeline before it moves anything. DescribeAlarms supports no
    // resource-level permissions; the executions read are those of the release pipelines.
    f.rollback.addToRolePolicy(new iam.PolicyStatement({ actions: ['cloudwatch:DescribeAlarms'], resources: ['*'] }));
    f.rollback.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['codepipeline:GetPipelineExecution'],
        resources: config.functions.map((fn) => this.formatArn({ service: 'codepipeline', resource: this.names.pipeline(fn.name) })),
      }),
    );
    // Tags vouch for an alarm with a generated name: only the alarms generated for the managed aliases are read
    // (one statement per function, like the others, so fifty functions still fit IAM's policy sizes).
    for (const fn of localStages.length > 0 ? config.functions : []) {
      f.rollback.addToRolePolicy(
        new iam.PolicyStatement({
          actions: ['cloudwatch:ListTagsForResource'],
          resources: localStages.map((stage) => this.formatArn({ service: 'cloudwatch', resource: 'alarm', resourceName: `${this.names.generatedAlarmPrefix(stageFunctionName(fn.name, stage.name), 'live')}*`, arnFormat: ArnFormat.COLON_RESOURCE_NAME })),
        }),
      );
    }
    // It reads the execution pointers and the alarm index; it writes only alias items and the in-flight list.
    this.grantLedger(f.rollback, ['dynamodb:GetItem', 'dynamodb:Query'], [P.alias, P.inFlight, P.execution, P.alarm]);
    this.grantLedger(f.rollback, ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:ConditionCheckItem'], [P.alias, P.inFlight]);

    onManaged(f['integration-test'], ['lambda:InvokeFunction']);

    const parameters = config.stages.flatMap((stage) => [stage.deploymentWindow?.policyParameter, stage.deploymentWindow?.overrideParameter]).filter((p): p is string => Boolean(p));
    if (parameters.length > 0) {
      f['deploy-window'].addToRolePolicy(
        new iam.PolicyStatement({
          actions: ['ssm:GetParameter'],
          resources: [...new Set(parameters)].map((p) => this.formatArn({ service: 'ssm', resource: 'parameter', resourceName: p.replace(/^\//, '') })),
        }),
      );
    }
    this.grantLedger(f['deploy-window'], ['dynamodb:PutItem'], [P.override]);
  }

  /**
   * Ledger calls on the items a function owns: every partition key it touches must start with one of `partitions`
   * (`dynamodb:LeadingKeys`), so no function can write another's records.
   */
  private grantLedger(fn: lambda.Function, actions: string[], partitions: readonly string[]): void {
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        actions,
        resources: [this.ledger.tableArn],
        conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': partitions.map((p) => (p.endsWith('#') ? `${p}*` : p)) } },
      }),
    );
  }
}
