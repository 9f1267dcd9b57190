import { describe, expect, it } from 'vitest';
import { functionName, run } from '../../cli/main';
import type { OperatorDeps } from '../../cli/operations';
import { statusTable } from '../../cli/format';
import { Faults, FakeCloudWatch, FakeLambda, VirtualClock } from '../support/fake-aws';
import { FakeLedger } from '../support/fake-ledger';

const PROD = 'arn:aws:lambda:eu-west-1:210987654321:function:orders-api-prod';
const OWN = 'arn:aws:lambda:us-east-1:123456789012:function:orders-api-staging';

/** Operator dependencies over fakes; the operator's own environment is 123456789012/us-east-1. */
function fakeDeps() {
  const clock = new VirtualClock();
  const faults = new Faults(1, 0);
  const lambda = new FakeLambda(clock, faults);
  lambda.addFunction(PROD, { '1': 'commit a', '2': 'commit b' }, { live: '2', candidate: '2' });
  lambda.addFunction('orders-api-staging', { '1': 'commit a' }, { live: '1', candidate: '1' });
  const deps: OperatorDeps = {
    lambda,
    cloudwatch: new FakeCloudWatch(lambda, faults, clock),
    ledger: new FakeLedger(faults),
    clock,
    operator: 'alice',
    refOf: (fn) => Promise.resolve(fn === OWN ? 'orders-api-staging' : fn),
  };
  return deps;
}

async function lrp(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const deps = fakeDeps();
  const code = await run(argv, () => deps, (t) => out.push(t), (t) => err.push(t));
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('lrp on functions of other accounts and regions', () => {
  it('keeps a function ARN (without its qualifier) as the function, since the ledger knows a remote stage by it', () => {
    expect(functionName(`${PROD}:live`)).toBe(PROD);
    expect(functionName('orders-api-staging')).toBe('orders-api-staging');
  });

  it('shows a remote function by name with its account and region, and reads it by ARN', async () => {
    const { code, out } = await lrp('status', PROD);
    expect(code).toBe(0);
    expect(out).toContain('orders-api-prod:live (210987654321 eu-west-1)  2');
    expect(out).not.toContain('arn:aws:lambda');
  });

  it('knows an ARN of the operator\'s own account and region by its plain name, as the ledger does', async () => {
    const { code, out } = await lrp('status', `${OWN}:live`);
    expect(code).toBe(0);
    expect(out).toMatch(/^orders-api-staging:live\s+1/m);
  });

  it('names the remote function readably in a refusal', async () => {
    const { code, err } = await lrp('abort', PROD);
    expect(code).toBe(2);
    expect(err).toContain('no deployment of orders-api-prod:live (210987654321 eu-west-1) is in flight');
  });

  it('shows a remote stage\'s alarms by name in the status table', () => {
    const table = statusTable([{ functionName: PROD, alias: 'live', live: { version: '2', weights: {} }, alarms: [{ name: 'arn:aws:cloudwatch:eu-west-1:210987654321:alarm:lrp/orders-api-prod/live/errors', state: 'ALARM' }] }]);
    expect(table).toContain('ALARM: lrp/orders-api-prod/live/errors');
  });
});
