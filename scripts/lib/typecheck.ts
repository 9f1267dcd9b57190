import { existsSync, readdirSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import ts from 'typescript';
import { FunctionKind, discoverFunctions, type FunctionSource } from './functions';

/** What one type check found. */
export interface TypecheckResult {
  /** `project`, or the function's name. */
  readonly label: string;
  /** The tsconfig.json whose settings applied, relative to the project root. */
  readonly config: string;
  /** Source files of the project checked (dependencies' declarations not counted). */
  readonly files: number;
  readonly errors: readonly ts.Diagnostic[];
  /** Options the compiler deprecates (a tsconfig written for an older TypeScript): reported, not failed. */
  readonly warnings: readonly ts.Diagnostic[];
  readonly milliseconds: number;
}

/** A function of `functions/` whose entry is governed by its own tsconfig.json. */
export interface OwnTypecheck {
  readonly fn: FunctionSource;
  /** Its tsconfig.json, relative to the project root. */
  readonly tsconfig: string;
}

/** What `npm run typecheck` checks: the project without the folders that have their own tsconfig.json, then those functions. */
export interface TypecheckPlan {
  /** Folders of `functions/` with their own tsconfig.json: the project's settings do not apply to them. */
  readonly excluded: readonly string[];
  readonly own: readonly OwnTypecheck[];
}

const PROJECT_CONFIG = 'tsconfig.json';
/** Folders never searched for settings: dependencies and outputs. */
const SKIPPED_FOLDERS = new Set(['node_modules', 'dist', '.aws-sam', 'coverage', 'cdk.out']);
/** "Option X is deprecated": the tsconfig was written for an older TypeScript. */
const DEPRECATED_OPTION_CODES = new Set([5101, 5107]);
/** "No inputs were found": every file the project includes has settings of its own. */
const NO_INPUTS_CODE = 18003;

/** Folders of `functions/` holding a tsconfig.json, relative to the project root. */
export function ownTsconfigFolders(root: string): string[] {
  const walk = (dir: string): string[] => {
    if (!existsSync(join(root, dir))) return [];
    const entries = readdirSync(join(root, dir), { withFileTypes: true });
    const here = entries.some((entry) => entry.isFile() && entry.name === PROJECT_CONFIG) ? [dir] : [];
    return [...here, ...entries.filter((entry) => entry.isDirectory() && !SKIPPED_FOLDERS.has(entry.name)).flatMap((entry) => walk(join(dir, entry.name)))];
  };
  return walk('functions').sort();
}

/** The tsconfig.json nearest to a function's entry, looking no higher than the function's folder. */
function governingTsconfig(root: string, fn: FunctionSource): string | undefined {
  for (let dir = dirname(fn.entry); ; dir = dirname(dir)) {
    if (existsSync(join(root, dir, PROJECT_CONFIG))) return join(dir, PROJECT_CONFIG);
    if (dir === fn.dir || !dir.startsWith(`${fn.dir}${sep}`)) return undefined;
  }
}

/** Which folders leave the project's check, and which functions are checked with their own tsconfig.json. */
export function typecheckPlan(root: string, functions: readonly FunctionSource[] = discoverFunctions(root)): TypecheckPlan {
  const own = functions
    .filter((fn) => fn.kind === FunctionKind.APPLICATION)
    .flatMap((fn) => {
      const tsconfig = governingTsconfig(root, fn);
      return tsconfig ? [{ fn, tsconfig }] : [];
    });
  return { excluded: ownTsconfigFolders(root), own };
}

const inFolder = (root: string, folders: readonly string[]) => (file: string) => folders.some((folder) => !relative(join(root, folder), file).startsWith('..'));
const parseHost: ts.ParseConfigFileHost = { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => undefined };

/** Checks a program's own files (not dependencies, not `skip`), splitting deprecated options off as warnings. */
function check(root: string, label: string, config: string, program: ts.Program, skip: (file: string) => boolean, started: number): TypecheckResult {
  const files = program.getSourceFiles().filter((file) => !program.isSourceFileFromExternalLibrary(file) && !program.isSourceFileDefaultLibrary(file) && !file.fileName.includes('/node_modules/') && !skip(file.fileName));
  const diagnostics = [
    ...program.getConfigFileParsingDiagnostics().filter((d) => d.code !== NO_INPUTS_CODE),
    ...program.getOptionsDiagnostics(),
    ...program.getGlobalDiagnostics(),
    ...files.flatMap((file) => [...program.getSyntacticDiagnostics(file), ...program.getSemanticDiagnostics(file)]),
  ];
  const warnings = diagnostics.filter((d) => DEPRECATED_OPTION_CODES.has(d.code));
  const errors = diagnostics.filter((d) => !DEPRECATED_OPTION_CODES.has(d.code) && d.category === ts.DiagnosticCategory.Error);
  return { label, config: relative(root, config), files: files.length, errors, warnings, milliseconds: performance.now() - started };
}

/** The settings of a project's tsconfig.json with more folders excluded (as if extended by a config excluding them). */
function projectSettings(root: string, excluded: readonly string[]): ts.ParsedCommandLine {
  const configPath = join(root, PROJECT_CONFIG);
  const base = ts.readConfigFile(configPath, ts.sys.readFile).config as { exclude?: string[] } | undefined;
  const exclude = [...(base?.exclude ?? []), ...excluded].map((path) => join(root, path));
  const json = { extends: configPath, exclude };
  return ts.parseJsonConfigFileContent(json, ts.sys, root, undefined, join(root, 'tsconfig.typecheck.json'));
}

/** The project's own check: its tsconfig.json without the `excluded` folders, whose files are not checked even when imported. */
export function typecheckProject(root: string, excluded: readonly string[]): TypecheckResult {
  const started = performance.now();
  const parsed = projectSettings(root, excluded);
  const program = ts.createProgram({ rootNames: parsed.fileNames, options: parsed.options, configFileParsingDiagnostics: parsed.errors });
  return check(root, 'project', join(root, PROJECT_CONFIG), program, inFolder(root, excluded), started);
}

/** `files` (relative to the root) and what they import, with the project's settings; the `excluded` folders' files are not checked. */
export function typecheckWithProjectSettings(root: string, label: string, files: readonly string[], excluded: readonly string[]): TypecheckResult {
  const started = performance.now();
  const parsed = projectSettings(root, excluded);
  const program = ts.createProgram({ rootNames: files.map((file) => join(root, file)), options: parsed.options });
  return check(root, label, join(root, PROJECT_CONFIG), program, inFolder(root, excluded), started);
}

/**
 * A function's shipped code with its own tsconfig.json: its entry and everything the entry imports (not its tests),
 * plus the declaration files the tsconfig includes.
 */
export function typecheckOwn(root: string, { fn, tsconfig }: OwnTypecheck): TypecheckResult {
  const started = performance.now();
  const configPath = join(root, tsconfig);
  const parsed = ts.getParsedCommandLineOfConfigFile(configPath, { noEmit: true }, parseHost);
  if (!parsed) throw new Error(`${tsconfig} cannot be read`);
  const declarations = parsed.fileNames.filter((file) => file.endsWith('.d.ts'));
  const program = ts.createProgram({ rootNames: [join(root, fn.entry), ...declarations], options: parsed.options, configFileParsingDiagnostics: parsed.errors });
  return check(root, fn.name, configPath, program, () => false, started);
}

/** Prints one line for a check, then its diagnostics; true when it found no error. */
export function reportTypecheck(root: string, result: TypecheckResult): boolean {
  const verdict = result.errors.length === 0 ? 'ok' : `${result.errors.length} error(s)`;
  console.log(`typecheck ${result.label}: ${verdict} (${result.config}, ${result.files} files, ${(result.milliseconds / 1000).toFixed(1)} s)`);
  if (result.warnings.length > 0) console.log(formatDiagnostics(root, result.warnings).trimEnd().replace(/^/gm, '  warning: '));
  if (result.errors.length > 0) console.error(formatDiagnostics(root, result.errors));
  return result.errors.length === 0;
}

/** Diagnostics as tsc prints them, file names relative to the project root. */
export function formatDiagnostics(root: string, diagnostics: readonly ts.Diagnostic[]): string {
  const host: ts.FormatDiagnosticsHost = { getCanonicalFileName: (file) => file, getCurrentDirectory: () => root, getNewLine: () => '\n' };
  return process.stdout.isTTY ? ts.formatDiagnosticsWithColorAndContext(diagnostics, host) : ts.formatDiagnostics(diagnostics, host);
}
