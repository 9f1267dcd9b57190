// `npm run build [-- --only NAME ...] [--force]`: bundle and zip every function (or the named ones) into dist/.
import { parseArgs } from 'node:util';
import { bundleFunctions, formatBuildTable } from './lib/bundle';
import { discoverFunctions, selectFunctions } from './lib/functions';

const root = process.cwd();
const { values } = parseArgs({
  options: { only: { type: 'string', multiple: true, default: [] }, force: { type: 'boolean', default: false } },
  strict: true,
});

try {
  const only = values.only.flatMap((value) => value.split(',')).filter(Boolean);
  const functions = selectFunctions(discoverFunctions(root), only);
  const started = performance.now();
  const results = await bundleFunctions(functions, { root, force: values.force });
  console.log(formatBuildTable(results));
  const built = results.filter((r) => r.status === 'built').length;
  console.log(`\n${built} built, ${results.length - built} unchanged, ${(performance.now() - started).toFixed(0)} ms`);
} catch (error) {
  console.error(`build failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
}
