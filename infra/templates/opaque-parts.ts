/**
 * Parts of a template the packager can neither check nor build: content CloudFormation fetches at deploy
 * (`Fn::Transform` includes, API documents in S3), and layers that `sam build` would have built. An invoker hidden in
 * them would reach the function outside `live`, and an unbuilt layer fails at runtime: each is refused with its fix.
 */
import type { TemplateIssue } from './prepare-application';

type Resource = { Type: string; Properties?: Record<string, unknown>; Metadata?: Record<string, unknown> };

/** Where each API type keeps a document the packager does not read. */
const EXTERNAL_DEFINITIONS: Readonly<Record<string, string>> = {
  'AWS::Serverless::Api': 'DefinitionUri',
  'AWS::Serverless::HttpApi': 'DefinitionUri',
  'AWS::ApiGateway::RestApi': 'BodyS3Location',
  'AWS::ApiGatewayV2::Api': 'BodyS3Location',
};

/** Whether a value contains `Fn::Transform`, however deep. */
function hasTransform(value: unknown): boolean {
  if (Array.isArray(value)) return value.some(hasTransform);
  if (value === null || typeof value !== 'object') return false;
  return Object.entries(value as Record<string, unknown>).some(([key, child]) => key === 'Fn::Transform' || hasTransform(child));
}

/** One issue per part of the template the packager cannot see into or build. */
export function opaquePartIssues(template: { Resources: Record<string, Resource>; Outputs?: unknown; Globals?: unknown; Conditions?: unknown; Mappings?: unknown }): TemplateIssue[] {
  const issues: TemplateIssue[] = [];
  const include = 'Fn::Transform (e.g. AWS::Include) is expanded by CloudFormation at deploy, after the packager has pointed every invoker at the live alias, so what it brings in (an OpenAPI file naming ${Fn.Arn}, i.e. $LATEST) can be neither checked nor rewritten: put the content inline (an API\'s DefinitionBody, with !Sub for the function ARN)';
  for (const section of ['Globals', 'Outputs', 'Conditions', 'Mappings'] as const) {
    if (hasTransform(template[section])) issues.push({ resource: section, message: include });
  }
  for (const [id, resource] of Object.entries(template.Resources)) {
    if (hasTransform(resource)) issues.push({ resource: id, message: include });
    const external = EXTERNAL_DEFINITIONS[resource.Type];
    if (external && resource.Properties?.[external] !== undefined) {
      issues.push({ resource: id, message: `${external}: the packager cannot read an API document kept outside the template, so it cannot point its integrations at the live alias (an integration URI naming the function unqualified invokes $LATEST, outside the traffic shift); put the document inline (${resource.Type.startsWith('AWS::Serverless') ? 'DefinitionBody' : 'Body'}, with !Sub \${Fn.Arn} in its integration URIs)` });
    }
    const contentUri = resource.Properties?.ContentUri;
    if (resource.Type === 'AWS::Serverless::LayerVersion' && resource.Metadata?.BuildMethod !== undefined && !(typeof contentUri === 'string' && contentUri.startsWith('s3://')) && (typeof contentUri !== 'object' || contentUri === null)) {
      issues.push({ resource: id, message: `a layer built by sam build (Metadata.BuildMethod ${JSON.stringify(resource.Metadata.BuildMethod)}, ContentUri ${JSON.stringify(contentUri ?? '.')}): the pipeline builds only the function, so the layer would ship its unbuilt source; bundle what it provides into the function (the build bundles dependencies), or publish the layer from a stack of its own and reference its ARN` });
    }
  }
  return issues;
}
