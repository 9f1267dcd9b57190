import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadReleaseConfig, planLocalRelease } from '../../harness/local-release';
import { requireMoto } from '../../harness/moto';

const root = join(import.meta.dirname, '..', '..');
// What pipeline:local releases follows the release configuration and the function folders: derived, never listed.
const plan = planLocalRelease(root, await loadReleaseConfig(root));
const target = `${plan.alarmTarget}-${plan.stage}`;

describe.runIf(requireMoto('pipeline:local'))('npm run pipeline:local', () => {
  it(`releases every configured function by canary (${plan.functions.join(', ')}), then rolls release 2 of ${plan.alarmTarget} back when its alarm fires`, () => {
    // Arrange
    const summaryFile = join(mkdtempSync(join(tmpdir(), 'lrp-local-')), 'summary.json');
    // Act
    const run = spawnSync('npm', ['run', 'pipeline:local'], { cwd: root, env: { ...process.env, LRP_LOCAL_SUMMARY: summaryFile }, encoding: 'utf8', timeout: 240_000 });
    // Assert
    expect(run.status, `${run.stdout}\n${run.stderr}`).toBe(0);
    expect(run.stdout).toMatch(new RegExp(`rolled back: \\[ALARM_BREACHED\\] ${target}:live rolled back .* to version 2`));
    expect(run.stdout).toContain(`◀ lrp/${target}/live/errors → ALARM`);
    const summary = JSON.parse(readFileSync(summaryFile, 'utf8')) as {
      released: string[];
      statuses: { functionName: string; live: { version: string; weights: object } }[];
      histories: Record<string, { fromVersion: string; toVersion: string; status: string; reason: string }[]>;
      secondRelease: { function: string; version: string; result: string };
      watchExits: { functionName: string; exitCode: number }[];
    };
    expect(summary.released).toEqual(plan.functions);
    // Version 1 went live at deploy, release 1 moved live to 2, and the rolled-back release 2 left it there.
    expect(summary.statuses.map((s) => [s.functionName, s.live.version, s.live.weights])).toEqual(plan.functions.map((fn) => [`${fn}-${plan.stage}`, '2', {}]));
    expect(summary.secondRelease).toEqual({ function: plan.alarmTarget, version: '3', result: 'PutJobFailureResult' });
    // lrp status --watch showed every rollout and ended as it did: 0 for each first release, 1 for the rolled-back one.
    expect(summary.watchExits.map((w) => [w.functionName, w.exitCode])).toEqual([...plan.functions.map((fn) => [`${fn}-${plan.stage}`, 0]), [target, 1]]);
    expect(run.stdout).toMatch(new RegExp(`│ \\d\\d:\\d\\d:\\d\\d ${target}:live shifting 10 % on 2`));
    expect(run.stdout).toMatch(new RegExp(`│ \\d\\d:\\d\\d:\\d\\d ${target}:live rolled back 0 % on 3 .*rolled back to version 2`));
    const transitions = Object.fromEntries(Object.entries(summary.histories).map(([fn, records]) => [fn, records.map((r) => [r.fromVersion, r.toVersion, r.status])]));
    expect(transitions).toEqual(
      Object.fromEntries(
        plan.functions.map((fn) => [
          fn,
          fn === plan.alarmTarget ? [['2', '3', 'ROLLED_BACK'], ['1', '2', 'SUCCEEDED']] : [['1', '2', 'SUCCEEDED']],
        ]),
      ),
    );
    expect(summary.histories[plan.alarmTarget]![0]!.reason).toMatch(new RegExp(`alarm lrp/${target}/live/errors (in|changed to) ALARM`));
  }, 240_000);
});
