import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LOCAL_PROD, LOCAL_TOOLING, loadReleaseConfig, planLocalRelease } from '../../harness/local-release';
import { requireMoto } from '../../harness/moto';
import { functionArn } from '../../deploy-functions/core/names';

const root = join(import.meta.dirname, '..', '..');
// What pipeline:local releases follows the release configuration and the function folders: derived, never listed.
const plan = planLocalRelease(root, await loadReleaseConfig(root));
/** How the deployment functions, the ledger and lrp know a production function: its ARN in the production account. */
const prodRef = (fn: string) => functionArn(LOCAL_PROD, `${fn}-${plan.stage}`);
const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const label = (fn: string) => escape(`${fn}-${plan.stage}:live (${LOCAL_PROD.account} ${LOCAL_PROD.region})`);
const target = plan.alarmTarget;

type Alias = { version: string; description: string } | 'absent';
interface Summary {
  released: string[];
  steps: { title: string; stage: string; account: string; region: string; actor: string; via?: string }[];
  placement: { function: string; prodAccount: Alias; toolingAccount: Alias; toolingAccountProdRegion: string; stagingInProdAccount: Alias[]; stagingLive: Alias[] }[];
  forged: { action: string; reason: string }[];
  statuses: { functionName: string; live: { version: string; weights: object } }[];
  histories: Record<string, { deploymentId: string; fromVersion: string; toVersion: string; status: string; reason: string }[]>;
  secondRelease: { function: string; version: string; result: string };
  watchExits: { functionName: string; exitCode: number }[];
}

describe.runIf(requireMoto('pipeline:local'))('npm run pipeline:local', () => {
  it(`releases every configured function (${plan.functions.join(', ')}) through staging in the tooling account and by canary in production in a second account, then rolls release 2 of ${target} back when its alarm fires there`, () => {
    // Arrange
    const summaryFile = join(mkdtempSync(join(tmpdir(), 'lrp-local-')), 'summary.json');
    // Act
    const run = spawnSync('npm', ['run', 'pipeline:local'], { cwd: root, env: { ...process.env, LRP_LOCAL_SUMMARY: summaryFile }, encoding: 'utf8', timeout: 240_000 });
    // Assert
    expect(run.status, `${run.stdout}\n${run.stderr}`).toBe(0);
    expect(run.stdout).toMatch(new RegExp(`rolled back: \\[ALARM_BREACHED\\] ${escape(prodRef(target))}:live rolled back .* to version 2`));
    expect(run.stdout).toContain(`◀ lrp/${target}-${plan.stage}/live/errors → ALARM`);
    const summary = JSON.parse(readFileSync(summaryFile, 'utf8')) as Summary;
    expect(summary.released).toEqual(plan.functions);

    // Production's live aliases moved in the production account, by the deployment functions (each alias's description
    // names the deployment the ledger recorded), and in no other: the tooling account has no function of that name in
    // either region, the production account none of staging's, and staging's live alias never moved.
    for (const placement of summary.placement) {
      const [latest] = summary.histories[placement.function]!;
      expect(placement.prodAccount).toEqual({ version: '2', description: expect.stringContaining(latest!.deploymentId) as string });
      expect([placement.toolingAccount, placement.toolingAccountProdRegion]).toEqual(['absent', 'absent']);
      expect(placement.stagingInProdAccount).toEqual(plan.earlierStages.map(() => 'absent'));
      expect(placement.stagingLive).toEqual(plan.earlierStages.map(() => ({ version: '1', description: '' })));
    }
    // Every step says where it ran: staging's in the tooling account with its own credentials, production's in the second
    // account through a role there (the deployment functions' through the deployer role).
    expect(new Set(summary.steps.map((s) => s.stage))).toEqual(new Set([...plan.earlierStages, plan.stage]));
    for (const step of summary.steps) {
      if (step.stage === plan.stage) expect(step).toMatchObject({ account: LOCAL_PROD.account, region: LOCAL_PROD.region, via: step.actor === 'deploy' ? 'lrp-local-deploy' : 'lrp-deployer-eu-west-1' });
      else expect(step).toEqual({ title: step.title, stage: step.stage, account: LOCAL_TOOLING.account, region: LOCAL_TOOLING.region, actor: step.actor });
    }
    expect(summary.steps.filter((s) => s.actor === 'deployment function' && s.stage === plan.stage).map((s) => s.title)).toContain(`release 1 of ${target}: shift live to v2 (10 % → 50 % → 100 %, 3 s per step)`);
    // An alarm event forged as coming from an account that is no target is refused.
    expect(summary.forged).toEqual([expect.objectContaining({ action: 'REFUSED', reason: expect.stringContaining('event from account 999999999999') as string })]);

    // Version 1 went live at deploy, release 1 moved live to 2, and the rolled-back release 2 left it there.
    expect(summary.statuses.map((s) => [s.functionName, s.live.version, s.live.weights])).toEqual(plan.functions.map((fn) => [prodRef(fn), '2', {}]));
    expect(summary.secondRelease).toEqual({ function: target, version: '3', result: 'PutJobFailureResult' });
    // lrp status --watch (the operator's credentials, through the deployer role) showed every rollout and ended as it
    // did: 0 for each first release, 1 for the rolled-back one.
    expect(summary.watchExits.map((w) => [w.functionName, w.exitCode])).toEqual([...plan.functions.map((fn) => [prodRef(fn), 0]), [prodRef(target), 1]]);
    expect(run.stdout).toMatch(new RegExp(`│ \\d\\d:\\d\\d:\\d\\d ${label(target)} shifting 10 % on 2`));
    expect(run.stdout).toMatch(new RegExp(`│ \\d\\d:\\d\\d:\\d\\d ${label(target)} rolled back 0 % on 3 .*rolled back to version 2`));
    const transitions = Object.fromEntries(Object.entries(summary.histories).map(([fn, records]) => [fn, records.map((r) => [r.fromVersion, r.toVersion, r.status])]));
    expect(transitions).toEqual(Object.fromEntries(plan.functions.map((fn) => [fn, fn === target ? [['2', '3', 'ROLLED_BACK'], ['1', '2', 'SUCCEEDED']] : [['1', '2', 'SUCCEEDED']]])));
    expect(summary.histories[target]![0]!.reason).toMatch(new RegExp(`alarm ${escape(`arn:aws:cloudwatch:${LOCAL_PROD.region}:${LOCAL_PROD.account}:alarm:lrp/${target}-${plan.stage}/live/errors`)} (in|changed to) ALARM`));
  }, 240_000);
});
