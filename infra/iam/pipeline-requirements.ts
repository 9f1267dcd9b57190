/**
 * What CodePipeline itself needs for each action of a synthesized pipeline, from the role the action runs as: the
 * calls the action type makes (change sets, transforms, approvals on encrypted topics, invokes, builds, the source
 * connection), its artifacts in the KMS-encrypted store, and the pipeline role assuming each action role.
 */
import { UNKNOWN, type AccessRequest } from './policy';
import type { TemplateValues } from './template-values';

/** One call an action's role must be allowed. */
export interface ActionRequirement extends AccessRequest {
  /** `<stage>/<action>`, or `pipeline` for the pipeline role's own needs. */
  readonly action: string;
  readonly where: string;
  /** Logical id of the role that makes the call. */
  readonly roleLogicalId: string;
}

/** What the check must know beyond the pipeline template. */
export interface PipelineRequirementOptions {
  /** KMS key of each SNS topic an approval may notify, by the topic's resolved ARN. */
  readonly topicKeys: Readonly<Record<string, string>>;
}

type Json = Record<string, unknown>;
interface ActionDeclaration {
  readonly Name: string;
  readonly ActionTypeId: { readonly Category: string; readonly Provider: string };
  readonly RoleArn?: unknown;
  readonly Configuration?: Json;
  readonly InputArtifacts?: unknown[];
  readonly OutputArtifacts?: unknown[];
}

const roleOf = (roleArn: unknown): string | undefined => {
  const getAtt = (roleArn as { 'Fn::GetAtt'?: [string, string] } | undefined)?.['Fn::GetAtt'];
  return getAtt?.[1] === 'Arn' ? getAtt[0] : undefined;
};

/** Every call each action of each pipeline in the template needs, with the role that makes it. */
export function pipelineActionRequirements(values: TemplateValues, options: PipelineRequirementOptions): ActionRequirement[] {
  const { partition, region, account } = values.stack;
  const requirements: ActionRequirement[] = [];
  for (const [pipelineId, pipeline] of Object.entries(values.template.Resources).filter(([, r]) => r.Type === 'AWS::CodePipeline::Pipeline')) {
    const props = pipeline.Properties ?? {};
    const pipelineRole = roleOf(props.RoleArn);
    if (!pipelineRole) throw new Error(`${pipelineId}: its role is not a role of this template`);
    const store = props.ArtifactStore as { Location: unknown; EncryptionKey?: { Id: unknown } };
    const objects = `arn:${partition}:s3:::${values.string(store.Location)}/${UNKNOWN}`;
    const storeKey = store.EncryptionKey ? values.string(store.EncryptionKey.Id) : undefined;
    for (const stage of props.Stages as { Name: string; Actions: ActionDeclaration[] }[]) {
      for (const action of stage.Actions) {
        const where = `${stage.Name}/${action.Name}`;
        const role: string = roleOf(action.RoleArn) ?? pipelineRole;
        const need = (calls: string[], resource: string, context?: Record<string, string>) => {
          for (const call of calls) requirements.push({ where, roleLogicalId: role, action: call, resource, ...(context ? { context } : {}) });
        };
        // The pipeline role assumes the action's role before the action runs.
        if (role !== pipelineRole) requirements.push({ where, roleLogicalId: pipelineRole, action: 'sts:AssumeRole', resource: values.getAtt(role, 'Arn') });
        const config = (values.value(action.Configuration ?? {}) ?? {}) as Record<string, string>;
        const { Category: category, Provider: provider } = action.ActionTypeId;
        const readsArtifacts = (action.InputArtifacts?.length ?? 0) > 0 && ['CloudFormation', 'Manual', 'S3'].includes(provider);
        const writesArtifacts = (action.OutputArtifacts?.length ?? 0) > 0 && category === 'Source';
        if (readsArtifacts) {
          need(['s3:GetObject'], objects);
          if (storeKey) need(['kms:Decrypt'], storeKey);
        }
        if (writesArtifacts) {
          need(['s3:PutObject'], objects);
          if (storeKey) need(['kms:GenerateDataKey'], storeKey);
        }
        switch (provider) {
          case 'CodeStarSourceConnection':
            // IAM matches a connection by its ARN's service prefix: codestar-connections or codeconnections.
            need([`${config.ConnectionArn!.split(':')[2]}:UseConnection`], config.ConnectionArn!);
            break;
          case 'CodeBuild':
            need(['codebuild:StartBuild', 'codebuild:BatchGetBuilds'], `arn:${partition}:codebuild:${region}:${account}:project/${config.ProjectName}`);
            break;
          case 'Lambda':
            need(['lambda:InvokeFunction'], config.FunctionName!.startsWith('arn:') ? config.FunctionName! : `arn:${partition}:lambda:${region}:${account}:function:${config.FunctionName}`);
            need(['lambda:ListFunctions'], '*');
            break;
          case 'Manual':
            if (config.NotificationArn) {
              need(['sns:Publish'], config.NotificationArn);
              const key = options.topicKeys[config.NotificationArn];
              if (key) need(['kms:GenerateDataKey', 'kms:Decrypt'], key);
            }
            break;
          case 'CloudFormation': {
            const stack = `arn:${partition}:cloudformation:${region}:${account}:stack/${config.StackName}/${UNKNOWN}`;
            if (config.ActionMode === 'CHANGE_SET_REPLACE') {
              need(['cloudformation:CreateChangeSet', 'cloudformation:DescribeChangeSet', 'cloudformation:DeleteChangeSet', 'cloudformation:DescribeStacks'], stack);
              if (config.RoleArn) need(['iam:PassRole'], config.RoleArn, { 'iam:PassedToService': 'cloudformation.amazonaws.com' });
            } else if (config.ActionMode === 'CHANGE_SET_EXECUTE') {
              need(['cloudformation:ExecuteChangeSet', 'cloudformation:DescribeChangeSet', 'cloudformation:DescribeStacks'], stack);
            } else {
              throw new Error(`${where}: no requirements known for CloudFormation action mode ${config.ActionMode}`);
            }
            break;
          }
          default:
            throw new Error(`${where}: no requirements known for ${provider} actions`);
        }
      }
    }
  }
  return requirements;
}
