/**
 * SAM names a REST API's `AWS::ApiGateway::Deployment` `<Api>Deployment<hash>` by a hash of the OpenAPI body it
 * translated, before the packager points the body's integration URIs at `live`. CloudFormation creates a deployment —
 * the snapshot a stage serves — only for a new logical id, so a change made by the rewrite alone (a packager upgrade,
 * a template moving between the hand-wired and the plain SAM style) would update the RestApi and leave every stage on
 * the old snapshot. The id is therefore recomputed from the body as deployed.
 *
 * HTTP APIs need nothing: SAM's `AWS::ApiGatewayV2::Stage` has `AutoDeploy: true`, so API Gateway deploys every change
 * of the API itself.
 */
import { createHash } from 'node:crypto';
import type { CfnTemplate } from './application-template';
import { referencesIn, replaceReferences } from './references';

type Resource = { Type: string; Properties?: Record<string, unknown>; DependsOn?: unknown; [key: string]: unknown };

/** What SAM writes in the description of a deployment it generated: the 40-character hash of what it hashed. */
const SAM_DESCRIPTION = /^RestApi deployment id: ([0-9a-f]{40})$/;

/** JSON with keys sorted, so the hash depends on the body, not on the order the translator wrote it in. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

/** Replaces every use of logical id `from` by `to` (in place): Ref, Fn::GetAtt, `${…}` of Fn::Sub, DependsOn, Outputs. */
function renameLogicalId(template: CfnTemplate & { Resources: Record<string, Resource> }, from: string, to: string): void {
  const rename = (value: unknown) =>
    replaceReferences(value, (r) => (r.logicalId !== from ? undefined : { value: r.attribute ? { 'Fn::GetAtt': [to, r.attribute] } : { Ref: to }, subText: `\${${to}${r.attribute ? `.${r.attribute}` : ''}}` }));
  const resources = template.Resources;
  const renamed: Record<string, Resource> = {};
  for (const [id, resource] of Object.entries(resources)) {
    const next = referencesIn(resource).some((r) => r.logicalId === from) ? (rename(resource) as Resource) : resource;
    if (typeof next.DependsOn === 'string' && next.DependsOn === from) next.DependsOn = to;
    else if (Array.isArray(next.DependsOn)) next.DependsOn = (next.DependsOn as string[]).map((d) => (d === from ? to : d));
    renamed[id === from ? to : id] = next;
  }
  for (const id of Object.keys(resources)) delete resources[id];
  Object.assign(resources, renamed);
  const outputs = (template as { Outputs?: Record<string, unknown> }).Outputs;
  if (outputs) for (const [name, output] of Object.entries(outputs)) outputs[name] = rename(output);
}

/**
 * Gives every REST API deployment SAM generated an id (and description) hashed from SAM's own hash and the RestApi's
 * body as the packager left it, and points every reference (the stage's `DeploymentId`, `DependsOn`, outputs) at it.
 * In place; one note per deployment renamed. Deterministic: the same template always gets the same ids.
 */
export function rehashApiDeployments(template: CfnTemplate): string[] {
  const t = template as CfnTemplate & { Resources: Record<string, Resource> };
  const notes: string[] = [];
  for (const [id, resource] of Object.entries(t.Resources)) {
    if (resource.Type !== 'AWS::ApiGateway::Deployment') continue;
    const samDigest = SAM_DESCRIPTION.exec(String(resource.Properties?.Description ?? ''))?.[1];
    const [api] = referencesIn(resource.Properties?.RestApiId).map((r) => r.logicalId);
    const body = api === undefined ? undefined : t.Resources[api]?.Properties?.Body;
    // Only SAM's own deployments: `<Api>Deployment<10 hex>`, its description carrying the hash.
    if (samDigest === undefined || body === undefined || !new RegExp(`^${api}Deployment[0-9a-f]{10}$`).test(id)) continue;
    const digest = createHash('sha1').update(`${samDigest}\n${canonicalJson(body)}`).digest('hex');
    const newId = `${api}Deployment${digest.slice(0, 10)}`;
    resource.Properties!.Description = `RestApi deployment id: ${digest}`;
    if (newId === id) continue;
    renameLogicalId(t, id, newId);
    notes.push(`${id}: renamed ${newId}, hashed from the API body as deployed (its integrations on live), so API Gateway deploys what the packager rewrote`);
  }
  return notes;
}
