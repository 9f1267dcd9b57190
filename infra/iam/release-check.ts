/**
 * The sufficiency check over a synthesized release: each pipeline's CloudFormation role against what its function's
 * packaged (and SAM-translated) template needs in every stage, and each action role against what CodePipeline needs.
 * Findings name the resource, the action and the configuration line to add.
 */
import type { FunctionConfig } from '../config';
import type { CfnTemplate } from '../templates/application-template';
import { handlerPermissions, normaliseAction } from './handler-permissions';
import { pipelineActionRequirements } from './pipeline-requirements';
import { UNKNOWN, evaluate, type IamStatement } from './policy';
import { RESOURCE_MODELS } from './resource-models';
import { missingPermissions, namedManagedPolicies, requirementsOf, statementsOfRole, type Requirement } from './sufficiency';
import { formatPermission, suggestedPermission } from './suggestion';
import { TemplateValues, type StackContext } from './template-values';
import { DEFAULT_INSTALLATION, applicationStackName } from '../../deploy-functions/core/names';
import { applicationBoundaryName } from '../lib/installation-names';
import { BOUNDED_ROLE_ACTIONS } from '../lib/deployment-role';
import { CodeParameter, releaseTemplateOf } from '../templates/release-template';

/** Where the release is deployed. */
export interface ReleaseEnvironment {
  readonly partition: string;
  readonly region: string;
  readonly account: string;
}

/** A synthesized stack. */
export interface SynthesizedStack {
  readonly stackName: string;
  readonly template: CfnTemplate;
}

/** A permission a role lacks, as a sentence saying what to do. */
export interface Finding {
  readonly where: string;
  readonly message: string;
}

/** Resource types whose permissions the pipeline stack grants by itself (the function, its role, versions and aliases). */
const BUILT_IN_TYPES = new Set(['AWS::Lambda::Function', 'AWS::Lambda::Version', 'AWS::Lambda::Alias', 'AWS::Lambda::Permission', 'AWS::IAM::Role']);
/** The bucket name packaged templates are translated with, replaced by the pipeline's artifact bucket afterwards. */
export const CODE_BUCKET_PLACEHOLDER = 'lrp-packaged-code';

const values = (stack: SynthesizedStack, env: ReleaseEnvironment, imports?: Record<string, string>) =>
  new TemplateValues(stack.template, { stackName: stack.stackName, ...env, unresolved: 'symbol', ...(imports ? { imports } : {}) }, (type) => RESOURCE_MODELS[type]);

/** The value behind every export of a stack, by export name, for the stacks that import them. */
export function exportsOf(stack: SynthesizedStack, env: ReleaseEnvironment): Record<string, string> {
  const resolver = values(stack, env);
  const outputs = (stack.template.Outputs ?? {}) as Record<string, { Value: unknown; Export?: { Name: unknown } }>;
  return Object.fromEntries(Object.values(outputs).flatMap((o) => (o.Export ? [[resolver.string(o.Export.Name), resolver.string(o.Value)]] : [])));
}

/**
 * Every role of a pipeline stack with its statements, intrinsics resolved against the tooling stack's exports (values
 * only known after deploy read as stable symbols): what security tests evaluate requests against.
 */
export function rolesOf(pipeline: SynthesizedStack, tooling: SynthesizedStack, env: ReleaseEnvironment): Map<string, IamStatement[]> {
  const resolver = values(pipeline, env, exportsOf(tooling, env));
  const managed = namedManagedPolicies(values(tooling, env));
  return new Map(
    Object.entries(pipeline.template.Resources)
      .filter(([, resource]) => resource.Type === 'AWS::IAM::Role')
      .map(([logicalId]) => [logicalId, statementsOfRole(resolver, logicalId, managed)]),
  );
}

/** What a `Fn::GetAtt` of a tooling stack resource resolves to, as `rolesOf` sees it. */
export function toolingAttribute(tooling: SynthesizedStack, env: ReleaseEnvironment, logicalId: string, attribute: string): string {
  return values(tooling, env).getAtt(logicalId, attribute);
}

/**
 * A function's template as `npm run package` leaves it (prepared, translated, invokers on `live`, roles bounded), its
 * code in the artifact bucket under the function's prefix; the region only decides SAM's partition-specific ARNs.
 */
export function packagedTemplate(template: CfnTemplate, functionName: string, region: string): CfnTemplate {
  return releaseTemplateOf(template, { functionName, region, codeUri: `s3://${CODE_BUCKET_PLACEHOLDER}/functions/${functionName}/0123456789abcdef` }).template;
}

/** What a permission line in `deployPermissions` would say for a resource: `${Region}`, `${Account}` and `*` for unknowns. */
export function suggestedResource(resource: string, env: ReleaseEnvironment): string {
  return resource.replaceAll(UNKNOWN, '*').replaceAll(`:${env.region}:`, ':${Region}:').replaceAll(`:${env.account}:`, ':${Account}:');
}

/**
 * The CloudFormation role of a function's pipeline against its template in every stage. `translated(stage)` gives the
 * packaged template as CloudFormation deploys it in that stage (see `packagedTemplate`).
 */
export function checkCloudFormationRole(options: {
  readonly env: ReleaseEnvironment;
  readonly tooling: SynthesizedStack;
  readonly pipeline: SynthesizedStack;
  readonly fn: FunctionConfig;
  readonly fnIndex: number;
  readonly stages: readonly string[];
  readonly translated: (stage: string) => CfnTemplate;
}): { findings: Finding[]; judgedTypes: Set<string> } {
  const { env, pipeline, fn, fnIndex } = options;
  const pipelineValues = values(pipeline, env, exportsOf(options.tooling, env));
  const resources = pipeline.template.Resources;
  const actions = Object.values(resources).flatMap((r) => (r.Type === 'AWS::CodePipeline::Pipeline' ? ((r.Properties?.Stages as { Actions: { Configuration?: Record<string, unknown> }[] }[]) ?? []) : [])).flatMap((s) => s.Actions);
  const project = Object.values(resources).find((r) => r.Type === 'AWS::CodeBuild::Project');
  const variables = (pipelineValues.value(project?.Properties?.Environment) as { EnvironmentVariables?: { Name: string; Value: string }[] } | undefined)?.EnvironmentVariables ?? [];
  const bucket = variables.find((v) => v.Name === 'ARTIFACT_BUCKET')?.Value ?? UNKNOWN;
  const codeKey = variables.find((v) => v.Name === 'ARTIFACT_KEY_ARN')?.Value;
  // The installation the pipeline belongs to, as its build is told: its application stacks and boundary are named after it.
  const installation = variables.find((v) => v.Name === 'LRP_INSTALLATION')?.Value ?? DEFAULT_INSTALLATION;
  const findings: Finding[] = [];
  const judgedTypes = new Set<string>();
  const byStage = new Map<string, { stackName: string; requirements: Requirement[]; statements: IamStatement[] }>();
  for (const stage of options.stages) {
    const stackName = applicationStackName(installation, fn.name, stage);
    const roleArn = actions.find((a) => a.Configuration?.StackName === stackName && a.Configuration.RoleArn)?.Configuration?.RoleArn as { 'Fn::GetAtt': [string, string] } | undefined;
    if (!roleArn) throw new Error(`${pipeline.stackName}: no change-set action deploys ${stackName}`);
    const statements = statementsOfRole(pipelineValues, roleArn['Fn::GetAtt'][0], namedManagedPolicies(values(options.tooling, env)));
    const template = structuredClone(options.translated(stage)) as { Parameters?: Record<string, { Default?: unknown }>; Resources: Record<string, unknown> };
    // The code location parameters' defaults: where the build uploads the function's code.
    const uploaded: Record<string, string> = template.Parameters?.[CodeParameter.BUCKET]?.Default === CODE_BUCKET_PLACEHOLDER ? { [CodeParameter.BUCKET]: bucket, [CodeParameter.KEY]: `functions/${fn.name}/${UNKNOWN}` } : {};
    const stack: StackContext = { stackName, ...env, parameters: { Stage: stage, CommitSha: '0123456789abcdef', ...uploaded }, unresolved: 'unknown' };
    const { requirements, unjudged } = requirementsOf(template as unknown as CfnTemplate, stack);
    for (const u of unjudged) findings.push({ where: `${stackName}/${u.logicalId}`, message: `${stackName}: ${u.logicalId} (${u.type}) cannot be judged: ${u.reason}` });
    for (const r of requirements) judgedTypes.add(r.type);
    // Lambda reads the SSE-KMS code object with the caller's (CloudFormation's) credentials.
    const extra: Requirement[] =
      codeKey === undefined ? [] : requirements.filter((r) => r.action === 's3:GetObject' && r.resource.includes(`:::${bucket}/`)).map((r) => ({ ...r, action: 'kms:Decrypt', resource: codeKey, context: {} }));
    byStage.set(stage, { stackName, requirements: [...requirements, ...extra], statements });
  }
  // Each suggestion looks at every stage's needs, so that one line serves them all where it can.
  const needs = new Map([...byStage].map(([stage, checked]) => [stage, checked.requirements]));
  for (const [stage, { stackName, requirements, statements }] of byStage) {
    for (const miss of missingPermissions(requirements, statements)) findings.push(cloudFormationFinding(miss, { stackName, stage, needs, boundary: applicationBoundaryName(installation) }, fn, fnIndex, env, pipeline.stackName));
  }
  findings.push(...claimedTypeFindings(fn, fnIndex, options.stages.map((stage) => options.translated(stage))));
  return { findings, judgedTypes };
}

/** Each resource type a deploy permission claims must be one the check can judge, and must still be in the template. */
function claimedTypeFindings(fn: FunctionConfig, fnIndex: number, templates: readonly CfnTemplate[]): Finding[] {
  const present = new Set(templates.flatMap((t) => Object.values(t.Resources).map((r) => r.Type)));
  const data = handlerPermissions();
  return fn.deployPermissions.flatMap((permission, index) =>
    permission.resourceTypes.flatMap((type) => {
      const field = `functions.${fnIndex}.deployPermissions.${index}.resourceTypes`;
      if (!data.types[type]) return [{ where: field, message: `${field}: the check knows nothing of ${type}'s handlers (add it with npm run refresh:handler-permissions -- --add ${type}, and a model in infra/iam/resource-models.ts)` }];
      if (!RESOURCE_MODELS[type]) return [{ where: field, message: `${field}: ${type}'s handlers are recorded, but the check cannot place their calls: add a model of where each is aimed in infra/iam/resource-models.ts` }];
      if (!present.has(type)) return [{ where: field, message: `${field}: ${fn.name}'s template has no ${type} any more; remove the permission (or the claim)` }];
      return [];
    }),
  );
}

function cloudFormationFinding(
  miss: Requirement & { decision: string },
  where: { readonly stackName: string; readonly stage: string; readonly needs: ReadonlyMap<string, readonly Requirement[]>; readonly boundary: string },
  fn: FunctionConfig,
  fnIndex: number,
  env: ReleaseEnvironment,
  pipelineStack: string,
): Finding {
  const { stackName } = where;
  const action = normaliseAction(miss.action);
  const context = miss.context && Object.keys(miss.context).length ? ` with ${JSON.stringify(Object.fromEntries(Object.entries(miss.context).map(([k, v]) => [k, suggestedResource(v, env)])))}` : '';
  const need = `${stackName}: ${miss.logicalId} (${miss.type}) needs ${action} on ${suggestedResource(miss.resource, env)}${context} for its ${miss.handlers.join('/')} handler${miss.handlers.length > 1 ? 's' : ''}`;
  const verb = miss.decision === 'DENIED' ? 'explicitly denies it' : 'does not allow it';
  const unbounded = miss.type === 'AWS::IAM::Role' && BOUNDED_ROLE_ACTIONS.includes(action);
  const fix = unbounded
    ? `the role must carry the application permissions boundary: set \`PermissionsBoundary: !Sub arn:\${AWS::Partition}:iam::\${AWS::AccountId}:policy/${where.boundary}\` on ${miss.logicalId} (for a SAM function, on the function or in Globals)`
    : BUILT_IN_TYPES.has(miss.type)
    ? `the CloudFormation role that infra/lib/deployment-role.ts builds for every function should grant it`
    : `add to functions.${fnIndex}.deployPermissions (${fn.name}) in release.config.ts: ${formatPermission(suggestedPermission({ ...miss, action }, where.stage, where.needs, env))}`;
  return { where: `${stackName}/${miss.logicalId}`, message: `${need}; the CloudFormation role of ${pipelineStack} ${verb}: ${fix}` };
}

/** Every action role of a pipeline stack against what CodePipeline needs for that action. */
export function checkActionRoles(options: { readonly env: ReleaseEnvironment; readonly tooling: SynthesizedStack; readonly pipeline: SynthesizedStack }): Finding[] {
  const { env, tooling, pipeline } = options;
  const toolingValues = values(tooling, env);
  const topicKeys = Object.fromEntries(
    Object.entries(tooling.template.Resources)
      .filter(([, r]) => r.Type === 'AWS::SNS::Topic' && r.Properties?.KmsMasterKeyId !== undefined)
      .map(([id, r]) => [toolingValues.ref(id), toolingValues.string(r.Properties!.KmsMasterKeyId)]),
  );
  const pipelineValues = values(pipeline, env, exportsOf(tooling, env));
  const statementsByRole = new Map<string, ReturnType<typeof statementsOfRole>>();
  return pipelineActionRequirements(pipelineValues, { topicKeys }).flatMap((requirement) => {
    let statements = statementsByRole.get(requirement.roleLogicalId);
    if (!statements) statementsByRole.set(requirement.roleLogicalId, (statements = statementsOfRole(pipelineValues, requirement.roleLogicalId)));
    const decision = evaluate(statements, requirement);
    if (decision === 'ALLOWED') return [];
    return [{ where: requirement.where, message: `${pipeline.stackName} ${requirement.where}: role ${requirement.roleLogicalId} needs ${requirement.action} on ${suggestedResource(requirement.resource, env)} (${decision === 'DENIED' ? 'explicitly denied' : 'not allowed'})` }];
  });
}
