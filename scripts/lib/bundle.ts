import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { build, version as esbuildVersion, type BuildOptions } from 'esbuild';
import { zipSync } from 'fflate';
import { DEFAULT_BUILD_SETTINGS, type BuildSettings } from './build-settings';
import { FunctionEntryError, FunctionKind, type FunctionSource } from './functions';

/** Node.js version of the Lambda runtime the bundles target (`nodejs24.x`). */
export const LAMBDA_NODE_TARGET = 'node24';
/** Name of the bundle inside each zip; packaged templates use the handler `index.<export>`. */
export const BUNDLE_FILE = 'index.mjs';
/** Zip entries carry this fixed timestamp so the same code always yields the same bytes (and the same S3 key). */
const FIXED_MTIME = new Date('2020-01-01T00:00:00Z');
const MANIFEST_FILE = '.build-manifest.json';
const MANIFEST_VERSION = 1;

/** Options of one bundling run. */
export interface BundleOptions {
  /** Project root; sources and `dist/` are resolved against it. */
  readonly root: string;
  /** Output folder. @default `<root>/dist` */
  readonly outDir?: string;
  /** Rebuild even when nothing changed. @default false */
  readonly force?: boolean;
  /** Each function's settings (`loadBuildSettings`). @default - DEFAULT_BUILD_SETTINGS for every function */
  readonly settings?: (fn: FunctionSource) => BuildSettings;
}

/** What happened to one function. */
export interface BundleResult {
  readonly name: string;
  /** `built`, or `cached` when the sources were unchanged and the zip was kept. */
  readonly status: 'built' | 'cached';
  readonly milliseconds: number;
  /** Size of the zip in bytes. */
  readonly bytes: number;
  readonly zipPath: string;
  /** SHA-256 of the zip, hex. */
  readonly sha256: string;
}

interface ManifestEntry {
  readonly optionsHash: string;
  readonly inputs: Record<string, string>;
  readonly sha256: string;
  readonly bytes: number;
}
interface Manifest {
  readonly version: number;
  readonly functions: Record<string, ManifestEntry>;
}

const sha256 = (data: Uint8Array | string): string => createHash('sha256').update(data).digest('hex');

/** The packages the Lambda runtime ships, left out of the bundle of a function with `externalAwsSdk`. */
export const AWS_SDK_PACKAGES = '@aws-sdk/*';

/**
 * What a deployment function's bundle takes instead of a package, resolved from the project root: in Lambda the
 * credentials are in the environment, so the SDK's Node credential chain is replaced by the environment's provider;
 * no deployment function calls a streaming operation, so event streams are left out; no DynamoDB command uses endpoint
 * discovery, so its cache is left out; the only STS and SNS calls, AssumeRole and Publish, are made by small signed
 * requests instead of their clients (see each file, and the README, "Deployment function size").
 */
export const DEPLOYMENT_ALIASES: Readonly<Record<string, string>> = {
  '@aws-sdk/credential-provider-node': './deploy-functions/aws/env-credentials.ts',
  '@smithy/core/event-streams': './deploy-functions/aws/no-event-streams.ts',
  '@aws-sdk/middleware-endpoint-discovery': './deploy-functions/aws/no-endpoint-discovery.ts',
  '@aws-sdk/client-sts': './deploy-functions/aws/sts-assume-role.ts',
  '@aws-sdk/client-sns': './deploy-functions/aws/sns-publish.ts',
};

/**
 * esbuild options for one function: ESM for Node 24, tree-shaken, minified, external source map; with
 * `externalAwsSdk`, `@aws-sdk/*` is imported from the runtime instead of bundled. A deployment function's bundle also
 * takes `DEPLOYMENT_ALIASES`; the tooling stack deploys exactly these bundles (infra/lib/deployment-function-bundling.ts).
 */
export function esbuildOptions(root: string, fn: FunctionSource, settings: BuildSettings = DEFAULT_BUILD_SETTINGS): BuildOptions {
  return {
    absWorkingDir: root,
    entryPoints: [fn.entry],
    external: settings.externalAwsSdk ? [AWS_SDK_PACKAGES] : [],
    alias: fn.kind === FunctionKind.DEPLOYMENT ? { ...DEPLOYMENT_ALIASES } : {},
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: LAMBDA_NODE_TARGET,
    minify: true,
    treeShaking: true,
    sourcemap: 'external',
    sourcesContent: false,
    legalComments: 'none',
    mainFields: ['module', 'main'],
    // Some CommonJS dependencies call require(); an ESM bundle needs it defined.
    banner: { js: "import { createRequire as __lrpCreateRequire } from 'node:module'; const require = __lrpCreateRequire(import.meta.url);" },
    outfile: join('dist', fn.name, BUNDLE_FILE),
    metafile: true,
    write: false,
    logLevel: 'silent',
  };
}

/** Runs esbuild for one function; a failure names the function, and unresolved imports say where packages come from. */
async function bundleOne(buildOptions: BuildOptions, fn: FunctionSource) {
  try {
    return await build(buildOptions);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const hint = message.includes('Could not resolve')
      ? `\nPackages come from the project's node_modules (a function folder's own package.json is not installed): add what ${fn.name} imports to the root package.json (npm install <package>).`
      : '';
    throw new Error(`${fn.name}: ${message}${hint}`, { cause: error });
  }
}

function readManifest(outDir: string): Manifest {
  const path = join(outDir, MANIFEST_FILE);
  if (!existsSync(path)) return { version: MANIFEST_VERSION, functions: {} };
  try {
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as Manifest;
    return parsed.version === MANIFEST_VERSION ? parsed : { version: MANIFEST_VERSION, functions: {} };
  } catch {
    return { version: MANIFEST_VERSION, functions: {} };
  }
}

function hashInputs(root: string, paths: readonly string[]): Record<string, string> | undefined {
  const hashes: Record<string, string> = {};
  for (const path of paths) {
    const abs = join(root, path);
    if (!existsSync(abs)) return undefined;
    hashes[path] = sha256(readFileSync(abs));
  }
  return hashes;
}

function isUpToDate(root: string, zipPath: string, entry: ManifestEntry | undefined, optionsHash: string): entry is ManifestEntry {
  if (!entry || entry.optionsHash !== optionsHash || !existsSync(zipPath)) return false;
  if (sha256(readFileSync(zipPath)) !== entry.sha256) return false;
  const current = hashInputs(root, Object.keys(entry.inputs));
  return current !== undefined && Object.entries(entry.inputs).every(([path, hash]) => current[path] === hash);
}

/** Packs files into a zip whose bytes depend only on their names and contents. */
export function deterministicZip(files: Record<string, Uint8Array>): Uint8Array {
  const entries = Object.fromEntries(
    Object.keys(files)
      .sort()
      .map((name) => [name, [files[name]!, { mtime: FIXED_MTIME, level: 9 }] as const]),
  );
  return zipSync(entries as Parameters<typeof zipSync>[0]);
}

/**
 * Bundles each function with esbuild and writes `dist/<name>.zip` holding only `index.mjs`
 * (the source map stays beside it in `dist/<name>/`, for decoding stack traces, not shipped).
 * A function whose every input file, esbuild version and options are unchanged since the last build is not rebuilt.
 */
export async function bundleFunctions(functions: readonly FunctionSource[], options: BundleOptions): Promise<BundleResult[]> {
  const outDir = options.outDir ?? join(options.root, 'dist');
  mkdirSync(outDir, { recursive: true });
  const manifest = readManifest(outDir);
  const entries: Record<string, ManifestEntry> = { ...manifest.functions };
  const results: BundleResult[] = [];

  for (const fn of functions) {
    const started = performance.now();
    const zipPath = join(outDir, `${fn.name}.zip`);
    const buildOptions = esbuildOptions(options.root, fn, options.settings?.(fn));
    const optionsHash = sha256(JSON.stringify({ esbuildVersion, buildOptions: { ...buildOptions, absWorkingDir: undefined } }));
    const previous = entries[fn.name];

    if (!options.force && isUpToDate(options.root, zipPath, previous, optionsHash)) {
      results.push({ name: fn.name, status: 'cached', milliseconds: performance.now() - started, bytes: previous.bytes, zipPath, sha256: previous.sha256 });
      continue;
    }

    const output = await bundleOne(buildOptions, fn);
    const files = output.outputFiles ?? [];
    const code = files.find((file) => file.path.endsWith(BUNDLE_FILE));
    const map = files.find((file) => file.path.endsWith('.map'));
    if (!code) throw new Error(`esbuild produced no ${BUNDLE_FILE} for ${fn.name}`);
    const exported = output.metafile!.outputs[buildOptions.outfile!]?.exports ?? [];
    if (!exported.includes(fn.exportName)) {
      throw new FunctionEntryError(`${fn.name}: ${fn.entry} does not export ${fn.exportName}, which Lambda would call (exports: ${exported.join(', ') || 'none'}); export it, or fix the Handler in ${fn.dir}/template.yaml`);
    }
    const zip = deterministicZip({ [BUNDLE_FILE]: code.contents });
    mkdirSync(join(outDir, fn.name), { recursive: true });
    writeFileSync(join(outDir, fn.name, BUNDLE_FILE), code.contents);
    if (map) writeFileSync(join(outDir, fn.name, `${BUNDLE_FILE}.map`), map.contents);
    writeFileSync(zipPath, zip);

    const inputs = hashInputs(options.root, Object.keys(output.metafile!.inputs)) ?? {};
    const digest = sha256(zip);
    entries[fn.name] = { optionsHash, inputs, sha256: digest, bytes: zip.byteLength };
    results.push({ name: fn.name, status: 'built', milliseconds: performance.now() - started, bytes: zip.byteLength, zipPath, sha256: digest });
  }

  writeFileSync(join(outDir, MANIFEST_FILE), `${JSON.stringify({ version: MANIFEST_VERSION, functions: entries }, null, 2)}\n`);
  return results;
}

/** Renders results as an aligned text table: function, status, milliseconds, bytes. */
export function formatBuildTable(results: readonly BundleResult[]): string {
  const rows = [
    ['function', 'status', 'ms', 'bytes'],
    ...results.map((r) => [r.name, r.status, r.milliseconds.toFixed(0), String(r.bytes)]),
  ];
  const widths = rows[0]!.map((_, col) => Math.max(...rows.map((row) => row[col]!.length)));
  return rows
    .map((row) => row.map((cell, col) => (col >= 2 ? cell.padStart(widths[col]!) : cell.padEnd(widths[col]!))).join('  '))
    .join('\n');
}
