import { spawnSync } from 'node:child_process';

/**
 * Runs cfn-lint over templates and returns what it printed (empty: clean). Outside CI a missing cfn-lint skips the
 * check loudly (undefined); in CI it fails the run.
 */
export function cfnLint(templates: readonly string[], extraArgs: readonly string[] = []): { output: string; status: number | null } | undefined {
  const run = spawnSync('cfn-lint', [...extraArgs, '--', ...templates], { encoding: 'utf8' });
  if (run.error) {
    if (process.env.CI === 'true') throw new Error(`cfn-lint must be installed in CI (pip install cfn-lint): ${run.error.message}`);
    console.warn('!!! cfn-lint is not installed (pip install cfn-lint): templates not linted');
    return undefined;
  }
  return { output: `${run.stdout}${run.stderr}`, status: run.status };
}
