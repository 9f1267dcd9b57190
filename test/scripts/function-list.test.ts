// Issue 12's acceptance: adding a function is adding a folder and a configuration entry, never editing a test. A copy of
// this repository gets a third function — the `sam init` hello-world as generated — then runs the checks its CodeBuild
// runs, and the tests whose expectations follow the function list.
//
// Which of those run here, and why (each list-dependent test costs its own run time again, on two cores):
// - test/infra/release-app.test.ts: one pipeline per configured function (stages, triggers, alarms, stack names); the
//   stack count `npm run synth` prints is the same list, so test/infra/synth-cli.test.ts (a real cdk synth that bundles
//   the deployment functions, about a minute) is not run again;
// - test/infra/iam/release-permissions.test.ts: the messages that name functions by their index in release.config.ts
//   (the new template against its pipeline's CloudFormation role is check:function's release-readiness test);
// Left out: test/functions/templates.test.ts (check:function has just run it for hello, and each function's checks are
// its own), test/scripts/pipeline-local.test.ts (minutes against moto) and test/scripts/build.test.ts (bundles every
// function again; check:function's typecheck and template checks load the same entry).
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, readFileSync, readdirSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireSamTranslator } from '../support/sam';
import releaseConfig from '../../release.config';
import { resolveReleaseConfig } from '../../infra/config';
import { tempProject, type TempProject } from '../support/temp-project';

const root = join(import.meta.dirname, '..', '..');
const samInitFunction = join(root, 'test', 'fixtures', 'sam-init-project', 'functions', 'hello');
// The new function's name: `hello`, unless the project already has a function of that name (then hello2, hello3 …).
const taken = new Set([...existsSync(join(root, 'functions')) ? readdirSync(join(root, 'functions')) : [], ...resolveReleaseConfig(releaseConfig).functions.map((fn) => fn.name)]);
const added = ['hello', ...Array.from({ length: 9 }, (_, i) => `hello${i + 2}`)].find((name) => !taken.has(name))!;
/** Dependencies, outputs and local state: not part of the copy. */
const NOT_COPIED = new Set(['node_modules', '.git', 'dist', 'cdk.out', 'reports', 'coverage', '.moto']);
const LIST_DEPENDENT_TESTS = ['test/infra/release-app.test.ts', 'test/infra/iam/release-permissions.test.ts'];

/** The configuration entry a team adds with the folder: what the template's REST API needs beyond the function. */
const helloEntry = `{
      name: '${added}',
      deployPermissions: [
        {
          actions: ['apigateway:GET', 'apigateway:POST', 'apigateway:PUT', 'apigateway:PATCH', 'apigateway:DELETE'],
          resources: ['arn:aws:apigateway:\${Region}::/restapis', 'arn:aws:apigateway:\${Region}::/restapis/*', 'arn:aws:apigateway:\${Region}::/tags/*'],
          reason: 'The template creates the REST API, its deployment and its stage, which invoke the live alias.',
          resourceTypes: ['AWS::ApiGateway::RestApi', 'AWS::ApiGateway::Deployment', 'AWS::ApiGateway::Stage'],
        },
      ],
    }`;

/** Runs an npm command in the copy, as CodeBuild or a developer would, with CI's strictness and no terminal. */
const npm = (cwd: string, args: readonly string[]) =>
  spawnSync('npm', args, { cwd, encoding: 'utf8', env: { ...process.env, CI: 'true', LRP_FUNCTION: '', FORCE_COLOR: '0' }, timeout: 170_000 });

describe.runIf(requireSamTranslator('adding a third function'))('adding a third function: a sam-init folder and its release.config.ts entry', () => {
  let copy: TempProject;

  beforeAll(() => {
    // Arrange: this repository as it stands, its dependencies linked, plus the folder and the entry a team adds.
    copy = tempProject('lrp-function-list');
    // Every file as it is on disk, as the repository's own npm test sees it.
    cpSync(root, copy.root, { recursive: true, filter: (source) => !NOT_COPIED.has(source.slice(root.length + 1).split('/')[0]!) });
    copy.linkNodeModules();
    copy.copy(samInitFunction, `functions/${added}`);
    // The configuration as the repository has it, with the new function appended: whatever functions it lists, in their order.
    renameSync(join(copy.root, 'release.config.ts'), join(copy.root, `release.config.without-${added}.ts`));
    copy.write(
      'release.config.ts',
      [
        `import repository from './release.config.without-${added}';`,
        "import { defineReleaseConfig } from './infra/config';",
        '',
        `export default defineReleaseConfig({\n  ...repository,\n  functions: [\n    ...(repository.functions ?? []),\n    ${helloEntry},\n  ],\n});\n`,
      ].join('\n'),
    );
  });
  afterAll(() => copy?.remove());

  it(`passes the checks its own CodeBuild runs: npm run check:function -- ${added}`, () => {
    // Act
    const run = npm(copy.root, ['run', 'check:function', '--', added]);
    // Assert
    expect(run.status, `${run.stdout}\n${run.stderr}`).toBe(0);
    expect(run.stdout).toContain(`typecheck ${added}: ok (functions/${added}/hello-world/tsconfig.json`);
    const junit = readFileSync(join(copy.root, 'reports', 'junit.xml'), 'utf8');
    expect(junit).toContain(`checks ${added} alone (LRP_FUNCTION)`);
    expect(junit).not.toContain('orders-api template');
  }, 180_000);

  it("leaves the project's tests that follow the function list green, with no test edited", () => {
    // Act
    const report = '--outputFile.junit=reports/function-list.xml';
    const run = npm(copy.root, ['exec', '--', 'vitest', 'run', '--maxWorkers=1', '--reporter=default', '--reporter=junit', report, ...LIST_DEPENDENT_TESTS]);
    // Assert
    expect(run.status, `${run.stdout}\n${run.stderr}`).toBe(0);
    const junit = readFileSync(join(copy.root, 'reports', 'function-list.xml'), 'utf8');
    expect(junit).toContain(`WHEN the pipeline of ${added} is synthesized`);
    expect(junit).toContain('classname="test/infra/iam/release-permissions.test.ts"');
  }, 180_000);

  it('names the known functions when asked to check one that does not exist', () => {
    const run = npm(copy.root, ['run', 'check:function', '--', 'nope']);
    expect(run.status).not.toBe(0);
    expect(run.stderr).toMatch(new RegExp(`Unknown function\\(s\\): nope\\. Known: .*\\b${added}\\b`));
  });
});
