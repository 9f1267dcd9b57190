import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The CloudFormation handlers a stack operation can call on a resource. `list` is never called by stack operations. */
export const HANDLERS = ['create', 'read', 'update', 'delete'] as const;
export type Handler = (typeof HANDLERS)[number];

/** What the registry schema of one resource type says its handlers and tagging need. */
export interface TypePermissions {
  /** Commit of the mirror the schema was copied from. */
  readonly commit?: string;
  readonly create?: readonly string[];
  readonly read?: readonly string[];
  readonly update?: readonly string[];
  readonly delete?: readonly string[];
  readonly tagging?: { readonly taggable: boolean; readonly permissions?: readonly string[] | null } | null;
}

/** The data file: the handler permissions of each resource type templates may contain, and where they came from. */
export interface HandlerPermissionsData {
  readonly source: string;
  readonly retrieved: string;
  readonly refresh: string;
  readonly types: Readonly<Record<string, TypePermissions>>;
}

/** Where the data lives in the repository. */
export const HANDLER_PERMISSIONS_FILE = join(import.meta.dirname, 'handler-permissions.json');

/**
 * An IAM action as the project writes it: the service prefix in lower case. IAM matches actions in any case, but the
 * registry spells a few with an upper-case prefix (`S3:GetBucketWebsite`), which the configuration would refuse.
 */
export function normaliseAction(action: string): string {
  const colon = action.indexOf(':');
  return colon < 0 ? action : `${action.slice(0, colon).toLowerCase()}${action.slice(colon)}`;
}

let cached: HandlerPermissionsData | undefined;
/** The recorded handler permissions (read once), spelled as the registry spells them: see `normaliseAction`. */
export function handlerPermissions(): HandlerPermissionsData {
  cached ??= JSON.parse(readFileSync(HANDLER_PERMISSIONS_FILE, 'utf8')) as HandlerPermissionsData;
  return cached;
}

/** A registry schema as CloudFormation publishes it (only the parts kept here). */
interface RegistrySchema {
  readonly typeName: string;
  readonly handlers?: Partial<Record<Handler | 'list', { readonly permissions?: readonly string[] }>>;
  readonly tagging?: { readonly taggable?: boolean; readonly permissions?: readonly string[] };
}

/** Extracts what the data file keeps from one registry schema. */
export function permissionsFromSchema(schema: RegistrySchema, commit?: string): TypePermissions {
  const handlers = Object.fromEntries(HANDLERS.flatMap((h) => (schema.handlers?.[h]?.permissions ? [[h, [...schema.handlers[h].permissions]]] : [])));
  return {
    ...(commit ? { commit } : {}),
    ...handlers,
    tagging: schema.tagging ? { taggable: schema.tagging.taggable ?? true, permissions: schema.tagging.permissions ? [...schema.tagging.permissions] : null } : null,
  };
}
