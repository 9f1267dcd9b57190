import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { requireMoto } from '../../harness/moto';

const root = join(import.meta.dirname, '..', '..');

describe.runIf(requireMoto('pipeline:local'))('npm run pipeline:local', () => {
  it('releases both sample functions by canary, then rolls release 2 of orders-api back when its alarm fires', () => {
    // Arrange
    const summaryFile = join(mkdtempSync(join(tmpdir(), 'lrp-local-')), 'summary.json');
    // Act
    const run = spawnSync('npm', ['run', 'pipeline:local'], { cwd: root, env: { ...process.env, LRP_LOCAL_SUMMARY: summaryFile }, encoding: 'utf8', timeout: 240_000 });
    // Assert
    expect(run.status, `${run.stdout}\n${run.stderr}`).toBe(0);
    expect(run.stdout).toMatch(/rolled back: \[ALARM_BREACHED\] orders-api-prod:live rolled back .* to version 2/);
    expect(run.stdout).toMatch(/◀ lrp\/orders-api-prod\/live\/errors → ALARM/);
    const summary = JSON.parse(readFileSync(summaryFile, 'utf8')) as {
      statuses: { functionName: string; live: { version: string; weights: object } }[];
      history: { fromVersion: string; toVersion: string; status: string; reason: string }[];
      secondRelease: { version: string; result: string };
    };
    expect(summary.statuses.map((s) => [s.functionName, s.live.version, s.live.weights])).toEqual([
      ['invoice-worker-prod', '2', {}],
      ['orders-api-prod', '2', {}],
    ]);
    expect(summary.secondRelease).toEqual({ version: '3', result: 'PutJobFailureResult' });
    expect(summary.history.map((r) => [r.fromVersion, r.toVersion, r.status])).toEqual([
      ['2', '3', 'ROLLED_BACK'],
      ['1', '2', 'SUCCEEDED'],
    ]);
    expect(summary.history[0]!.reason).toMatch(/alarm lrp\/orders-api-prod\/live\/errors (in|changed to) ALARM/);
  }, 240_000);
});
