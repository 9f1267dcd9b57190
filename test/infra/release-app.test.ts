import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { resolveReleaseConfig } from '../../infra/config';
import { InstallationNames } from '../../infra/lib/installation-names';
import { evaluate, type IamStatement } from '../../infra/iam/policy';
import { TemplateValues } from '../../infra/iam/template-values';
import { readApplicationTemplate, templateTimeoutSeconds, type CfnTemplate } from '../../infra/templates/application-template';
import { IAM5_ACKNOWLEDGEMENTS, configuredAcknowledgements, unacknowledged } from '../../infra/lib/nag-acknowledgements';
import { ShiftTrafficParametersSchema, IntegrationTestParametersSchema, DeployWindowParametersSchema } from '../../deploy-functions/core/user-parameters';
import { FunctionPipelineStack } from '../../infra/lib/function-pipeline-stack';
import { planPipeline } from '../../infra/lib/release-plan';
import { ToolingStack, alarmNameGroups } from '../../infra/lib/tooling-stack';
import { cfnLint } from '../support/cfn-lint';
import { PROJECT_ROOT } from '../support/application-checks';
import { cdkContext, sampleConfig, stackNamesOf, stageFunctionsOf, synthRelease, templatesOf } from './support';

type Json = Record<string, unknown>;
const config = resolveReleaseConfig(sampleConfig);
/** A function of the release, for assertions about keys and names any function would do for. */
const anyFunction = config.functions[0]!.name;
let outdir: string;
let release: ReturnType<typeof synthRelease>;
let tooling: Template;
let pipelines: Record<string, Template>;

beforeAll(() => {
  outdir = mkdtempSync(join(tmpdir(), 'lrp-synth-'));
  release = synthRelease(sampleConfig, { outdir });
  release.app.synth();
  ({ tooling, pipelines } = templatesOf(release));
}, 120_000);

const pipelineOf = (name: string) => Object.values(pipelines[`lrp-pipeline-${name}`]!.findResources('AWS::CodePipeline::Pipeline'))[0]!.Properties as Json;
const statementsOf = (template: Template) =>
  [...Object.values(template.findResources('AWS::IAM::Policy')), ...Object.values(template.findResources('AWS::IAM::Role'))].flatMap((r) => {
    const props = r.Properties as { PolicyDocument?: { Statement: Json[] }; Policies?: { PolicyDocument: { Statement: Json[] } }[] };
    return [...(props.PolicyDocument?.Statement ?? []), ...(props.Policies ?? []).flatMap((p) => p.PolicyDocument.Statement)];
  });
const asArray = <T>(value: T | T[]) => (Array.isArray(value) ? value : [value]);

describe('GIVEN the repository release configuration', () => {
  // One pipeline per configured function: every expectation below is derived from release.config.ts and the templates.
  describe.each(config.functions.map((fn) => [fn.name, fn] as const))('WHEN the pipeline of %s is synthesized', (name, fn) => {
    it('THEN it is a V2 pipeline with stages and actions in release order', () => {
      const stages = pipelineOf(name).Stages as { Name: string; Actions: { Name: string; RunOrder: number; ActionTypeId: { Provider: string } }[] }[];
      expect(pipelineOf(name).PipelineType).toBe('V2');
      expect(stages.map((s) => [s.Name, s.Actions.sort((a, b) => a.RunOrder - b.RunOrder).map((a) => `${a.RunOrder}:${a.Name}:${a.ActionTypeId.Provider}`)])).toEqual([
        ['Source', ['1:Source:CodeStarSourceConnection']],
        ['Build', ['1:BuildTestPackage:CodeBuild']],
        ['Deploy-staging', ['1:PrepareChanges:CloudFormation', '2:Deploy:CloudFormation', '3:IntegrationTests:Lambda']],
        ['Approve-prod', ['1:Approve:Manual', '2:DeploymentWindow:Lambda']],
        ['Deploy-prod', ['1:PrepareChanges:CloudFormation', '2:Deploy:CloudFormation', '3:IntegrationTests:Lambda', '4:ShiftTraffic:Lambda']],
      ]);
    });

    it('THEN a push to the release branch triggers it only for its own paths and the shared ones', () => {
      const [trigger] = pipelineOf(name).Triggers as { GitConfiguration: { Push: { Branches: { Includes: string[] }; FilePaths: { Includes: string[] } }[] } }[];
      const [push] = trigger!.GitConfiguration.Push;
      expect(push!.Branches.Includes).toEqual([config.repository.branch]);
      expect([...push!.FilePaths.Includes].sort()).toEqual([...new Set([`functions/${name}/**`, ...fn.paths, ...config.sharedPaths])].sort());
      for (const other of config.functions.filter((f) => f.name !== name)) expect(push!.FilePaths.Includes.join(), other.name).not.toContain(`functions/${other.name}/`);
    });

    it('THEN every Lambda action passes UserParameters that the deployment function accepts', () => {
      const stages = pipelineOf(name).Stages as { Actions: { Name: string; Configuration: { UserParameters?: string } }[] }[];
      const invokes = stages.flatMap((s) => s.Actions).filter((a) => a.Configuration.UserParameters);
      const schemas = { ShiftTraffic: ShiftTrafficParametersSchema, IntegrationTests: IntegrationTestParametersSchema, DeploymentWindow: DeployWindowParametersSchema } as const;
      expect(invokes.map((a) => a.Name)).toEqual(['IntegrationTests', 'DeploymentWindow', 'IntegrationTests', 'ShiftTraffic']);
      for (const action of invokes) expect(schemas[action.Name as keyof typeof schemas].safeParse(JSON.parse(action.Configuration.UserParameters!)).success, action.Name).toBe(true);
      expect(JSON.parse(invokes.at(-1)!.Configuration.UserParameters!)).toMatchObject({
        functionName: `${name}-prod`,
        ...(fn.strategy ? { strategy: fn.strategy } : {}),
        bakeMinutes: fn.bakeMinutes,
        pipelineExecutionId: '#{codepipeline.PipelineExecutionId}',
        hotfixReason: '#{variables.HotfixReason}',
      });
      expect(pipelineOf(name).Variables).toEqual([expect.objectContaining({ Name: 'HotfixReason', DefaultValue: 'none' })]);
    });

    it('THEN the change set deploys the packaged template with the commit configuration, as the function\'s own role', () => {
      pipelines[`lrp-pipeline-${name}`]!.hasResourceProperties('AWS::CodePipeline::Pipeline', {
        Stages: Match.arrayWith([
          Match.objectLike({
            Name: 'Deploy-prod',
            Actions: Match.arrayWith([
              Match.objectLike({
                Name: 'PrepareChanges',
                Configuration: Match.objectLike({
                  ActionMode: 'CHANGE_SET_REPLACE',
                  StackName: `lrp-app-${name}-prod`,
                  TemplatePath: `BuildOutput::dist/packaged/${name}.packaged.yaml`,
                  TemplateConfiguration: `BuildOutput::dist/packaged/${name}.template-config.json`,
                  Capabilities: 'CAPABILITY_IAM,CAPABILITY_AUTO_EXPAND',
                }),
              }),
            ]),
          }),
        ]),
      });
    });

    it('THEN the approval message carries the commit and the staging test summary', () => {
      const stages = pipelineOf(name).Stages as { Actions: { Name: string; Configuration: { CustomData?: string; NotificationArn?: unknown } }[] }[];
      const approve = stages.flatMap((s) => s.Actions).find((a) => a.Name === 'Approve')!;
      expect(approve.Configuration.CustomData).toMatch(/#\{SourceVariables\.CommitId\}.*#\{staging-tests\.passed\} passed, #\{staging-tests\.failed\} failed/);
      expect(approve.Configuration.NotificationArn).toBeDefined();
    });

    it('THEN execution results are published to the topic as deployment notices', () => {
      pipelines[`lrp-pipeline-${name}`]!.hasResourceProperties('AWS::CodeStarNotifications::NotificationRule', {
        Name: `lrp-${name}-notices`,
        EventTypeIds: ['codepipeline-pipeline-pipeline-execution-failed', 'codepipeline-pipeline-pipeline-execution-succeeded', 'codepipeline-pipeline-pipeline-execution-superseded'],
        Targets: [Match.objectLike({ TargetType: 'SNS' })],
      });
      tooling.hasResourceProperties('AWS::SNS::TopicPolicy', {
        PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Action: 'sns:Publish', Principal: { Service: 'codestar-notifications.amazonaws.com' } })]) },
      });
    });

    it('THEN the build runs buildspecs/build.yml with caching and a report group for the unit tests', () => {
      const pipeline = pipelines[`lrp-pipeline-${name}`]!;
      pipeline.hasResourceProperties('AWS::CodeBuild::Project', {
        Name: `lrp-${name}-build`,
        Source: Match.objectLike({ BuildSpec: 'buildspecs/build.yml' }),
        Cache: Match.objectLike({ Type: 'S3' }),
        Environment: Match.objectLike({ Image: 'aws/codebuild/standard:7.0', EnvironmentVariables: Match.arrayWith([{ Name: 'FUNCTION_NAME', Type: 'PLAINTEXT', Value: name }]) }),
      });
      pipeline.hasResourceProperties('AWS::CodeBuild::ReportGroup', { Name: `lrp-${name}-build-unit-tests`, Type: 'TEST' });
    });

    it('THEN every stage function has Errors, Throttles and Duration p99 alarms on its live alias, named for the engine', () => {
      const alarms = Object.values(pipelines[`lrp-pipeline-${name}`]!.findResources('AWS::CloudWatch::Alarm')).map((a) => a.Properties as Json);
      expect(alarms.map((a) => a.AlarmName).sort()).toEqual(
        config.stages.flatMap((stage) => ['duration-p99', 'errors', 'throttles'].map((m) => `lrp/${name}-${stage.name}/live/${m}`)).sort(),
      );
      // p99 at the configured share of the function's timeout (the template's, when the configuration names none).
      const timeoutSeconds = fn.timeoutSeconds ?? templateTimeoutSeconds(readApplicationTemplate(PROJECT_ROOT, name)!);
      const p99 = alarms.find((a) => a.AlarmName === `lrp/${name}-prod/live/duration-p99`)!;
      expect(p99).toMatchObject({
        ExtendedStatistic: 'p99',
        Threshold: (timeoutSeconds * 1000 * fn.alarmThresholds.durationP99PercentOfTimeout) / 100,
        Dimensions: expect.arrayContaining([{ Name: 'Resource', Value: `${name}-prod:live` }]),
      });
      expect(p99.Tags).toEqual(expect.arrayContaining([{ Key: 'lrp:function', Value: `${name}-prod` }, { Key: 'lrp:alias', Value: 'live' }]));
    });

    it('THEN a dashboard shows per-version invocations and errors, alias traffic, alarms and deployment-function errors', () => {
      const [dashboard] = Object.values(pipelines[`lrp-pipeline-${name}`]!.findResources('AWS::CloudWatch::Dashboard'));
      const body = JSON.stringify(dashboard!.Properties);
      for (const fragment of ['ExecutedVersion', 'alias traffic', 'live alias alarms', 'Deployment function errors', 'lrp-shift-traffic']) expect(body).toContain(fragment);
    });
  });

  describe('WHEN the tooling stack is synthesized', () => {
    it('THEN artifacts are KMS-encrypted, versioned, TLS-only, and pipeline artifacts and the build cache expire', () => {
      tooling.hasResourceProperties('AWS::S3::Bucket', {
        BucketEncryption: { ServerSideEncryptionConfiguration: [Match.objectLike({ ServerSideEncryptionByDefault: Match.objectLike({ SSEAlgorithm: 'aws:kms' }) })] },
        VersioningConfiguration: { Status: 'Enabled' },
        LifecycleConfiguration: {
          Rules: Match.arrayWith([
            Match.objectLike({ Prefix: 'lrp-', ExpirationInDays: 30 }),
            Match.objectLike({ Prefix: 'cache/', ExpirationInDays: 30 }),
            Match.objectLike({ NoncurrentVersionExpiration: { NoncurrentDays: 7 } }),
          ]),
        },
      });
      tooling.hasResourceProperties('AWS::S3::BucketPolicy', {
        PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
      });
    });

    it('THEN function code a stack may roll back to never expires while current', () => {
      const [artifacts] = Object.values(tooling.findResources('AWS::S3::Bucket', { Properties: { VersioningConfiguration: { Status: 'Enabled' } } }));
      const rules = (artifacts!.Properties as { LifecycleConfiguration: { Rules: { Prefix?: string; ExpirationInDays?: number }[] } }).LifecycleConfiguration.Rules;
      const expiringCurrent = rules.filter((rule) => rule.ExpirationInDays !== undefined);
      expect(expiringCurrent.length).toBeGreaterThan(0);
      for (const rule of expiringCurrent) {
        for (const fn of config.functions) expect(`functions/${fn.name}/0123abcd`.startsWith(rule.Prefix ?? ''), JSON.stringify(rule)).toBe(false);
      }
    });

    it('THEN function code can only be uploaded encrypted with the artifact key, in one part or many', () => {
      const statements = Object.values(tooling.findResources('AWS::S3::BucketPolicy')).flatMap((p) => (p.Properties as { PolicyDocument: { Statement: Json[] } }).PolicyDocument.Statement);
      const keyArn = 'arn:aws:kms:eu-central-1:123456789012:key/artifact';
      const values = new TemplateValues(tooling.toJSON() as CfnTemplate, { stackName: 'lrp-tooling', partition: 'aws', region: 'eu-central-1', account: '123456789012', unresolved: 'symbol' }, (type) =>
        type === 'AWS::KMS::Key' ? { ref: () => 'artifact', attributes: { Arn: () => keyArn } } : type === 'AWS::S3::Bucket' ? { ref: () => 'artifacts', attributes: { Arn: () => 'arn:aws:s3:::artifacts' } } : undefined,
      );
      const policy = values.value(statements) as IamStatement[];
      const put = (headers: Record<string, string>, key = `functions/${anyFunction}/0123abcd`) =>
        evaluate([{ Effect: 'Allow', Action: 's3:PutObject', Resource: '*' }, ...policy], { action: 's3:PutObject', resource: `arn:aws:s3:::artifacts/${key}`, context: { 'aws:SecureTransport': 'true', ...headers } });
      const sse = 's3:x-amz-server-side-encryption';
      expect(put({ [sse]: 'aws:kms', [`${sse}-aws-kms-key-id`]: keyArn })).toBe('ALLOWED');
      // The parts of a multipart upload (and a plain upload) carry no headers: the bucket's default, the artifact key, applies.
      expect(put({})).toBe('ALLOWED');
      expect(put({ [sse]: 'AES256' })).toBe('DENIED');
      expect(put({ [sse]: 'aws:kms' })).toBe('DENIED');
      expect(put({ [sse]: 'aws:kms', [`${sse}-aws-kms-key-id`]: 'arn:aws:kms:eu-central-1:123456789012:key/other' })).toBe('DENIED');
      expect(put({ [sse]: 'AES256' }, `${new InstallationNames('lrp').pipelineArtifactFolder(anyFunction)}/Source/abc`)).toBe('ALLOWED');
    });

    it('THEN the ledger has point-in-time recovery, encryption and TTL, and the topic a KMS key', () => {
      tooling.hasResourceProperties('AWS::DynamoDB::Table', {
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }, { AttributeName: 'sk', KeyType: 'RANGE' }],
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        SSESpecification: { SSEEnabled: true },
        TimeToLiveSpecification: { AttributeName: 'ttl', Enabled: true },
      });
      tooling.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
    });

    it('THEN a generated or declared alarm entering ALARM invokes the rollback function, with retries and a dead-letter queue; no other alarm does', () => {
      const declared = config.functions.flatMap((fn) => fn.alarms);
      tooling.hasResourceProperties('AWS::Events::Rule', {
        EventPattern: { source: ['aws.cloudwatch'], 'detail-type': ['CloudWatch Alarm State Change'], detail: { state: { value: ['ALARM'] }, alarmName: [{ prefix: 'lrp/' }, ...new Set(declared)] } },
        Targets: [Match.objectLike({ DeadLetterConfig: { Arn: Match.anyValue() }, RetryPolicy: { MaximumRetryAttempts: 8, MaximumEventAgeInSeconds: 7200 } })],
      });
      tooling.hasResourceProperties('AWS::Lambda::Function', { FunctionName: 'lrp-rollback', DeadLetterConfig: { TargetArn: Match.anyValue() } });
      tooling.hasResourceProperties('AWS::Lambda::EventInvokeConfig', { MaximumRetryAttempts: 2 });
      tooling.hasResourceProperties('AWS::SQS::Queue', { SqsManagedSseEnabled: true, MessageRetentionPeriod: 1209600 });
    });

    it('THEN stopped, abandoned or failed pipeline actions and a 5-minute schedule also reach the rollback function', () => {
      tooling.hasResourceProperties('AWS::Events::Rule', {
        EventPattern: { source: ['aws.codepipeline'], 'detail-type': ['CodePipeline Action Execution State Change'], detail: { pipeline: [{ prefix: 'lrp-' }], action: ['ShiftTraffic'], state: ['ABANDONED', 'FAILED', 'CANCELED'] } },
        Targets: [Match.objectLike({ DeadLetterConfig: { Arn: Match.anyValue() }, RetryPolicy: { MaximumRetryAttempts: 8, MaximumEventAgeInSeconds: 7200 } })],
      });
      tooling.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(5 minutes)', Targets: [Match.objectLike({ Arn: Match.anyValue() })] });
      tooling.hasResourceProperties('AWS::Lambda::Function', { FunctionName: 'lrp-rollback', Environment: { Variables: Match.objectLike({ ORPHAN_AFTER_SECONDS: '900' }) } });
    });

    it('THEN the shift-traffic function drops an event older than 15 minutes: a late duplicate never starts a rollout', () => {
      const [shift] = Object.entries(tooling.findResources('AWS::Lambda::Function', { Properties: { FunctionName: 'lrp-shift-traffic' } }));
      tooling.hasResourceProperties('AWS::Lambda::EventInvokeConfig', { FunctionName: { Ref: shift![0] }, MaximumEventAgeInSeconds: 900 });
    });

    it('THEN each deployment function runs on nodejs24.x with X-Ray, JSON logs, LOG_LEVEL and a timeout set to its need', () => {
      const timeouts = Object.fromEntries(
        Object.values(tooling.findResources('AWS::Lambda::Function'))
          .map((f) => f.Properties as Json)
          .filter((p) => String(p.FunctionName).startsWith('lrp-'))
          .map((p) => {
            expect(p).toMatchObject({ Runtime: 'nodejs24.x', TracingConfig: { Mode: 'Active' }, LoggingConfig: { LogFormat: 'JSON' } });
            expect((p.Environment as { Variables: Json }).Variables).toMatchObject({ LOG_LEVEL: 'INFO', LEDGER_TABLE: expect.anything() });
            return [p.FunctionName, p.Timeout];
          }),
      );
      expect(timeouts).toEqual({ 'lrp-shift-traffic': 600, 'lrp-integration-test': 300, 'lrp-deploy-window': 30, 'lrp-rollback': 120 });
    });

    it('THEN each deployment function may touch only the managed functions it serves, by name', () => {
      const policies = Object.values(tooling.findResources('AWS::IAM::Policy')).map((p) => p.Properties as { Roles: { Ref: string }[]; PolicyDocument: { Statement: Json[] } });
      const rolesAllowedTo = (action: string) =>
        [...new Set(policies.filter((p) => p.PolicyDocument.Statement.some((s) => asArray(s.Action as string).includes(action))).flatMap((p) => p.Roles.map((r) => r.Ref.replace(/role[0-9A-F]{8}$/, ''))))].sort();
      expect(rolesAllowedTo('lambda:UpdateAlias')).toEqual(['rollback', 'shifttraffic']);
      expect(rolesAllowedTo('lambda:InvokeFunction')).toEqual(['integrationtest']);
      const update = statementsOf(tooling).filter((s) => asArray(s.Action as string).includes('lambda:UpdateAlias'));
      const managed = stageFunctionsOf(config).flatMap((f) => {
        const arn = `arn:aws:lambda:eu-central-1:123456789012:function:${f}`;
        return [arn, `${arn}:*`];
      });
      // Each role, across its statements, may move exactly the managed functions and their aliases.
      const resources = [...new Set(update.flatMap((s) => asArray(s.Resource as string)))].sort();
      expect(resources).toEqual(managed.sort());
    });
  });

  describe('WHEN every synthesized template is checked', () => {
    it('THEN no identity policy allows a wildcard action, and `*` resources serve only APIs without resource-level permissions', () => {
      const allowedOnStar = new Set([
        'codepipeline:GetJobDetails', 'codepipeline:PutJobSuccessResult', 'codepipeline:PutJobFailureResult', 'cloudwatch:DescribeAlarms', 'cloudwatch:GetMetricData',
        'xray:PutTraceSegments', 'xray:PutTelemetryRecords', 'lambda:ListFunctions',
        'lambda:CreateEventSourceMapping', 'lambda:GetEventSourceMapping', 'lambda:UpdateEventSourceMapping', 'lambda:DeleteEventSourceMapping',
      ]);
      for (const template of [tooling, ...Object.values(pipelines)]) {
        for (const statement of statementsOf(template)) {
          if (statement.Effect !== 'Allow') continue;
          const actions = asArray(statement.Action as string);
          for (const action of actions) expect(action).not.toContain('*');
          if (asArray(statement.Resource as unknown).includes('*')) {
            for (const action of actions) expect(allowedOnStar.has(action), `${action} on *`).toBe(true);
            if (actions.some((a) => a.includes('EventSourceMapping'))) expect(statement.Condition).toBeDefined();
          }
        }
      }
    });

    it('THEN no template manages a `live` alias: only the deployment functions move it', () => {
      for (const template of [tooling, ...Object.values(pipelines)]) expect(Object.keys(template.findResources('AWS::Lambda::Alias'))).toEqual([]);
    });

    it('THEN cdk-nag AwsSolutionsChecks reports nothing that is not acknowledged with a reason', () => {
      const report = new AwsSolutionsChecks(release.app).validateScope(release.app);
      const acknowledgements = [...IAM5_ACKNOWLEDGEMENTS, ...configuredAcknowledgements(config)];
      const open = unacknowledged(report, acknowledgements).map((v) => `${v.ruleName}: ${v.violatingResources.map((r) => (r as { constructPath?: string }).constructPath).join(', ')}`);
      expect(open).toEqual([]);
      for (const a of acknowledgements) expect(a.reason.length).toBeGreaterThan(20);
    });

    it('THEN cfn-lint finds no errors and no warnings but CDK\'s own redundant DependsOn (W3005)', () => {
      const templates = readdirSync(outdir).filter((f) => f.endsWith('.template.json')).map((f) => join(outdir, f));
      expect(templates.map((t) => basename(t, '.template.json')).sort()).toEqual(stackNamesOf(config).sort());
      const lint = cfnLint(templates, ['--ignore-checks', 'W3005']);
      if (lint) expect(lint).toEqual({ output: '', status: 0 });
    });
  });
});

describe('GIVEN fifty functions', () => {
  it('THEN every IAM policy stays within IAM\'s size limits (inline 10,240, managed 6,144 characters)', () => {
    const many = synthRelease({ ...sampleConfig, functions: Array.from({ length: 50 }, (_, i) => ({ name: `number-${String(i).padStart(3, '0')}-function` })) });
    const { tooling: big } = templatesOf(many);
    const sizes = (type: string) => Object.values(big.findResources(type)).map((r) => JSON.stringify((r.Properties as { PolicyDocument: unknown }).PolicyDocument).length);
    expect(Math.max(...sizes('AWS::IAM::Policy'))).toBeLessThanOrEqual(10_240);
    expect(Math.max(0, ...sizes('AWS::IAM::ManagedPolicy'))).toBeLessThanOrEqual(6_144);
  }, 60_000);
});

describe('GIVEN an action whose rendered configuration is longer than CodePipeline accepts', () => {
  it('THEN synth fails naming the stage, the action, the key and the limit', () => {
    const app = new App({ context: { ...cdkContext, 'aws:cdk:bundling-stacks': [] } });
    const env = { account: '123456789012', region: 'eu-central-1' };
    const tooling = new ToolingStack(app, 'lrp-tooling', { env, config });
    const plan = planPipeline(config, config.functions[0]!);
    const stages = plan.stages.map((stage) => ({
      ...stage,
      actions: stage.actions.map((action) => (action.kind === 'invoke' && action.name === 'ShiftTraffic' ? { ...action, userParameters: { ...action.userParameters, commit: 'x'.repeat(1000) } } : action)),
    }));
    new FunctionPipelineStack(app, `lrp-pipeline-${plan.function.name}`, { env, config, plan: { ...plan, stages }, tooling, timeoutSeconds: 5 });
    expect(() => app.synth()).toThrow(/Deploy-prod\/ShiftTraffic UserParameters would be [\d,]+ characters; CodePipeline allows at most 1,000/);
  });
});

describe('GIVEN more declared alarms than one EventBridge pattern holds', () => {
  it('THEN they are spread over several rules, each pattern within 2,048 characters, and every alarm is matched', () => {
    const declared = Array.from({ length: 120 }, (_, i) => `team-payments-checkout-latency-alarm-${String(i).padStart(3, '0')}`);
    const groups = alarmNameGroups('lrp/', [...declared, declared[0]!]);
    expect(groups.length).toBeGreaterThan(1);
    expect(groups.flat()).toEqual([{ prefix: 'lrp/' }, ...declared]);
    for (const names of groups) {
      const pattern = JSON.stringify({ source: ['aws.cloudwatch'], 'detail-type': ['CloudWatch Alarm State Change'], detail: { state: { value: ['ALARM'] }, alarmName: names } });
      expect(pattern.length).toBeLessThanOrEqual(2048);
    }
  });
});

describe('GIVEN automatic rollbacks must not be silent (notices)', () => {
  const roleStatementsOf = (functionName: string) => {
    const [fn] = Object.values(tooling.findResources('AWS::Lambda::Function', { Properties: { FunctionName: functionName } }));
    const roleId = ((fn!.Properties as Json).Role as { 'Fn::GetAtt': string[] })['Fn::GetAtt'][0];
    return Object.values(tooling.findResources('AWS::IAM::Policy'))
      .filter((p) => ((p.Properties as { Roles: { Ref: string }[] }).Roles ?? []).some((r) => r.Ref === roleId))
      .flatMap((p) => (p.Properties as { PolicyDocument: { Statement: Json[] } }).PolicyDocument.Statement);
  };
  const topicId = () => Object.keys(tooling.findResources('AWS::SNS::Topic'))[0]!;
  const keyIdOfTopic = () => ((Object.values(tooling.findResources('AWS::SNS::Topic'))[0]!.Properties as Json).KmsMasterKeyId as { 'Fn::GetAtt': string[] })['Fn::GetAtt'][0];

  it.each(['lrp-shift-traffic', 'lrp-rollback'])('THEN %s knows the topic and may publish to it alone, with the data keys of its key', (functionName) => {
    tooling.hasResourceProperties('AWS::Lambda::Function', { FunctionName: functionName, Environment: { Variables: Match.objectLike({ NOTICES_TOPIC_ARN: { Ref: topicId() } }) } });
    const statements = roleStatementsOf(functionName);
    expect(statements).toContainEqual({ Action: ['sns:Publish'], Effect: 'Allow', Resource: { Ref: topicId() } });
    expect(statements).toContainEqual({ Action: ['kms:Decrypt', 'kms:GenerateDataKey'], Effect: 'Allow', Resource: { 'Fn::GetAtt': [keyIdOfTopic(), 'Arn'] } });
  });

  it.each(['lrp-integration-test', 'lrp-deploy-window'])('THEN %s, which never rolls back, may not publish', (functionName) => {
    expect(JSON.stringify(roleStatementsOf(functionName))).not.toContain('sns:Publish');
  });

  it('THEN an event in the rollback dead-letter queue and any deployment function failure raise an alarm on the topic', () => {
    tooling.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'lrp-rollback-dead-letters',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Namespace: 'AWS/SQS',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      AlarmActions: [{ Ref: topicId() }],
    });
    tooling.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'lrp-deployment-function-errors',
      Threshold: 1,
      Metrics: Match.arrayWith([Match.objectLike({ Expression: 'e0 + e1 + e2 + e3' })]),
      AlarmActions: [{ Ref: topicId() }],
    });
  });

  it('THEN CloudWatch, from this account, may publish alarm actions to the KMS-encrypted topic', () => {
    tooling.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Principal: { Service: 'cloudwatch.amazonaws.com' }, Action: 'sns:Publish', Condition: { StringEquals: { 'aws:SourceAccount': Match.anyValue() } } })]) },
    });
    tooling.hasResourceProperties('AWS::KMS::Key', {
      KeyPolicy: { Statement: Match.arrayWith([Match.objectLike({ Principal: { Service: 'cloudwatch.amazonaws.com' }, Action: ['kms:Decrypt', 'kms:GenerateDataKey*'] })]) },
    });
  });

  it.each(config.functions.map((fn) => fn.name))('THEN the dashboard of %s shows its deployments\' timeline from the deployment functions\' logs', (name) => {
    const [dashboard] = Object.values(pipelines[`lrp-pipeline-${name}`]!.findResources('AWS::CloudWatch::Dashboard'));
    const body = JSON.stringify(dashboard!.Properties);
    expect(body).toContain('deployment timeline');
    expect(body).toContain(`functionName like /^${name}-/`);
    expect(body).toContain('ispresent(deploymentId)');
  });
});
