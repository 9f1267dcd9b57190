import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BootstraplessSynthesizer, DefaultStackSynthesizer, Duration, Fn, RemovalPolicy, Stack, Token, Validations, type StackProps } from 'aws-cdk-lib';
import * as codebuild from 'aws-cdk-lib/aws-codebuild';
import * as codepipeline from 'aws-cdk-lib/aws-codepipeline';
import * as actions from 'aws-cdk-lib/aws-codepipeline-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import type { ReleaseConfig } from '../config';
import { SynthEnvironment, deployBuildSpec, synthBuildSpec } from './control-pipeline-buildspecs';
import { pipelineActionRole, repositorySourceAction } from './pipeline-source';
import { BootstrapRole, CONTROL, CONTROL_TRIGGER_PATHS, bootstrapRoleArn, type BootstrapEnvironment } from './control-pipeline-plan';

const PROJECT_ROOT = join(import.meta.dirname, '..', '..');

/** Props of the control pipeline's stack. */
export interface ControlPipelineStackProps extends StackProps {
  readonly config: ReleaseConfig;
  /** Every other stack of the app: the deploy step deploys them all, each through its environment's bootstrap roles. */
  readonly deploys: readonly Stack[];
  /** @default - the aws-cdk version package-lock.json pins */
  readonly cdkCliVersion?: string;
}

/**
 * `<installation>-control`: the pipeline that deploys the release app itself. A push to the release branch touching a
 * control path (CONTROL_TRIGGER_PATHS) is installed, tested and synthesized; the pipeline then deploys its own stack
 * (restarting when its definition changed, like CDK Pipelines' UpdatePipeline), then every other stack of the app with
 * `cdk deploy`, through the CDK bootstrap roles of each stack's environment. Standalone: it shares no resource with the
 * tooling stack, so it can be deployed first and alone, and a failed tooling deploy never breaks it.
 */
export class ControlPipelineStack extends Stack {
  readonly pipeline: codepipeline.Pipeline;
  /** The role CodePipeline runs as; every action role trusts only it. */
  readonly pipelineRole: iam.Role;
  /** The projects of the three CodeBuild steps. */
  readonly projects: { readonly synth: codebuild.PipelineProject; readonly selfUpdate: codebuild.PipelineProject; readonly deploy: codebuild.PipelineProject };

  constructor(scope: Construct, id: string, props: ControlPipelineStackProps) {
    super(scope, id, props);
    const { config } = props;
    const name = `${config.installation}-${CONTROL}`;
    const cliVersion = props.cdkCliVersion ?? lockedCdkCliVersion();

    const artifactKey = new kms.Key(this, 'ArtifactKey', { description: `${name} pipeline artifacts`, enableKeyRotation: true, removalPolicy: RemovalPolicy.RETAIN });
    const artifactBucket = this.artifactBucket(artifactKey, config.artifactRetentionDays);

    this.pipelineRole = new iam.Role(this, 'PipelineRole', { assumedBy: new iam.ServicePrincipal('codepipeline.amazonaws.com'), description: `CodePipeline ${name}` });
    const source = new codepipeline.Artifact('Source');
    const assembly = new codepipeline.Artifact('CloudAssembly');
    const sourceAction = repositorySourceAction(this, config.repository, this.pipelineRole, source);

    const project = (projectId: string, projectName: string, description: string, buildSpec: Record<string, unknown>, more: Partial<codebuild.PipelineProjectProps> = {}) =>
      new codebuild.PipelineProject(this, projectId, {
        projectName,
        description,
        buildSpec: codebuild.BuildSpec.fromObject(buildSpec),
        environment: { buildImage: codebuild.LinuxBuildImage.STANDARD_7_0, computeType: codebuild.ComputeType.SMALL },
        encryptionKey: artifactKey,
        timeout: Duration.minutes(30),
        ...more,
      });
    const synth = project('Synth', `${name}-synth`, 'Install, lint, type-check, run the whole test suite, and synthesize the release app', synthBuildSpec(), {
      // The whole suite and a synth: more memory and cores than a function's build.
      environment: { buildImage: codebuild.LinuxBuildImage.STANDARD_7_0, computeType: codebuild.ComputeType.MEDIUM },
      // The tooling environment and connection this stack was deployed with, so CodeBuild synthesizes the same app.
      environmentVariables: {
        [SynthEnvironment.ACCOUNT]: { value: this.account },
        [SynthEnvironment.REGION]: { value: this.region },
        [SynthEnvironment.CONNECTION_ARN]: { value: config.repository.connectionArn },
      },
      cache: codebuild.Cache.bucket(artifactBucket, { prefix: 'cache/synth' }),
    });
    new codebuild.ReportGroup(this, 'UnitTestReports', { reportGroupName: `${name}-synth-unit-tests`, type: codebuild.ReportGroupType.TEST }).grantWrite(synth);
    const selfUpdate = project('SelfUpdate', `${name}-update`, `Deploy ${this.stackName} from the synthesized app (the control pipeline updates itself first)`, deployBuildSpec({ cliVersion, stackIds: [this.node.path] }));
    const deploy = project('Deploy', `${name}-deploy`, 'Deploy every other stack of the release app through the CDK bootstrap roles of its environment', deployBuildSpec({ cliVersion, stackIds: props.deploys.map((stack) => stack.node.path) }), {
      timeout: Duration.minutes(60),
    });
    this.projects = { synth, selfUpdate, deploy };
    // Only the deploy steps may assume bootstrap roles, each only those of the environments it deploys to; the build
    // that runs the pushed tests holds none.
    this.allowAssuming(selfUpdate, [this]);
    this.allowAssuming(deploy, props.deploys);

    this.pipeline = new codepipeline.Pipeline(this, 'Pipeline', {
      pipelineName: name,
      pipelineType: codepipeline.PipelineType.V2,
      artifactBucket,
      role: this.pipelineRole,
      // When the self-update changed the pipeline, CodePipeline ends this execution and starts one with the new definition.
      restartExecutionOnUpdate: true,
      triggers: [
        {
          providerType: codepipeline.ProviderType.CODE_STAR_SOURCE_CONNECTION,
          gitConfiguration: { sourceAction, pushFilter: [{ branchesIncludes: [config.repository.branch], filePathsIncludes: [...CONTROL_TRIGGER_PATHS] }] },
        },
      ],
      stages: [
        { stageName: 'Source', actions: [sourceAction] },
        { stageName: 'Build', actions: [new actions.CodeBuildAction({ actionName: 'Synth', project: synth, input: source, outputs: [assembly], role: this.actionRole('SynthActionRole') })] },
        { stageName: 'UpdatePipeline', actions: [new actions.CodeBuildAction({ actionName: 'SelfUpdate', project: selfUpdate, input: assembly, role: this.actionRole('SelfUpdateActionRole') })] },
        { stageName: 'Deploy', actions: [new actions.CodeBuildAction({ actionName: 'Deploy', project: deploy, input: assembly, role: this.actionRole('DeployActionRole') })] },
      ],
    });
    this.node.addValidation({ validate: () => undeployedStacks(this, props.deploys) });
  }

  /** The artifact bucket (KMS, TLS only, access-logged) and its access-log bucket; artifacts expire like the tooling's. */
  private artifactBucket(encryptionKey: kms.Key, retentionDays: number): s3.Bucket {
    const common = { enforceSSL: true, blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL, removalPolicy: RemovalPolicy.RETAIN };
    const accessLogs = new s3.Bucket(this, 'AccessLogs', { ...common, encryption: s3.BucketEncryption.S3_MANAGED, objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED, lifecycleRules: [{ expiration: Duration.days(365) }] });
    Validations.of(accessLogs).acknowledge({ id: 'AwsSolutions-S1', reason: 'This bucket receives the control artifact bucket access logs; logging it into itself would loop.' });
    return new s3.Bucket(this, 'Artifacts', {
      ...common,
      encryption: s3.BucketEncryption.KMS,
      encryptionKey,
      bucketKeyEnabled: true,
      serverAccessLogsBucket: accessLogs,
      serverAccessLogsPrefix: 'artifacts/',
      lifecycleRules: [{ expiration: Duration.days(retentionDays), abortIncompleteMultipartUploadAfter: Duration.days(1) }],
    });
  }

  /** Lets a deploy project assume exactly the bootstrap roles `cdk deploy` uses for these stacks. */
  private allowAssuming(project: codebuild.PipelineProject, stacks: readonly Stack[]): void {
    const roles = [...new Set(stacks.flatMap(bootstrapRolesOf))];
    project.addToRolePolicy(new iam.PolicyStatement({ sid: 'AssumeCdkBootstrapRoles', actions: ['sts:AssumeRole'], resources: roles.map((arn) => Fn.sub(arn)) }));
  }

  /** A role for pipeline actions that only this pipeline's role may assume. */
  private actionRole(id: string): iam.Role {
    return pipelineActionRole(this, id, this.pipelineRole);
  }
}

/**
 * The bootstrap roles `cdk deploy` assumes for a stack, as CDK writes their ARNs (`${AWS::Partition}`, and
 * `${AWS::AccountId}` / `${AWS::Region}` for an environment-agnostic stack): its environment's deploy and
 * file-publishing roles; only the deploy role it names for a stack without assets (CodePipeline's cross-region
 * support stacks name the pipeline's). Fails for a stack that deploys with other roles.
 */
export function bootstrapRolesOf(stack: Stack): string[] {
  const synthesizer = stack.synthesizer;
  if (synthesizer instanceof BootstraplessSynthesizer) return [synthesizer.deployRoleArn];
  if (!(synthesizer instanceof DefaultStackSynthesizer)) throw new Error(`${stack.node.path}: the control pipeline deploys through the CDK bootstrap roles, which ${synthesizer.constructor.name} does not use`);
  const env: BootstrapEnvironment = {
    ...(Token.isUnresolved(stack.account) ? {} : { account: stack.account }),
    ...(Token.isUnresolved(stack.region) ? {} : { region: stack.region }),
    qualifier: synthesizer.bootstrapQualifier ?? DefaultStackSynthesizer.DEFAULT_QUALIFIER,
  };
  if (synthesizer.deployRoleArn !== bootstrapRoleArn(BootstrapRole.DEPLOY, env)) throw new Error(`${stack.node.path} deploys with ${synthesizer.deployRoleArn}, not the bootstrap deploy role the control pipeline may assume`);
  return Object.values(BootstrapRole).map((role) => bootstrapRoleArn(role, env));
}

/** Stacks of the app that neither the control pipeline is nor its deploy step deploys (added after it was built). */
function undeployedStacks(control: Stack, deploys: readonly Stack[]): string[] {
  const missing = control.node.root.node.children.filter((child): child is Stack => Stack.isStack(child) && child !== control && !deploys.includes(child));
  return missing.map((stack) => `${stack.node.path} is not deployed by ${control.node.path}: build the control pipeline after every other stack of the app`);
}

/** The aws-cdk CLI version package-lock.json pins: the deploy steps use the CLI the tests ran with. */
export function lockedCdkCliVersion(lockFile = join(PROJECT_ROOT, 'package-lock.json')): string {
  const lock = JSON.parse(readFileSync(lockFile, 'utf8')) as { packages?: Record<string, { version?: string }> };
  const version = lock.packages?.['node_modules/aws-cdk']?.version;
  if (version === undefined) throw new Error(`${lockFile} pins no aws-cdk: the control pipeline deploys with the CDK CLI the lock file pins (npm install --save-dev aws-cdk)`);
  return version;
}
