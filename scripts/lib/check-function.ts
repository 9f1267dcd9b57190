import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { FunctionKind, discoverFunctions, selectFunctions, type FunctionSource } from './functions';
import { typecheckPlan, type OwnTypecheck } from './typecheck';

/** The JUnit file CodeBuild's report group reads (buildspecs/build.yml), as `npm run test:ci` writes it. */
export const JUNIT_REPORT = 'reports/junit.xml';
/** The template checks of every application function; `LRP_FUNCTION` narrows them to one. */
export const TEMPLATE_CHECKS = 'test/functions/templates.test.ts';
/** Whether its pipeline's CloudFormation role can deploy its packaged template, and cfn-lint on it; `LRP_FUNCTION` too. */
export const RELEASE_READINESS = 'test/functions/release-readiness.test.ts';
/** What a test runner of a function's own folder (jest, as `sam init` sets up) treats as tests. */
const OWN_TEST_FILE = /\.(test|spec)\.[cm]?[jt]sx?$/;
const SKIPPED_FOLDERS = new Set(['node_modules', 'dist', '.aws-sam', 'coverage']);

/** What one function's build checks, and nothing of the other functions: one function never breaks another's build. */
export interface FunctionCheckPlan {
  readonly fn: FunctionSource;
  /** Folders and files of the other functions (theirs, and their unit tests): left out of lint and typecheck. */
  readonly others: readonly string[];
  /** Folders the project's typecheck leaves to their own tsconfig.json. */
  readonly ownTsconfigFolders: readonly string[];
  /** This function checked with its own tsconfig.json, when it has one. */
  readonly ownTypecheck?: OwnTypecheck;
  /** Vitest files: the template checks, its release readiness, then the function's unit tests when it has them. */
  readonly tests: readonly string[];
  /** Test files inside the function's folder, for its own runner: not run here (see the README, "Adding a function"). */
  readonly notRun: readonly string[];
}

/** The unit tests of a function, by convention: `test/functions/<name>.test.ts`, and `test/functions/<name>/**`. */
function unitTestsOf(root: string, name: string): string[] {
  const file = join('test', 'functions', `${name}.test.ts`);
  const folder = join('test', 'functions', name);
  return [...(existsSync(join(root, file)) ? [file] : []), ...(existsSync(join(root, folder)) ? [folder] : [])];
}

/** Test files below a folder, relative to the root. */
function testFilesIn(root: string, dir: string): string[] {
  return readdirSync(join(root, dir), { withFileTypes: true }).flatMap((entry) => {
    if (SKIPPED_FOLDERS.has(entry.name)) return [];
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return testFilesIn(root, path);
    return OWN_TEST_FILE.test(entry.name) ? [path] : [];
  });
}

/** Plans the build check of the application function `name`; an unknown name fails, listing the known ones. */
export function functionCheckPlan(root: string, name: string): FunctionCheckPlan {
  const applications = discoverFunctions(root).filter((fn) => fn.kind === FunctionKind.APPLICATION);
  const [fn] = selectFunctions(applications, [name]);
  const others = applications.filter((other) => other.name !== name).flatMap((other) => [other.dir, ...unitTestsOf(root, other.name)]);
  const typecheck = typecheckPlan(root, [fn!]);
  return {
    fn: fn!,
    others,
    ownTsconfigFolders: typecheck.excluded,
    ...(typecheck.own[0] ? { ownTypecheck: typecheck.own[0] } : {}),
    tests: [TEMPLATE_CHECKS, RELEASE_READINESS, ...unitTestsOf(root, name)],
    notRun: testFilesIn(root, fn!.dir),
  };
}
