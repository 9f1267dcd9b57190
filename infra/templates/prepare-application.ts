/**
 * A function's SAM template as its team wrote it, made ready to release: the function named `<name>-${Stage}`, its
 * published alias renamed `candidate`, its code pointed at the built zip, the `Stage` and
 * `CommitSha` parameters the pipeline passes, and any CodeDeploy `DeploymentPreference` taken over (read, then removed:
 * two systems never shift the same alias). Nothing here needs AWS or the SAM translator.
 */
import type { CfnTemplate } from './application-template';
import { takeOverDeploymentPreference, type DeploymentPreferenceTakeover } from './deployment-preference';
import { opaquePartIssues } from './opaque-parts';
import { referencesIn } from './references';
import { fixedNameIssues, nameSchedulesByStage } from './stage-names';

export type { DeploymentPreferenceTakeover } from './deployment-preference';

/** The alias every deploy moves to the new version; `live` belongs to the deployment functions. */
export const CANDIDATE_ALIAS = 'candidate';
export const LIVE_ALIAS = 'live';
/** The one transform a template may declare: the packager translates it offline. */
export const SAM_TRANSFORM = 'AWS::Serverless-2016-10-31';
/** The logical id of the constant `live` alias the packager adds when a template has none. */
export const LIVE_ALIAS_ID = 'LiveAlias';

/** One thing wrong with a template: the resource (or section) and what to do. */
export interface TemplateIssue {
  readonly resource: string;
  readonly message: string;
}

/** Thrown when a template cannot be released as it is; the message lists every issue with its fix. */
export class ApplicationTemplateError extends Error {
  override readonly name = 'ApplicationTemplateError';
  constructor(
    readonly functionName: string,
    readonly issues: readonly TemplateIssue[],
  ) {
    super(`functions/${functionName}/template.yaml cannot be released:\n${issues.map((i) => `- ${i.resource}: ${i.message}`).join('\n')}`);
  }
}

/** The template made ready, and what was done to it. */
export interface PreparedApplication {
  readonly template: CfnTemplate;
  /** Logical id of the released function. */
  readonly functionLogicalId: string;
  readonly takeover?: DeploymentPreferenceTakeover;
  /** The template's own `AutoPublishAlias` before it became `candidate` (e.g. `prod`). @default - none */
  readonly publishedAlias?: string;
  /** One sentence per change, for the packager's report. */
  readonly notes: readonly string[];
}

/** Where the built code is, and how Lambda calls it. */
export interface PrepareOptions {
  /** The function's folder name: deployed as `<name>-<stage>`. */
  readonly functionName: string;
  /** `CodeUri` of the built zip (a path, or the `s3://` location once uploaded). */
  readonly codeUri: string;
  /** `Handler` of the bundle. @default - `index.<export>`, the export the template's `Handler` (or `Globals`') names */
  readonly handler?: string;
}

type Resource = { Type: string; Properties?: Record<string, unknown>; Metadata?: Record<string, unknown>; [key: string]: unknown };

const stageName = (functionName: string) => `${functionName}-\${Stage}`;

/** Whether a `FunctionName` value is `!Sub <name>-${Stage}` (a variables map may not set `Stage`). */
function namesStageFunction(value: unknown, functionName: string): boolean {
  const sub = (value as { 'Fn::Sub'?: unknown } | null)?.['Fn::Sub'];
  const variables = Array.isArray(sub) ? (sub[1] as Record<string, unknown> | undefined) : undefined;
  return sub === stageName(functionName) || (Array.isArray(sub) && sub[0] === stageName(functionName) && !(variables && 'Stage' in variables));
}

/** The bundle's handler for a template's `Handler` (`app.lambdaHandler` → `index.lambdaHandler`): the bundle keeps the export. */
export function bundleHandler(handler: unknown): string {
  const exportName = typeof handler === 'string' ? handler.slice(handler.lastIndexOf('.') + 1) : '';
  return `index.${exportName || 'handler'}`;
}

/** Prepares a function's template for release; throws `ApplicationTemplateError` naming every issue and its fix. */
export function prepareApplication(source: CfnTemplate, options: PrepareOptions): PreparedApplication {
  const template = structuredClone(source) as CfnTemplate & { Resources: Record<string, Resource>; Globals?: { Function?: Record<string, unknown> }; Parameters?: Record<string, unknown> };
  const issues: TemplateIssue[] = [];
  const notes: string[] = [];
  // The template is translated before deploy; only SAM's transform has an offline translator.
  const transforms = [template.Transform ?? []].flat().filter((t) => t !== SAM_TRANSFORM);
  if (transforms.length > 0) {
    throw new ApplicationTemplateError(options.functionName, [{ resource: 'Transform', message: `${transforms.join(', ')}: only ${SAM_TRANSFORM} is supported (the packager translates it before CloudFormation sees the template); expand what the other transforms do in the template itself` }]);
  }
  const functions = Object.entries(template.Resources).filter(([, r]) => r.Type === 'AWS::Serverless::Function');
  const globalAlias = template.Globals?.Function?.AutoPublishAlias;
  if (globalAlias !== undefined && functions.length > 1) {
    throw new ApplicationTemplateError(options.functionName, [
      { resource: 'Globals.Function.AutoPublishAlias', message: `publishes an alias for all ${functions.length} functions (${functions.map(([id]) => id).join(', ')}); one released function per template for now: move AutoPublishAlias from Globals to the function to release, and the others to folders of their own` },
    ]);
  }
  const published = functions.filter(([, r]) => r.Properties?.AutoPublishAlias !== undefined);
  if (published.length > 1) {
    throw new ApplicationTemplateError(options.functionName, [
      { resource: published.map(([id]) => id).join(', '), message: 'more than one function publishes an alias (AutoPublishAlias); one released function per template for now: move the others to folders of their own' },
    ]);
  }
  const [chosen] = published.length === 1 ? published : functions.length === 1 ? functions : [];
  if (!chosen) {
    throw new ApplicationTemplateError(options.functionName, [
      functions.length === 0 ? noServerlessFunction(template.Resources) : { resource: 'Resources', message: `${functions.length} functions and none with AutoPublishAlias: mark the one to release with AutoPublishAlias: ${CANDIDATE_ALIAS}` },
    ]);
  }
  const [logicalId, fn] = chosen;
  const properties = (fn.Properties ??= {});
  const takeover = takeOverDeploymentPreference(template, logicalId, notes, issues);
  issues.push(...opaquePartIssues(template));
  // Every stage deploys to one account and region: a name that does not vary with Stage exists twice.
  notes.push(...nameSchedulesByStage(template.Resources, (template.Parameters as Record<string, { MaxLength?: unknown }> | undefined)?.Stage));
  issues.push(...fixedNameIssues(template.Resources, logicalId));
  // The constant live alias is added under this id after translation: a resource of the team's own would vanish.
  const taken = template.Resources[LIVE_ALIAS_ID];
  if (taken && !(taken.Type === 'AWS::Lambda::Alias' && taken.Properties?.Name === LIVE_ALIAS)) {
    issues.push({ resource: LIVE_ALIAS_ID, message: `the logical id ${LIVE_ALIAS_ID} is the packager's (it adds the constant live alias under it), so this ${taken.Type} would be replaced: rename it` });
  }

  // Only the released function is built; another function's local source would be uploaded as it is, unbuilt.
  for (const [id, resource] of Object.entries(template.Resources)) {
    if (id === logicalId || resource.Type !== 'AWS::Serverless::Function') continue;
    const codeUri = resource.Properties?.CodeUri ?? template.Globals?.Function?.CodeUri;
    if (resource.Properties?.InlineCode === undefined && (codeUri === undefined || (typeof codeUri === 'string' && !codeUri.startsWith('s3://')))) {
      issues.push({ resource: id, message: `a second function with local code (${JSON.stringify(codeUri ?? '.')}): only ${logicalId} is built and released from this folder; move ${id} to a folder of its own under functions/ (one released function per template), or point its CodeUri at built code in S3` });
    }
  }

  // The deployed name is the one every role, alarm and deployment function expects.
  if (properties.FunctionName === undefined) {
    properties.FunctionName = { 'Fn::Sub': stageName(options.functionName) };
    notes.push(`${logicalId}: FunctionName set to ${stageName(options.functionName)}`);
  } else if (!namesStageFunction(properties.FunctionName, options.functionName)) {
    issues.push({ resource: logicalId, message: `FunctionName ${JSON.stringify(properties.FunctionName)} does not match the pipeline's ${stageName(options.functionName)}: set it to !Sub ${stageName(options.functionName)}, or leave it out (the packager sets it)` });
  }

  // Every deploy moves `candidate`; `live` is the deployment functions' (added constant after translation).
  const alias = properties.AutoPublishAlias ?? globalAlias;
  const publishedAlias = typeof alias === 'string' ? alias : undefined;
  if (properties.AutoPublishAlias !== CANDIDATE_ALIAS) {
    notes.push(`${logicalId}: AutoPublishAlias ${properties.AutoPublishAlias === undefined ? 'added' : `${JSON.stringify(properties.AutoPublishAlias)} →`} ${CANDIDATE_ALIAS}; live is moved by the deployment functions`);
    properties.AutoPublishAlias = CANDIDATE_ALIAS;
  }
  // SAM's version hash covers code, Environment and MemorySize only: without this, a new Timeout or layer version
  // publishes no version, so candidate and live stay on the old configuration.
  if (properties.AutoPublishAliasAllProperties !== true) {
    if (properties.AutoPublishAliasAllProperties !== undefined || template.Globals?.Function?.AutoPublishAliasAllProperties !== undefined) notes.push(`${logicalId}: AutoPublishAliasAllProperties set to true: every change of the function publishes a version`);
    properties.AutoPublishAliasAllProperties = true;
  }
  if (properties.VersionDescription === undefined) properties.VersionDescription = { 'Fn::Sub': 'commit ${CommitSha}' };

  // The code is the built bundle.
  properties.CodeUri = options.codeUri;
  properties.Handler = options.handler ?? bundleHandler(properties.Handler ?? template.Globals?.Function?.Handler);
  if (fn.Metadata?.BuildMethod !== undefined) {
    delete fn.Metadata;
    notes.push(`${logicalId}: Metadata (BuildMethod) removed: the pipeline builds the code`);
  }

  // The parameters every deploy passes.
  const parameters = (template.Parameters ??= {});
  if (parameters.Stage === undefined) parameters.Stage = { Type: 'String', Description: 'Deployment stage; part of the function name (passed by the pipeline)' };
  if (parameters.CommitSha === undefined) parameters.CommitSha = { Type: 'String', Default: 'unknown', Description: 'Commit that built the code (passed by the pipeline)' };

  // Provisioned concurrency belongs where traffic is, and CloudFormation cannot put it there: on `candidate` it warms a
  // version nobody calls; on the constant `live` alias it is refused at $LATEST, and changing it would move live.
  if (properties.ProvisionedConcurrencyConfig !== undefined || template.Globals?.Function?.ProvisionedConcurrencyConfig !== undefined) {
    issues.push({ resource: properties.ProvisionedConcurrencyConfig !== undefined ? logicalId : 'Globals.Function', message: `ProvisionedConcurrencyConfig is not supported yet: on the ${CANDIDATE_ALIAS} alias it would warm a version that serves no traffic, and CloudFormation cannot set it on the constant ${LIVE_ALIAS} alias without moving that alias. Remove it, and set provisioned concurrency on ${LIVE_ALIAS} outside the template (aws lambda put-provisioned-concurrency-config --qualifier ${LIVE_ALIAS}) once live points at a published version` });
  }

  // Nothing the team wrote may invoke the candidate alias or a fixed version: traffic reaches new code through `live`.
  for (const [id, resource] of Object.entries(template.Resources)) {
    if (id === logicalId) continue;
    const issue = aliasOrEdgeIssue(resource, logicalId, options.functionName);
    if (issue) {
      issues.push({ resource: id, message: issue });
      continue;
    }
    const pinned = referencesIn(resource).find((r) => r.logicalId === logicalId && (r.attribute === 'Alias' || r.attribute === 'Version'));
    const text = JSON.stringify(resource);
    const literal = new RegExp(`\\$\\{${logicalId}(\\.Arn)?\\}:(${CANDIDATE_ALIAS}|[0-9]+)\\b`).test(text) || new RegExp(`${options.functionName}-[^":]*:(${CANDIDATE_ALIAS}|[0-9]+)\\b`).test(text);
    if (pinned || literal) {
      issues.push({ resource: id, message: `invokes the ${pinned?.attribute === 'Version' ? 'published version' : CANDIDATE_ALIAS + ' alias'} of ${logicalId}; new code must reach traffic through the live alias: use an Events: entry on the function (it is pointed at live), or !Ref ${LIVE_ALIAS_ID}` });
    }
    if (resource.Type === 'AWS::Lambda::Alias' && resource.Properties?.Name === LIVE_ALIAS && resource.Properties.FunctionVersion !== '$LATEST') {
      issues.push({ resource: id, message: `the live alias must keep FunctionVersion: $LATEST (constant): CloudFormation would otherwise move live at every deploy, outside the canary` });
    }
  }
  if (issues.length > 0) throw new ApplicationTemplateError(options.functionName, issues);
  return { template, functionLogicalId: logicalId, ...(takeover ? { takeover } : {}), ...(publishedAlias !== undefined ? { publishedAlias } : {}), notes };
}

/**
 * Why an alias of the team's own or a Lambda@Edge association cannot be released, if the resource is one: an alias
 * other than live on the function serves what CloudFormation last deployed (on $LATEST, every deploy at once), and an
 * edge function is replicated as a fixed version, which no alias shift reaches.
 */
function aliasOrEdgeIssue(resource: Resource, logicalId: string, functionName: string): string | undefined {
  const names = (value: unknown, literal: string) => referencesIn(value).some((r) => r.logicalId === logicalId) || JSON.stringify(value ?? null).includes(literal);
  if (resource.Type === 'AWS::Lambda::Alias' && resource.Properties?.Name !== LIVE_ALIAS && names(resource.Properties?.FunctionName, `${functionName}-`)) {
    return `an alias of ${logicalId} named ${JSON.stringify(resource.Properties?.Name)}: only ${CANDIDATE_ALIAS} (which every deploy moves, before any traffic) and ${LIVE_ALIAS} (which the deployment functions shift gradually) may exist, and what invokes another alias gets each deploy's code at once, outside the canary; remove it and invoke !Ref ${LIVE_ALIAS_ID} (or an Events: entry on the function) instead`;
  }
  if (resource.Type === 'AWS::CloudFront::Distribution' && names(resource.Properties, `function:${functionName}-`)) {
    return `a Lambda@Edge association (LambdaFunctionAssociations) with ${logicalId}: Lambda@Edge is not supported by the release pipeline, since CloudFront replicates a fixed published version, which no alias shift (and no rollback) can reach; deploy the edge function from a stack of its own, outside this pipeline`;
  }
  return undefined;
}

/** The refusal of a template without a SAM function, naming the functions it has (plain or already packaged). */
function noServerlessFunction(resources: Record<string, Resource>): TemplateIssue {
  const plain = Object.entries(resources).filter(([, r]) => r.Type === 'AWS::Lambda::Function').map(([id]) => id);
  if (plain.length === 0) return { resource: 'Resources', message: 'no AWS::Serverless::Function to release: declare the function as AWS::Serverless::Function (Transform: AWS::Serverless-2016-10-31)' };
  return {
    resource: `${plain.join(', ')} (AWS::Lambda::Function)`,
    message: `the packager releases an AWS::Serverless::Function (it publishes the version and candidate alias, and points invokers at live); declare ${plain.join(', ')} as AWS::Serverless::Function with Transform: ${SAM_TRANSFORM} (CodeUri, Handler, Runtime). If this is a packaged template (the output of sam package or npm run package), bring the source template instead`,
  };
}
