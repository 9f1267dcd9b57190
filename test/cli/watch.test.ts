import { describe, expect, it } from 'vitest';
import { run } from '../../cli/main';
import { WatchOutput, WatchPhase, describeChange, percentOn, trafficBar, watchDeployment, type WatchFrame } from '../../cli/watch';
import { REF, operator, params } from '../support/operations';
import { GENERATED_ALARM, standardWorld, type World } from '../support/simulation';

/** Starts watching before the release, as an on-call engineer would, and runs the release to its end. */
async function watchRelease(world: World, output: WatchOutput, release: () => Promise<unknown>) {
  const written: string[] = [];
  const watching = watchDeployment(operator(world), REF, { output, write: (t) => written.push(t), intervalMs: 10_000, sleep: (ms) => world.clock.sleep(ms) });
  await release();
  const exitCode = await world.clock.drive(watching);
  return { exitCode, written };
}

const percents = (frames: WatchFrame[]) => frames.map((f) => f.percentOnTarget).filter((p, i, all) => i === 0 || all[i - 1] !== p);

describe('lrp status --watch', () => {
  it('follows a canary from 0 to 10 to 100 % and exits 0 when it succeeds', async () => {
    const world = standardWorld();
    const { exitCode, written } = await watchRelease(world, WatchOutput.JSON, () => world.runJob('job-1', params()));
    const frames = written.map((line) => JSON.parse(line) as WatchFrame);
    expect(exitCode).toBe(0);
    expect(percents(frames)).toEqual([0, 10, 100]);
    expect(frames[0]).toMatchObject({ phase: WatchPhase.WAITING, event: expect.stringMatching(/^waiting for a deployment of orders-api-prod:live/) });
    expect(frames.find((f) => f.percentOnTarget === 10)).toMatchObject({ phase: WatchPhase.SHIFTING, fromVersion: '1', toVersion: '2', step: 1, steps: 1, event: expect.stringMatching(/10 % of traffic on version 2$/) });
    expect(frames.at(-1)).toMatchObject({ phase: WatchPhase.SUCCEEDED, percentOnTarget: 100, event: 'succeeded: live on version 2' });
    // One object per change: thirty reads over the five minutes, but the countdown alone never adds one.
    expect(frames.length).toBeLessThanOrEqual(4);
  });

  it('sees the rollback when an alarm breaches mid-canary, names it, and exits 1', async () => {
    const world = standardWorld();
    world.clock.schedule(world.clock.now() + 90_000, () => world.cloudwatch.setAlarm(GENERATED_ALARM, 'ALARM'));
    const { exitCode, written } = await watchRelease(world, WatchOutput.JSON, () => world.runJob('job-1', params()));
    const frames = written.map((line) => JSON.parse(line) as WatchFrame);
    expect(exitCode).toBe(1);
    expect(percents(frames)).toEqual([0, 10, 0]);
    expect(frames.at(-1)).toMatchObject({ phase: WatchPhase.ROLLED_BACK, live: { version: '1', weights: {} }, event: expect.stringMatching(/^rolled back to version 1: .*lrp\/orders-api-prod\/live\/errors/) });
  });

  it('without a terminal prints one line per change; on a terminal redraws one block in place', async () => {
    const world = standardWorld();
    const plain = await watchRelease(world, WatchOutput.LINES, () => world.runJob('job-1', params()));
    expect(plain.written.every((line) => !line.includes('\n') && !line.includes('\x1b'))).toBe(true);
    expect(plain.written.at(-1)).toMatch(/^\d\d:\d\d:\d\d orders-api-prod:live succeeded 100 % on 2 \| 2 alarm\(s\) OK \| succeeded: live on version 2$/);
    const other = standardWorld();
    const terminal = await watchRelease(other, WatchOutput.TERMINAL, () => other.runJob('job-1', params()));
    // Every read redraws (the countdown moves): after the first, each starts by going back over the 4 lines drawn.
    expect(terminal.written.length).toBeGreaterThan(plain.written.length);
    expect(terminal.written.slice(1).every((block) => block.startsWith('\x1b[4F\x1b[J'))).toBe(true);
    expect(terminal.written.find((block) => block.includes(' 10 % on 2'))).toMatch(/\[███░{27}\]\s+10 % on 2 {2}step 1\/1, next in 4m\d\ds/);
  });
});

describe('what the watch shows', () => {
  it('reads the share of traffic from the alias itself', () => {
    expect(percentOn({ version: '1', weights: { '2': 0.1 } }, '2')).toBe(10);
    expect(percentOn({ version: '1', weights: { '2': 0.1 } }, '1')).toBe(90);
    expect(percentOn({ version: '2', weights: {} }, '2')).toBe(100);
    expect(percentOn({ version: '1', weights: {} }, undefined)).toBe(0);
  });

  it('draws the split as a bar of fixed width', () => {
    expect(trafficBar(0, 10)).toBe('[░░░░░░░░░░]');
    expect(trafficBar(50, 10)).toBe('[█████░░░░░]');
    expect(trafficBar(100, 10)).toBe('[██████████]');
  });

  it('names a new alarm in ALARM before anything else that changed', () => {
    const base = { at: '', functionName: 'f', alias: 'live', phase: WatchPhase.SHIFTING, toVersion: '2', percentOnTarget: 10, live: { version: '1', weights: {} }, alarms: { total: 2, inAlarm: [] }, event: 'x' } as WatchFrame;
    expect(describeChange(base, { ...base, percentOnTarget: 0, alarms: { total: 2, inAlarm: ['errors'] } })).toBe('in ALARM: errors');
    expect(describeChange(base, { ...base, operatorRequest: 'ABORT' })).toBe('abort requested by an operator');
  });
});

describe('lrp status --watch on the command line', () => {
  it('without a function, watches the only deployment in flight; refuses to guess among none', async () => {
    const world = standardWorld();
    const out: string[] = [];
    const err: string[] = [];
    const code = await run(['--json', 'status', '--watch'], () => operator(world), (t) => out.push(t), (t) => err.push(t), { sleep: (ms) => world.clock.sleep(ms) });
    expect(code).toBe(2);
    expect(JSON.parse(out[0]!)).toEqual({ error: { code: 'INVALID_PARAMETERS', message: expect.stringMatching(/no deployment of a live alias is in flight: name the function/) } });
  });

  it('refuses an interval that is not a positive number of seconds', async () => {
    const world = standardWorld();
    const err: string[] = [];
    expect(await run(['status', '--watch', '--interval', '0', REF.functionName], () => operator(world), () => undefined, (t) => err.push(t))).toBe(2);
    expect(err.join()).toMatch(/--interval: a number of seconds above 0/);
  });
});
