// `npm run typecheck`: the project's strict check, without the folders of functions/ that carry their own
// tsconfig.json (a sam-init folder does), then each such function's shipped code with its own tsconfig.json.
import { formatDiagnostics, typecheckOwn, typecheckPlan, typecheckProject, type TypecheckResult } from './lib/typecheck';

const root = process.cwd();

/** One line per check, then its diagnostics; true when it found no error. */
export function report(result: TypecheckResult): boolean {
  const verdict = result.errors.length === 0 ? 'ok' : `${result.errors.length} error(s)`;
  console.log(`typecheck ${result.label}: ${verdict} (${result.config}, ${result.files} files, ${(result.milliseconds / 1000).toFixed(1)} s)`);
  if (result.warnings.length > 0) console.log(formatDiagnostics(root, result.warnings).trimEnd().replace(/^/gm, '  warning: '));
  if (result.errors.length > 0) console.error(formatDiagnostics(root, result.errors));
  return result.errors.length === 0;
}

try {
  const plan = typecheckPlan(root);
  for (const folder of plan.excluded) console.log(`typecheck: ${folder} has its own tsconfig.json; the project's settings do not apply to it`);
  const results = [typecheckProject(root, plan.excluded), ...plan.own.map((own) => typecheckOwn(root, own))];
  if (!results.map(report).every(Boolean)) process.exitCode = 1;
} catch (error) {
  console.error(`typecheck failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
}
