// Builds the operator CLI to plain JavaScript: cli/dist/lrp.mjs and the chunks it loads on demand. Dependencies stay
// imports of the installed packages (they are the package's `dependencies`), so the build is small and the CLI runs
// without TypeScript, tsx or any devDependency. Plain JavaScript itself, so `prepare` can run it with node alone.
// Usage: node scripts/build-cli.mjs [--quiet]
import { readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outdir = join(root, 'cli', 'dist');
const quiet = process.argv.includes('--quiet');

/** Builds the CLI into `outdir`; answers the files written with their sizes. */
export async function buildCli({ out = outdir } = {}) {
  let esbuild;
  try {
    esbuild = await import('esbuild');
  } catch {
    throw new Error('esbuild is not installed: the CLI is built from a checkout with its devDependencies (npm ci); an installed package ships it built');
  }
  const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  rmSync(out, { recursive: true, force: true });
  const result = await esbuild.build({
    entryPoints: { lrp: join(root, 'cli', 'bin.ts') },
    outdir: out,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    packages: 'external',
    chunkNames: 'chunks/[name]-[hash]',
    banner: { js: '#!/usr/bin/env node' },
    define: { __LRP_VERSION__: JSON.stringify(version) },
    legalComments: 'none',
    metafile: true,
    logLevel: 'warning',
  });
  return Object.entries(result.metafile.outputs).map(([file, { bytes }]) => ({ file, bytes }));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  try {
    const files = await buildCli();
    if (!quiet) for (const { file, bytes } of files) console.log(`built ${file} (${(bytes / 1024).toFixed(1)} KiB)`);
  } catch (error) {
    console.error(`build-cli: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  }
}
