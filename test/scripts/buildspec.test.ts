import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { JUNIT_REPORT } from '../../scripts/lib/check-function';
import { CaseFormat } from '../../deploy-functions/core/cases';
import { CASE_FOLDERS } from '../../infra/lib/case-source';
import { CODE_ARTIFACT } from '../../infra/lib/cross-region-code';
import { FunctionKind, discoverFunctions } from '../../scripts/lib/functions';
import { gitTrackedOrPresentFiles, globToRegExp } from '../support/files';

const root = join(import.meta.dirname, '..', '..');
const buildspec = parse(readFileSync(join(root, 'buildspecs', 'build.yml'), 'utf8')) as {
  version: number;
  phases: Record<string, { commands: string[] }>;
  reports: Record<string, { 'base-directory': string; files: string[]; 'file-format': string }>;
  artifacts: { files: string[]; 'secondary-artifacts': Record<string, { 'base-directory'?: string; files: string[] }> };
};
const scripts = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
const samInitEventsDir = join(root, 'test', 'fixtures', 'sam-init-project', 'functions', 'hello', 'events');
const commands = Object.values(buildspec.phases).flatMap((phase) => phase.commands);

describe('buildspecs/build.yml', () => {
  it('runs the four phases in CodeBuild order', () => {
    expect(buildspec.version).toBe(0.2);
    expect(Object.keys(buildspec.phases)).toEqual(['install', 'pre_build', 'build', 'post_build']);
    expect(buildspec.phases.install!.commands[0]).toBe('npm ci');
  });

  it('calls only npm scripts that exist', () => {
    const named = commands.flatMap((command) => [...command.matchAll(/npm run ([\w:-]+)/g)].map((m) => m[1]!));
    expect(named).toEqual(expect.arrayContaining(['lint', 'typecheck', 'test:ci', 'check:function', 'build', 'package']));
    for (const script of named) expect(scripts, `npm run ${script}`).toHaveProperty(script);
  });

  it('reports the JUnit file that test:ci and check:function write', () => {
    const [report] = Object.values(buildspec.reports);
    expect(report!['file-format']).toBe('JUNITXML');
    const junit = /--outputFile\.junit=(\S+)/.exec(scripts['test:ci']!)?.[1];
    expect(report!.files.map((file) => join(report!['base-directory'], file))).toEqual([junit]);
    expect(junit).toBe(JUNIT_REPORT);
  });

  describe('checks run before the build, by the shell CodeBuild runs them in', () => {
    /** The npm commands pre_build and build run, with npm replaced by a recorder. */
    const npmCalls = (env: Record<string, string>) => {
      const bin = mkdtempSync(join(tmpdir(), 'lrp-buildspec-'));
      try {
        writeFileSync(join(bin, 'npm'), `#!/bin/sh\necho "npm $*" >> "${bin}/calls"\n`);
        chmodSync(join(bin, 'npm'), 0o755);
        for (const command of [...buildspec.phases.pre_build!.commands, ...buildspec.phases.build!.commands]) {
          const run = spawnSync('sh', ['-c', command], { env: { PATH: `${bin}:${process.env.PATH}`, ...env }, encoding: 'utf8' });
          expect(run.status, `${command}: ${run.stderr}`).toBe(0);
        }
        return readFileSync(join(bin, 'calls'), 'utf8').trim().split('\n');
      } finally {
        rmSync(bin, { recursive: true, force: true });
      }
    };

    it("runs one function's own checks when FUNCTION_NAME is set: another function's tests cannot fail its build", () => {
      expect(npmCalls({ FUNCTION_NAME: 'orders-api' })).toEqual(['npm run check:function -- orders-api', 'npm run build -- --only orders-api']);
    });

    it('runs lint, typecheck and the whole suite without FUNCTION_NAME', () => {
      expect(npmCalls({})).toEqual(['npm run lint', 'npm run typecheck', 'npm run test:ci', 'npm run build --']);
    });
  });

  it('names its secondary artifacts after the pipeline build\'s outputs: BuildOutput as the primary files, Code as the unpacked function code', () => {
    const secondary = buildspec.artifacts['secondary-artifacts'];
    expect(Object.keys(secondary)).toEqual(['BuildOutput', CODE_ARTIFACT]);
    expect(secondary.BuildOutput).toEqual({ files: buildspec.artifacts.files });
    expect(secondary[CODE_ARTIFACT]).toEqual({ 'base-directory': 'dist/code', files: ['**/*'] });
    // The pipeline's build always names one function; package unpacks its code where the Code artifact collects it.
    expect(commands.find((c) => c.startsWith('npm run package'))).toContain('${FUNCTION_NAME:+--only "$FUNCTION_NAME" --code-out dist/code}');
  });

  it('ships only what this build packaged, never templates an earlier run left in dist/', () => {
    const packaged = buildspec.artifacts.files.filter((pattern) => pattern.startsWith('dist/'));
    expect(packaged).toEqual(['dist/packaged/*']);
    expect(commands.find((c) => c.startsWith('npm run package'))).toMatch(/--kms-key-id "\$ARTIFACT_KEY_ARN"/);
  });

  it('collects artifacts that exist in the repository, that build and package write, or that a sam-init folder brings', () => {
    const applications = discoverFunctions(root).filter((fn) => fn.kind === FunctionKind.APPLICATION);
    const produced = applications.flatMap((fn) => [`dist/packaged/${fn.name}.packaged.yaml`, `dist/packaged/${fn.name}.template-config.json`]);
    // No sample function has events/ (each has integration cases); a folder fresh from `sam init` has, as functions/hello.
    const samInitEvents = readdirSync(samInitEventsDir).map((file) => `functions/hello/events/${file}`);
    const candidates = [...gitTrackedOrPresentFiles(root), ...produced, ...samInitEvents];
    for (const pattern of buildspec.artifacts.files) {
      const regex = globToRegExp(pattern);
      expect(candidates.some((file) => regex.test(file)), `artifact pattern ${pattern}`).toBe(true);
    }
  });

  it.each(Object.values(CaseFormat))('ships what the integration-test action reads as %s', (format) => {
    const file = `functions/hello/${CASE_FOLDERS[format]}/case.json`;
    expect(buildspec.artifacts.files.some((pattern) => globToRegExp(pattern).test(file)), file).toBe(true);
  });
});
