import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ExitCode, run } from '../../cli/main';
import type { OperatorDeps } from '../../cli/operations';

/** An alias on version 1 with nothing recorded; remembers the ledger table and the alarm prefix `status` asked for. */
function recordingDeps() {
  const seen: { table?: string; prefixes: string[] } = { prefixes: [] };
  const deps = {
    lambda: { getAlias: async () => ({ version: '1', weights: {}, revisionId: 'r1' }) },
    cloudwatch: {
      describeAlarmsByPrefix: async (prefix: string) => {
        seen.prefixes.push(prefix);
        return [];
      },
      describeAlarms: async () => [],
    },
    ledger: { getState: async () => undefined },
    clock: { now: () => Date.parse('2026-11-26T09:00:00Z') },
    operator: 'alice',
  } as unknown as OperatorDeps;
  const makeDeps = (table: string) => {
    seen.table = table;
    return deps;
  };
  return { seen, makeDeps };
}

async function lrp(argv: string[]) {
  const { seen, makeDeps } = recordingDeps();
  const out: string[] = [];
  const err: string[] = [];
  const code = await run(argv, makeDeps, (t) => out.push(t), (t) => err.push(t));
  return { code, seen, out: out.join('\n'), err: err.join('\n') };
}

describe('lrp --installation', () => {
  const saved = { LRP_INSTALLATION: process.env.LRP_INSTALLATION, LEDGER_TABLE: process.env.LEDGER_TABLE };
  beforeEach(() => {
    delete process.env.LRP_INSTALLATION;
    delete process.env.LEDGER_TABLE;
  });
  afterEach(() => {
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  });

  it('reads the lrp installation by default: lrp-ledger and lrp/ alarms', async () => {
    const { code, seen } = await lrp(['status', 'orders-api-prod']);
    expect(code).toBe(ExitCode.OK);
    expect(seen).toEqual({ table: 'lrp-ledger', prefixes: ['lrp/orders-api-prod/live/'] });
  });

  it('reads the installation named by --installation: its ledger and its generated alarms', async () => {
    const { code, seen } = await lrp(['--installation', 'teamb', 'status', 'orders-api-prod']);
    expect(code).toBe(ExitCode.OK);
    expect(seen).toEqual({ table: 'teamb-ledger', prefixes: ['teamb/orders-api-prod/live/'] });
  });

  it('reads the installation named by LRP_INSTALLATION, and --table (or LEDGER_TABLE) still names the table', async () => {
    process.env.LRP_INSTALLATION = 'teamb';
    expect((await lrp(['status', 'orders-api-prod'])).seen).toEqual({ table: 'teamb-ledger', prefixes: ['teamb/orders-api-prod/live/'] });
    expect((await lrp(['--table', 'other', 'status', 'orders-api-prod'])).seen).toEqual({ table: 'other', prefixes: ['teamb/orders-api-prod/live/'] });
    process.env.LEDGER_TABLE = 'from-env';
    expect((await lrp(['status', 'orders-api-prod'])).seen.table).toBe('from-env');
  });

  it('refuses an installation name no installation can have, naming the option (exit 2)', async () => {
    const { code, err, seen } = await lrp(['--installation', 'Team_B', 'status', 'orders-api-prod']);
    expect(code).toBe(ExitCode.USAGE);
    expect(err).toContain('--installation: "Team_B" must be 1 to 10 lower-case letters and digits');
    expect(seen.table).toBeUndefined();
  });
});
