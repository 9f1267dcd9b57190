import { describe, expect, it } from 'vitest';
import { checkDeploymentWindow } from '../../../deploy-functions/engine/deploy-window';
import { createPipelineHandler } from '../../../deploy-functions/engine/handlers';
import type { ParameterPort } from '../../../deploy-functions/core/ports';
import { FakePipeline, Faults, MemoryLogger, VirtualClock, fakeContext, pipelineEvent } from '../../support/fake-aws';
import { FakeLedger } from '../../support/fake-ledger';

const POLICY = { windows: [{ days: ['Mon', 'Tue', 'Wed', 'Thu'], start: '09:00', end: '16:00', timeZone: 'Europe/Berlin' }], freezes: [] };

/** A gate over in-memory SSM parameters, at a given instant. */
function gate(at: string, parameters: Record<string, string> = {}) {
  const clock = new VirtualClock(Date.parse(at));
  const faults = new Faults(1);
  const ledger = new FakeLedger(faults);
  const pipeline = new FakePipeline(clock, faults);
  const logger = new MemoryLogger();
  const store: ParameterPort = { get: async (name) => parameters[name] };
  const handler = createPipelineHandler({ pipeline, logger, clock }, (job) => checkDeploymentWindow(job, { parameters: store, ledger, clock, logger }));
  const run = async (userParameters: unknown) => {
    const event = pipelineEvent('job-1', userParameters);
    pipeline.createJob(event);
    await clock.drive(handler(event, fakeContext(clock, 60_000, 'r')));
    return pipeline.finalResults('job-1')[0]!;
  };
  return { run, ledger };
}

describe('deploy-window gate', () => {
  it('lets a release through inside a window', async () => {
    const result = await gate('2026-11-25T10:00:00Z').run({ functionName: 'orders-api-prod', policy: POLICY });
    expect(result).toMatchObject({ kind: 'success', outputVariables: { windowOpen: 'true', override: 'false' } });
  });

  it('fails outside a window saying when the next one opens', async () => {
    const result = await gate('2026-11-27T10:00:00Z').run({ functionName: 'orders-api-prod', policy: POLICY });
    expect(result).toMatchObject({ kind: 'failure', type: 'JobFailed', message: '[WINDOW_CLOSED] outside every deployment window; next window opens at 2026-11-30T08:00:00.000Z' });
  });

  it('reads the policy from SSM, which wins over the inline one', async () => {
    const closedAllWeek = JSON.stringify({ windows: [], freezes: [{ from: '2026-11-01', to: '2026-11-30', reason: 'migration' }] });
    const result = await gate('2026-11-25T10:00:00Z', { '/lrp/window': closedAllWeek }).run({ functionName: 'f', policy: POLICY, policyParameter: '/lrp/window' });
    expect(result).toMatchObject({ kind: 'failure', message: expect.stringMatching(/release freeze 2026-11-01 to 2026-11-30 \(migration\)/) });
  });

  it('falls back to the inline policy while the SSM parameter does not exist', async () => {
    const result = await gate('2026-11-25T10:00:00Z').run({ functionName: 'f', policy: POLICY, policyParameter: '/not-yet' });
    expect(result.kind).toBe('success');
  });

  it('lets a release through a closed window with an unexpired override, recorded with who and why', async () => {
    const override = JSON.stringify({ by: 'alice@example.com', reason: 'INC-42 hotfix', expiresAt: '2026-11-27T12:00:00Z' });
    const { run, ledger } = gate('2026-11-27T10:00:00Z', { '/lrp/override': override });
    const result = await run({ functionName: 'orders-api-prod', policy: POLICY, overrideParameter: '/lrp/override' });
    expect(result).toMatchObject({ kind: 'success', outputVariables: { override: 'true', overrideBy: 'alice@example.com' } });
    expect(await ledger.listWindowOverrides('orders-api-prod', 5)).toEqual([
      expect.objectContaining({ by: 'alice@example.com', reason: 'INC-42 hotfix', jobId: 'job-1', windowReason: expect.stringMatching(/outside every deployment window/) }),
    ]);
  });

  it('ignores an expired override', async () => {
    const override = JSON.stringify({ by: 'alice', reason: 'old', expiresAt: '2026-11-26T00:00:00Z' });
    const result = await gate('2026-11-27T10:00:00Z', { '/o': override }).run({ functionName: 'f', policy: POLICY, overrideParameter: '/o' });
    expect(result.kind).toBe('failure');
  });

  it.each([
    ['no policy at all', { functionName: 'f' }, /one of policy or policyParameter is required/],
    ['a bad window', { functionName: 'f', policy: { windows: [{ days: ['Mon'], start: '25:00', end: '26:00', timeZone: 'UTC' }] } }, /policy.windows.0.start: must be HH:MM/],
    ['a missing SSM policy and no inline one', { functionName: 'f', policyParameter: '/missing' }, /SSM parameter \/missing does not exist and no inline policy is given/],
    ['a malformed override', { functionName: 'f', policy: POLICY, overrideParameter: '/bad' }, /SSM parameter \/bad: by: /],
  ])('fails with a clear message for %s', async (_label, params, message) => {
    const result = await gate('2026-11-27T10:00:00Z', { '/bad': JSON.stringify({ reason: 'x', expiresAt: '2026-11-28T00:00:00Z' }) }).run(params);
    expect(result).toMatchObject({ kind: 'failure', type: 'ConfigurationError', message: expect.stringMatching(message) });
  });
});
