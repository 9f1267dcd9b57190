import { ArnFormat, CfnCapabilities, PhysicalName, Stack, type StackProps } from 'aws-cdk-lib';
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
import type { FunctionConfig, ReleaseConfig } from '../config';
import { applicationBoundaryArn } from './application-boundary';
import { createBuildProject } from './build-project';
import { CODE_ARTIFACT, grantRegionalCode, needsRegionalCode, regionalCodeOverrides, type RegionalCodeGrant } from './cross-region-code';
import { pipelineActionRole, repositorySourceAction } from './pipeline-source';
import { createDeploymentRole } from './deployment-role';
import { checkActionConfigurationValue } from './limits';
import { createLiveAliasAlarms } from './live-alarms';
import { createPipelineDashboard } from './pipeline-dashboard';
import { DeploymentFunction, HOTFIX_REASON_VARIABLE, NO_HOTFIX_REASON, type PipelinePlan, type PlannedAction } from './release-plan';
import type { InstallationNames } from './installation-names';
import type { ToolingStack } from './tooling-stack';
import type { TargetStack } from './target-stack';
import type { AwsEnv } from '../../deploy-functions/core/names';

/** The transform SAM templates declare; the packaged templates keep it. */

/** Props of one function's pipeline stack. */
export interface FunctionPipelineStackProps extends StackProps {
  readonly config: ReleaseConfig;
  readonly plan: PipelinePlan;
  /** The shared tooling; its resources are imported by ARN, so grants here never modify the tooling stack. */
  readonly tooling: ToolingStack;
  /** The function's timeout (from its template), for the Duration p99 alarm. */
  readonly timeoutSeconds: number;
  /** The target stack of an account and region a stage deploys to (remote stages only). @default - every stage is local */
  readonly targetOf?: (env: AwsEnv) => TargetStack;
}

/**
 * One function's release: a CodePipeline (V2) rendered from its plan, the CloudFormation execution role its stacks
 * deploy with, the alarms on each stage's `live` alias, and a dashboard.
 */
export class FunctionPipelineStack extends Stack {
  readonly pipeline: codepipeline.Pipeline;
  /** The role CodePipeline runs as; every action role trusts only it. */
  readonly pipelineRole: iam.Role;
  readonly alarms: cloudwatch.Alarm[] = [];
  private readonly names: InstallationNames;
  /** The stages in another region than this stack's, whose CloudFormation roles read the replicated `Code` artifact. */
  private readonly regionalCode: RegionalCodeGrant[] = [];

  constructor(scope: Construct, id: string, props: FunctionPipelineStackProps) {
    super(scope, id, props);
    const { config, plan, tooling } = props;
    const fn = plan.function;
    this.names = tooling.names;

    // A remote stage's roles (in its target stack) read through it too: the key's ARN as such stacks may write it.
    const artifactKey = kms.Key.fromKeyArn(this, 'ArtifactKey', tooling.artifactKeyArnAnywhere);
    const artifactBucket = s3.Bucket.fromBucketAttributes(this, 'ArtifactBucket', { bucketArn: tooling.artifactBucket.bucketArn, encryptionKey: artifactKey });
    // With its key: whoever may publish (the approval action) may also encrypt with it, or SNS refuses the message.
    const topic = sns.Topic.fromTopicAttributes(this, 'Approvals', { topicArn: tooling.topic.topicArn, keyArn: tooling.topicKey.keyArn });
    // By name, in this stack's own account and region (the tooling stack's environment): CodePipeline needs both concrete.
    const deploymentFunctions = Object.fromEntries(
      Object.keys(tooling.functions).map((name) => [
        name,
        lambda.Function.fromFunctionAttributes(this, `Fn-${name}`, {
          functionArn: this.formatArn({ service: 'lambda', resource: 'function', resourceName: tooling.names.deploymentFunction(name as DeploymentFunction), arnFormat: ArnFormat.COLON_RESOURCE_NAME }),
          sameEnvironment: true,
        }),
      ]),
    ) as Record<DeploymentFunction, lambda.IFunction>;
    this.addStackDependency(tooling);

    // The pipeline's own role, and one role per action that only it may assume (CDK's default action roles trust the
    // whole account: anyone there allowed sts:AssumeRole could run an action, a change set into production included).
    // Named only when a target stack's action role trusts it (a remote stage).
    this.pipelineRole = new iam.Role(this, 'PipelineRole', { roleName: PhysicalName.GENERATE_IF_NEEDED, assumedBy: new iam.ServicePrincipal('codepipeline.amazonaws.com'), description: `CodePipeline ${tooling.names.pipeline(fn.name)}` });
    const source = new codepipeline.Artifact('Source');
    const buildOutput = new codepipeline.Artifact('BuildOutput');
    const code = new codepipeline.Artifact(CODE_ARTIFACT);
    const sourceAction = repositorySourceAction(this, config.repository, this.pipelineRole, source);
    const project = createBuildProject(this, tooling.names, fn.name, artifactBucket, artifactKey);
    // One CloudFormation role per stage, naming only that stage's resources: staging, deployed before the production
    // gates, cannot touch production.
    // A remote stage's role lives in its target stack (see `render`).
    const local = config.stages.filter((stage) => !tooling.environments.of(stage.name).remote);
    const cfnRoles = Object.fromEntries(
      local.map((stage, index) => [
        stage.name,
        // The first keeps the id of the single role earlier versions deployed.
        createDeploymentRole(this, index === 0 ? 'CloudFormationRole' : `CloudFormationRole-${stage.name}`, { fn, stages: [stage.name], artifactBucket, artifactKey, boundaryArn: applicationBoundaryArn(this, tooling.names.applicationBoundary), names: tooling.names }),
      ]),
    );
    const changeSetRole = this.changeSetActionRole();

    this.pipeline = new codepipeline.Pipeline(this, 'Pipeline', {
      pipelineName: tooling.names.pipeline(fn.name),
      pipelineType: codepipeline.PipelineType.V2,
      // Given when starting a release by hand ("Release change" → variables): lets a forward release out while alarms fire.
      variables: [new codepipeline.Variable({ variableName: HOTFIX_REASON_VARIABLE, defaultValue: NO_HOTFIX_REASON, description: 'Why this release may go out while alarms fire (no double quotes); none: it may not' })],
      artifactBucket,
      role: this.pipelineRole,
      // The control pipeline deploys this pipeline; when it changed its definition (strategy, alarms, stages), the
      // pipeline runs again at once with it, rather than on the function's next push.
      restartExecutionOnUpdate: true,
      // Remote stages: CDK's cross-region replication buckets (one support stack per region, shared by every
      // pipeline) get their own rotated keys, which the target accounts' action roles are granted.
      ...(local.length < config.stages.length ? { crossAccountKeys: true, enableKeyRotation: true } : {}),
      triggers: [
        {
          providerType: codepipeline.ProviderType.CODE_STAR_SOURCE_CONNECTION,
          gitConfiguration: { sourceAction, pushFilter: [{ branchesIncludes: [config.repository.branch], filePathsIncludes: [...plan.triggerPaths] }] },
        },
      ],
    });
    new notifications.NotificationRule(this, 'DeploymentNotices', {
      notificationRuleName: tooling.names.notificationRule(fn.name),
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
        const made = this.render(action, { sourceAction, source, buildOutput, code, project, cfnRoles, changeSetRole, topic, deploymentFunctions, fn, runOrder, testsOfPreviousStage, artifacts: { bucket: artifactBucket, key: artifactKey }, targetOf: props.targetOf });
        for (const a of made) rendered.push(a);
        runOrder += made.length;
        if (action.kind === 'invoke' && action.fn === DeploymentFunction.INTEGRATION_TEST) testsOfPreviousStage = made[0] as actions.LambdaInvokeAction;
      }
      this.pipeline.addStage({ stageName: stage.name, actions: rendered });
    }
    grantRegionalCode(this.pipeline, tooling.names.pipelineArtifactFolder(fn.name), this.regionalCode);

    // A remote stage's alarms watch its account's metrics: its target stack creates them.
    for (const managed of plan.managedFunctions.filter((m) => !m.env.remote)) this.alarms.push(...createLiveAliasAlarms(this, tooling.names, managed.functionName, fn, props.timeoutSeconds));
    createPipelineDashboard(this, { fnName: fn.name, plan, tooling, alarms: this.alarms });
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
      code: codepipeline.Artifact;
      project: codebuild.PipelineProject;
      cfnRoles: Record<string, iam.Role>;
      changeSetRole: iam.Role;
      topic: sns.ITopic;
      deploymentFunctions: Record<DeploymentFunction, lambda.IFunction>;
      fn: FunctionConfig;
      runOrder: number;
      testsOfPreviousStage?: actions.LambdaInvokeAction;
      artifacts: { readonly bucket: s3.IBucket; readonly key: kms.IKey };
      targetOf?: (env: AwsEnv) => TargetStack;
    },
  ): codepipeline.IAction[] {
    switch (action.kind) {
      case 'source':
        return [ctx.sourceAction];
      case 'build':
        return [new actions.CodeBuildAction({ actionName: 'BuildTestPackage', project: ctx.project, input: ctx.source, outputs: [ctx.buildOutput, ctx.code], variablesNamespace: 'Build', role: this.actionRole('BuildActionRole') })];
      case 'deploy': {
        const changeSetName = this.names.changeSet;
        const fnName = ctx.fn.name;
        // A remote stage deploys with its target stack's roles, in its region (CDK replicates the artifacts there).
        const remote = action.env.remote ? { ...this.targetRoles(action.env, ctx.fn, action.stage, ctx), region: action.env.region } : undefined;
        const deploymentRole = remote?.cfnRole ?? ctx.cfnRoles[action.stage]!;
        // In another region, the function's code is the build's Code artifact as replicated there.
        const regional = remote !== undefined && needsRegionalCode(remote.region, this.region);
        if (regional) this.regionalCode.push({ region: remote.region, cfnRole: deploymentRole });
        return [
          new actions.CloudFormationCreateReplaceChangeSetAction({
            actionName: 'PrepareChanges',
            stackName: action.stackName,
            changeSetName,
            adminPermissions: false,
            deploymentRole,
            templatePath: ctx.buildOutput.atPath(`${PACKAGED_DIR}/${packagedTemplateFile(fnName)}`),
            templateConfiguration: ctx.buildOutput.atPath(`${PACKAGED_DIR}/${templateConfigurationFile(fnName)}`),
            parameterOverrides: { Stage: action.stage, ...(regional ? regionalCodeOverrides(ctx.code) : {}) },
            ...(regional ? { extraInputs: [ctx.code] } : {}),
            // SAM templates need AUTO_EXPAND; they create the function's role, hence ANONYMOUS_IAM.
            cfnCapabilities: [CfnCapabilities.ANONYMOUS_IAM, CfnCapabilities.AUTO_EXPAND],
            role: remote?.actionRole ?? ctx.changeSetRole,
            ...(remote ? { region: remote.region } : {}),
            runOrder: ctx.runOrder,
          }),
          new actions.CloudFormationExecuteChangeSetAction({
            actionName: 'Deploy',
            stackName: action.stackName,
            changeSetName,
            role: remote?.actionRole ?? ctx.changeSetRole,
            ...(remote ? { region: remote.region } : {}),
            runOrder: ctx.runOrder + 1,
          }),
        ];
      }
      case 'approval': {
        const tests = ctx.testsOfPreviousStage;
        const testSummary = tests ? `${tests.variable('passed')} passed, ${tests.variable('failed')} failed in ${tests.variable('milliseconds')} ms` : 'no integration tests ran before this gate';
        return [
          new actions.ManualApprovalAction({
            actionName: 'Approve',
            role: this.actionRole(`ApproveActionRole-${action.stage}`),
            notificationTopic: ctx.topic,
            additionalInformation: `Release ${ctx.fn.name} to ${action.stage}. Commit ${ctx.sourceAction.variables.commitId}: ${ctx.sourceAction.variables.commitMessage}. Staging integration tests: ${testSummary}.`,
            runOrder: ctx.runOrder,
          }),
        ];
      }
      case 'invoke':
        return [
          new actions.LambdaInvokeAction({
            actionName: action.name,
            role: this.actionRole(`${action.namespace}ActionRole`),
            lambda: ctx.deploymentFunctions[action.fn],
            userParameters: action.userParameters,
            inputs: action.fn === DeploymentFunction.INTEGRATION_TEST ? [ctx.buildOutput] : [],
            variablesNamespace: action.namespace,
            runOrder: ctx.runOrder,
          }),
        ];
    }
  }

  /** The roles a remote stage deploys with, from the target stack of its account and region. */
  private targetRoles(env: AwsEnv, fn: FunctionConfig, stage: string, ctx: { artifacts: { readonly bucket: s3.IBucket; readonly key: kms.IKey }; targetOf?: (env: AwsEnv) => TargetStack }) {
    if (!ctx.targetOf) throw new Error(`stage ${stage} deploys to ${env.account}/${env.region}, but no target stack was given for it`);
    return ctx.targetOf(env).deploymentRoles(fn, stage, this.pipelineRole, ctx.artifacts);
  }

  /** A role for pipeline actions that only this pipeline's role may assume (one per id). */
  private actionRole(id: string, description?: string): iam.Role {
    return pipelineActionRole(this, id, this.pipelineRole, description);
  }

  /**
   * The role the pipeline's change-set actions run as; CDK grants what each action does to its stack. The packaged
   * templates are plain CloudFormation (translated at build), so no transform needs CreateChangeSet.
   */
  private changeSetActionRole(): iam.Role {
    return this.actionRole('ChangeSetActionRole', 'CodePipeline change-set actions of the application stacks');
  }
}
