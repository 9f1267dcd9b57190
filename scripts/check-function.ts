// `npm run check:function -- <name>`: what one function's CodeBuild checks, and nothing of the other functions: lint
// and typecheck of the project without the other functions' folders, then that function's template checks and unit
// tests with the JUnit report CodeBuild's report group reads. Exits non-zero on the first failing step.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { JUNIT_REPORT, functionCheckPlan } from './lib/check-function';
import { reportTypecheck, typecheckOwn, typecheckProject } from './lib/typecheck';

const root = process.cwd();
const [name, ...extra] = process.argv.slice(2).filter((arg) => arg !== '--');

/** Runs a tool of node_modules/.bin in the project; true when it succeeded. */
function run(tool: string, args: readonly string[], env: NodeJS.ProcessEnv = process.env): boolean {
  return spawnSync(join(root, 'node_modules', '.bin', tool), args, { cwd: root, stdio: 'inherit', env }).status === 0;
}

function main(): number {
  if (!name || extra.length > 0) {
    console.error('usage: npm run check:function -- <name>   (a folder of functions/)');
    return 2;
  }
  const plan = functionCheckPlan(root, name);
  const step = (title: string) => console.log(`\n── check:function ${name}: ${title}`);

  step(`lint (the project without ${plan.others.length > 0 ? plan.others.join(', ') : 'other functions'})`);
  if (!run('eslint', ['.', ...plan.others.flatMap((path) => ['--ignore-pattern', `${path}${path.endsWith('.ts') ? '' : '/**'}`])])) return 1;

  step('typecheck');
  const results = [typecheckProject(root, [...plan.ownTsconfigFolders, ...plan.others]), ...(plan.ownTypecheck ? [typecheckOwn(root, plan.ownTypecheck)] : [])];
  if (!results.map((result) => reportTypecheck(root, result)).every(Boolean)) return 1;

  step(`template checks and unit tests (${plan.tests.join(', ')})`);
  for (const file of plan.notRun) console.log(`not run: ${file} belongs to the folder's own test runner; move it under test/functions/${name}/ to run it here`);
  const reporters = ['--reporter=default', '--reporter=junit', `--outputFile.junit=${JUNIT_REPORT}`];
  return run('vitest', ['run', ...plan.tests, ...reporters], { ...process.env, LRP_FUNCTION: name }) ? 0 : 1;
}

try {
  process.exitCode = main();
} catch (error) {
  console.error(`check:function failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 2;
}
