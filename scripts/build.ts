// `npm run build [-- --only NAME ...] [--force]`: bundle and zip every function (or the named ones) into dist/, each
// with its settings from release.config.ts; fails when a zip is over its size budget.
import { parseArgs } from 'node:util';
import { budgetFailures, loadBuildSettings } from './lib/build-settings';
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
  const settings = await loadBuildSettings(root);
  const started = performance.now();
  const results = await bundleFunctions(functions, { root, force: values.force, settings });
  console.log(formatBuildTable(results));
  const built = results.filter((r) => r.status === 'built').length;
  console.log(`\n${built} built, ${results.length - built} unchanged, ${(performance.now() - started).toFixed(0)} ms`);
  const over = budgetFailures(functions, results, settings, root);
  for (const failure of over) console.error(`over budget: ${failure}`);
  if (over.length > 0) process.exitCode = 1;
} catch (error) {
  console.error(`build failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
}
