// `npm run bench:build`: on one function, our bundle+zip against (a) a plain tsc compile + zip of production
// node_modules, the classic way to package a Node.js Lambda, and (b) bare esbuild with no zip and no cache check.
// All three are measured in this run, in this process; ratios are medians over several rounds.
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { build } from 'esbuild';
import { zipSync } from 'fflate';
import ts from 'typescript';
import { bundleFunctions, esbuildOptions } from '../scripts/lib/bundle';
import { discoverFunctions, selectFunctions } from '../scripts/lib/functions';

const root = process.cwd();
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const target = process.argv[2] ?? 'orders-api';
const [fn] = selectFunctions(discoverFunctions(root), [target]);
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

function listFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    return entry.isDirectory() ? listFiles(path) : entry.isFile() ? [path] : [];
  });
}

/** Packages in node_modules that `names` need at run time, dependencies included. */
function dependencyClosure(names: Iterable<string>): string[] {
  const seen = new Set<string>();
  const queue = [...names];
  while (queue.length > 0) {
    const name = queue.pop()!;
    if (seen.has(name) || !existsSync(join(root, 'node_modules', name, 'package.json'))) continue;
    seen.add(name);
    const manifest = JSON.parse(readFileSync(join(root, 'node_modules', name, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
    queue.push(...Object.keys(manifest.dependencies ?? {}));
  }
  return [...seen];
}

const packageJson = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
const productionPackages = dependencyClosure(Object.keys(packageJson.dependencies));

/** The classic way: tsc the function's sources, then zip them with every production dependency. */
function tscAndZip(outDir: string): { ms: number; bytes: number } {
  const started = performance.now();
  const program = ts.createProgram([join(root, fn!.entry)], {
    outDir,
    rootDir: root,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2023,
    skipLibCheck: true,
    allowImportingTsExtensions: false,
    noEmitOnError: false,
    types: [],
  });
  program.emit();
  const files: Record<string, Uint8Array> = {};
  for (const path of listFiles(outDir)) files[relative(outDir, path)] = readFileSync(path);
  for (const name of productionPackages) {
    for (const path of listFiles(join(root, 'node_modules', name))) files[relative(root, path)] = readFileSync(path);
  }
  const zip = zipSync(files, { level: 6 });
  return { ms: performance.now() - started, bytes: zip.byteLength };
}

async function bareEsbuild(outDir: string): Promise<number> {
  const started = performance.now();
  await build({ ...esbuildOptions(root, fn!), absWorkingDir: root, outfile: join(outDir, 'index.mjs'), write: true, metafile: false });
  return performance.now() - started;
}

const ours: number[] = [];
const cached: number[] = [];
const classic: number[] = [];
const bare: number[] = [];
let ourBytes = 0;
let classicBytes = 0;
for (let round = 0; round < ROUNDS; round += 1) {
  const scratch = mkdtempSync(join(tmpdir(), 'lrp-bench-'));
  const [result] = await bundleFunctions([fn!], { root, outDir: join(scratch, 'ours'), force: true });
  ours.push(result!.milliseconds);
  ourBytes = result!.bytes;
  const [again] = await bundleFunctions([fn!], { root, outDir: join(scratch, 'ours') });
  cached.push(again!.milliseconds);
  bare.push(await bareEsbuild(join(scratch, 'bare')));
  const baseline = tscAndZip(join(scratch, 'tsc'));
  classic.push(baseline.ms);
  classicBytes = baseline.bytes;
  rmSync(scratch, { recursive: true, force: true });
}

const nodeModulesBytes = productionPackages.reduce(
  (sum, name) => sum + listFiles(join(root, 'node_modules', name)).reduce((s, path) => s + statSync(path).size, 0),
  0,
);
const fmt = (n: number) => n.toFixed(1);
console.log(`bench:build — function ${fn!.name}, ${ROUNDS} rounds, medians (Node ${process.version})`);
console.log(`  ours (esbuild bundle + deterministic zip):   ${fmt(median(ours))} ms, ${ourBytes} bytes`);
console.log(`  ours, unchanged (content-hash cache hit):    ${fmt(median(cached))} ms`);
console.log(`  bare esbuild (bundle to disk, no zip):       ${fmt(median(bare))} ms`);
console.log(`  tsc + zip of production node_modules:        ${fmt(median(classic))} ms, ${classicBytes} bytes (${productionPackages.length} packages, ${nodeModulesBytes} bytes unzipped)`);
console.log('ratios:');
console.log(`  time  ours / tsc+node_modules:  ${(median(ours) / median(classic)).toFixed(3)}  (${(median(classic) / median(ours)).toFixed(1)}x faster)`);
console.log(`  bytes ours / tsc+node_modules:  ${(ourBytes / classicBytes).toFixed(4)}  (${(classicBytes / ourBytes).toFixed(0)}x smaller)`);
console.log(`  time  ours / bare esbuild:      ${(median(ours) / median(bare)).toFixed(2)}  (overhead of zip, hashing and manifest)`);
