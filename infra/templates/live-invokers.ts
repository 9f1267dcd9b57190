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
import { inLogGroupName, INVOKER_TYPES, INVOKING_PROPERTIES, invokingParts, mapInvokingParts, OBSERVER_TYPES, QUALIFIED_SETTINGS, QUALIFIED_SUBJECT, unknownTargetProblem } from './invoking-parts';
import { LiteralNameMode, rewriteLiteralNames } from './literal-names';
import { QualifierVerdict, qualifierVerdict } from './qualifiers';
import { referencesIn, replaceReferences, type Reference, type Replacement } from './references';

type Resource = { Type: string; Properties?: Record<string, unknown>; [key: string]: unknown };

/** The rewritten template, and what was done. */
export interface RewrittenApplication {
  readonly template: CfnTemplate;
  readonly notes: readonly string[];
}

/** What the template published before the packager renamed it. */
export interface PointInvokersOptions {
  /** The template's own `AutoPublishAlias` (e.g. `prod`): written after the function, it meant live. @default - none */
  readonly publishedAlias?: string;
}

/** Points every invoker of the translated function at a constant `live` alias; throws naming anything left over. */
export function pointInvokersAtLive(translated: CfnTemplate, functionLogicalId: string, functionName: string, options: PointInvokersOptions = {}): RewrittenApplication {
  const template = structuredClone(translated) as CfnTemplate & { Resources: Record<string, Resource>; Transform?: unknown; Outputs?: Record<string, unknown> };
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
    if (resources[LIVE_ALIAS_ID]) throw new ApplicationTemplateError(functionName, [{ resource: LIVE_ALIAS_ID, message: `the logical id ${LIVE_ALIAS_ID} is the packager's (the constant live alias): rename this ${resources[LIVE_ALIAS_ID].Type}` }]);
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
      // A conditional function has a conditional alias: without it, a false condition leaves an alias of nothing.
      ...(fn.Condition !== undefined ? { Condition: fn.Condition } : {}),
    };
    notes.push(`${live}: the constant live alias added (the deployment functions move it)`);
  }
  const own = new Set([functionLogicalId, ...versions, ...aliases.map(([id]) => id), live]);
  const { publishedAlias } = options;
  const literal = { functionName, live, ...(publishedAlias !== undefined ? { publishedAlias } : {}) };

  // Every invocation of the function, a version or the candidate targets live: the alias ARN where the value is the
  // target, `${Function}:live` (its name, qualified) inside a name or ARN being built.
  const targets = new Set([functionLogicalId, ...versions, ...(candidate ? [candidate] : [])]);
  const nameOnLive = `\${${functionLogicalId}}:${LIVE_ALIAS}`;
  const toLive = (problems: string[]) => (reference: Reference): Replacement | undefined => {
    if (!targets.has(reference.logicalId) || inLogGroupName(reference)) return undefined;
    const isFunction = reference.logicalId === functionLogicalId;
    if (isFunction && reference.attribute && reference.attribute !== 'Arn') return undefined;
    const byName = isFunction && !reference.attribute;
    const verdict = isFunction ? qualifierVerdict(reference.qualifier, publishedAlias, `\${${functionLogicalId}${reference.attribute ? '.Arn' : ''}}`) : QualifierVerdict.Unqualified;
    if (typeof verdict === 'object') return void problems.push(verdict.problem);
    if (verdict === QualifierVerdict.Live && byName) return undefined;
    const replacesQualifier = verdict !== QualifierVerdict.Unqualified;
    if (!byName) return { value: { Ref: live }, subText: `\${${live}}`, replacesQualifier };
    return { value: reference.embedded || replacesQualifier ? { 'Fn::Sub': nameOnLive } : { Ref: live }, subText: nameOnLive, replacesQualifier };
  };
  const invoking = (value: unknown, problems: string[]) => rewriteLiteralNames(replaceReferences(value, toLive(problems)), LiteralNameMode.Invoke, literal, problems);
  // What observes the function's alias by name (an alarm's dimensions) follows the renamed alias to live.
  const renamedToLive = (reference: Reference): Replacement | undefined =>
    reference.logicalId === functionLogicalId && !reference.attribute && qualifierVerdict(reference.qualifier, publishedAlias, '') === QualifierVerdict.Renamed
      ? { value: { 'Fn::Sub': nameOnLive }, subText: nameOnLive, replacesQualifier: true }
      : undefined;
  const observing = (value: unknown) => rewriteLiteralNames(replaceReferences(value, renamedToLive), LiteralNameMode.Observe, literal, []);
  const invokingOnly = (value: unknown, problems: string[]) => mapInvokingParts(value, (part) => invoking(part, problems), observing);

  const rewritten = new Set<string>();
  const needsLive = new Set<string>();
  const qualified = new Set<string>();
  for (const [id, resource] of Object.entries(resources)) {
    if (own.has(id) || !QUALIFIED_SETTINGS.has(resource.Type) || !referencesIn(resource.Properties).some((r) => r.logicalId === functionLogicalId)) continue;
    const qualifier = resource.Properties?.Qualifier;
    if (qualifier === LIVE_ALIAS) needsLive.add(id);
    else if (typeof qualifier === 'string' && qualifierVerdict(qualifier, publishedAlias, '') === QualifierVerdict.Renamed) rewritten.add(id);
    else if (qualifier === CANDIDATE_ALIAS) rewritten.add(id);
    else continue;
    resource.Properties!.Qualifier = LIVE_ALIAS;
    qualified.add(id);
  }
  const issues: TemplateIssue[] = [];
  for (const [id, resource] of Object.entries(resources)) {
    if (own.has(id) || OBSERVER_TYPES.has(resource.Type)) continue;
    const problems: string[] = [];
    const before = JSON.stringify(resource.Properties);
    const properties = (resource.Properties ?? {}) as Record<string, unknown>;
    const partial = INVOKING_PROPERTIES[resource.Type];
    let invokingValue: unknown = resource;
    const unknownTarget = unknownTargetProblem(resource, live);
    if (unknownTarget) problems.push(unknownTarget);
    if (qualified.has(id)) {
      // The setting is live's; what it sends events to (a destination back to the function) invokes.
      for (const key of Object.keys(properties)) if (!QUALIFIED_SUBJECT.has(key)) properties[key] = invokingOnly(properties[key], problems);
      invokingValue = invokingParts(Object.entries(properties).filter(([key]) => !QUALIFIED_SUBJECT.has(key)));
    } else if (INVOKER_TYPES.has(resource.Type)) {
      resource.Properties = invokingOnly(properties, problems) as Record<string, unknown>;
      invokingValue = invokingParts(resource.Properties);
    } else if (partial) {
      for (const key of Object.keys(properties)) properties[key] = partial.includes(key) ? invokingOnly(properties[key], problems) : observing(properties[key]);
      invokingValue = invokingParts(partial.map((key) => properties[key]));
    } else {
      rewriteLiteralNames(resource, LiteralNameMode.Check, literal, problems);
    }
    if (JSON.stringify(resource.Properties) !== before) rewritten.add(id);
    // Whatever still reaches the function, a version or candidate, but by the live alias, would invoke new code directly.
    const leftover = referencesIn(invokingValue).find((r) => targets.has(r.logicalId) && !inLogGroupName(r) && !(r.logicalId === functionLogicalId && qualifierVerdict(r.qualifier, undefined, '') === QualifierVerdict.Live));
    const label = `${id} (${resource.Type})`;
    if (problems.length > 0) for (const problem of new Set(problems)) issues.push({ resource: label, message: problem });
    else if (leftover) {
      issues.push({ resource: label, message: `references ${leftover.logicalId}${leftover.attribute ? `.${leftover.attribute}` : ''}, which the release pipeline cannot point at the live alias: reference !Ref ${live} instead (or use an Events: entry on the function)` });
    }
  }
  // What waited for the candidate alias now waits for live; settings of live wait for it.
  for (const id of [...rewritten, ...needsLive]) {
    const resource = resources[id]!;
    const dependsOn = typeof resource.DependsOn === 'string' ? [resource.DependsOn] : Array.isArray(resource.DependsOn) ? (resource.DependsOn as string[]) : undefined;
    if (candidate && dependsOn?.includes(candidate)) resource.DependsOn = [...new Set(dependsOn.map((d) => (d === candidate ? live : d)))];
    else if (resource.Properties?.Qualifier === LIVE_ALIAS && !referencesIn(resource).some((r) => r.logicalId === live)) resource.DependsOn = [...new Set([...(dependsOn ?? []), live])];
  }
  if (rewritten.size > 0) notes.push(`pointed at the live alias: ${[...rewritten].sort().join(', ')}`);
  // Outputs are other stacks' invokers: an exported ARN of the function (unqualified: $LATEST) or of its old alias
  // exports live instead; its name may be exported as it is, and a version is refused below.
  const outputToLive = (problems: string[]) => {
    const invocation = toLive(problems);
    return (r: Reference) => ((r.logicalId === functionLogicalId && !r.attribute && !r.qualifier) || versions.includes(r.logicalId) ? undefined : invocation(r));
  };
  const rewriteOutput = (value: unknown, problems: string[]) => mapInvokingParts(value, (part) => observing(replaceReferences(part, outputToLive(problems))), observing);
  issues.push(...outputIssues(template, { versions, live, notes }, rewriteOutput));
  if (issues.length > 0) throw new ApplicationTemplateError(functionName, issues);
  delete template.Transform;
  return { template, notes };
}

/**
 * Outputs hand values to other stacks: an output invoking the function, its published alias or `candidate` is pointed
 * at live (it meant the alias taking traffic), one on $LATEST or another qualifier is refused, and so is an output of a
 * version, since each deploy publishes a version that serves no traffic yet.
 */
function outputIssues(template: { Outputs?: Record<string, unknown> }, family: { versions: readonly string[]; live: string; notes: string[] }, rewrite: (value: unknown, problems: string[]) => unknown): TemplateIssue[] {
  const issues: TemplateIssue[] = [];
  for (const [name, output] of Object.entries(template.Outputs ?? {})) {
    const before = JSON.stringify(output);
    const problems: string[] = [];
    template.Outputs![name] = rewrite(output, problems);
    if (JSON.stringify(template.Outputs![name]) !== before) family.notes.push(`Outputs.${name}: pointed at the live alias`);
    for (const problem of new Set(problems)) issues.push({ resource: `Outputs.${name}`, message: problem });
    if (referencesIn(output).some((r) => family.versions.includes(r.logicalId))) {
      issues.push({ resource: `Outputs.${name}`, message: `exports a published version of the function: every deploy publishes a new one, which serves no traffic until the deployment functions move live to it; export !Ref ${family.live} (the alias taking traffic) instead, or remove the output` });
    }
  }
  return issues;
}
