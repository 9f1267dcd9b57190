import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');
const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };

describe('the lrp CLI as a package', () => {
  const work = mkdtempSync(join(tmpdir(), 'lrp-pack-'));
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('packs built JavaScript only, and runs from the installed tarball without devDependencies', () => {
    // Arrange: pack as npm publishes (prepare builds cli/dist), then install into an empty project, dev dependencies omitted.
    const pack = spawnSync('npm', ['pack', '--pack-destination', work, '--json'], { cwd: root, encoding: 'utf8', timeout: 120_000 });
    expect(pack.status, pack.stderr).toBe(0);
    const [packed] = JSON.parse(pack.stdout) as { filename: string; files: { path: string }[] }[];
    const files = packed!.files.map((f) => f.path);
    expect(files).toEqual(expect.arrayContaining(['cli/dist/lrp.mjs', 'LICENSE', 'README.md', 'package.json']));
    expect(files.filter((f) => f.endsWith('.ts') || f.startsWith('test/') || f.startsWith('infra/'))).toEqual([]);
    const consumer = join(work, 'consumer');
    mkdirSync(consumer);
    writeFileSync(join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', private: true }));
    const install = spawnSync('npm', ['install', '--omit=dev', '--no-audit', '--no-fund', '--prefer-offline', join(work, packed!.filename)], { cwd: consumer, encoding: 'utf8', timeout: 180_000 });
    expect(install.status, install.stderr).toBe(0);
    // Nothing that compiles TypeScript came along: the CLI must not need it.
    for (const devOnly of ['tsx', 'typescript', 'esbuild', 'aws-cdk-lib']) expect(existsSync(join(consumer, 'node_modules', devOnly)), devOnly).toBe(false);
    const lrp = (...argv: string[]) => spawnSync(join(consumer, 'node_modules', '.bin', 'lrp'), argv, { cwd: consumer, encoding: 'utf8', env: { PATH: process.env.PATH, HOME: work } });

    // Act / Assert
    const versionRun = lrp('--version');
    expect(versionRun.status, versionRun.stderr).toBe(0);
    expect(versionRun.stdout.trim()).toBe(version);
    const help = lrp('status', '--help');
    expect(help.status, help.stderr).toBe(0);
    expect(help.stdout).toMatch(/^Usage: lrp status \[options\] \[function\]/);
    const json = lrp('--json', 'nonsense');
    expect(json.status).toBe(2);
    expect(JSON.parse(json.stdout)).toEqual({ error: { code: 'USAGE', message: "unknown command 'nonsense'" } });
  }, 300_000);
});
