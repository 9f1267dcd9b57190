// `npm run bench:synth`: synthesizes the release app for 1, 10 and 50 function pipelines (bundling and CDK's
// template validation on, as `npm run synth` does) and prints seconds per run and per added function.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import releaseConfig from '../release.config';
import { resolveReleaseConfig } from '../infra/config';
import { buildReleaseApp } from '../infra/lib/release-app';

const root = process.cwd();
const context = (JSON.parse(readFileSync(join(root, 'cdk.json'), 'utf8')) as { context: Record<string, unknown> }).context;
const SIZES = (process.env.BENCH_SIZES ?? '1,10,50').split(',').map(Number);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);

function synth(functions: number): { seconds: number; stacks: number; resources: number } {
  const outdir = mkdtempSync(join(tmpdir(), 'lrp-bench-synth-'));
  const started = performance.now();
  const app = new App({ outdir, context });
  const config = resolveReleaseConfig({
    ...releaseConfig,
    functions: Array.from({ length: functions }, (_, i) => ({ name: `fn-${String(i).padStart(3, '0')}`, strategy: 'Canary10Percent5Minutes' as const })),
  });
  buildReleaseApp(app, config, { region: 'eu-central-1' });
  const assembly = app.synth();
  const seconds = (performance.now() - started) / 1000;
  const resources = assembly.stacks.reduce((sum, stack) => sum + Object.keys((stack.template as { Resources: object }).Resources).length, 0);
  rmSync(outdir, { recursive: true, force: true });
  return { seconds, stacks: assembly.stacks.length, resources };
}

synth(1); // warm-up: module loading and the first esbuild start are not part of any size's cost
const results = SIZES.map((size) => {
  const runs = Array.from({ length: ROUNDS }, () => synth(size));
  return { size, seconds: Math.min(...runs.map((r) => r.seconds)), stacks: runs[0]!.stacks, resources: runs[0]!.resources };
});
console.log(`bench:synth — best of ${ROUNDS} per size, in-process synth with bundling and validation (Node ${process.version})`);
for (const r of results) console.log(`  ${String(r.size).padStart(3)} functions: ${r.seconds.toFixed(2)} s, ${r.stacks} stacks, ${r.resources} resources`);
const first = results[0]!;
const last = results.at(-1)!;
console.log(`  per added function: ${((last.seconds - first.seconds) / (last.size - first.size)).toFixed(3)} s (from ${first.size} to ${last.size})`);
console.log(`  ratio ${last.size} / ${first.size} functions: ${(last.seconds / first.seconds).toFixed(1)}x time for ${last.size / first.size}x functions`);
