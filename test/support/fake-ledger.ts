// The ledger's semantics over maps, for the in-memory model of AWS. Test-only: the DynamoDB ledger must behave the
// same, and test/deploy-functions/ledger-contract.ts runs one set of specifications against both.
import { AwsCallError, DeploymentLockedError, ErrorCode, replacedMeanwhile } from '../../deploy-functions/core/errors';
import { DeploymentStatus, summaryOf, type AliasLedgerState, type DeploymentRecord, type InFlightEntry, type JobRecord, type JobResult } from '../../deploy-functions/core/ledger';
import type { AliasRef, FinishResult, Heartbeat, LedgerPort, OperatorRequestOutcome, UndoResult, WindowOverrideRecord } from '../../deploy-functions/core/ports';
import type { OperatorRequest } from '../../deploy-functions/core/rollout';
import type { Faults } from './fake-aws';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
type State = Mutable<AliasLedgerState>;
type Deployment = Mutable<DeploymentRecord>;
const key = (ref: AliasRef) => `${ref.functionName}:${ref.alias}`;
const clone = <T>(value: T): T => structuredClone(value);
const add = (list: readonly string[] | undefined, value: string) => (list?.includes(value) ? [...list] : [...(list ?? []), value]);
const drop = (list: readonly string[] | undefined, value: string) => (list ?? []).filter((v) => v !== value);
const closeBake = (state: State) => {
  delete state.bakingDeploymentId;
  delete state.bakingFromVersion;
  delete state.bakingToVersion;
  delete state.bakeUntil;
};

/** The ledger over maps; a failing write (injected fault) changes nothing, as a DynamoDB transaction would. */
export class FakeLedger implements LedgerPort {
  readonly states = new Map<string, State>();
  readonly deployments = new Map<string, Deployment>();
  readonly jobs = new Map<string, Mutable<JobRecord>>();
  readonly alarmIndex = new Map<string, AliasRef[]>();
  readonly inFlight = new Map<string, InFlightEntry>();
  readonly executions = new Map<string, AliasRef & { deploymentId: string }>();
  readonly overrides: WindowOverrideRecord[] = [];
  /** Called when a deployment reaches a final status, so tests can look at the world at that moment. */
  onEnd?: (deploymentId: string) => void;
  /** While true, every write fails (a ledger outage); reads still work. */
  writesDown = false;
  /** How often a conditional write is applied but its answer is lost (a timeout after the commit). */
  lostAnswerRate = 0;

  constructor(private readonly faults: Faults) {
    // The writes whose answer a caller acts on: each may be applied and still reach its caller as a failure.
    for (const name of ['startDeployment', 'takeOver', 'heartbeat', 'finishDeployment', 'beginUndo', 'recordUndo', 'claimJob', 'recordJobResult'] as const) {
      const applied = (this[name] as (...args: unknown[]) => Promise<unknown>).bind(this);
      (this as Record<string, unknown>)[name] = async (...args: unknown[]) => {
        const answer = await applied(...args);
        if (this.lostAnswerRate > 0 && this.faults.random() < this.lostAnswerRate) throw new AwsCallError(ErrorCode.AWS_UNAVAILABLE, `ledger ${name} failed: TimeoutError after the write was applied (injected)`);
        return answer;
      };
    }
  }

  private read(operation: string) {
    this.faults.maybeFail(`ledger ${operation}`);
  }
  private write(operation: string) {
    if (this.writesDown) this.faults.fail(`ledger ${operation}`, 'outage');
    this.faults.maybeFail(`ledger ${operation}`);
  }
  private dep = (ref: AliasRef, id: string) => this.deployments.get(`${key(ref)}:${id}`);
  private state = (ref: AliasRef): State => {
    let state = this.states.get(key(ref));
    if (!state) this.states.set(key(ref), (state = { functionName: ref.functionName, alias: ref.alias }));
    return state;
  };
  private setLatest(state: State, record: Deployment) {
    if (state.latest?.deploymentId === record.deploymentId) state.latest = summaryOf(record);
  }
  private ended(record: Deployment) {
    this.onEnd?.(record.deploymentId);
  }

  async getState(ref: AliasRef) {
    this.read('GetItem');
    const state = this.states.get(key(ref));
    return state ? clone(state) : undefined;
  }
  async getDeployment(ref: AliasRef, deploymentId: string) {
    this.read('GetItem');
    const record = this.dep(ref, deploymentId);
    return record ? clone(record) : undefined;
  }
  async listDeployments(ref: AliasRef, limit: number) {
    this.read('Query');
    return [...this.deployments.values()]
      .filter((d) => d.functionName === ref.functionName && d.alias === ref.alias)
      .sort((a, b) => b.deploymentId.localeCompare(a.deploymentId))
      .slice(0, limit)
      .map(clone);
  }

  async getJob(jobId: string) {
    this.read('GetItem');
    const job = this.jobs.get(jobId);
    return job ? clone(job) : undefined;
  }
  async claimJob(jobId: string, owner: string, until: number, now: number) {
    this.write('UpdateItem');
    const job = this.jobs.get(jobId);
    if (job && (job.result || job.deploymentId || (job.owner !== owner && (job.ownerUntil ?? 0) >= now))) return false;
    this.jobs.set(jobId, { ...(job ?? { jobId }), owner, ownerUntil: until });
    return true;
  }
  async recordJobResult(jobId: string, result: JobResult) {
    this.write('UpdateItem');
    const job = this.jobs.get(jobId) ?? { jobId };
    if (job.result) return clone(job.result);
    this.jobs.set(jobId, { ...job, result: clone(result) });
    return clone(result);
  }

  async startDeployment(record: DeploymentRecord, options: { owner: string; now: number; leaseUntil: number; lockUntil: number }) {
    this.write('TransactWriteItems');
    const state = this.state(record);
    // A retry of a start whose answer was lost: the lock is already this deployment's, taken by this owner.
    if (state.lock?.deploymentId === record.deploymentId && state.lock.owner === options.owner && this.dep(record, record.deploymentId)) return { fence: state.lock.fence };
    const job = record.jobId ? this.jobs.get(record.jobId) : undefined;
    if (record.jobId && (!job || job.deploymentId || job.result || job.owner !== options.owner)) throw DeploymentLockedError.sameJob(record.jobId);
    if ((state.lock && state.lock.expiresAt >= options.now) || state.undoPending) {
      const held = state.lock ?? { deploymentId: state.undoPending, expiresAt: undefined };
      throw DeploymentLockedError.heldBy(record.functionName, record.alias, held.deploymentId, held.expiresAt);
    }
    // A rollback chose its version before taking the lock: one a rollback replaced meanwhile is not a place to go back to.
    if (record.kind === 'MANUAL_ROLLBACK' && state.replacedVersions?.includes(record.toVersion)) throw replacedMeanwhile(record);
    if (job) Object.assign(job, { deploymentId: record.deploymentId, functionName: record.functionName, alias: record.alias });
    const stored: Deployment = { ...clone(record), heartbeatAt: options.now };
    this.deployments.set(`${key(record)}:${record.deploymentId}`, stored);
    const fence = (state.fence ?? 0) + 1;
    Object.assign(state, {
      fence,
      lock: { deploymentId: record.deploymentId, fence, owner: options.owner, leaseUntil: options.leaseUntil, expiresAt: options.lockUntil },
      latest: summaryOf(stored),
    });
    closeBake(state);
    if (record.fromVersion !== '$LATEST') {
      state.knownGoodVersion = record.fromVersion;
      state.liveVersions = add(state.liveVersions, record.fromVersion);
    }
    state.replacedVersions = drop(state.replacedVersions, record.toVersion);
    this.inFlight.set(key(record), { functionName: record.functionName, alias: record.alias, deploymentId: record.deploymentId, status: DeploymentStatus.IN_PROGRESS, heartbeatAt: options.now, ...(record.kind ? { kind: record.kind } : {}) });
    if (record.pipelineExecutionId) this.executions.set(record.pipelineExecutionId, { functionName: record.functionName, alias: record.alias, deploymentId: record.deploymentId });
    return { fence };
  }

  async takeOver(ref: AliasRef, deploymentId: string, owner: string, options: { now: number; leaseUntil: number; lockUntil: number; force?: boolean }) {
    this.write('TransactWriteItems');
    const state = this.state(ref);
    const record = this.dep(ref, deploymentId);
    const lock = state.lock;
    if (!record || record.status !== DeploymentStatus.IN_PROGRESS || lock?.deploymentId !== deploymentId || (!options.force && lock.owner !== owner && lock.leaseUntil >= options.now)) return undefined;
    const fence = (state.fence ?? 0) + 1;
    state.fence = fence;
    state.lock = { deploymentId, fence, owner, leaseUntil: options.leaseUntil, expiresAt: options.lockUntil };
    record.heartbeatAt = options.now;
    this.inFlight.set(key(ref), { ...this.inFlight.get(key(ref))!, heartbeatAt: options.now });
    return { fence };
  }

  async heartbeat(ref: AliasRef, deploymentId: string, fence: number, progress: Heartbeat) {
    this.write('TransactWriteItems');
    const state = this.state(ref);
    const record = this.dep(ref, deploymentId);
    if (!record || record.status !== DeploymentStatus.IN_PROGRESS || state.lock?.deploymentId !== deploymentId || state.lock.fence !== fence) return false;
    state.lock = { ...state.lock, leaseUntil: progress.leaseUntil, expiresAt: progress.lockUntil };
    record.heartbeatAt = progress.now;
    if (progress.cursor) record.cursor = clone(progress.cursor);
    if (progress.aliasRevision) record.aliasRevision = progress.aliasRevision;
    this.setLatest(state, record);
    this.inFlight.set(key(ref), { ...this.inFlight.get(key(ref))!, heartbeatAt: progress.now });
    return true;
  }

  async finishDeployment(ref: AliasRef, deploymentId: string, fence: number, result: FinishResult) {
    this.write('TransactWriteItems');
    const state = this.state(ref);
    const record = this.dep(ref, deploymentId);
    if (!record || record.status !== DeploymentStatus.IN_PROGRESS || state.lock?.deploymentId !== deploymentId || state.lock.fence !== fence) return false;
    // An abort an operator recorded wins over a success nobody has seen yet.
    if (result.status === DeploymentStatus.SUCCEEDED && record.operatorRequest === 'ABORT') return false;
    Object.assign(record, { status: result.status, reason: result.reason, endedAt: result.endedAt });
    if (result.errorCode) record.errorCode = result.errorCode;
    if (result.aliasRevision) record.aliasRevision = result.aliasRevision;
    delete record.operatorRequest;
    delete state.lock;
    if (result.status === DeploymentStatus.SUCCEEDED) {
      record.bakeUntil = result.bakeUntil ?? result.endedAt;
      Object.assign(state, { bakingDeploymentId: deploymentId, bakingFromVersion: record.fromVersion, bakingToVersion: record.toVersion, bakeUntil: record.bakeUntil });
      state.liveVersions = add(state.liveVersions, record.toVersion);
      if (result.replacesFrom) {
        state.replacedVersions = add(state.replacedVersions, record.fromVersion);
        state.knownGoodVersion = record.toVersion;
      }
    }
    this.setLatest(state, record);
    if (this.inFlight.get(key(ref))?.deploymentId === deploymentId) this.inFlight.delete(key(ref));
    this.ended(record);
    return true;
  }

  async beginUndo(ref: AliasRef, deploymentId: string, undoer: string, options: { now: number; lockUntil: number }) {
    this.write('TransactWriteItems');
    const state = this.state(ref);
    const record = this.dep(ref, deploymentId);
    if (!record) return undefined;
    const lock = state.lock;
    const free = !lock || lock.expiresAt < options.now;
    const allowed =
      (record.status === DeploymentStatus.IN_PROGRESS && (free || lock?.deploymentId === deploymentId)) ||
      // Any undo of the same deployment may carry on another's: they all move the alias to the same version.
      (record.status === DeploymentStatus.ROLLING_BACK && (free || lock?.deploymentId === deploymentId)) ||
      (record.status === DeploymentStatus.SUCCEEDED && state.bakingDeploymentId === deploymentId && free);
    if (!allowed) return undefined;
    const fence = (state.fence ?? 0) + 1;
    state.fence = fence;
    state.lock = { deploymentId, fence, owner: undoer, leaseUntil: options.lockUntil, expiresAt: options.lockUntil };
    state.undoPending = deploymentId;
    if (state.bakingDeploymentId === deploymentId) closeBake(state);
    record.status = DeploymentStatus.ROLLING_BACK;
    this.setLatest(state, record);
    this.inFlight.set(key(ref), { functionName: ref.functionName, alias: ref.alias, deploymentId, status: DeploymentStatus.ROLLING_BACK, heartbeatAt: options.now });
    return { fence };
  }

  async recordUndo(ref: AliasRef, deploymentId: string, result: UndoResult & { moved?: boolean }) {
    this.write('TransactWriteItems');
    const record = this.dep(ref, deploymentId);
    const movable: string[] = [DeploymentStatus.IN_PROGRESS, DeploymentStatus.ROLLING_BACK, DeploymentStatus.SUCCEEDED];
    if (!record || !movable.includes(record.status)) return false;
    const moved = result.moved ?? true;
    Object.assign(record, { status: moved ? DeploymentStatus.ROLLED_BACK : DeploymentStatus.FAILED, reason: result.reason, errorCode: result.errorCode, rolledBackBy: result.by, endedAt: record.endedAt ?? result.at });
    if (moved) record.rolledBackAt = result.at;
    if (result.undoId) record.undoId = result.undoId;
    delete record.operatorRequest;
    const state = this.state(ref);
    if (state.lock?.deploymentId === deploymentId) delete state.lock;
    if (state.undoPending === deploymentId) delete state.undoPending;
    if (state.bakingDeploymentId === deploymentId) closeBake(state);
    // The alias left the version: it is replaced, even when a later deployment started meanwhile.
    if (moved) {
      state.replacedVersions = add(state.replacedVersions, record.toVersion);
      state.liveVersions = drop(state.liveVersions, record.toVersion);
      if (state.latest?.deploymentId === deploymentId) state.knownGoodVersion = record.fromVersion;
    }
    this.setLatest(state, record);
    if (this.inFlight.get(key(ref))?.deploymentId === deploymentId) this.inFlight.delete(key(ref));
    this.ended(record);
    return true;
  }

  async requestOperatorAction(ref: AliasRef, deploymentId: string, request: OperatorRequest): Promise<OperatorRequestOutcome> {
    this.write('UpdateItem');
    const record = this.dep(ref, deploymentId);
    if (!record || record.status !== DeploymentStatus.IN_PROGRESS) return 'NOT_RUNNING';
    if (request === 'PROMOTE' && record.operatorRequest === 'ABORT') return 'ABORT_PENDING';
    record.operatorRequest = request;
    return 'RECORDED';
  }

  async indexAlarms(ref: AliasRef, alarms: readonly string[], options: { prune?: boolean } = {}) {
    this.write('BatchWriteItem');
    const state = this.state(ref);
    if (options.prune) {
      for (const name of state.declaredAlarms ?? []) {
        if (!alarms.includes(name)) this.alarmIndex.set(name, (this.alarmIndex.get(name) ?? []).filter((r) => key(r) !== key(ref)));
      }
    }
    for (const name of alarms) {
      const refs = this.alarmIndex.get(name) ?? [];
      if (!refs.some((r) => key(r) === key(ref))) this.alarmIndex.set(name, [...refs, { ...ref }]);
    }
    state.declaredAlarms = options.prune ? [...alarms] : [...new Set([...(state.declaredAlarms ?? []), ...alarms])];
  }
  async aliasesGuardedBy(alarmName: string) {
    this.read('Query');
    return clone(this.alarmIndex.get(alarmName) ?? []);
  }
  async listInFlight() {
    this.read('Query');
    return [...this.inFlight.values()].map(clone);
  }
  async findExecution(pipelineExecutionId: string) {
    this.read('GetItem');
    const found = this.executions.get(pipelineExecutionId);
    return found ? clone(found) : undefined;
  }
  async recordWindowOverride(record: WindowOverrideRecord) {
    this.write('PutItem');
    this.overrides.push(clone(record));
  }
  async listWindowOverrides(functionName: string, limit: number) {
    return this.overrides.filter((o) => o.functionName === functionName).sort((a, b) => b.at - a.at).slice(0, limit);
  }
}
