// `npm run bench:synth`: synthesizes the release app for 1, 10 and 50 function pipelines (bundling and CDK's
// template validation on, as `npm run synth` does) and prints seconds per run and per added function, once with
// every stage in the tooling account and once with prod in a second account (its target stack, cross-account roles).
// Targets (issue 10): 50 functions with prod in a second account in at most 10 s, at most 0.15 s per added function.
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

/** The tooling account of the second-account runs (a remote stage needs a known tooling account). */
const TOOLING_ACCOUNT = '111111111111';
const PROD_ACCOUNT = '222222222222';
const LAYOUTS = { 'one account': false, 'prod in a second account': true } as const;

function synth(functions: number, prodElsewhere: boolean): { seconds: number; stacks: number; resources: number } {
  const outdir = mkdtempSync(join(tmpdir(), 'lrp-bench-synth-'));
  const started = performance.now();
  const app = new App({ outdir, context });
  const config = resolveReleaseConfig({
    ...releaseConfig,
    stages: prodElsewhere ? releaseConfig.stages!.map((stage) => (stage.name === 'prod' ? { ...stage, account: PROD_ACCOUNT } : stage)) : releaseConfig.stages,
    functions: Array.from({ length: functions }, (_, i) => ({ name: `fn-${String(i).padStart(3, '0')}`, strategy: 'Canary10Percent5Minutes' as const })),
  });
  buildReleaseApp(app, config, { region: 'eu-central-1', ...(prodElsewhere ? { account: TOOLING_ACCOUNT } : {}) });
  const assembly = app.synth();
  const seconds = (performance.now() - started) / 1000;
  const resources = assembly.stacks.reduce((sum, stack) => sum + Object.keys((stack.template as { Resources: object }).Resources).length, 0);
  rmSync(outdir, { recursive: true, force: true });
  return { seconds, stacks: assembly.stacks.length, resources };
}

synth(1, false); // warm-up: module loading and the first esbuild start are not part of any size's cost
// Rounds alternate the layouts size by size: both see the same machine load and the same process age (each synth
// leaves its app for the garbage collector, and a later, larger heap makes every later synth slower), so their
// difference is the layouts' own.
const runs: Record<string, { seconds: number; stacks: number; resources: number }[]> = {};
for (let round = 0; round < ROUNDS; round++) {
  for (const size of SIZES) {
    for (const [layout, prodElsewhere] of Object.entries(LAYOUTS)) (runs[`${layout}/${size}`] ??= []).push(synth(size, prodElsewhere));
  }
}
const best: Record<string, number> = {};
for (const [layout, prodElsewhere] of Object.entries(LAYOUTS)) {
  const results = SIZES.map((size) => {
    const measured = runs[`${layout}/${size}`]!;
    return { size, seconds: Math.min(...measured.map((r) => r.seconds)), stacks: measured[0]!.stacks, resources: measured[0]!.resources };
  });
  console.log(`bench:synth (${layout}) — best of ${ROUNDS} per size, in-process synth with bundling and validation (Node ${process.version})`);
  for (const r of results) console.log(`  ${String(r.size).padStart(3)} functions: ${r.seconds.toFixed(2)} s, ${r.stacks} stacks, ${r.resources} resources`);
  const first = results[0]!;
  const last = results.at(-1)!;
  best[layout] = last.seconds;
  const perFunction = (last.seconds - first.seconds) / (last.size - first.size);
  console.log(`  per added function: ${perFunction.toFixed(3)} s (from ${first.size} to ${last.size})`);
  console.log(`  ratio ${last.size} / ${first.size} functions: ${(last.seconds / first.seconds).toFixed(1)}x time for ${last.size / first.size}x functions`);
  if (prodElsewhere) console.log(`  targets: ${last.size} functions ${last.seconds <= 10 ? '<=' : '>'} 10 s, per added function ${perFunction <= 0.15 ? '<=' : '>'} 0.15 s — ${last.seconds <= 10 && perFunction <= 0.15 ? 'met' : 'MISSED'}`);
}
console.log(`prod in a second account / one account at ${SIZES.at(-1)} functions, same run: ${(best['prod in a second account']! / best['one account']!).toFixed(2)}x`);
