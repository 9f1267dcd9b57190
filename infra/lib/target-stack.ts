import { ArnFormat, PhysicalName, Stack, type StackProps } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import { stageFunctionName, type AwsEnv } from '../../deploy-functions/core/names';
import type { FunctionConfig, ReleaseConfig } from '../config';
import { applicationBoundaryArn, createApplicationBoundary } from './application-boundary';
import { createDeploymentGuard, createDeploymentRole } from './deployment-role';
import type { InstallationNames } from './installation-names';
import { createLiveAliasAlarms } from './live-alarms';
import { alarmNameGroups, alarmStateChangePattern, declaredAlarmNames } from './alarm-patterns';

/** Props of one target environment's stack. */
export interface TargetStackProps extends StackProps {
  /** The configuration, with each template's settings (timeouts) filled in. */
  readonly config: ReleaseConfig;
  readonly names: InstallationNames;
  /** The tooling stack's environment: the only account the deployer role trusts, and where alarm events go. */
  readonly tooling: AwsEnv;
  /** The stages that deploy to this environment. */
  readonly stages: readonly string[];
  /**
   * Create the account's application boundary and deploy guard here, `${Region}` standing for each of these regions
   * (IAM names are per account: one stack per account creates them, the account's other target stacks use them).
   * @default - another stack of the account creates them
   */
  readonly accountPolicyRegions?: readonly string[];
  /** A function's timeout in seconds (from its template), for its Duration p99 alarm. */
  readonly timeoutSecondsOf: (fn: FunctionConfig) => number;
}

/** What a function pipeline's remote stage deploys with: both roles live in the target account. */
export interface TargetDeploymentRoles {
  /** The change-set actions' role: only the pipeline's role, from the tooling account, may assume it. */
  readonly actionRole: iam.Role;
  /** The CloudFormation execution role, scoped to the stage's function exactly as a local stage's. */
  readonly cfnRole: iam.Role;
}

/**
 * Everything a target environment (an account and region stages deploy to) needs, deployed once there: the roles the
 * pipelines deploy with, the deployer role the deployment functions assume, the alarms on each remote stage's `live`
 * alias, and a rule forwarding those alarms to the tooling account's default event bus.
 */
export class TargetStack extends Stack {
  /** Assumed by the tooling account's deployment functions to read and move aliases, read alarms and invoke tests. */
  readonly deployer: iam.Role;
  private readonly props: TargetStackProps;

  constructor(scope: Construct, id: string, props: TargetStackProps) {
    super(scope, id, props);
    this.props = props;
    const { config, names, tooling } = props;
    if (props.accountPolicyRegions) {
      createApplicationBoundary(this, 'ApplicationBoundary', names.applicationBoundary, config.applicationBoundary.allow, undefined, props.accountPolicyRegions);
      createDeploymentGuard(this, 'DeploymentGuard', names.deploymentGuard, applicationBoundaryArn(this, names.applicationBoundary), undefined);
    }

    this.deployer = new iam.Role(this, 'Deployer', {
      roleName: names.deployerRole(this.region),
      description: `Assumed by the ${names.installation} deployment functions in ${tooling.account} to move aliases, read alarms and run integration tests here`,
      // The tooling account only, and there only the installation's tooling stack roles (the deployment functions'),
      // whose own policies name this role, and the operator roles the configuration names (for `lrp`).
      assumedBy: new iam.AccountPrincipal(tooling.account).withConditions({
        ArnLike: { 'aws:PrincipalArn': oneOrMany([`arn:${tooling.partition}:iam::${tooling.account}:role/${names.toolingStack}-*`, ...operatorRolesOf(config, tooling)]) },
      }),
    });
    for (const fn of config.functions) {
      const functions = props.stages.flatMap((stage) => {
        const arn = this.formatArn({ service: 'lambda', resource: 'function', resourceName: stageFunctionName(fn.name, stage), arnFormat: ArnFormat.COLON_RESOURCE_NAME });
        return [arn, `${arn}:*`];
      });
      this.deployer.addToPolicy(
        new iam.PolicyStatement({
          actions: ['lambda:GetAlias', 'lambda:UpdateAlias', 'lambda:GetFunction', 'lambda:GetFunctionConfiguration', 'lambda:ListVersionsByFunction', 'lambda:InvokeFunction'],
          resources: functions,
        }),
      );
    }
    // DescribeAlarms and GetMetricData support no resource-level permissions: `*` is the only possible resource.
    this.deployer.addToPolicy(new iam.PolicyStatement({ actions: ['cloudwatch:DescribeAlarms', 'cloudwatch:GetMetricData'], resources: ['*'] }));
    // Tags vouch for a generated alarm: only the installation's generated alarms are read.
    this.deployer.addToPolicy(
      new iam.PolicyStatement({ actions: ['cloudwatch:ListTagsForResource'], resources: [this.formatArn({ service: 'cloudwatch', resource: 'alarm', resourceName: `${names.alarmRoot}*`, arnFormat: ArnFormat.COLON_RESOURCE_NAME })] }),
    );

    for (const fn of config.functions) {
      for (const stage of props.stages) createLiveAliasAlarms(this, names, stageFunctionName(fn.name, stage), fn, props.timeoutSecondsOf(fn));
    }

    // Alarms watch this account's metrics; the rollback function in the tooling account decides what they count against.
    const toolingBus = events.EventBus.fromEventBusArn(this, 'ToolingBus', `arn:${tooling.partition}:events:${tooling.region}:${tooling.account}:event-bus/default`);
    alarmNameGroups(names.alarmRoot, declaredAlarmNames(config, props.stages)).forEach((alarmNames, index) => {
      new events.Rule(this, index === 0 ? 'ForwardAlarms' : `ForwardAlarms${index + 1}`, {
        description: `A generated or declared alarm of ${names.installation} entering ALARM: forwarded to the tooling account's default event bus, where the rollback function judges it`,
        eventPattern: alarmStateChangePattern(alarmNames),
        targets: [new targets.EventBus(toolingBus)],
      });
    });
  }

  /**
   * The roles one function's remote stage deploys with, created on first use. `pipelineRole` is the only principal
   * that may assume the action role; `artifacts` is where the CloudFormation role reads the function's code.
   */
  deploymentRoles(fn: FunctionConfig, stage: string, pipelineRole: iam.IRole, artifacts: { readonly bucket: s3.IBucket; readonly key: kms.IKey }): TargetDeploymentRoles {
    const id = stageFunctionName(fn.name, stage);
    const existing = this.node.tryFindChild(`${id}-ChangeSetActionRole`);
    if (existing instanceof iam.Role) return { actionRole: existing, cfnRole: this.node.findChild(`${id}-CloudFormationRole`) as iam.Role };
    const { tooling, names } = this.props;
    const actionRole = new iam.Role(this, `${id}-ChangeSetActionRole`, {
      roleName: PhysicalName.GENERATE_IF_NEEDED,
      description: `CodePipeline change-set actions of ${names.applicationStack(fn.name, stage)}`,
      assumedBy: new iam.AccountPrincipal(tooling.account).withConditions({ ArnEquals: { 'aws:PrincipalArn': pipelineRole.roleArn } }),
    });
    const cfnRole = createDeploymentRole(this, `${id}-CloudFormationRole`, {
      fn,
      stages: [stage],
      artifactBucket: artifacts.bucket,
      artifactKey: artifacts.key,
      boundaryArn: applicationBoundaryArn(this, names.applicationBoundary),
      names,
      roleName: PhysicalName.GENERATE_IF_NEEDED,
    });
    return { actionRole, cfnRole };
  }
}

/**
 * The configuration's operator roles, each checked to be a role of the tooling account (the only account a deployer
 * role trusts) in the tooling partition; a role elsewhere fails synth, naming it.
 */
export function operatorRolesOf(config: Pick<ReleaseConfig, 'operatorRoleArns'>, tooling: Pick<AwsEnv, 'account' | 'partition'>): string[] {
  return config.operatorRoleArns.map((arn, index) => {
    const [, partition, , , account] = arn.split(':');
    if (account !== tooling.account || partition !== tooling.partition) {
      throw new Error(`operatorRoleArns[${index}]: ${arn} is not a role of the tooling account (${tooling.partition}, ${tooling.account}): the deployer roles trust only that account, so operators act from it`);
    }
    return arn;
  });
}

/** A condition's value as IAM writes it: the one value alone, several as a list. */
function oneOrMany(values: readonly string[]): string | string[] {
  return values.length === 1 ? values[0]! : [...values];
}
