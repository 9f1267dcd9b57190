// `npm run typecheck`: the project's strict check, without the folders of functions/ that carry their own
// tsconfig.json (a sam-init folder does), then each such function's shipped code with its own tsconfig.json.
import { reportTypecheck, typecheckOwn, typecheckPlan, typecheckProject } from './lib/typecheck';

const root = process.cwd();

try {
  const plan = typecheckPlan(root);
  for (const folder of plan.excluded) console.log(`typecheck: ${folder} has its own tsconfig.json; the project's settings do not apply to it`);
  const results = [typecheckProject(root, plan.excluded), ...plan.own.map((own) => typecheckOwn(root, own))];
  if (!results.map((result) => reportTypecheck(root, result)).every(Boolean)) process.exitCode = 1;
} catch (error) {
  console.error(`typecheck failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
}
