import { ArnFormat, CfnCapabilities, Duration, Stack, Tags, Validations, type StackProps } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as codebuild from 'aws-cdk-lib/aws-codebuild';
import * as codepipeline from 'aws-cdk-lib/aws-codepipeline';
import * as notifications from 'aws-cdk-lib/aws-codestarnotifications';
import * as actions from 'aws-cdk-lib/aws-codepipeline-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import type { Construct } from 'constructs';
import { PACKAGED_DIR, packagedTemplateFile, templateConfigurationFile } from '../../scripts/lib/package';
import type { ReleaseConfig } from '../config';
import { checkActionConfigurationValue } from './limits';
import { DeploymentFunction, HOTFIX_REASON_VARIABLE, NO_HOTFIX_REASON, type PipelinePlan, type PlannedAction } from './release-plan';
import { BUILD_CACHE_PREFIX, FUNCTION_CODE_PREFIX, PIPELINE_ARTIFACT_PREFIX, deploymentFunctionName, type ToolingStack } from './tooling-stack';
import { generatedAlarmName } from '../../deploy-functions/core/names';

/** The transform SAM templates declare; the packaged templates keep it. */
export const SAM_TRANSFORM = 'Serverless-2016-10-31';

/** Props of one function's pipeline stack. */
export interface FunctionPipelineStackProps extends StackProps {
  readonly config: ReleaseConfig;
  readonly plan: PipelinePlan;
  /** The shared tooling; its resources are imported by ARN, so grants here never modify the tooling stack. */
  readonly tooling: ToolingStack;
}

/**
 * One function's release: a CodePipeline (V2) rendered from its plan, the CloudFormation execution role its stacks
 * deploy with, the alarms on each stage's `live` alias, and a dashboard.
 */
export class FunctionPipelineStack extends Stack {
  readonly pipeline: codepipeline.Pipeline;
  readonly alarms: cloudwatch.Alarm[] = [];

  constructor(scope: Construct, id: string, props: FunctionPipelineStackProps) {
    super(scope, id, props);
    const { config, plan, tooling } = props;
    const fn = plan.function;

    const artifactKey = kms.Key.fromKeyArn(this, 'ArtifactKey', tooling.artifactKey.keyArn);
    const artifactBucket = s3.Bucket.fromBucketAttributes(this, 'ArtifactBucket', { bucketArn: tooling.artifactBucket.bucketArn, encryptionKey: artifactKey });
    // With its key: whoever may publish (the approval action) may also encrypt with it, or SNS refuses the message.
    const topic = sns.Topic.fromTopicAttributes(this, 'Approvals', { topicArn: tooling.topic.topicArn, keyArn: tooling.topicKey.keyArn });
    // By name, in this stack's own account and region (the tooling stack's environment): CodePipeline needs both concrete.
    const deploymentFunctions = Object.fromEntries(
      Object.keys(tooling.functions).map((name) => [
        name,
        lambda.Function.fromFunctionAttributes(this, `Fn-${name}`, {
          functionArn: this.formatArn({ service: 'lambda', resource: 'function', resourceName: deploymentFunctionName(name as DeploymentFunction), arnFormat: ArnFormat.COLON_RESOURCE_NAME }),
          sameEnvironment: true,
        }),
      ]),
    ) as Record<DeploymentFunction, lambda.IFunction>;
    this.addStackDependency(tooling);

    const source = new codepipeline.Artifact('Source');
    const buildOutput = new codepipeline.Artifact('BuildOutput');
    const sourceAction = new actions.CodeStarConnectionsSourceAction({
      actionName: 'Source',
      role: this.sourceActionRole(config.repository.connectionArn),
      connectionArn: config.repository.connectionArn,
      owner: config.repository.owner,
      repo: config.repository.name,
      branch: config.repository.branch,
      output: source,
      variablesNamespace: 'SourceVariables',
    });
    const project = this.buildProject(fn.name, artifactBucket, artifactKey);
    const cfnRole = this.deploymentRole(fn, artifactBucket, artifactKey);
    const changeSetRole = this.changeSetActionRole();

    this.pipeline = new codepipeline.Pipeline(this, 'Pipeline', {
      pipelineName: `${PIPELINE_ARTIFACT_PREFIX}${fn.name}`,
      pipelineType: codepipeline.PipelineType.V2,
      // Given when starting a release by hand ("Release change" → variables): lets a forward release out while alarms fire.
      variables: [new codepipeline.Variable({ variableName: HOTFIX_REASON_VARIABLE, defaultValue: NO_HOTFIX_REASON, description: 'Why this release may go out while alarms fire (no double quotes); none: it may not' })],
      artifactBucket,
      restartExecutionOnUpdate: false,
      triggers: [
        {
          providerType: codepipeline.ProviderType.CODE_STAR_SOURCE_CONNECTION,
          gitConfiguration: { sourceAction, pushFilter: [{ branchesIncludes: [config.repository.branch], filePathsIncludes: [...plan.triggerPaths] }] },
        },
      ],
    });
    new notifications.NotificationRule(this, 'DeploymentNotices', {
      notificationRuleName: `lrp-${fn.name}-notices`,
      source: this.pipeline,
      events: ['codepipeline-pipeline-pipeline-execution-failed', 'codepipeline-pipeline-pipeline-execution-succeeded', 'codepipeline-pipeline-pipeline-execution-superseded'],
      targets: [topic],
      detailType: notifications.DetailType.FULL,
    });

    let testsOfPreviousStage: actions.LambdaInvokeAction | undefined;
    for (const stage of plan.stages) {
      const rendered: codepipeline.IAction[] = [];
      let runOrder = 1;
      for (const action of stage.actions) {
        const made = this.render(action, { sourceAction, source, buildOutput, project, cfnRole, changeSetRole, topic, deploymentFunctions, fnName: fn.name, runOrder, testsOfPreviousStage });
        for (const a of made) rendered.push(a);
        runOrder += made.length;
        if (action.kind === 'invoke' && action.fn === DeploymentFunction.INTEGRATION_TEST) testsOfPreviousStage = made[0] as actions.LambdaInvokeAction;
      }
      this.pipeline.addStage({ stageName: stage.name, actions: rendered });
    }

    for (const managed of plan.managedFunctions) this.alarms.push(...this.liveAliasAlarms(managed.functionName, fn));
    this.dashboard(fn.name, plan, tooling);
    this.node.addValidation({ validate: () => this.actionConfigurationIssues() });
  }

  /** Every action configuration value as rendered, against CodePipeline's per-value limit (approval texts included). */
  private actionConfigurationIssues(): string[] {
    const stages = this.resolve((this.pipeline.node.defaultChild as codepipeline.CfnPipeline).stages) as { name: string; actions: { name: string; configuration?: Record<string, unknown> }[] }[];
    return stages.flatMap((stage) =>
      stage.actions.flatMap((action) =>
        Object.entries(action.configuration ?? {}).flatMap(([key, value]) => {
          if (typeof value !== 'string') return [];
          const issue = checkActionConfigurationValue(value, key, `${stage.name}/${action.name} ${key}`, 'Shorten it.');
          return issue ? [issue.message] : [];
        }),
      ),
    );

  }

  private render(
    action: PlannedAction,
    ctx: {
      sourceAction: actions.CodeStarConnectionsSourceAction;
      source: codepipeline.Artifact;
      buildOutput: codepipeline.Artifact;
      project: codebuild.PipelineProject;
      cfnRole: iam.Role;
      changeSetRole: iam.Role;
      topic: sns.ITopic;
      deploymentFunctions: Record<DeploymentFunction, lambda.IFunction>;
      fnName: string;
      runOrder: number;
      testsOfPreviousStage?: actions.LambdaInvokeAction;
    },
  ): codepipeline.IAction[] {
    switch (action.kind) {
      case 'source':
        return [ctx.sourceAction];
      case 'build':
        return [new actions.CodeBuildAction({ actionName: 'BuildTestPackage', project: ctx.project, input: ctx.source, outputs: [ctx.buildOutput], variablesNamespace: 'Build' })];
      case 'deploy': {
        const changeSetName = 'lrp-release';
        return [
          new actions.CloudFormationCreateReplaceChangeSetAction({
            actionName: 'PrepareChanges',
            stackName: action.stackName,
            changeSetName,
            adminPermissions: false,
            deploymentRole: ctx.cfnRole,
            templatePath: ctx.buildOutput.atPath(`${PACKAGED_DIR}/${packagedTemplateFile(ctx.fnName)}`),
            templateConfiguration: ctx.buildOutput.atPath(`${PACKAGED_DIR}/${templateConfigurationFile(ctx.fnName)}`),
            parameterOverrides: { Stage: action.stage },
            // SAM templates need AUTO_EXPAND; they create the function's role, hence ANONYMOUS_IAM.
            cfnCapabilities: [CfnCapabilities.ANONYMOUS_IAM, CfnCapabilities.AUTO_EXPAND],
            role: ctx.changeSetRole,
            runOrder: ctx.runOrder,
          }),
          new actions.CloudFormationExecuteChangeSetAction({ actionName: 'Deploy', stackName: action.stackName, changeSetName, role: ctx.changeSetRole, runOrder: ctx.runOrder + 1 }),
        ];
      }
      case 'approval': {
        const tests = ctx.testsOfPreviousStage;
        const testSummary = tests ? `${tests.variable('passed')} passed, ${tests.variable('failed')} failed in ${tests.variable('milliseconds')} ms` : 'no integration tests ran before this gate';
        return [
          new actions.ManualApprovalAction({
            actionName: 'Approve',
            notificationTopic: ctx.topic,
            additionalInformation: `Release ${ctx.fnName} to ${action.stage}. Commit ${ctx.sourceAction.variables.commitId}: ${ctx.sourceAction.variables.commitMessage}. Staging integration tests: ${testSummary}.`,
            runOrder: ctx.runOrder,
          }),
        ];
      }
      case 'invoke':
        return [
          new actions.LambdaInvokeAction({
            actionName: action.name,
            lambda: ctx.deploymentFunctions[action.fn],
            userParameters: action.userParameters,
            inputs: action.fn === DeploymentFunction.INTEGRATION_TEST ? [ctx.buildOutput] : [],
            variablesNamespace: action.namespace,
            runOrder: ctx.runOrder,
          }),
        ];
    }
  }

  private buildProject(fnName: string, artifactBucket: s3.IBucket, artifactKey: kms.IKey): codebuild.PipelineProject {
    const projectName = `lrp-${fnName}-build`;
    const project = new codebuild.PipelineProject(this, 'Build', {
      projectName,
      description: `Lint, typecheck, unit-test, bundle and package ${fnName} (buildspecs/build.yml)`,
      buildSpec: codebuild.BuildSpec.fromSourceFilename('buildspecs/build.yml'),
      environment: { buildImage: codebuild.LinuxBuildImage.STANDARD_7_0, computeType: codebuild.ComputeType.SMALL },
      environmentVariables: { FUNCTION_NAME: { value: fnName }, ARTIFACT_BUCKET: { value: artifactBucket.bucketName }, ARTIFACT_KEY_ARN: { value: artifactKey.keyArn } },
      cache: codebuild.Cache.bucket(artifactBucket, { prefix: `${BUILD_CACHE_PREFIX}${fnName}` }),
      encryptionKey: artifactKey,
      timeout: Duration.minutes(30),
    });
    // The buildspec's `unit-tests` report lands in this group (CodeBuild names it <project>-<report>).
    const reports = new codebuild.ReportGroup(this, 'UnitTestReports', { reportGroupName: `${projectName}-unit-tests`, type: codebuild.ReportGroupType.TEST });
    reports.grantWrite(project);
    // `npm run package` uploads the function's code under functions/<name>/.
    artifactBucket.grantReadWrite(project, `${FUNCTION_CODE_PREFIX}${fnName}/*`);
    Validations.of(project).acknowledge({ id: 'AwsSolutions-CB4', reason: 'The project encrypts with the pipeline artifact KMS key (encryptionKey is set).' });
    return project;
  }

  /**
   * The role the pipeline's change-set actions run as. CDK grants what each action does to its stack; the packaged
   * templates keep `Transform: AWS::Serverless-2016-10-31`, and creating a change set that runs a transform also needs
   * CreateChangeSet on the transform itself, or every first deploy is denied.
   */
  /**
   * The source action's role. CDK grants `codestar-connections:UseConnection` only, but IAM matches a connection by
   * the service prefix of its ARN: connections created since July 2024 are `arn:aws:codeconnections:…` and need
   * `codeconnections:UseConnection`.
   */
  private sourceActionRole(connectionArn: string): iam.Role {
    const role = new iam.Role(this, 'SourceActionRole', { assumedBy: new iam.AccountRootPrincipal(), description: 'CodePipeline source action: reads the repository through its connection' });
    const service = connectionArn.split(':')[2];
    if (service !== 'codestar-connections') role.addToPolicy(new iam.PolicyStatement({ actions: [`${service}:UseConnection`], resources: [connectionArn] }));
    return role;
  }

  private changeSetActionRole(): iam.Role {
    const role = new iam.Role(this, 'ChangeSetActionRole', { assumedBy: new iam.AccountRootPrincipal(), description: 'CodePipeline change-set actions of the application stacks' });
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['cloudformation:CreateChangeSet'],
        resources: [this.formatArn({ service: 'cloudformation', account: 'aws', resource: 'transform', resourceName: SAM_TRANSFORM })],
      }),
    );
    return role;
  }

  /** The role CloudFormation deploys this function's stacks with: only the resources those templates create. */
  private deploymentRole(fn: ReleaseConfig['functions'][number], artifactBucket: s3.IBucket, artifactKey: kms.IKey): iam.Role {
    const fnName = fn.name;
    const role = new iam.Role(this, 'CloudFormationRole', {
      assumedBy: new iam.ServicePrincipal('cloudformation.amazonaws.com'),
      description: `CloudFormation execution role for the ${fnName} application stacks`,
    });
    const functions = this.formatArn({ service: 'lambda', resource: 'function', resourceName: `${fnName}-*`, arnFormat: ArnFormat.COLON_RESOURCE_NAME });
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: [
          'lambda:CreateFunction', 'lambda:DeleteFunction', 'lambda:GetFunction', 'lambda:GetFunctionConfiguration', 'lambda:UpdateFunctionCode',
          'lambda:UpdateFunctionConfiguration', 'lambda:PublishVersion', 'lambda:ListVersionsByFunction', 'lambda:CreateAlias', 'lambda:UpdateAlias',
          'lambda:DeleteAlias', 'lambda:GetAlias', 'lambda:AddPermission', 'lambda:RemovePermission', 'lambda:GetPolicy', 'lambda:TagResource',
          'lambda:UntagResource', 'lambda:ListTags',
          // Reads the Function, Version and Alias handlers make on every create, read and update (registry schemas).
          'lambda:GetFunctionCodeSigningConfig', 'lambda:GetRuntimeManagementConfig', 'lambda:GetFunctionRecursionConfig', 'lambda:GetFunctionScalingConfig',
          'lambda:GetProvisionedConcurrencyConfig',
        ],
        resources: [functions, `${functions}:*`],
      }),
    );
    // SAM names the function's role after the stack: lrp-app-<function>-<stage>-FunctionRole-<suffix>.
    const roles = this.formatArn({ service: 'iam', region: '', resource: 'role', resourceName: `lrp-app-${fnName}-*` });
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: [
          'iam:CreateRole', 'iam:DeleteRole', 'iam:GetRole', 'iam:PassRole', 'iam:AttachRolePolicy', 'iam:DetachRolePolicy', 'iam:PutRolePolicy', 'iam:DeleteRolePolicy',
          'iam:GetRolePolicy', 'iam:TagRole', 'iam:UntagRole', 'iam:ListRoleTags', 'iam:UpdateRole', 'iam:UpdateRoleDescription', 'iam:UpdateAssumeRolePolicy',
          // Without these the delete handler cannot remove the role, and a failed first create ends in ROLLBACK_FAILED.
          'iam:ListAttachedRolePolicies', 'iam:ListRolePolicies',
        ],
        resources: [roles],
      }),
    );
    artifactBucket.grantRead(role, `${FUNCTION_CODE_PREFIX}${fnName}/*`);
    artifactKey.grantDecrypt(role);
    const substitute = (text: string) => text.replaceAll('${Region}', this.region).replaceAll('${Account}', this.account);
    for (const extra of fn.deployPermissions) {
      role.addToPolicy(
        new iam.PolicyStatement({
          actions: extra.actions,
          resources: extra.resources.map(substitute),
          ...(extra.conditions
            ? { conditions: Object.fromEntries(Object.entries(extra.conditions).map(([op, keys]) => [op, Object.fromEntries(Object.entries(keys).map(([k, v]) => [k, Array.isArray(v) ? v.map(substitute) : substitute(v)]))])) }
            : {}),
        }),
      );
    }
    return role;
  }

  /** Errors, Throttles and Duration p99 on a managed function's `live` alias, named so the engine can find them. */
  private liveAliasAlarms(functionName: string, fn: ReleaseConfig['functions'][number]): cloudwatch.Alarm[] {
    const dimensionsMap = { FunctionName: functionName, Resource: `${functionName}:live` };
    const metric = (metricName: string, statistic: string) => new cloudwatch.Metric({ namespace: 'AWS/Lambda', metricName, dimensionsMap, statistic, period: Duration.minutes(1) });
    const specs = [
      { metric: 'errors', m: metric('Errors', 'Sum'), threshold: fn.alarmThresholds.errors, periods: 1 },
      { metric: 'throttles', m: metric('Throttles', 'Sum'), threshold: fn.alarmThresholds.throttles, periods: 1 },
      { metric: 'duration-p99', m: metric('Duration', 'p99'), threshold: (fn.timeoutSeconds * 1000 * fn.alarmThresholds.durationP99PercentOfTimeout) / 100, periods: 3 },
    ];
    return specs.map((spec) => {
      const alarm = new cloudwatch.Alarm(this, `${functionName}-${spec.metric}`, {
        alarmName: generatedAlarmName(functionName, 'live', spec.metric),
        alarmDescription: `${spec.metric} of ${functionName}:live; an ALARM during a rollout or bake window rolls the release back`,
        metric: spec.m,
        threshold: spec.threshold,
        evaluationPeriods: spec.periods,
        datapointsToAlarm: Math.min(spec.periods, 2),
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      Tags.of(alarm).add('lrp:function', functionName);
      Tags.of(alarm).add('lrp:alias', 'live');
      return alarm;
    });
  }

  private dashboard(fnName: string, plan: PipelinePlan, tooling: ToolingStack): void {
    const widgets: cloudwatch.IWidget[][] = [];
    for (const { functionName } of plan.managedFunctions) {
      const byVersion = (metricName: string) =>
        new cloudwatch.MathExpression({
          expression: `SEARCH('{AWS/Lambda,ExecutedVersion,FunctionName,Resource} MetricName="${metricName}" FunctionName="${functionName}"', 'Sum', 60)`,
          label: metricName,
          usingMetrics: {},
        });
      const aliasTraffic = (alias: string) =>
        new cloudwatch.Metric({ namespace: 'AWS/Lambda', metricName: 'Invocations', dimensionsMap: { FunctionName: functionName, Resource: `${functionName}:${alias}` }, statistic: 'Sum', period: Duration.minutes(1), label: alias });
      widgets.push([
        new cloudwatch.GraphWidget({ title: `${functionName}: invocations per executed version`, left: [byVersion('Invocations')], width: 8 }),
        new cloudwatch.GraphWidget({ title: `${functionName}: errors per executed version`, left: [byVersion('Errors')], width: 8 }),
        new cloudwatch.GraphWidget({ title: `${functionName}: alias traffic`, left: [aliasTraffic('live'), aliasTraffic('candidate')], width: 8 }),
      ]);
    }
    widgets.push([new cloudwatch.AlarmStatusWidget({ title: `${fnName}: live alias alarms`, alarms: this.alarms, width: 12 })]);
    widgets.push([
      new cloudwatch.GraphWidget({
        title: 'Deployment function errors',
        left: Object.keys(tooling.functions).map((name) =>
          new cloudwatch.Metric({ namespace: 'AWS/Lambda', metricName: 'Errors', dimensionsMap: { FunctionName: deploymentFunctionName(name as DeploymentFunction) }, statistic: 'Sum', period: Duration.minutes(1), label: name }),
        ),
        width: 12,
      }),
    ]);
    new cloudwatch.Dashboard(this, 'Dashboard', { dashboardName: `lrp-${fnName}`, widgets });
  }
}
