import type * as codepipeline from 'aws-cdk-lib/aws-codepipeline';
import * as actions from 'aws-cdk-lib/aws-codepipeline-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';
import type { ReleaseConfig } from '../config';

/**
 * A role for a pipeline's actions that only the pipeline's role may assume, one per `id` in `scope` (CDK's default
 * action roles trust the whole account: anyone there allowed sts:AssumeRole could run an action).
 */
export function pipelineActionRole(scope: Construct, id: string, pipelineRole: iam.IRole, description = `CodePipeline action of ${pipelineRole.node.path}`): iam.Role {
  const existing = scope.node.tryFindChild(id);
  if (existing instanceof iam.Role) return existing;
  return new iam.Role(scope, id, { assumedBy: new iam.ArnPrincipal(pipelineRole.roleArn), description });
}

/**
 * The release branch's source action, through the configured connection, as `SourceVariables`. CDK grants its role
 * `codestar-connections:UseConnection` only, but IAM matches a connection by the service prefix of its ARN:
 * connections created since July 2024 are `arn:aws:codeconnections:…` and need `codeconnections:UseConnection`.
 */
export function repositorySourceAction(scope: Construct, repository: ReleaseConfig['repository'], pipelineRole: iam.IRole, output: codepipeline.Artifact): actions.CodeStarConnectionsSourceAction {
  const role = pipelineActionRole(scope, 'SourceActionRole', pipelineRole, 'CodePipeline source action: reads the repository through its connection');
  const service = repository.connectionArn.split(':')[2];
  if (service !== 'codestar-connections') role.addToPolicy(new iam.PolicyStatement({ actions: [`${service}:UseConnection`], resources: [repository.connectionArn] }));
  return new actions.CodeStarConnectionsSourceAction({
    actionName: 'Source',
    role,
    connectionArn: repository.connectionArn,
    owner: repository.owner,
    repo: repository.name,
    branch: repository.branch,
    output,
    variablesNamespace: 'SourceVariables',
  });
}
