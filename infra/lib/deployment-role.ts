import { ArnFormat, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import { stageFunctionName } from '../../deploy-functions/core/names';
import type { InstallationNames } from './installation-names';
import type { FunctionConfig } from '../config';
import { perStage } from './placeholders';
import { FUNCTION_CODE_PREFIX } from './tooling-stack';

/** Props of one function's CloudFormation execution role. */
export interface DeploymentRoleProps {
  readonly fn: FunctionConfig;
  /** The stage names the function is deployed to. */
  readonly stages: readonly string[];
  readonly artifactBucket: s3.IBucket;
  readonly artifactKey: kms.IKey;
  /** The permissions boundary every role the templates create must carry. */
  readonly boundaryArn: string;
  /** The installation's names: its application stacks and deployment guard. */
  readonly names: InstallationNames;
  /** The role's name; `PhysicalName.GENERATE_IF_NEEDED` for a role a pipeline in another account names. @default - CloudFormation's */
  readonly roleName?: string;
}

/**
 * What no CloudFormation role of the release may do, whatever the configuration's deploy permissions grant: remove or
 * rewrite the application boundary, or touch the release pipeline's own bucket (but read code), keys (but decrypt
 * code), ledger, topic, dead-letter queue and deployment functions. One managed policy, attached to every role, named
 * `name` (`<installation>-deploy-guard`).
 */
export function createDeploymentGuard(scope: Construct, id: string, name: string, boundaryArn: string, protect: PipelineResources | undefined): iam.ManagedPolicy {
  const boundary = [
    new iam.PolicyStatement({ sid: 'KeepTheBoundary', effect: iam.Effect.DENY, actions: ['iam:DeleteRolePermissionsBoundary'], resources: ['*'] }),
    new iam.PolicyStatement({ sid: 'LeaveTheBoundaryAlone', effect: iam.Effect.DENY, actions: ['iam:CreatePolicyVersion', 'iam:DeletePolicy', 'iam:DeletePolicyVersion', 'iam:SetDefaultPolicyVersion'], resources: [boundaryArn] }),
  ];
  return new iam.ManagedPolicy(scope, id, {
    managedPolicyName: name,
    description: 'Denies every CloudFormation role of the release pipelines what no deploy permission may grant',
    // A target account holds none of the release pipeline's own resources (protect undefined): the boundary is what it guards.
    statements: protect ? [...boundary, ...pipelineResourceDenies(protect)] : boundary,
  });
}

/** The denies on the release pipeline's own bucket, keys, ledger, topic, queue and deployment functions. */
function pipelineResourceDenies(protect: PipelineResources): iam.PolicyStatement[] {
  return [
    new iam.PolicyStatement({ sid: 'NotTheArtifactBucket', effect: iam.Effect.DENY, actions: ['s3:*'], resources: [protect.artifactBucketArn] }),
    new iam.PolicyStatement({ sid: 'OnlyReadCode', effect: iam.Effect.DENY, notActions: ['s3:GetObject', 's3:GetObjectVersion'], resources: [`${protect.artifactBucketArn}/*`] }),
    new iam.PolicyStatement({ sid: 'OnlyDecryptCode', effect: iam.Effect.DENY, notActions: ['kms:Decrypt', 'kms:DescribeKey'], resources: [protect.artifactKeyArn] }),
    new iam.PolicyStatement({
      sid: 'NotTheReleasePipeline',
      effect: iam.Effect.DENY,
      actions: ['dynamodb:*', 'kms:*', 'sns:*', 'sqs:*', 'lambda:*'],
      resources: [protect.ledgerTableArn, `${protect.ledgerTableArn}/*`, protect.topicKeyArn, protect.topicArn, protect.deadLetterQueueArn, protect.deploymentFunctionsArn, `${protect.deploymentFunctionsArn}:*`],
    }),
  ];
}

/** The release pipeline's own resources, which no application stack may touch. */
export interface PipelineResources {
  readonly artifactBucketArn: string;
  readonly ledgerTableArn: string;
  readonly artifactKeyArn: string;
  readonly topicKeyArn: string;
  readonly topicArn: string;
  readonly deadLetterQueueArn: string;
  /** `arn:…:function:<installation>-*`, the deployment functions. */
  readonly deploymentFunctionsArn: string;
}

/** The services a function's resource policy may name (lambda:Principal): never an account, never everyone. */
export const INVOKING_SERVICES = [
  'apigateway.amazonaws.com', 'elasticloadbalancing.amazonaws.com', 'events.amazonaws.com', 'scheduler.amazonaws.com', 'sns.amazonaws.com', 's3.amazonaws.com',
  'logs.amazonaws.com', 'cognito-idp.amazonaws.com', 'iot.amazonaws.com', 'secretsmanager.amazonaws.com', 'states.amazonaws.com',
];

/**
 * The services CloudFormation may pass the stack's own roles to: Lambda (the function's role) and those SAM's event
 * sources and integrations hand a role (`ScheduleV2` to Scheduler, a rule target's `RoleArn` to EventBridge, an API
 * integration's credentials to API Gateway). Every such role carries the application boundary, which denies a session
 * outside a function's code all but LAMBDA_SERVICE_CALLS (invoke, send, publish, put events): a service acting with the
 * role can do no more than the function could. Services that run code of their own (EC2, ECS, CodeBuild …) stay out.
 */
export const ROLE_PASSED_TO_SERVICES = ['lambda.amazonaws.com', 'scheduler.amazonaws.com', 'events.amazonaws.com', 'apigateway.amazonaws.com'];

/** Lambda calls the Function, Version and Alias handlers make (registry schemas), on the stage functions only. */
const FUNCTION_ACTIONS = [
  'lambda:CreateFunction', 'lambda:DeleteFunction', 'lambda:GetFunction', 'lambda:GetFunctionConfiguration', 'lambda:UpdateFunctionCode', 'lambda:UpdateFunctionConfiguration',
  'lambda:PublishVersion', 'lambda:ListVersionsByFunction', 'lambda:CreateAlias', 'lambda:UpdateAlias', 'lambda:DeleteAlias', 'lambda:GetAlias',
  'lambda:RemovePermission', 'lambda:GetPolicy', 'lambda:TagResource', 'lambda:UntagResource', 'lambda:ListTags', 'lambda:GetFunctionCodeSigningConfig',
  'lambda:GetRuntimeManagementConfig', 'lambda:GetFunctionRecursionConfig', 'lambda:GetFunctionScalingConfig', 'lambda:GetProvisionedConcurrencyConfig',
];
/** Role calls that add no permission: reads, tags, deletes, and what the delete handler needs (or a failed first create ends in ROLLBACK_FAILED). */
const ROLE_ACTIONS = [
  'iam:GetRole', 'iam:GetRolePolicy', 'iam:ListAttachedRolePolicies', 'iam:ListRolePolicies', 'iam:ListRoleTags', 'iam:TagRole', 'iam:UntagRole', 'iam:UpdateRole',
  'iam:UpdateRoleDescription', 'iam:DeleteRole', 'iam:DetachRolePolicy', 'iam:DeleteRolePolicy',
];
/** Role calls that can add permissions: allowed only while the role carries the application boundary. */
export const BOUNDED_ROLE_ACTIONS = ['iam:CreateRole', 'iam:PutRolePolicy', 'iam:AttachRolePolicy', 'iam:PutRolePermissionsBoundary'];

/**
 * The role CloudFormation deploys one function's stacks with. It names exactly that function's resources in each
 * stage (`<function>-<stage>`, roles `<installation>-app-<function>-<stage>-…`), so no pattern of one function matches another's.
 * Roles are created and changed only with the application boundary attached, never lose it, and are passed only to
 * Lambda and the event-source services of ROLE_PASSED_TO_SERVICES. A push to the release branch can therefore give a
 * function, or a service acting for it, at most what the boundary allows.
 */
export function createDeploymentRole(scope: Construct, id: string, props: DeploymentRoleProps): iam.Role {
  const stack = Stack.of(scope);
  const { fn, stages, boundaryArn, names } = props;
  const role = new iam.Role(scope, id, { assumedBy: new iam.ServicePrincipal('cloudformation.amazonaws.com'), description: `CloudFormation execution role for the ${fn.name} application stacks`, ...(props.roleName ? { roleName: props.roleName } : {}) });

  const functions = stages.flatMap((stage) => {
    const arn = stack.formatArn({ service: 'lambda', resource: 'function', resourceName: stageFunctionName(fn.name, stage), arnFormat: ArnFormat.COLON_RESOURCE_NAME });
    return [arn, `${arn}:*`];
  });
  role.addToPolicy(new iam.PolicyStatement({ actions: FUNCTION_ACTIONS, resources: functions }));
  // A resource policy may let AWS services invoke the function, never an account or everyone (who could then change it).
  role.addToPolicy(new iam.PolicyStatement({ actions: ['lambda:AddPermission'], resources: functions, conditions: { StringEquals: { 'lambda:Principal': INVOKING_SERVICES } } }));

  // SAM names a function's role after its stack: <installation>-app-<function>-<stage>-<LogicalId>Role-<suffix>.
  const roles = stages.map((stage) => stack.formatArn({ service: 'iam', region: '', resource: 'role', resourceName: `${names.applicationStack(fn.name, stage)}-*` }));
  role.addToPolicy(new iam.PolicyStatement({ actions: ROLE_ACTIONS, resources: roles }));
  role.addToPolicy(new iam.PolicyStatement({ actions: BOUNDED_ROLE_ACTIONS, resources: roles, conditions: { StringEquals: { 'iam:PermissionsBoundary': boundaryArn } } }));
  role.addToPolicy(new iam.PolicyStatement({ actions: ['iam:PassRole'], resources: roles, conditions: { StringEquals: { 'iam:PassedToService': ROLE_PASSED_TO_SERVICES } } }));

  // Whatever the configuration's deploy permissions grant: the boundary stays, the release pipeline stays out of reach.
  role.addManagedPolicy(iam.ManagedPolicy.fromManagedPolicyName(scope, `${id}Guard`, names.deploymentGuard));
  // Lambda reads the code object with CloudFormation's credentials.
  role.addToPolicy(new iam.PolicyStatement({ actions: ['s3:GetObject', 's3:GetObjectVersion'], resources: [props.artifactBucket.arnForObjects(`${FUNCTION_CODE_PREFIX}${fn.name}/*`)] }));
  role.addToPolicy(new iam.PolicyStatement({ actions: ['kms:Decrypt'], resources: [props.artifactKey.keyArn] }));

  const env = { partition: stack.partition, region: stack.region, account: stack.account };
  const fill = (value: string) => perStage(value, stages, env);
  for (const extra of fn.deployPermissions) {
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: extra.actions,
        resources: extra.resources.flatMap(fill),
        ...(extra.conditions
          ? { conditions: Object.fromEntries(Object.entries(extra.conditions).map(([op, keys]) => [op, Object.fromEntries(Object.entries(keys).map(([k, v]) => [k, [v].flat().flatMap(fill)]))])) }
          : {}),
      }),
    );
  }
  return role;
}
