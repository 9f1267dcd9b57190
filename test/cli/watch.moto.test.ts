import { CloudWatchClient, SetAlarmStateCommand } from '@aws-sdk/client-cloudwatch';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startCodePipelineRecorder } from '../../harness/codepipeline-recorder';
import { requireMoto, type MotoServer } from '../../harness/moto';
import { startEngineOnMoto, type EngineOnMoto } from '../support/engine-on-moto';
import { createLedgerTable, createSampleFunction, motoClients } from '../../harness/moto-fixtures';
import type { WatchFrame } from '../../cli/watch';

const FN = 'orders-api-watch';
const ALARM = `lrp/${FN}/live/errors`;
const TABLE = 'lrp-ledger';
type Handler = (event: unknown, context: unknown) => Promise<unknown>;

describe.runIf(requireMoto('lrp status --watch suite'))('lrp status --watch against a release on moto', () => {
  let engine: EngineOnMoto | undefined;
  let moto: MotoServer;
  let recorder: Awaited<ReturnType<typeof startCodePipelineRecorder>>;
  let shiftTraffic: Handler;
  let cloudwatch: CloudWatchClient;
  let cli: typeof import('../../cli/main');
  let awsDeps: typeof import('../../cli/aws-deps').awsDeps;

  beforeAll(async () => {
    engine = await startEngineOnMoto({ LEDGER_TABLE: TABLE });
    ({ moto, recorder } = engine);
    ({ cloudwatch } = motoClients(moto));
    shiftTraffic = (await import('../../deploy-functions/shift-traffic/handler')).handler as unknown as Handler;
    cli = await import('../../cli/main');
    ({ awsDeps } = await import('../../cli/aws-deps'));
  }, 120_000);
  afterAll(async () => {
    await engine?.stop();
  });
  beforeEach(async () => {
    await moto.reset();
    await createLedgerTable(moto, TABLE);
    await createSampleFunction(moto, FN, [ALARM]);
  }, 60_000);

  /** Starts `lrp --json status --watch` first, as the engineer on call would, then runs the release through CodePipeline's job API. */
  async function watchWhileReleasing(strategy: unknown) {
    const out: string[] = [];
    const watching = cli.run(['--json', 'status', '--watch', '--interval', '0.1', FN], (table) => awsDeps(table), (t) => out.push(t), () => undefined);
    await new Promise((resolve) => setTimeout(resolve, 300));
    await recorder.runJob(shiftTraffic as never, `job-${Date.now()}`, { actionConfiguration: { configuration: { UserParameters: JSON.stringify({ functionName: FN, targetAlias: 'candidate', strategy, alarms: [], bakeMinutes: 10 }) } } });
    const exitCode = await watching;
    const frames = out.map((line) => JSON.parse(line) as WatchFrame);
    return { exitCode, frames, percents: frames.map((f) => f.percentOnTarget).filter((p, i, all) => i === 0 || all[i - 1] !== p) };
  }

  it('sees the split go 0 → 10 → 100 and exits 0', async () => {
    const { exitCode, frames, percents } = await watchWhileReleasing({ steps: [{ percent: 10, minutes: 0.05 }] });
    expect(percents).toEqual([0, 10, 100]);
    expect(frames.at(-1)).toMatchObject({ phase: 'SUCCEEDED', live: { version: '2', weights: {} } });
    expect(exitCode).toBe(0);
  }, 60_000);

  it('sees the rollback when the alarm breaches mid-canary and exits 1', async () => {
    setTimeout(() => void cloudwatch.send(new SetAlarmStateCommand({ AlarmName: ALARM, StateValue: 'ALARM', StateReason: 'errors above threshold' })), 1_200);
    const { exitCode, frames, percents } = await watchWhileReleasing({ steps: [{ percent: 10, minutes: 0.2 }] });
    expect(percents).toEqual([0, 10, 0]);
    expect(frames.some((f) => f.alarms.inAlarm.includes(ALARM))).toBe(true);
    expect(frames.at(-1)).toMatchObject({ phase: 'ROLLED_BACK', live: { version: '1', weights: {} }, event: expect.stringMatching(/^rolled back to version 1: .*lrp\/orders-api-watch\/live\/errors/) });
    expect(exitCode).toBe(1);
  }, 60_000);
});
