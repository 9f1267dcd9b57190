import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { unzipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { budgetFailures, loadBuildSettings, type BuildSettings } from '../../scripts/lib/build-settings';
import { bundleFunctions, formatBuildTable, type BundleResult } from '../../scripts/lib/bundle';
import { FunctionKind, discoverFunctions, selectFunctions, type FunctionSource } from '../../scripts/lib/functions';
import { tempProject } from '../support/temp-project';

const root = join(import.meta.dirname, '..', '..');

describe('build: every project function', () => {
  const outDir = mkdtempSync(join(tmpdir(), 'lrp-build-'));
  const functions = discoverFunctions(root);
  let first: BundleResult[];
  // Size budgets: each application function's maxZipKiB in release.config.ts (default 64); deployment functions 1 MiB.
  let settings: (fn: FunctionSource) => BuildSettings;

  beforeAll(async () => {
    settings = await loadBuildSettings(root);
    first = await bundleFunctions(functions, { root, outDir, settings });
  }, 120_000);
  afterAll(() => rmSync(outDir, { recursive: true, force: true }));

  it('writes one zip per function holding only index.mjs, within its size budget', () => {
    expect(first.map((r) => r.status)).toEqual(functions.map(() => 'built'));
    for (const [index, result] of first.entries()) {
      const zip = readFileSync(join(outDir, `${result.name}.zip`));
      expect(Object.keys(unzipSync(zip))).toEqual(['index.mjs']);
      expect(result.bytes).toBe(zip.byteLength);
      expect(result.bytes, `${result.name} zip size`).toBeLessThanOrEqual(settings(functions[index]!).maxZipKiB * 1024);
    }
    expect(budgetFailures(functions, first, settings, root)).toEqual([]);
  });

  it('holds the deployment functions to 1 MiB and the application functions to their configured budget', () => {
    const budgets = Object.fromEntries(functions.map((fn) => [fn.name, settings(fn).maxZipKiB]));
    expect(budgets).toMatchObject({ 'orders-api': 64, 'invoice-worker': 64, 'lrp-shift-traffic': 1024, 'lrp-rollback': 1024 });
  });

  it('produces bundles whose handler loads and answers', async () => {
    for (const fn of functions.filter((f) => f.kind === FunctionKind.APPLICATION)) {
      const module = (await import(pathToFileURL(join(outDir, fn.name, 'index.mjs')).href)) as Record<string, unknown>;
      expect(typeof module[fn.exportName], `${fn.name} exports ${fn.exportName}`).toBe('function');
    }
    const orders = (await import(pathToFileURL(join(outDir, 'orders-api', 'index.mjs')).href)) as {
      handler: (event: unknown) => Promise<{ statusCode: number }>;
    };
    expect((await orders.handler({ requestContext: { http: { method: 'GET', path: '/health' } } })).statusCode).toBe(200);
  });

  it('rebuilds nothing on a second run with no change, and yields identical zips', async () => {
    const second = await bundleFunctions(functions, { root, outDir });
    expect(second.map((r) => r.status)).toEqual(functions.map(() => 'cached'));
    expect(second.map((r) => r.sha256)).toEqual(first.map((r) => r.sha256));
  });

  it('prints a table of function, status, milliseconds and bytes', () => {
    const table = formatBuildTable(first).split('\n');
    expect(table[0]).toMatch(/^function\s+status\s+ms\s+bytes$/);
    expect(table).toHaveLength(first.length + 1);
  });
});

describe('build: change detection', () => {
  const { root: project, write, remove } = tempProject('lrp-project');
  afterAll(remove);

  it('rebuilds exactly the function whose imported module changed', async () => {
    write('functions/a/handler.ts', "import { greet } from './logic';\nexport const handler = async () => greet();\n");
    write('functions/a/logic.ts', "export const greet = () => 'hello';\n");
    write('functions/b/handler.ts', "export const handler = async () => 'b';\n");
    const functions = discoverFunctions(project);
    await bundleFunctions(functions, { root: project });

    write('functions/a/logic.ts', "export const greet = () => 'bonjour';\n");
    const results = await bundleFunctions(functions, { root: project });
    expect(results.map((r) => [r.name, r.status])).toEqual([['a', 'built'], ['b', 'cached']]);
    expect(readFileSync(join(project, 'dist', 'a', 'index.mjs'), 'utf8')).toContain('bonjour');
  });

  it('rebuilds when the zip was deleted or tampered with', async () => {
    const functions = discoverFunctions(project);
    writeFileSync(join(project, 'dist', 'b.zip'), 'corrupt');
    const results = await bundleFunctions(functions, { root: project });
    expect(results.find((r) => r.name === 'b')?.status).toBe('built');
  });

  it('rejects an unknown function name and lists the known ones', () => {
    expect(() => selectFunctions(discoverFunctions(project), ['nope'])).toThrow('Unknown function(s): nope. Known: a, b');
  });
});
