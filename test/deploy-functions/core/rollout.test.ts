import { describe, expect, it } from 'vitest';
import { decodeContinuation, encodeContinuation } from '../../../deploy-functions/core/continuation';
import { HealthPhase, assessHealth } from '../../../deploy-functions/core/health';
import { activeDeployment, knownGoodVersion, newDeploymentId } from '../../../deploy-functions/core/ledger';
import { decide, firstDecision, initialCursor, reconcile, routingFor, type RolloutCursor } from '../../../deploy-functions/core/rollout';
import { resolveSteps } from '../../../deploy-functions/core/strategies';
import type { RolloutSpec } from '../../../deploy-functions/core/types';

const spec: RolloutSpec = {
  functionName: 'fn',
  alias: 'live',
  fromVersion: '1',
  toVersion: '2',
  steps: [{ percent: 10, minutes: 5 }, { percent: 50, minutes: 5 }],
  bakeMinutes: 10,
  alarms: ['a'],
  analysis: { maxErrorRateRatio: 2, minInvocations: 50, errorRateFloor: 0.01 },
};
const ok = { phase: HealthPhase.SUCCESSFUL, reason: 'healthy' } as const;
const failed = { phase: HealthPhase.FAILED, reason: 'alarm a in ALARM', source: 'a' } as const;
const unknown = { phase: HealthPhase.INCONCLUSIVE, reason: 'throttled' } as const;
const at = (stepIndex: number, stepStartedAt: number, extra: Partial<RolloutCursor> = {}): RolloutCursor => ({ stepIndex, stepStartedAt, startedAt: 0, ...extra });

describe('rollout: decide', () => {
  it.each([
    ['waits while the step is healthy and not yet due', at(0, 0), ok, 60_000, undefined, 'WAIT'],
    ['advances to the next step when due', at(0, 0), ok, 300_000, undefined, 'SHIFT'],
    ['completes after the last step', at(1, 0), ok, 300_000, undefined, 'COMPLETE'],
    ['rolls back on a failed verdict, even mid-step', at(0, 0), failed, 1_000, undefined, 'ROLLBACK'],
    ['holds on an inconclusive verdict when the step is due', at(0, 0), unknown, 300_000, undefined, 'WAIT'],
    ['rolls back when health stayed unknown past the limit', at(0, 0, { inconclusiveSince: 0 }), unknown, 300_000, undefined, 'ROLLBACK'],
    ['completes at once on promote', at(0, 0), ok, 1_000, 'PROMOTE', 'COMPLETE'],
    ['rolls back on abort, even when healthy', at(0, 0), ok, 1_000, 'ABORT', 'ROLLBACK'],
    ['rolls back a failure even when promoted', at(0, 0), failed, 1_000, 'PROMOTE', 'ROLLBACK'],
  ] as const)('%s', (_label, cursor, verdict, now, operatorRequest, kind) => {
    expect(decide(spec, cursor, verdict, now, { operatorRequest }).decision.kind).toBe(kind);
  });

  it('remembers since when health is unknown and forgets it after a conclusive check', () => {
    const held = decide(spec, at(0, 0), unknown, 10_000);
    expect(held.cursor.inconclusiveSince).toBe(10_000);
    expect(decide(spec, held.cursor, ok, 20_000).cursor.inconclusiveSince).toBeUndefined();
  });

  it('starts with the first step, or completes at once without steps', () => {
    expect(firstDecision(spec)).toMatchObject({ kind: 'SHIFT', percent: 10 });
    expect(firstDecision({ ...spec, steps: [] }).kind).toBe('COMPLETE');
  });

  it('asks for exactly one routing per decision: weighted, full target, or full previous', () => {
    expect(routingFor(spec, { kind: 'SHIFT', stepIndex: 1, percent: 50, reason: '' })).toEqual({ version: '1', weights: { '2': 0.5 } });
    expect(routingFor(spec, { kind: 'COMPLETE', reason: '' })).toEqual({ version: '2', weights: {} });
    expect(routingFor(spec, { kind: 'ROLLBACK', code: 'ABORTED', reason: '' })).toEqual({ version: '1', weights: {} });
  });
});

describe('strategies', () => {
  it('expands the predefined names into steps', () => {
    expect(resolveSteps('Canary10Percent15Minutes')).toEqual([{ percent: 10, minutes: 15 }]);
    expect(resolveSteps('Linear10PercentEvery3Minutes').map((s) => s.percent)).toEqual([10, 20, 30, 40, 50, 60, 70, 80, 90]);
    expect(resolveSteps('AllAtOnce')).toEqual([]);
  });

  it('rejects falling, out-of-range and too-long custom steps, naming the step', () => {
    expect(() => resolveSteps({ steps: [{ percent: 20, minutes: 1 }, { percent: 10, minutes: 1 }] })).toThrow(/steps\[1\]\.percent/);
    expect(() => resolveSteps({ steps: [{ percent: 100, minutes: 1 }] })).toThrow(/final move to 100 % is implied/);
    expect(() => resolveSteps({ steps: [{ percent: 10, minutes: 1300 }] })).toThrow(/1200-minute limit/);
  });
});

describe('health', () => {
  const analysis = spec.analysis;
  it('fails on an alarm and explains which', () => {
    expect(assessHealth({ alarms: [{ name: 'a', state: 'ALARM', reason: 'high' }], readErrors: [] }, analysis)).toMatchObject({ phase: 'Failed', reason: 'alarm a in ALARM: high' });
  });
  it('judges the error rate only after minInvocations, against the old version', () => {
    expect(assessHealth({ alarms: [], target: { invocations: 49, errors: 49 }, readErrors: [] }, analysis).phase).toBe('Successful');
    expect(assessHealth({ alarms: [], target: { invocations: 100, errors: 5 }, baseline: { invocations: 1000, errors: 40 }, readErrors: [] }, analysis).phase).toBe('Successful');
    expect(assessHealth({ alarms: [], target: { invocations: 100, errors: 9 }, baseline: { invocations: 1000, errors: 40 }, readErrors: [] }, analysis).phase).toBe('Failed');
    expect(assessHealth({ alarms: [], target: { invocations: 100, errors: 1 }, baseline: { invocations: 1000, errors: 0 }, readErrors: [] }, analysis).phase).toBe('Successful');
  });
  it('is inconclusive, not failed, when a read fails', () => {
    expect(assessHealth({ readErrors: ['alarms: throttled'] }, analysis)).toMatchObject({ phase: 'Inconclusive', reason: expect.stringContaining('throttled') });
  });
});

describe('continuation tokens', () => {
  it('round-trip and stay short', () => {
    const state = { deploymentId: newDeploymentId(Date.UTC(2026, 10, 25), 'job-123'), fromVersion: '41', toVersion: '42', cursor: { ...initialCursor(5), inconclusiveSince: 7 } };
    const token = encodeContinuation(state);
    expect(token.length).toBeLessThan(200);
    expect(decodeContinuation(token)).toEqual(state);
  });
  it('reject anything else', () => {
    expect(() => decodeContinuation('garbage')).toThrow(/not a token this function issued/);
  });
});

describe('ledger state', () => {
  const state = { functionName: 'fn', alias: 'live', bakingDeploymentId: 'd', bakingFromVersion: '1', bakingToVersion: '2', bakeUntil: 100, knownGoodVersion: '0' };
  it('keeps the previous version as known-good until the bake window passes', () => {
    expect(knownGoodVersion(state, 50)).toBe('1');
    expect(knownGoodVersion(state, 100)).toBe('2');
  });
  it('reports a deployment in flight before one baking', () => {
    expect(activeDeployment({ ...state, lock: { deploymentId: 'e', fence: 2, owner: 'x', leaseUntil: 60, expiresAt: 200 } }, 50)).toEqual({ deploymentId: 'e', phase: 'IN_FLIGHT' });
    expect(activeDeployment(state, 50)).toEqual({ deploymentId: 'd', phase: 'BAKING' });
    expect(activeDeployment(state, 150)).toBeUndefined();
  });
});

describe('reconcile: one truth for progress when a rollout resumes', () => {
  const canary: RolloutSpec = { ...spec, fromVersion: '1', toVersion: '2', steps: [{ percent: 10, minutes: 5 }, { percent: 50, minutes: 5 }] };
  const at = (stepIndex: number, stepStartedAt: number): RolloutCursor => ({ stepIndex, stepStartedAt, startedAt: 0 });
  it.each([
    ['the alias agrees with the ledger', [at(0, 100), at(0, 100)], { version: '1', weights: { '2': 0.1 } }, { kind: 'RESUME', cursor: at(0, 100) }],
    ['a lost progress write: the ledger is a step behind the token and the alias', [at(0, 100), at(1, 400)], { version: '1', weights: { '2': 0.5 } }, { kind: 'RESUME', cursor: at(1, 400) }],
    ['both behind the alias: the step restarts now', [at(0, 100), at(0, 100)], { version: '1', weights: { '2': 0.5 } }, { kind: 'RESUME', cursor: at(1, 1000) }],
    ['fully on the target: a previous invocation completed', [at(1, 400), undefined], { version: '2', weights: {} }, { kind: 'COMPLETE' }],
    ['back on the previous version after shifting: undone', [at(1, 400), undefined], { version: '1', weights: {} }, { kind: 'UNDONE' }],
    ['not shifted yet', [at(-1, 0), undefined], { version: '1', weights: {} }, { kind: 'RESUME', cursor: at(-1, 0) }],
  ] as const)('%s', (_label, cursors, routing, expected) => {
    expect(reconcile(canary, cursors, routing, 1000)).toEqual(expected);
  });

  it('calls a weight no step sets, or a version it never deployed, a change from outside', () => {
    expect(reconcile(canary, [at(0, 100)], { version: '1', weights: { '2': 0.3 } }, 1000)).toMatchObject({ kind: 'CHANGED', ownVersionsOnly: true });
    expect(reconcile(canary, [at(0, 100)], { version: '7', weights: {} }, 1000)).toMatchObject({ kind: 'CHANGED', ownVersionsOnly: false, reason: expect.stringMatching(/found version 7/) });
  });
});
