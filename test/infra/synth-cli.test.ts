import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveReleaseConfig } from '../../infra/config';
import { sampleConfig, stackNamesOf } from './support';

const root = join(import.meta.dirname, '..', '..');
// Every expectation follows release.config.ts: adding or removing a function changes none of them.
const config = resolveReleaseConfig(sampleConfig);

describe('npm run synth', () => {
  it('synthesizes offline with no AWS variables, bundling with the local esbuild, and prints the pipelines', () => {
    // Arrange: an environment with no AWS credentials, region or account of any kind.
    const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('AWS_') && !key.startsWith('CDK_DEFAULT')));
    // Act
    const run = spawnSync('npm', ['run', 'synth'], { cwd: root, env, encoding: 'utf8', timeout: 180_000 });
    // Assert: the shared tooling stack, then one pipeline stack per configured function.
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toContain(`${stackNamesOf(config).length} stacks in`);
    for (const fn of config.functions) expect(run.stdout).toContain(`pipeline lrp-${fn.name} (V2)`);
    expect(run.stdout).toMatch(/Deploy-prod\s+PrepareChanges \[CloudFormation\] → Deploy \[CloudFormation\] → IntegrationTests \[Lambda\] → ShiftTraffic \[Lambda\]/);
    expect(`${run.stdout}${run.stderr}`).toMatch(/Bundling asset lrp-tooling\/shift-traffic/);
    expect(`${run.stdout}${run.stderr}`).not.toMatch(/docker/i);
  }, 180_000);
});
