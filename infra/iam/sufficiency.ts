/**
 * The check cdk-nag and cfn-lint do not make: does a role allow every call CloudFormation's handlers make for the
 * resources of a template? cdk-nag and cfn-lint only flag too much permission, never too little.
 */
import type { CfnTemplate } from '../templates/application-template';
import { HANDLERS, handlerPermissions, normaliseAction, type Handler, type HandlerPermissionsData } from './handler-permissions';
import { evaluate, type AccessRequest, type IamStatement } from './policy';
import { RESOURCE_MODELS, type ResourceModel } from './resource-models';
import { TemplateValues, type StackContext } from './template-values';

/** One call a deploy needs, and which resource's handlers make it. */
export interface Requirement extends AccessRequest {
  readonly logicalId: string;
  readonly type: string;
  readonly handlers: readonly Handler[];
}

/** A resource the check cannot judge, and why: that is a failure too, never a silent pass. */
export interface Unjudged {
  readonly logicalId: string;
  readonly type: string;
  readonly reason: string;
}

/** What deploying a template through CloudFormation asks of its role. */
export interface TemplateRequirements {
  readonly requirements: readonly Requirement[];
  readonly unjudged: readonly Unjudged[];
}

/** Options of `requirementsOf`. */
export interface RequirementOptions {
  /** The stack carries tags (the pipeline's `lrp:commit`), so taggable resources are tagged on create and update. @default true */
  readonly tagged?: boolean;
  /** The recorded handler permissions. @default - infra/iam/handler-permissions.json */
  readonly data?: HandlerPermissionsData;
  /** How each type names itself and aims its permissions. @default RESOURCE_MODELS */
  readonly models?: Readonly<Record<string, ResourceModel>>;
}

/** Every call CloudFormation's create, read, update and delete handlers make for the resources of a (translated) template. */
export function requirementsOf(template: CfnTemplate, stack: StackContext, options: RequirementOptions = {}): TemplateRequirements {
  const data = options.data ?? handlerPermissions();
  const models = options.models ?? RESOURCE_MODELS;
  const values = new TemplateValues(template, stack, (type) => models[type]);
  const byKey = new Map<string, Requirement>();
  const unjudged: Unjudged[] = [];
  for (const [logicalId, resource] of Object.entries(template.Resources)) {
    const { Type: type } = resource;
    const permissions = data.types[type];
    const model = models[type];
    if (type.startsWith('AWS::Serverless::')) {
      unjudged.push({ logicalId, type, reason: 'SAM resources must be translated first (infra/templates/sam-translate)' });
      continue;
    }
    if (!permissions) {
      unjudged.push({ logicalId, type, reason: `no handler permissions recorded for ${type}: npm run refresh:handler-permissions -- --add ${type}` });
      continue;
    }
    if (!model) {
      unjudged.push({ logicalId, type, reason: `no resource model says where ${type}'s permissions are aimed (infra/iam/resource-models.ts)` });
      continue;
    }
    const input = values.input(logicalId);
    const tagging = (options.tagged ?? true) && permissions.tagging?.taggable ? (permissions.tagging.permissions ?? []) : [];
    for (const handler of HANDLERS) {
      const actions = [...(permissions[handler] ?? []), ...(handler === 'create' || handler === 'update' ? tagging : [])].map(normaliseAction);
      for (const action of actions) {
        for (const target of model.targets?.(action, input, handler) ?? [{ resource: model.arn(input) }]) {
          const key = JSON.stringify([logicalId, action.toLowerCase(), target.resource, target.context ?? {}]);
          const known = byKey.get(key);
          if (known && known.handlers.includes(handler)) continue;
          byKey.set(key, { logicalId, type, action, resource: target.resource, ...(target.context ? { context: target.context } : {}), handlers: [...(known?.handlers ?? []), handler] });
        }
      }
    }
  }
  return { requirements: [...byKey.values()], unjudged };
}

/** The requirements a role's statements do not allow (or explicitly deny). */
export function missingPermissions(requirements: readonly Requirement[], statements: readonly IamStatement[]): (Requirement & { readonly decision: 'NOT_ALLOWED' | 'DENIED' })[] {
  return requirements.flatMap((requirement) => {
    const decision = evaluate(statements, requirement);
    return decision === 'ALLOWED' ? [] : [{ ...requirement, decision }];
  });
}

/**
 * The identity-policy statements of a role in a synthesized template, resolved: its inline policies, and every
 * `AWS::IAM::Policy` or `AWS::IAM::ManagedPolicy` of the template attached to it.
 */
export function statementsOfRole(values: TemplateValues, roleLogicalId: string, managedPolicies: ReadonlyMap<string, readonly IamStatement[]> = new Map()): IamStatement[] {
  const { Resources: resources } = values.template;
  const role = resources[roleLogicalId];
  if (role?.Type !== 'AWS::IAM::Role') throw new Error(`${values.stack.stackName}: ${roleLogicalId} is not a role`);
  const attached = (roles: unknown) => Array.isArray(roles) && roles.some((r) => (r as { Ref?: string }).Ref === roleLogicalId);
  const documents: unknown[] = [
    ...((role.Properties?.Policies as { PolicyDocument: unknown }[] | undefined) ?? []).map((p) => p.PolicyDocument),
    ...Object.values(resources)
      .filter((r) => (r.Type === 'AWS::IAM::Policy' || r.Type === 'AWS::IAM::ManagedPolicy') && attached(r.Properties?.Roles))
      .map((r) => r.Properties?.PolicyDocument),
  ];
  // Managed policies of other stacks, attached by ARN: known by name.
  const byArn = ((values.value(role.Properties?.ManagedPolicyArns ?? []) as string[]) ?? []).flatMap((arn) => managedPolicies.get(String(arn).split(':policy/').pop() ?? '') ?? []);
  return [...documents.flatMap((document) => ((values.value(document) as { Statement?: IamStatement[] } | undefined)?.Statement ?? [])), ...byArn];
}

/** The managed policies of a template that carry a name (`ManagedPolicyName`), resolved: roles elsewhere attach them by ARN. */
export function namedManagedPolicies(values: TemplateValues): Map<string, IamStatement[]> {
  return new Map(
    Object.values(values.template.Resources)
      .filter((r) => r.Type === 'AWS::IAM::ManagedPolicy' && typeof r.Properties?.ManagedPolicyName === 'string')
      .map((r) => [r.Properties!.ManagedPolicyName as string, ((values.value(r.Properties!.PolicyDocument) as { Statement?: IamStatement[] }).Statement ?? [])]),
  );
}
