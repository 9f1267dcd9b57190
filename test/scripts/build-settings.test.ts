import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_BUILD_SETTINGS, budgetFailure, budgetFailures, buildSettingsFrom, loadBuildSettings } from '../../scripts/lib/build-settings';
import { bundleFunctions } from '../../scripts/lib/bundle';
import { FunctionKind, discoverFunctions, type FunctionSource } from '../../scripts/lib/functions';
import { tempProject } from '../support/temp-project';

const root = join(import.meta.dirname, '..', '..');
const samInitProject = join(root, 'test', 'fixtures', 'sam-init-project');
const fn = (name: string, kind: FunctionSource['kind'] = FunctionKind.APPLICATION): FunctionSource => ({ name, kind, dir: `functions/${name}`, entry: `functions/${name}/handler.ts`, exportName: 'handler' });
const zip = (name: string, bytes: number) => ({ bytes, zipPath: join(root, 'dist', `${name}.zip`) });

describe('build settings', () => {
  it('takes maxZipKiB and externalAwsSdk from the function in the release configuration', () => {
    const settings = buildSettingsFrom({ functions: [{ name: 'big', maxZipKiB: 512, externalAwsSdk: true }] as never });
    expect(settings(fn('big'))).toEqual({ maxZipKiB: 512, externalAwsSdk: true });
  });

  it('gives a function the release configuration does not name the schema defaults: 64 KiB, the SDK bundled', () => {
    expect(DEFAULT_BUILD_SETTINGS).toEqual({ maxZipKiB: 64, externalAwsSdk: false });
    expect(buildSettingsFrom({ functions: [] })(fn('other'))).toEqual(DEFAULT_BUILD_SETTINGS);
  });

  it('keeps the deployment functions at 1 MiB, their SDK bundled', () => {
    expect(buildSettingsFrom(undefined)(fn('lrp-rollback', FunctionKind.DEPLOYMENT))).toEqual({ maxZipKiB: 1024, externalAwsSdk: false });
  });

  it('reads release.config.ts of the project, and uses the defaults where there is none', async () => {
    expect((await loadBuildSettings(root))(fn('orders-api'))).toEqual({ maxZipKiB: 64, externalAwsSdk: false });
    expect((await loadBuildSettings(samInitProject))(fn('hello'))).toEqual(DEFAULT_BUILD_SETTINGS);
  });
});

describe('budget failures', () => {
  it('name the function, its size, its budget and both ways out', () => {
    expect(budgetFailure(fn('orders-api'), zip('orders-api', 70_000), DEFAULT_BUILD_SETTINGS, root)).toBe(
      'orders-api: dist/orders-api.zip is 68.4 KiB (70000 bytes), over its budget of 64 KiB. Either raise maxZipKiB for orders-api in release.config.ts (functions[].maxZipKiB), or set externalAwsSdk: true there to leave @aws-sdk/* out of the bundle and use the SDK the Lambda runtime ships (see the README, "Adding a function")',
    );
  });

  it('suggest trimming instead of the SDK when the function already uses the runtime SDK, and for deployment functions', () => {
    expect(budgetFailure(fn('a'), zip('a', 2048), { maxZipKiB: 1, externalAwsSdk: true }, root)).toMatch(/already uses the runtime's AWS SDK \(externalAwsSdk\), so raise maxZipKiB for a .*, or trim what it imports \(dist\/a\/index\.mjs\.map lists every input\)$/);
    expect(budgetFailure(fn('lrp-x', FunctionKind.DEPLOYMENT), zip('lrp-x', 2 * 1024 * 1024), { maxZipKiB: 1024, externalAwsSdk: false }, root)).toMatch(/^lrp-x: .* over its budget of 1024 KiB \(DEPLOYMENT_MAX_ZIP_KIB/);
  });

  it('are none at or under the budget', () => {
    expect(budgetFailure(fn('a'), zip('a', 64 * 1024), DEFAULT_BUILD_SETTINGS, root)).toBeUndefined();
  });

  it('fail the sam-init function against a budget smaller than its bundle (Powertools with tracing)', async () => {
    const out = tempProject('lrp-budget');
    try {
      const functions = discoverFunctions(samInitProject);
      const settings = () => ({ maxZipKiB: 16, externalAwsSdk: false });
      const results = await bundleFunctions(functions, { root: samInitProject, outDir: out.root, settings });
      expect(budgetFailures(functions, results, settings, out.root)).toEqual([expect.stringMatching(/^hello: hello\.zip is \d+\.\d KiB \(\d+ bytes\), over its budget of 16 KiB\. Either raise maxZipKiB for hello/)]);
    } finally {
      out.remove();
    }
  });
});

describe('externalAwsSdk', () => {
  // Inside the repository, so the function resolves this project's @aws-sdk packages.
  const project = tempProject('lrp-sdk', join(root, 'node_modules', '.cache'));
  afterAll(() => project.remove());
  project.write('functions/reader/handler.ts', "import { SSMClient } from '@aws-sdk/client-ssm';\nconst ssm = new SSMClient({});\nexport const handler = async () => ssm.config.serviceId;\n");
  const [reader] = discoverFunctions(project.root);
  const build = (externalAwsSdk: boolean) => bundleFunctions([reader!], { root: project.root, settings: () => ({ maxZipKiB: 64, externalAwsSdk }) });
  const code = () => readFileSync(join(project.root, 'dist', 'reader', 'index.mjs'), 'utf8');

  it('imports @aws-sdk/* from the runtime instead of bundling it, and rebuilds when the setting changes', async () => {
    const [bundled] = await build(false);
    expect(code()).not.toMatch(/from"@aws-sdk\//);

    const [external] = await build(true);
    expect(external!.status).toBe('built');
    expect(code()).toMatch(/from"@aws-sdk\/client-ssm"/);
    expect(external!.bytes).toBeLessThan(bundled!.bytes / 10);
  }, 60_000);
});
