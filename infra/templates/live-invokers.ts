/**
 * The SAM-translated template of a function, rewritten so that nothing invokes new code but through `live`: SAM points
 * every event it generates at the published alias (`candidate` here); those invokers — permissions, event source
 * mappings, API integrations (OpenAPI bodies included), rules and schedules, subscriptions, bucket notifications, the
 * roles that may invoke — are pointed at a constant `live` alias instead, which the deployment functions move. The
 * candidate alias keeps no invoker, and provisioned concurrency follows traffic to `live`.
 */
import type { CfnTemplate } from './application-template';
import { ApplicationTemplateError, CANDIDATE_ALIAS, LIVE_ALIAS, LIVE_ALIAS_ID, type TemplateIssue } from './prepare-application';

/** The description of the constant `live` alias (the samples' hand-wired one carries the same). */
export const LIVE_ALIAS_DESCRIPTION = 'Owned by the Lambda Release Pipeline deployment functions; do not change in this template.';
import { referencesIn, replaceReferences, type Reference } from './references';

/** Resource types whose references to the function are invocations: rewritten to `live`. */
export const INVOKER_TYPES = new Set([
  'AWS::Lambda::Permission',
  'AWS::Lambda::EventSourceMapping',
  'AWS::ApiGateway::RestApi',
  'AWS::ApiGateway::Method',
  'AWS::ApiGateway::Authorizer',
  'AWS::ApiGatewayV2::Api',
  'AWS::ApiGatewayV2::Integration',
  'AWS::ApiGatewayV2::Authorizer',
  'AWS::Events::Rule',
  'AWS::Scheduler::Schedule',
  'AWS::SNS::Subscription',
  'AWS::SNS::Topic',
  'AWS::S3::Bucket',
  'AWS::Logs::SubscriptionFilter',
  'AWS::IoT::TopicRule',
  'AWS::Cognito::UserPool',
  'AWS::AppSync::DataSource',
  'AWS::Pipes::Pipe',
  'AWS::Lambda::Url',
  'AWS::IAM::Role',
  'AWS::IAM::Policy',
  'AWS::IAM::ManagedPolicy',
]);
/** Settings of one qualifier (`Qualifier: <alias name>`): they follow traffic, from `candidate` to `live`. */
const QUALIFIED_SETTINGS = new Set(['AWS::Lambda::EventInvokeConfig', 'AWS::Lambda::Url']);
/** Resource types that may name the function without invoking it (its logs, its alarms). */
const OBSERVER_TYPES = new Set(['AWS::Logs::LogGroup', 'AWS::CloudWatch::Alarm', 'AWS::CloudWatch::Dashboard']);

type Resource = { Type: string; Properties?: Record<string, unknown>; [key: string]: unknown };

/** The rewritten template, and what was done. */
export interface RewrittenApplication {
  readonly template: CfnTemplate;
  readonly notes: readonly string[];
}

/** Points every invoker of the translated function at a constant `live` alias; throws naming anything left over. */
export function pointInvokersAtLive(translated: CfnTemplate, functionLogicalId: string, functionName: string): RewrittenApplication {
  const template = structuredClone(translated) as CfnTemplate & { Resources: Record<string, Resource>; Transform?: unknown };
  const resources = template.Resources;
  const notes: string[] = [];
  const fn = resources[functionLogicalId];
  if (fn?.Type !== 'AWS::Lambda::Function') throw new ApplicationTemplateError(functionName, [{ resource: functionLogicalId, message: 'the translated template has no such AWS::Lambda::Function' }]);
  const ofFunction = (r: Resource) => referencesIn(r.Properties?.FunctionName).some((ref) => ref.logicalId === functionLogicalId);
  const versions = Object.entries(resources).filter(([, r]) => r.Type === 'AWS::Lambda::Version' && ofFunction(r)).map(([id]) => id);
  const aliases = Object.entries(resources).filter(([, r]) => r.Type === 'AWS::Lambda::Alias' && ofFunction(r));
  const candidate = aliases.find(([, r]) => r.Properties?.Name === CANDIDATE_ALIAS)?.[0];
  let live = aliases.find(([, r]) => r.Properties?.Name === LIVE_ALIAS)?.[0];
  if (!live) {
    live = LIVE_ALIAS_ID;
    resources[live] = {
      Type: 'AWS::Lambda::Alias',
      Properties: {
        FunctionName: { Ref: functionLogicalId },
        Name: LIVE_ALIAS,
        // Constant on purpose: CloudFormation never updates it, so the deployment functions own where live points. Never
        // change these properties: any update of this resource would move live back to $LATEST in every stack. The
        // description is the samples' own, so a template moving from the hand-wired style to this one changes nothing.
        FunctionVersion: '$LATEST',
        Description: LIVE_ALIAS_DESCRIPTION,
      },
    };
    notes.push(`${live}: the constant live alias added (the deployment functions move it)`);
  }
  const own = new Set([functionLogicalId, ...versions, ...aliases.map(([id]) => id), live]);


  // Every invocation of the function, a version or the candidate targets live (the alias ARN).
  const targets = new Set([functionLogicalId, ...versions, ...(candidate ? [candidate] : [])]);
  const toLive = (reference: Reference) => {
    if (!targets.has(reference.logicalId) || (reference.attribute && reference.attribute !== 'Arn')) return undefined;
    // `${Function}` in a string is the function's name: `<name>:live` is its live alias by name.
    const byName = reference.logicalId === functionLogicalId && !reference.attribute;
    return { value: { Ref: live }, subText: byName ? `\${${functionLogicalId}}:${LIVE_ALIAS}` : `\${${live}}` };
  };
  const rewritten = new Set<string>();
  for (const [id, resource] of Object.entries(resources)) {
    if (own.has(id) || !QUALIFIED_SETTINGS.has(resource.Type) || resource.Properties?.Qualifier !== CANDIDATE_ALIAS) continue;
    if (!referencesIn(resource.Properties).some((r) => r.logicalId === functionLogicalId)) continue;
    resource.Properties.Qualifier = LIVE_ALIAS;
    own.add(id);
    rewritten.add(id);
  }
  for (const [id, resource] of Object.entries(resources)) {
    if (own.has(id) || !INVOKER_TYPES.has(resource.Type)) continue;
    const before = JSON.stringify(resource.Properties);
    resource.Properties = replaceReferences(resource.Properties, toLive) as Record<string, unknown>;
    if (JSON.stringify(resource.Properties) !== before) rewritten.add(id);
  }
  // What waited for the candidate alias now waits for live.
  for (const id of rewritten) {
    const resource = resources[id]!;
    const dependsOn = typeof resource.DependsOn === 'string' ? [resource.DependsOn] : Array.isArray(resource.DependsOn) ? (resource.DependsOn as string[]) : undefined;
    if (candidate && dependsOn?.includes(candidate)) resource.DependsOn = [...new Set(dependsOn.map((d) => (d === candidate ? live : d)))];
    else if (resource.Properties?.Qualifier === LIVE_ALIAS && !referencesIn(resource).some((r) => r.logicalId === live)) resource.DependsOn = [...new Set([...(dependsOn ?? []), live])];
  }
  if (rewritten.size > 0) notes.push(`pointed at the live alias: ${[...rewritten].sort().join(', ')}`);

  // Whatever still reaches the function outside its own resources, its logs and alarms, would invoke new code directly.
  const issues: TemplateIssue[] = [];
  for (const [id, resource] of Object.entries(resources)) {
    if (own.has(id) || OBSERVER_TYPES.has(resource.Type)) continue;
    const leftover = referencesIn(resource).find((r) => targets.has(r.logicalId));
    if (leftover) {
      issues.push({ resource: `${id} (${resource.Type})`, message: `references ${leftover.logicalId}${leftover.attribute ? `.${leftover.attribute}` : ''}, which the release pipeline cannot point at the live alias: reference !Ref ${live} instead (or use an Events: entry on the function)` });
    }
  }
  if (candidate && Object.entries(resources).some(([id, r]) => id !== candidate && !own.has(id) && referencesIn(r).some((ref) => ref.logicalId === candidate))) {
    issues.push({ resource: candidate, message: `the ${CANDIDATE_ALIAS} alias has an invoker left; nothing may invoke it` });
  }
  if (issues.length > 0) throw new ApplicationTemplateError(functionName, issues);
  delete template.Transform;
  return { template, notes };
}
