import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import releaseConfig from '../../release.config';

const root = join(import.meta.dirname, '..', '..');

describe('npm run synth', () => {
  it('synthesizes offline with no AWS variables, bundling with the local esbuild, and prints the pipelines', () => {
    // Arrange: an environment with no AWS credentials, region or account of any kind.
    const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('AWS_') && !key.startsWith('CDK_DEFAULT')));
    // Act
    const run = spawnSync('npm', ['run', 'synth'], { cwd: root, env, encoding: 'utf8', timeout: 180_000 });
    // Assert
    expect(run.status, run.stderr).toBe(0);
    // The shared tooling stack, then one pipeline stack per configured function.
    expect(run.stdout).toContain(`${1 + releaseConfig.functions.length} stacks in`);
    expect(run.stdout).toMatch(/pipeline lrp-orders-api \(V2\)/);
    expect(run.stdout).toMatch(/Deploy-prod\s+PrepareChanges \[CloudFormation\] → Deploy \[CloudFormation\] → IntegrationTests \[Lambda\] → ShiftTraffic \[Lambda\]/);
    expect(`${run.stdout}${run.stderr}`).toMatch(/Bundling asset lrp-tooling\/shift-traffic/);
    expect(`${run.stdout}${run.stderr}`).not.toMatch(/docker/i);
  }, 180_000);
});
