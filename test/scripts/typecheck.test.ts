import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { typecheckOwn, typecheckPlan, typecheckProject } from '../../scripts/lib/typecheck';
import { tempProject, type TempProject } from '../support/temp-project';

const root = join(import.meta.dirname, '..', '..');
const scripts = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
/** Code the project's strict settings refuse (an implicit any) and a loose tsconfig accepts. */
const looseCode = 'export const handler = async (event) => ({ statusCode: 200, body: String(event) });\n';
const fileOf = (d: { file?: { fileName: string } }) => d.file?.fileName.slice(d.file.fileName.indexOf('/functions/') + 1);

describe('npm run typecheck: per-folder settings', () => {
  let project: TempProject;

  beforeAll(() => {
    // Arrange: the project's own tsconfig.json, a function that follows it, one with its own, and a sam-init folder.
    project = tempProject('lrp-typecheck');
    project.linkNodeModules();
    project.copy(join(root, 'tsconfig.json'), 'tsconfig.json');
    project.write('functions/strict/handler.ts', looseCode);
    project.write('functions/loose/template.yaml', JSON.stringify({ Resources: { Fn: { Type: 'AWS::Serverless::Function', Properties: { CodeUri: 'src/', Handler: 'app.handler', Runtime: 'nodejs22.x' } } } }));
    project.write('functions/loose/src/tsconfig.json', JSON.stringify({ compilerOptions: { strict: false, noEmit: true, skipLibCheck: true, module: 'preserve', moduleResolution: 'bundler' } }));
    project.write('functions/loose/src/app.ts', looseCode);
    project.copy(join(root, 'test', 'fixtures', 'sam-init-project', 'functions', 'hello'), 'functions/hello');
  });
  afterAll(() => project.remove());

  it('is what npm run typecheck and npm test run, instead of a bare tsc', () => {
    expect(scripts.typecheck).toBe('tsx scripts/typecheck.ts');
    expect(scripts.test).toMatch(/^tsx scripts\/typecheck\.ts && /);
  });

  it("leaves folders with their own tsconfig.json out of the project's check, and checks the rest with the project's settings", () => {
    // Act
    const plan = typecheckPlan(project.root);
    const result = typecheckProject(project.root, plan.excluded);
    // Assert: the project's strictness still governs the function without settings of its own.
    expect(plan.excluded).toEqual(['functions/hello/hello-world', 'functions/loose/src']);
    expect(result.errors.map((d) => [fileOf(d), d.code])).toEqual([['functions/strict/handler.ts', 7006]]);
  });

  it("checks a function with its own tsconfig.json by those settings, from its entry: the sam-init app passes, its jest tests are not the project's", () => {
    // Act
    const results = typecheckPlan(project.root).own.map((own) => typecheckOwn(project.root, own));
    // Assert
    expect(results.map((r) => [r.label, r.config, r.errors.length])).toEqual([
      ['hello', 'functions/hello/hello-world/tsconfig.json', 0],
      ['loose', 'functions/loose/src/tsconfig.json', 0],
    ]);
    // sam init's tsconfig.json is written for an older TypeScript: its deprecated options are warnings, not failures.
    expect(results[0]!.warnings.length).toBeGreaterThan(0);
  });
});

describe('npm run lint: per-folder settings', () => {
  let project: TempProject;

  beforeAll(() => {
    // Arrange: our eslint.config.js, a function under it, one with a flat config of its own, and a sam-init folder.
    project = tempProject('lrp-lint');
    project.linkNodeModules();
    project.copy(join(root, 'eslint.config.js'), 'eslint.config.js');
    project.write('package.json', JSON.stringify({ type: 'module' }));
    project.write('functions/ours/handler.ts', "console.log('ours');\n");
    project.write('functions/flat/handler.ts', "console.log('theirs');\n");
    project.write(
      'functions/flat/eslint.config.js',
      // With typescript-eslint, a folder's own config names its root (typescript-eslint's advice when configs are nested).
      "import tseslint from 'typescript-eslint';\nexport default tseslint.config({ files: ['**/*.ts'], extends: [tseslint.configs.base], languageOptions: { parserOptions: { tsconfigRootDir: import.meta.dirname } }, rules: { 'no-console': 'error' } });\n",
    );
    project.copy(join(root, 'test', 'fixtures', 'sam-init-project', 'functions', 'hello'), 'functions/hello');
  });
  afterAll(() => project.remove());

  it("lints a folder with a flat config by that config alone, a sam-init folder's code by the baseline, and the rest by ours", () => {
    // Act
    const run = spawnSync(join(project.root, 'node_modules', '.bin', 'eslint'), ['.', '--format', 'json'], { cwd: project.root, encoding: 'utf8' });
    // Assert: only the flat-config folder's own rule fires; the sam-init folder (its jest tests, CommonJS configs) passes.
    const results = JSON.parse(run.stdout) as { filePath: string; messages: { ruleId: string | null }[] }[];
    const problems = results.flatMap((r) => r.messages.map((m) => [r.filePath.slice(project.root.length + 1), m.ruleId]));
    expect(problems).toEqual([['functions/flat/handler.ts', 'no-console']]);
    expect(results.map((r) => r.filePath.slice(project.root.length + 1))).toEqual(expect.arrayContaining(['functions/hello/hello-world/app.ts', 'functions/ours/handler.ts']));
    expect(results.map((r) => r.filePath)).not.toContainEqual(expect.stringContaining('/tests/unit/'));
  });
});
