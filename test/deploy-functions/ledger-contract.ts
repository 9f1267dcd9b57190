// The ledger's contract: one set of specifications, run against the in-memory ledger the model uses and against the
// DynamoDB ledger on moto, so the fake can never mean something the real ledger does not.
import { beforeEach, describe, expect, it } from 'vitest';
import { DeploymentLockedError } from '../../deploy-functions/core/errors';
import { DeploymentKind, DeploymentStatus, type DeploymentRecord } from '../../deploy-functions/core/ledger';
import type { AliasRef, LedgerPort } from '../../deploy-functions/core/ports';

const REF: AliasRef = { functionName: 'orders-api-prod', alias: 'live' };
const T0 = Date.UTC(2026, 10, 26, 9, 0, 0);
const MIN = 60_000;

/** A deployment record of job `jobId`, `from` → `to`, started at `at`. */
function deployment(id: string, from: string, to: string, at: number, overrides: Partial<DeploymentRecord> = {}): DeploymentRecord {
  return { ...REF, deploymentId: id, kind: DeploymentKind.ROLLOUT, jobId: `job-${id}`, fromVersion: from, toVersion: to, strategy: 'Canary10Percent5Minutes', status: DeploymentStatus.IN_PROGRESS, startedAt: at, bakeMinutes: 10, watchedAlarms: ['alarm-a'], ...overrides };
}

/** Registers the contract's specifications for one ledger implementation; `fresh` gives an empty ledger. */
export function ledgerContract(name: string, fresh: () => Promise<LedgerPort>): void {
  describe(`ledger contract: ${name}`, () => {
    let ledger: LedgerPort;
    beforeEach(async () => {
      ledger = await fresh();
    });
    /** Claims the job and starts the deployment as its owner. */
    const start = async (record: DeploymentRecord, owner = `inv-${record.deploymentId}`, now = record.startedAt) => {
      expect(await ledger.claimJob(record.jobId!, owner, now + 16 * MIN, now)).toBe(true);
      return ledger.startDeployment(record, { owner, now, leaseUntil: now + MIN, lockUntil: now + 30 * MIN });
    };

    describe('jobs', () => {
      it('lets one live invocation speak for a job, and no one once it started or has a result', async () => {
        expect(await ledger.claimJob('j1', 'a', T0 + MIN, T0)).toBe(true);
        expect(await ledger.claimJob('j1', 'b', T0 + MIN, T0 + 1)).toBe(false);
        expect(await ledger.claimJob('j1', 'a', T0 + 2 * MIN, T0 + 2)).toBe(true);
        expect(await ledger.claimJob('j1', 'b', T0 + 5 * MIN, T0 + 3 * MIN)).toBe(true);
        expect(await ledger.recordJobResult('j1', { kind: 'failed', message: 'blocked', at: T0 })).toMatchObject({ message: 'blocked' });
        expect(await ledger.claimJob('j1', 'c', T0 + 9 * MIN, T0 + 8 * MIN)).toBe(false);
        await start(deployment('d2', '1', '2', T0));
        expect(await ledger.claimJob('job-d2', 'other', T0 + 9 * MIN, T0 + 8 * MIN)).toBe(false);
        expect(await ledger.getJob('job-d2')).toMatchObject({ deploymentId: 'd2', ...REF });
      });

      it('keeps the first final result of a job', async () => {
        await ledger.recordJobResult('j1', { kind: 'succeeded', message: 'first', at: T0 });
        expect(await ledger.recordJobResult('j1', { kind: 'failed', message: 'second', at: T0 + 1 })).toMatchObject({ kind: 'succeeded', message: 'first' });
        expect((await ledger.getJob('j1'))?.result).toMatchObject({ message: 'first' });
      });
    });

    describe('starting', () => {
      it('takes the lock with a growing fence, one deployment at a time, naming the holder', async () => {
        expect(await start(deployment('d1', '1', '2', T0))).toEqual({ fence: 1 });
        await expect(start(deployment('d2', '1', '3', T0 + MIN))).rejects.toThrow(/locked by deployment d1/);
        const state = await ledger.getState(REF);
        expect(state).toMatchObject({ fence: 1, lock: { deploymentId: 'd1', fence: 1 }, latest: { deploymentId: 'd1', status: 'IN_PROGRESS' }, knownGoodVersion: '1', liveVersions: ['1'] });
        expect(await ledger.listInFlight()).toEqual([expect.objectContaining({ ...REF, deploymentId: 'd1', status: 'IN_PROGRESS', heartbeatAt: T0 })]);
        // After the lock lapses, another deployment may take it.
        expect(await start(deployment('d3', '1', '3', T0 + 31 * MIN))).toEqual({ fence: 2 });
      });

      it('refuses a second start of the same job', async () => {
        await start(deployment('d1', '1', '2', T0));
        await expect(ledger.startDeployment(deployment('d9', '1', '2', T0 + 40 * MIN, { jobId: 'job-d1' }), { owner: 'inv-d1', now: T0 + 40 * MIN, leaseUntil: T0 + 41 * MIN, lockUntil: T0 + 70 * MIN })).rejects.toMatchObject({ context: { sameJob: true } });
      });

      it('remembers the execution that started a deployment', async () => {
        await start(deployment('d1', '1', '2', T0, { pipelineExecutionId: 'exec-1' }));
        expect(await ledger.findExecution('exec-1')).toEqual({ ...REF, deploymentId: 'd1' });
        expect(await ledger.findExecution('exec-2')).toBeUndefined();
      });
    });

    describe('running', () => {
      it('renews only with the current fence, while the deployment runs', async () => {
        const { fence } = await start(deployment('d1', '1', '2', T0));
        const beat = { now: T0 + MIN, leaseUntil: T0 + 2 * MIN, lockUntil: T0 + 31 * MIN, cursor: { stepIndex: 0, stepStartedAt: T0, startedAt: T0 }, aliasRevision: 'r7' };
        expect(await ledger.heartbeat(REF, 'd1', fence, beat)).toBe(true);
        expect(await ledger.getDeployment(REF, 'd1')).toMatchObject({ cursor: beat.cursor, aliasRevision: 'r7', heartbeatAt: T0 + MIN });
        expect((await ledger.getState(REF))?.latest?.aliasRevision).toBe('r7');
        // Another invocation of the deployment takes over once the lease lapsed; the old fence is refused from then on.
        expect(await ledger.takeOver(REF, 'd1', 'inv-2', { now: T0 + MIN, leaseUntil: T0 + 2 * MIN, lockUntil: T0 + 31 * MIN })).toBeUndefined();
        const taken = await ledger.takeOver(REF, 'd1', 'inv-2', { now: T0 + 3 * MIN, leaseUntil: T0 + 4 * MIN, lockUntil: T0 + 33 * MIN });
        expect(taken).toEqual({ fence: 2 });
        expect(await ledger.heartbeat(REF, 'd1', fence, { ...beat, now: T0 + 4 * MIN })).toBe(false);
        expect(await ledger.heartbeat(REF, 'd1', taken!.fence, { ...beat, now: T0 + 4 * MIN })).toBe(true);
        // A continuation takes over whatever the lease.
        expect(await ledger.takeOver(REF, 'd1', 'inv-3', { now: T0 + 4 * MIN, leaseUntil: T0 + 5 * MIN, lockUntil: T0 + 34 * MIN, force: true })).toEqual({ fence: 3 });
      });

      it('ends a run: success opens the bake window, releases the lock, drops the in-flight entry', async () => {
        const { fence } = await start(deployment('d1', '1', '2', T0));
        expect(await ledger.finishDeployment(REF, 'd1', fence + 1, { status: 'SUCCEEDED', reason: 'x', endedAt: T0 + MIN, bakeUntil: T0 + 11 * MIN })).toBe(false);
        expect(await ledger.finishDeployment(REF, 'd1', fence, { status: 'SUCCEEDED', reason: 'healthy', endedAt: T0 + MIN, bakeUntil: T0 + 11 * MIN, aliasRevision: 'r9' })).toBe(true);
        const state = await ledger.getState(REF);
        expect(state?.lock).toBeUndefined();
        expect(state).toMatchObject({ bakingDeploymentId: 'd1', bakingFromVersion: '1', bakingToVersion: '2', bakeUntil: T0 + 11 * MIN, latest: { status: 'SUCCEEDED', aliasRevision: 'r9' }, liveVersions: ['1', '2'] });
        expect(await ledger.getDeployment(REF, 'd1')).toMatchObject({ status: 'SUCCEEDED', bakeUntil: T0 + 11 * MIN, endedAt: T0 + MIN });
        expect(await ledger.listInFlight()).toEqual([]);
        expect(await ledger.heartbeat(REF, 'd1', fence, { now: T0 + 2 * MIN, leaseUntil: 0, lockUntil: 0 })).toBe(false);
        // The next release closes that bake window and takes the version back out of the replaced ones.
        await start(deployment('d2', '2', '3', T0 + 2 * MIN));
        expect((await ledger.getState(REF))?.bakingDeploymentId).toBeUndefined();
      });

      it('a retried start whose first answer was lost finds its own lock and fence', async () => {
        const first = await start(deployment('d1', '1', '2', T0));
        expect(await ledger.startDeployment(deployment('d1', '1', '2', T0), { owner: 'inv-d1', now: T0 + 1, leaseUntil: T0 + MIN, lockUntil: T0 + 30 * MIN })).toEqual(first);
        await expect(ledger.startDeployment(deployment('d1', '1', '2', T0), { owner: 'someone-else', now: T0, leaseUntil: T0 + MIN, lockUntil: T0 + 30 * MIN })).rejects.toBeInstanceOf(DeploymentLockedError);
      });

      it('an abort recorded before the success wins: the success is refused, a failure is not', async () => {
        const { fence } = await start(deployment('d1', '1', '2', T0));
        await ledger.requestOperatorAction(REF, 'd1', 'ABORT');
        expect(await ledger.finishDeployment(REF, 'd1', fence, { status: 'SUCCEEDED', reason: 'all steps healthy', endedAt: T0 + MIN, bakeUntil: T0 + 11 * MIN })).toBe(false);
        expect(await ledger.getDeployment(REF, 'd1')).toMatchObject({ status: 'IN_PROGRESS', operatorRequest: 'ABORT' });
        expect(await ledger.finishDeployment(REF, 'd1', fence, { status: 'FAILED', reason: 'aborted', endedAt: T0 + MIN })).toBe(true);
      });

      it('an abort wins over a promote', async () => {
        await start(deployment('d1', '1', '2', T0));
        expect(await ledger.requestOperatorAction(REF, 'd1', 'ABORT')).toBe('RECORDED');
        expect(await ledger.requestOperatorAction(REF, 'd1', 'PROMOTE')).toBe('ABORT_PENDING');
        expect((await ledger.getDeployment(REF, 'd1'))?.operatorRequest).toBe('ABORT');
        expect(await ledger.requestOperatorAction(REF, 'nope', 'ABORT')).toBe('NOT_RUNNING');
      });
    });

    describe('undoing', () => {
      it('fences first even against a live rollout, blocks new starts until recorded, and remembers the replaced version', async () => {
        await start(deployment('d1', '1', '2', T0));
        const fenced = await ledger.beginUndo(REF, 'd1', 'operator:alice', { now: T0 + MIN, lockUntil: T0 + 6 * MIN });
        expect(fenced).toEqual({ fence: 2 });
        expect(await ledger.getDeployment(REF, 'd1')).toMatchObject({ status: 'ROLLING_BACK' });
        expect(await ledger.heartbeat(REF, 'd1', 1, { now: T0 + MIN, leaseUntil: 0, lockUntil: 0 })).toBe(false);
        // Another undo of the same deployment may carry it on at once: they all go to the same version.
        expect(await ledger.beginUndo(REF, 'd1', 'sweep', { now: T0 + 2 * MIN, lockUntil: T0 + 7 * MIN })).toEqual({ fence: 3 });
        await expect(start(deployment('d2', '1', '3', T0 + 40 * MIN))).rejects.toBeInstanceOf(DeploymentLockedError);
        expect(await ledger.recordUndo(REF, 'd1', { reason: 'by hand', errorCode: 'ROLLED_BACK_EXTERNALLY', at: T0 + 2 * MIN, by: 'operator:alice' })).toBe(true);
        expect(await ledger.recordUndo(REF, 'd1', { reason: 'again', errorCode: 'ALARM_BREACHED', at: T0 + 3 * MIN, by: 'rollback-function' })).toBe(false);
        expect(await ledger.getDeployment(REF, 'd1')).toMatchObject({ status: 'ROLLED_BACK', rolledBackBy: 'operator:alice', rolledBackAt: T0 + 2 * MIN, reason: 'by hand' });
        const state = await ledger.getState(REF);
        expect(state?.lock).toBeUndefined();
        expect(state?.undoPending).toBeUndefined();
        expect(state).toMatchObject({ replacedVersions: ['2'], knownGoodVersion: '1', latest: { status: 'ROLLED_BACK' } });
        expect(await ledger.listInFlight()).toEqual([]);
        // A new deployment of the replaced version takes it out of the replaced ones.
        await start(deployment('d3', '1', '2', T0 + 41 * MIN));
        expect((await ledger.getState(REF))?.replacedVersions ?? []).toEqual([]);
      });

      it('undoes a baking release and closes its window; an ended one is left alone', async () => {
        const { fence } = await start(deployment('d1', '1', '2', T0));
        await ledger.finishDeployment(REF, 'd1', fence, { status: 'SUCCEEDED', reason: 'ok', endedAt: T0 + MIN, bakeUntil: T0 + 11 * MIN });
        expect(await ledger.beginUndo(REF, 'd1', 'sweep', { now: T0 + 2 * MIN, lockUntil: T0 + 7 * MIN })).toEqual({ fence: 2 });
        expect((await ledger.getState(REF))?.bakingDeploymentId).toBeUndefined();
        await ledger.recordUndo(REF, 'd1', { reason: 'alarm', errorCode: 'ALARM_BREACHED', at: T0 + 2 * MIN, by: 'sweep' });
        expect(await ledger.beginUndo(REF, 'd1', 'sweep', { now: T0 + 3 * MIN, lockUntil: T0 + 8 * MIN })).toBeUndefined();
      });

      it('remembers a version an undo replaced even when a later deployment started meanwhile', async () => {
        const { fence } = await start(deployment('d1', '1', '2', T0));
        await ledger.finishDeployment(REF, 'd1', fence, { status: 'SUCCEEDED', reason: 'ok', endedAt: T0 + MIN, bakeUntil: T0 + 31 * MIN });
        await start(deployment('d2', '2', '3', T0 + 5 * MIN));
        await ledger.recordUndo(REF, 'd1', { reason: 'alarm during its bake window', errorCode: 'ALARM_BREACHED', at: T0 + 5 * MIN, by: 'rollback-function' });
        expect((await ledger.getState(REF))?.replacedVersions).toEqual(['2']);
        expect((await ledger.getState(REF))?.latest?.deploymentId).toBe('d2');
      });

      it('records an undo that could not move the alias as a failure, with nothing replaced', async () => {
        await start(deployment('d1', '1', '2', T0));
        expect(await ledger.recordUndo(REF, 'd1', { reason: 'alias on version 7', errorCode: 'ALIAS_CHANGED_EXTERNALLY', at: T0 + MIN, by: 'sweep', moved: false })).toBe(true);
        expect(await ledger.getDeployment(REF, 'd1')).toMatchObject({ status: 'FAILED', errorCode: 'ALIAS_CHANGED_EXTERNALLY' });
        expect((await ledger.getState(REF))?.replacedVersions ?? []).toEqual([]);
      });

      it('keeps the id of the recording that ended an undo, and no later one: its notice is sent by that recorder alone', async () => {
        await start(deployment('d1', '1', '2', T0));
        expect(await ledger.recordUndo(REF, 'd1', { reason: 'alarm', errorCode: 'ALARM_BREACHED', at: T0 + MIN, by: 'rollback-function', undoId: 'first' })).toBe(true);
        expect(await ledger.recordUndo(REF, 'd1', { reason: 'alarm', errorCode: 'ALARM_BREACHED', at: T0 + 2 * MIN, by: 'rollback-function', undoId: 'second' })).toBe(false);
        expect(await ledger.getDeployment(REF, 'd1')).toMatchObject({ status: 'ROLLED_BACK', undoId: 'first' });
      });
    });

    describe('indexes', () => {
      it('makes the declared alarms the alias\'s own: new ones indexed at once, dropped ones removed only when pruned', async () => {
        await ledger.indexAlarms(REF, ['alarm-a', 'alarm-b'], { prune: true });
        await ledger.indexAlarms({ functionName: 'other-prod', alias: 'live' }, ['alarm-b'], { prune: true });
        // Before the release that drops alarm-a holds the alias, alarm-a still guards it (the release baking declared it).
        await ledger.indexAlarms(REF, ['alarm-b', 'alarm-c']);
        expect(await ledger.aliasesGuardedBy('alarm-a')).toEqual([REF]);
        await ledger.indexAlarms(REF, ['alarm-b', 'alarm-c'], { prune: true });
        expect(await ledger.aliasesGuardedBy('alarm-a')).toEqual([]);
        expect((await ledger.aliasesGuardedBy('alarm-b')).map((r) => r.functionName).sort()).toEqual(['orders-api-prod', 'other-prod']);
        expect(await ledger.aliasesGuardedBy('alarm-c')).toEqual([REF]);
      });

      it('lists deployments newest first', async () => {
        const first = await start(deployment('20261126T090000Z-a', '1', '2', T0));
        await ledger.finishDeployment(REF, '20261126T090000Z-a', first.fence, { status: 'FAILED', reason: 'x', endedAt: T0 + MIN });
        await start(deployment('20261126T091000Z-b', '1', '3', T0 + 10 * MIN));
        expect((await ledger.listDeployments(REF, 5)).map((d) => d.deploymentId)).toEqual(['20261126T091000Z-b', '20261126T090000Z-a']);
      });
    });
  });
}
