/**
 * The deploy permission a finding suggests: the line to add to `functions[].deployPermissions` in release.config.ts,
 * written so that the same line passes in every stage. Values name `${Partition}`, `${Region}` and `${Account}`, and
 * `${Stage}` wherever every stage needs the same value with its own name; the request's context becomes the
 * permission's condition, so a call the role may only make for the function's own resources stays narrowed to them.
 */
import { UNKNOWN, type AccessRequest } from './policy';

/** Where the release is deployed. */
export interface SuggestionEnvironment {
  readonly partition: string;
  readonly region: string;
  readonly account: string;
}

/** One call a stage's stack needs, and which resource's handlers make it. */
export interface StageRequest extends AccessRequest {
  readonly logicalId: string;
}

/** A deploy permission as the configuration takes it (without its reason). */
export interface SuggestedPermission {
  readonly actions: readonly string[];
  readonly resources: readonly string[];
  readonly conditions?: Readonly<Record<string, Readonly<Record<string, string>>>>;
}

/** A value as a deploy permission writes it: placeholders for the environment, `*` for what is unknown before deploy. */
export function withEnvironmentPlaceholders(value: string, env: SuggestionEnvironment): string {
  return value
    .replaceAll(UNKNOWN, '*')
    .replaceAll(`arn:${env.partition}:`, 'arn:${Partition}:')
    .replaceAll(`:${env.region}:`, ':${Region}:')
    .replaceAll(`:${env.account}:`, ':${Account}:');
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** The value with the stage's name, where it stands as a word of its own (`orders-prod-Queue`), written `${Stage}`. */
function withStagePlaceholder(value: string, stage: string): string {
  return value.replace(new RegExp(`(?<![A-Za-z0-9])${escapeRegExp(stage)}(?![A-Za-z0-9])`, 'g'), '${Stage}');
}

/** The operator a condition on one context key uses: ARN keys take ArnLike, values with `*` StringLike, others StringEquals. */
function operatorFor(key: string, value: string): string {
  if (/arn$/i.test(key) && value.startsWith('arn:')) return 'ArnLike';
  return value.includes('*') ? 'StringLike' : 'StringEquals';
}

/** The permission that allows one request, its values written with placeholders (`${Stage}` when `stage` is given). */
function permissionFor(request: AccessRequest, env: SuggestionEnvironment, stage?: string): SuggestedPermission {
  const write = (value: string) => (stage === undefined ? withEnvironmentPlaceholders(value, env) : withStagePlaceholder(withEnvironmentPlaceholders(value, env), stage));
  const conditions: Record<string, Record<string, string>> = {};
  for (const [key, value] of Object.entries(request.context ?? {})) {
    const written = write(value);
    (conditions[operatorFor(key, written)] ??= {})[key] = written;
  }
  return { actions: [request.action], resources: [write(request.resource)], ...(Object.keys(conditions).length > 0 ? { conditions } : {}) };
}

/**
 * The permission to suggest for a request a stage's stack needs. When every stage needs the same call, the same value
 * but for its own stage's name, the line names `${Stage}` and one line serves them all; otherwise it names this
 * stage's values only, and each stage that needs the call gets a line of its own.
 */
export function suggestedPermission(request: StageRequest, stage: string, stages: ReadonlyMap<string, readonly StageRequest[]>, env: SuggestionEnvironment): SuggestedPermission {
  const general = permissionFor(request, env, stage);
  const key = JSON.stringify(general);
  const everyStage = [...stages].every(([other, requests]) =>
    requests.some((r) => r.logicalId === request.logicalId && r.action.toLowerCase() === request.action.toLowerCase() && JSON.stringify(permissionFor(r, env, other)) === key),
  );
  return everyStage ? general : permissionFor(request, env);
}

const quoted = (text: string) => `'${text.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;
const listOf = (values: readonly string[]) => `[${values.map(quoted).join(', ')}]`;

/** The permission as a line of release.config.ts, its reason left for the author. */
export function formatPermission(permission: SuggestedPermission): string {
  const conditions = permission.conditions
    ? `, conditions: { ${Object.entries(permission.conditions).map(([operator, keys]) => `${operator}: { ${Object.entries(keys).map(([k, v]) => `${quoted(k)}: ${quoted(v)}`).join(', ')} }`).join(', ')} }`
    : '';
  return `{ actions: ${listOf(permission.actions)}, resources: ${listOf(permission.resources)}${conditions}, reason: '…' }`;
}
