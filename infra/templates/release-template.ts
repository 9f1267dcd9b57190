/**
 * A function's template as CloudFormation deploys it: prepared (see `prepareApplication`), its code uploaded, translated
 * from SAM into plain CloudFormation offline, and every invoker pointed at `live` (see `pointInvokersAtLive`).
 */
import { Document, visit } from 'yaml';
import { APPLICATION_BOUNDARY_NAME } from '../lib/application-boundary';
import { rehashApiDeployments } from './api-deployments';
import type { CfnTemplate } from './application-template';
import { pointInvokersAtLive } from './live-invokers';
import { ApplicationTemplateError, prepareApplication, type DeploymentPreferenceTakeover, type PreparedApplication, type PrepareOptions } from './prepare-application';
import { translateSam } from './sam-translate';

/** A template ready for CloudFormation, and what was done to it on the way. */
export interface ReleaseTemplate {
  readonly template: CfnTemplate;
  readonly functionLogicalId: string;
  readonly takeover?: DeploymentPreferenceTakeover;
  readonly notes: readonly string[];
}

/** The code location used where nothing is uploaded (synth checks, tests): the translator only needs an S3 URI. */
export const unuploadedCodeUri = (functionName: string) => `s3://lrp-code-not-uploaded/functions/${functionName}/code.zip`;

/**
 * The parameters that carry the released function's code location: their defaults are where the packager uploaded it
 * (read by stages in the tooling region); a stage in another region passes its region's copy of the build's code
 * artifact instead, because Lambda reads code only from a bucket in the function's own region.
 */
export const CodeParameter = { BUCKET: 'ReleaseCodeBucket', KEY: 'ReleaseCodeKey' } as const;

/**
 * Translates a prepared, uploaded template (its `CodeUri` an `s3://` URI), points its invokers at `live`, and bounds
 * every role it creates — the function's, and those SAM generates for events (ScheduleV2, state machines) — with the
 * application permissions boundary, without which the CloudFormation role may not create them. REST API deployments
 * are renamed from the rewritten body, so a stage serves what was rewritten (see `rehashApiDeployments`).
 */
export function finishReleaseTemplate(uploaded: CfnTemplate, prepared: Pick<PreparedApplication, 'functionLogicalId' | 'takeover' | 'publishedAlias' | 'notes'>, functionName: string, region: string): ReleaseTemplate {
  const rewritten = pointInvokersAtLive(translateSam(uploaded, { region }), prepared.functionLogicalId, functionName, prepared.publishedAlias !== undefined ? { publishedAlias: prepared.publishedAlias } : {});
  const redeployed = rehashApiDeployments(rewritten.template);
  const bounded = boundRoles(rewritten.template);
  codeFromParameters(rewritten.template, prepared.functionLogicalId, functionName);
  return { template: rewritten.template, functionLogicalId: prepared.functionLogicalId, ...(prepared.takeover ? { takeover: prepared.takeover } : {}), notes: [...prepared.notes, ...rewritten.notes, ...redeployed, ...bounded] };
}

/**
 * Points the released function's `Code` at the `CodeParameter` parameters, defaulting to where it was uploaded (in
 * place). Done after translation: SAM's version hash is taken from the uploaded location, so new code still publishes
 * a new version whichever location a stage passes.
 */
function codeFromParameters(template: CfnTemplate, functionLogicalId: string, functionName: string): void {
  const parameters = ((template as { Parameters?: Record<string, unknown> }).Parameters ??= {}) as Record<string, unknown>;
  const taken = Object.values(CodeParameter).filter((name) => parameters[name] !== undefined);
  if (taken.length > 0) throw new ApplicationTemplateError(functionName, taken.map((name) => ({ resource: `Parameters.${name}`, message: `the parameter name ${name} is the packager's (it carries the function's code location to each stage): rename this parameter` })));
  const properties = template.Resources[functionLogicalId]!.Properties as { Code: { S3Bucket: unknown; S3Key: unknown; S3ObjectVersion?: unknown } };
  const { S3Bucket: bucket, S3Key: key } = properties.Code;
  if (typeof bucket !== 'string' || typeof key !== 'string' || properties.Code.S3ObjectVersion !== undefined) throw new ApplicationTemplateError(functionName, [{ resource: functionLogicalId, message: `the packaged code location ${JSON.stringify(properties.Code)} is not a plain bucket and key` }]);
  parameters[CodeParameter.BUCKET] = { Type: 'String', Default: bucket, Description: 'Bucket of the function\'s code (a stage in another region passes its region\'s copy)' };
  parameters[CodeParameter.KEY] = { Type: 'String', Default: key, Description: 'Key of the function\'s code object (a stage in another region passes its region\'s copy)' };
  properties.Code = { S3Bucket: { Ref: CodeParameter.BUCKET }, S3Key: { Ref: CodeParameter.KEY } };
}

/** Sets the application boundary on every `AWS::IAM::Role` that has none (in place); one note per role. */
function boundRoles(template: CfnTemplate): string[] {
  const boundary = { 'Fn::Sub': `arn:\${AWS::Partition}:iam::\${AWS::AccountId}:policy/${APPLICATION_BOUNDARY_NAME}` };
  return Object.entries(template.Resources)
    .filter(([, r]) => r.Type === 'AWS::IAM::Role' && r.Properties?.PermissionsBoundary === undefined)
    .map(([id, r]) => {
      (r.Properties as Record<string, unknown>).PermissionsBoundary = boundary;
      return `${id}: PermissionsBoundary set to ${APPLICATION_BOUNDARY_NAME}`;
    });
}

/** The template as it would be released, without uploading anything: for synth checks and tests. */
export function releaseTemplateOf(source: CfnTemplate, options: Omit<PrepareOptions, 'codeUri'> & { readonly region: string; readonly codeUri?: string }): ReleaseTemplate {
  const prepared = prepareApplication(source, { ...options, codeUri: options.codeUri ?? unuploadedCodeUri(options.functionName) });
  return finishReleaseTemplate(prepared.template, prepared, options.functionName, options.region);
}

/** YAML 1.1 scalars with a tag of their own (merge `<<`, value `=`), which the yaml library writes plain. */
const YAML11_TAGGED = new Set(['<<', '=']);

/**
 * The template as the packaged YAML file: long-form intrinsics and no anchors, which CloudFormation reads as they are,
 * and YAML 1.1 quoting, so that `OFF`, `yes`, `on`, `<<` or `=` stay strings for CloudFormation's YAML 1.1 reader.
 */
export function packagedYaml(template: CfnTemplate): string {
  // Without the merge tag, `<<` is an ordinary string to the writer, which then quotes it as told.
  const document = new Document(template, { version: '1.1', aliasDuplicateObjects: false, customTags: (tags) => tags.filter((tag) => (tag as { tag?: string }).tag !== 'tag:yaml.org,2002:merge') });
  visit(document, {
    Scalar: (_, node) => {
      if (typeof node.value === 'string' && YAML11_TAGGED.has(node.value)) node.type = 'QUOTE_DOUBLE';
    },
  });
  return document.toString({ lineWidth: 0 });
}
