import { existsSync, readdirSync, statSync } from 'node:fs';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { applicationTemplatePath, managedFunctionOf, readApplicationTemplate, type CfnTemplate } from '../../infra/templates/application-template';

/** Where a function's source lives: the user's sample application or the pipeline's own deployment functions. */
export const FunctionKind = {
  APPLICATION: 'application',
  DEPLOYMENT: 'deployment',
} as const;
export type FunctionKind = (typeof FunctionKind)[keyof typeof FunctionKind];

/** Where a function's code starts, and what Lambda calls in it. */
export interface FunctionEntry {
  /** Entry module, relative to the project root. */
  readonly entry: string;
  /** The export Lambda calls: what follows the last `.` of the template's `Handler` (`handler` without a template). */
  readonly exportName: string;
  /** The function's folder (its `template.yaml`, `handler.ts` or whole SAM application), relative to the project root. */
  readonly dir: string;
}

/** A function the build knows how to bundle. */
export interface FunctionSource extends FunctionEntry {
  /** Name of the bundle and its zip under `dist/` (deployment functions are prefixed with `lrp-`). */
  readonly name: string;
  readonly kind: FunctionKind;
}

/** Thrown when a function's template does not say where its code is; the message names the file and the fix. */
export class FunctionEntryError extends Error {
  override readonly name = 'FunctionEntryError';
}

/** Folders of `deploy-functions/` that are shared code rather than functions. */
const SHARED_FOLDERS = new Set(['core', 'aws']);
/** The entry of a function whose template points at the built zip (or that has no template), and its export. */
const HANDLER_FILE = 'handler.ts';
const HANDLER_EXPORT = 'handler';
/** What a `Handler` module may be written in, in the order tried. */
const MODULE_EXTENSIONS = ['.ts', '.mts', '.js', '.mjs'] as const;

const isFile = (path: string) => existsSync(path) && statSync(path).isFile();
const isFolder = (path: string) => existsSync(path) && statSync(path).isDirectory();

/**
 * Where a function of `functions/` starts, from its template's released function (the one with `AutoPublishAlias`,
 * else the only one): `Metadata.BuildProperties.EntryPoints[0]` within `CodeUri`; else `CodeUri` + the module of
 * `Handler` (`app.lambdaHandler` → `<CodeUri>/app.ts`, or `.mts`, `.js`, `.mjs`); else, when `CodeUri` is not a source
 * folder (the built zip `../../dist/<name>.zip`, or S3), `functions/<name>/handler.ts`.
 *
 * @example
 * functionEntry(root, 'hello'); // { entry: 'functions/hello/hello-world/app.ts', exportName: 'lambdaHandler', dir: 'functions/hello' }
 */
export function functionEntry(root: string, name: string): FunctionEntry {
  const dir = join('functions', name);
  const path = applicationTemplatePath(name);
  const found = (abs: string, exportName: string): FunctionEntry => ({ entry: relative(root, abs), exportName, dir });
  const fail = (problem: string, fix: string) => new FunctionEntryError(`${path}: ${problem}; ${fix}`);
  const handlerFile = join(root, dir, HANDLER_FILE);

  let template: CfnTemplate | undefined;
  try {
    template = readApplicationTemplate(root, name);
  } catch (error) {
    throw fail(`cannot be read (${error instanceof Error ? error.message.split('\n')[0] : String(error)})`, 'fix the YAML');
  }
  if (!template) {
    if (isFile(handlerFile)) return found(handlerFile, HANDLER_EXPORT);
    throw new FunctionEntryError(`${dir} has neither template.yaml nor ${HANDLER_FILE}; add the function's SAM template (see the README, "Adding a function")`);
  }
  const released = typeof template.Resources === 'object' && template.Resources !== null ? managedFunctionOf(template) : undefined;
  if (!released) {
    const functions = Object.entries(template.Resources ?? {}).filter(([, r]) => r?.Type === 'AWS::Serverless::Function').map(([id]) => id);
    throw functions.length === 0
      ? fail('declares no AWS::Serverless::Function', 'declare the function this folder releases under Resources')
      : fail(`declares ${functions.length} AWS::Serverless::Function resources (${functions.join(', ')}) and none has AutoPublishAlias`, 'give the one to release `AutoPublishAlias: candidate`');
  }

  const globals = (template.Globals as { Function?: Record<string, unknown> } | undefined)?.Function ?? {};
  const id = released.logicalId;
  const handler = released.properties.Handler ?? globals.Handler;
  if (handler !== undefined && (typeof handler !== 'string' || !/^[^.]+(\.[^.]+)*\.[^./]+$/.test(handler))) {
    throw fail(`${id}'s Handler ${JSON.stringify(handler)} is not <module>.<export>`, 'write it as e.g. `app.lambdaHandler`');
  }
  const exportName = handler === undefined ? HANDLER_EXPORT : handler.slice(handler.lastIndexOf('.') + 1);
  const codeUri = released.properties.CodeUri ?? globals.CodeUri ?? '.';

  if (typeof codeUri !== 'string' || codeUri.endsWith('.zip') || codeUri.startsWith('s3://')) {
    if (isFile(handlerFile)) return found(handlerFile, exportName);
    throw fail(
      `${id}'s CodeUri ${JSON.stringify(codeUri)} is not a source folder (it is a built zip, or in S3), so the code is expected in ${join(dir, HANDLER_FILE)}, which does not exist`,
      `add it, or point CodeUri at the folder holding the function's code (relative to ${path})`,
    );
  }
  const codeDir = resolve(root, dir, codeUri);
  const codePath = relative(root, codeDir);
  if (codePath.startsWith('..') || isAbsolute(codePath) || !isFolder(codeDir)) {
    throw fail(`${id}'s CodeUri ${codeUri} (${codePath || '.'}) is not a folder of this project`, `point CodeUri at the folder holding the function's code, relative to ${path}`);
  }

  const entryPoints = (template.Resources[id]?.Metadata as { BuildProperties?: { EntryPoints?: unknown } } | undefined)?.BuildProperties?.EntryPoints;
  if (Array.isArray(entryPoints) && typeof entryPoints[0] === 'string') {
    const entry = join(codeDir, entryPoints[0]);
    if (isFile(entry)) return found(entry, exportName);
    throw fail(`${id}'s Metadata.BuildProperties.EntryPoints[0] ${entryPoints[0]} (${relative(root, entry)}) does not exist`, `fix the path; it is relative to CodeUri (${codeUri})`);
  }
  if (handler === undefined) throw fail(`${id} has no Handler`, 'add `Handler: <module>.<export>`, e.g. `app.lambdaHandler` for the export lambdaHandler of app.ts in CodeUri');
  const module = relative(root, join(codeDir, handler.slice(0, handler.lastIndexOf('.'))));
  const candidates = MODULE_EXTENSIONS.map((extension) => `${module}${extension}`);
  const entry = candidates.find((candidate) => isFile(join(root, candidate)));
  if (entry) return { entry, exportName, dir };
  throw fail(
    `${id}'s Handler ${handler} names the module ${module}, but none of ${candidates.join(', ')} exists`,
    'fix Handler or CodeUri, or name the entry file in Metadata.BuildProperties.EntryPoints',
  );
}

/** Names of the folders of `parent` that `keep` accepts, sorted. */
function foldersOf(root: string, parent: string, keep: (path: string, name: string) => boolean): string[] {
  const base = join(root, parent);
  if (!existsSync(base)) return [];
  return readdirSync(base, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && keep(join(base, entry.name), entry.name))
    .map((entry) => entry.name)
    .sort((a, b) => a.localeCompare(b));
}

/**
 * Every function of the project: each folder of `functions/` with a `template.yaml` (a SAM application as `sam init`
 * writes it, or one of ours) or a `handler.ts`, and each folder of `deploy-functions/` with a `handler.ts`.
 * A template that does not say where its code is fails with a {@link FunctionEntryError}.
 */
export function discoverFunctions(root: string): FunctionSource[] {
  const applications = foldersOf(root, 'functions', (path) => existsSync(join(path, 'template.yaml')) || existsSync(join(path, HANDLER_FILE)));
  const deployment = foldersOf(root, 'deploy-functions', (path, name) => !SHARED_FOLDERS.has(name) && existsSync(join(path, HANDLER_FILE)));
  return [
    ...applications.map((name) => ({ name, kind: FunctionKind.APPLICATION, ...functionEntry(root, name) })),
    ...deployment.map((name) => {
      const dir = join('deploy-functions', name);
      return { name: `lrp-${name}`, kind: FunctionKind.DEPLOYMENT, dir, entry: join(dir, HANDLER_FILE), exportName: HANDLER_EXPORT };
    }),
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
