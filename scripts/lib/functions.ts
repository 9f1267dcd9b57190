import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/** Where a function's source lives: the user's sample application or the pipeline's own deployment functions. */
export const FunctionKind = {
  APPLICATION: 'application',
  DEPLOYMENT: 'deployment',
} as const;
export type FunctionKind = (typeof FunctionKind)[keyof typeof FunctionKind];

/** A function the build knows how to bundle. */
export interface FunctionSource {
  /** Name of the bundle and its zip under `dist/` (deployment functions are prefixed with `lrp-`). */
  readonly name: string;
  readonly kind: FunctionKind;
  /** Folder holding `handler.ts`, relative to the project root. */
  readonly dir: string;
  /** Entry point, relative to the project root. */
  readonly entry: string;
}

/** Folders of `deploy-functions/` that are shared code rather than functions. */
const SHARED_FOLDERS = new Set(['core', 'aws']);

function listHandlers(root: string, parent: string, kind: FunctionKind, prefix: string): FunctionSource[] {
  const base = join(root, parent);
  if (!existsSync(base)) return [];
  return readdirSync(base, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && !SHARED_FOLDERS.has(entry.name) && existsSync(join(base, entry.name, 'handler.ts')))
    .map((entry) => ({
      name: `${prefix}${entry.name}`,
      kind,
      dir: join(parent, entry.name),
      entry: join(parent, entry.name, 'handler.ts'),
    }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** Every function of the project: each folder of `functions/` and `deploy-functions/` with a `handler.ts`. */
export function discoverFunctions(root: string): FunctionSource[] {
  return [
    ...listHandlers(root, 'functions', FunctionKind.APPLICATION, ''),
    ...listHandlers(root, 'deploy-functions', FunctionKind.DEPLOYMENT, 'lrp-'),
  ];
}

/** Keeps the functions named in `only` (all when empty); an unknown name is an error that lists the known ones. */
export function selectFunctions(all: readonly FunctionSource[], only: readonly string[]): FunctionSource[] {
  if (only.length === 0) return [...all];
  const known = new Map(all.map((fn) => [fn.name, fn]));
  const unknown = only.filter((name) => !known.has(name));
  if (unknown.length > 0) {
    throw new Error(`Unknown function(s): ${unknown.join(', ')}. Known: ${all.map((fn) => fn.name).join(', ')}`);
  }
  return only.map((name) => known.get(name)!);
}
