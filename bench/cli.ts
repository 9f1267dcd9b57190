// `npm run bench:cli`: how long `lrp --help` and `lrp --version` take to answer, built (cli/dist/lrp.mjs, what the
// package installs) against running the TypeScript source through tsx (how the CLI ran before it was built), both
// against a bare `node -e ''` measured in the same run. Medians over several rounds, each a fresh process.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const root = process.cwd();
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

function time(command: string, args: string[]): number {
  const samples: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const started = performance.now();
    const run = spawnSync(command, args, { cwd: root, encoding: 'utf8' });
    samples.push(performance.now() - started);
    if (run.status !== 0) throw new Error(`${command} ${args.join(' ')} exited ${run.status}: ${run.stderr}`);
  }
  return median(samples);
}

const build = spawnSync('node', [join(root, 'scripts', 'build-cli.mjs'), '--quiet'], { encoding: 'utf8' });
if (build.status !== 0) throw new Error(`build-cli failed: ${build.stderr}`);
const baseline = time('node', ['-e', '']);
const rows = [
  ['node -e \'\' (baseline)', baseline],
  ['lrp --help (built)', time('node', ['cli/dist/lrp.mjs', '--help'])],
  ['lrp --version (built)', time('node', ['cli/dist/lrp.mjs', '--version'])],
  ['lrp --help (tsx, source)', time(join(root, 'node_modules', '.bin', 'tsx'), ['cli/bin.ts', '--help'])],
] as const;
console.log(`${'command'.padEnd(28)} ${'ms'.padStart(7)}  × baseline`);
for (const [label, ms] of rows) console.log(`${label.padEnd(28)} ${ms.toFixed(0).padStart(7)}  ${(ms / baseline).toFixed(1)}×`);
