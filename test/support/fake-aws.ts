// An in-memory model of the AWS the deployment engine talks to — Lambda aliases, CloudWatch alarms and per-version
// metrics, the ledger, CodePipeline results — on a virtual clock, with fault injection. Test-only.
import { AwsCallError, DeploymentError, DeploymentLockedError, ErrorCode, ResourceNotFoundError } from '../../deploy-functions/core/errors';
import type { AlarmObservation, VersionStats } from '../../deploy-functions/core/health';
import { DeploymentStatus, type AliasLedgerState, type DeploymentRecord } from '../../deploy-functions/core/ledger';
import type { AliasRef, Clock, CloudWatchPort, JobFailure, JobSuccess, LambdaPort, LedgerPort, LogPort, PipelinePort, WindowOverrideRecord } from '../../deploy-functions/core/ports';
import type { OperatorRequest, RolloutCursor } from '../../deploy-functions/core/rollout';
import type { AliasRouting } from '../../deploy-functions/core/types';

/**
 * A discrete-event virtual clock. Tasks sleep by waiting for a wake-up; the driver advances time to the earliest
 * wake-up, resumes that task and lets it run until it sleeps again, so concurrent tasks interleave at sleep points
 * exactly as parallel invocations would. Scheduled callbacks start new concurrent tasks.
 */
export class VirtualClock implements Clock {
  private queue: { at: number; seq: number; fire: () => void }[] = [];
  private seq = 0;
  /** Errors thrown by scheduled tasks (a test asserts there are none). */
  readonly taskErrors: unknown[] = [];
  constructor(private current = Date.UTC(2026, 10, 25, 9, 0, 0)) {}

  now(): number {
    return this.current;
  }

  private push(at: number, fire: () => void): void {
    const entry = { at, seq: this.seq++, fire };
    let index = this.queue.length;
    while (index > 0 && (this.queue[index - 1]!.at > at || (this.queue[index - 1]!.at === at && this.queue[index - 1]!.seq > entry.seq))) index -= 1;
    this.queue.splice(index, 0, entry);
  }

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.push(this.current + Math.max(0, ms), resolve));
  }

  /** Starts `run` as a concurrent task when virtual time reaches `at`. */
  schedule(at: number, run: () => Promise<unknown> | unknown): void {
    this.push(at, () => {
      Promise.resolve()
        .then(run)
        .catch((error: unknown) => this.taskErrors.push(error));
    });
  }

  private static flush(): Promise<void> {
    return new Promise((resolve) => setImmediate(resolve));
  }

  /** Runs the event loop until `task` settles, and returns its result. */
  async drive<T>(task: Promise<T>): Promise<T> {
    let settled = false;
    task.then(
      () => (settled = true),
      () => (settled = true),
    );
    for (let events = 0; ; events += 1) {
      await VirtualClock.flush();
      if (settled) return task;
      const next = this.queue.shift();
      if (!next) throw new Error('virtual clock: the task waits but nothing is scheduled');
      if (events > 5_000_000) throw new Error('virtual clock: too many events');
      this.current = Math.max(this.current, next.at);
      next.fire();
    }
  }

  /** Moves time forward by `ms`, running everything due meanwhile. */
  advance(ms: number): Promise<void> {
    return this.drive(this.sleep(ms));
  }

  /** Runs every scheduled event and task to the end. */
  async drain(): Promise<void> {
    for (;;) {
      await VirtualClock.flush();
      const next = this.queue.shift();
      if (!next) return;
      this.current = Math.max(this.current, next.at);
      next.fire();
    }
  }
}

/** Seeded pseudo-random faults: each call fails with probability `rate` (transient: throttling). */
export class Faults {
  private state: number;
  injected = 0;
  constructor(
    seed: number,
    public rate = 0,
  ) {
    this.state = seed >>> 0 || 1;
  }

  random(): number {
    // xorshift32
    let x = this.state;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.state = x >>> 0;
    return this.state / 0x100000000;
  }

  maybeFail(operation: string): void {
    if (this.rate > 0 && this.random() < this.rate) {
      this.injected += 1;
      throw new AwsCallError(ErrorCode.AWS_THROTTLED, `${operation} failed: ThrottlingException (injected)`);
    }
  }
}

/** One alias update as the model saw it. */
export interface AliasChange {
  readonly at: number;
  readonly functionName: string;
  readonly alias: string;
  readonly routing: AliasRouting;
}

/** Lambda functions, versions and aliases; RevisionId is enforced as AWS does. */
export class FakeLambda implements LambdaPort {
  readonly functions = new Map<string, { versions: Map<string, string>; aliases: Map<string, AliasRouting> }>();
  readonly changes: AliasChange[] = [];
  private revision = 0;
  /** Probability that an update is applied but its answer is lost (the caller sees an error). */
  lostResponseRate = 0;

  constructor(
    private readonly clock: Clock,
    private readonly faults: Faults,
  ) {}

  addFunction(name: string, versions: Record<string, string>, aliases: Record<string, string>): void {
    this.functions.set(name, {
      versions: new Map(Object.entries(versions)),
      aliases: new Map(Object.entries(aliases).map(([alias, version]) => [alias, { version, weights: {}, revisionId: `r${this.revision++}` }])),
    });
  }

  routing(functionName: string, alias: string): AliasRouting {
    return this.functions.get(functionName)!.aliases.get(alias)!;
  }

  private find(functionName: string) {
    const fn = this.functions.get(functionName);
    if (!fn) throw new ResourceNotFoundError(ErrorCode.FUNCTION_NOT_FOUND, `function ${functionName} does not exist`);
    return fn;
  }

  async getAlias(functionName: string, alias: string): Promise<AliasRouting> {
    this.faults.maybeFail('GetAlias');
    const routing = this.find(functionName).aliases.get(alias);
    if (!routing) throw new ResourceNotFoundError(ErrorCode.ALIAS_NOT_FOUND, `alias ${alias} of function ${functionName} does not exist`);
    return { ...routing, weights: { ...routing.weights } };
  }

  async updateAlias(functionName: string, alias: string, routing: AliasRouting, expectedRevisionId?: string): Promise<AliasRouting> {
    this.faults.maybeFail('UpdateAlias');
    const fn = this.find(functionName);
    const current = fn.aliases.get(alias);
    if (!current) throw new ResourceNotFoundError(ErrorCode.ALIAS_NOT_FOUND, `alias ${alias} does not exist`);
    for (const version of [routing.version, ...Object.keys(routing.weights)]) {
      if (version !== '$LATEST' && !fn.versions.has(version)) throw new ResourceNotFoundError(ErrorCode.VERSION_NOT_FOUND, `version ${version} does not exist`);
    }
    if (expectedRevisionId !== undefined && expectedRevisionId !== current.revisionId) {
      throw new DeploymentError(ErrorCode.ALIAS_CHANGED_EXTERNALLY, `alias ${functionName}:${alias} was changed by someone else meanwhile`);
    }
    const next: AliasRouting = { version: routing.version, weights: { ...routing.weights }, revisionId: `r${this.revision++}` };
    fn.aliases.set(alias, next);
    this.changes.push({ at: this.clock.now(), functionName, alias, routing: next });
    if (this.lostResponseRate > 0 && this.faults.random() < this.lostResponseRate) {
      throw new AwsCallError(ErrorCode.AWS_UNAVAILABLE, 'UpdateAlias failed: connection reset after the update was applied (injected)');
    }
    return { ...next };
  }

  async getVersion(functionName: string, version: string): Promise<{ version: string; description: string }> {
    this.faults.maybeFail('GetFunctionConfiguration');
    const description = this.find(functionName).versions.get(version);
    if (description === undefined) throw new ResourceNotFoundError(ErrorCode.VERSION_NOT_FOUND, `version ${version} of function ${functionName} does not exist`);
    return { version, description };
  }
}

/** Alarms you can flip, and per-version metrics derived from the alias history and per-version error rates. */
export class FakeCloudWatch implements CloudWatchPort {
  readonly alarms = new Map<string, AlarmObservation>();
  /** Invocations per minute arriving at each alias. */
  trafficPerMinute = 120;
  /** Fraction of invocations of each version that fail. */
  readonly errorRates = new Map<string, number>();

  constructor(
    private readonly lambda: FakeLambda,
    private readonly faults: Faults,
    private readonly clock: Clock,
  ) {}

  setAlarm(name: string, state: AlarmObservation['state'], reason?: string): void {
    this.alarms.set(name, { name, state, ...(reason ? { reason } : {}) });
  }

  async describeAlarms(names: readonly string[]): Promise<AlarmObservation[]> {
    this.faults.maybeFail('DescribeAlarms');
    return names.flatMap((name) => (this.alarms.has(name) ? [{ ...this.alarms.get(name)! }] : []));
  }

  async describeAlarmsByPrefix(prefix: string): Promise<AlarmObservation[]> {
    this.faults.maybeFail('DescribeAlarms');
    return [...this.alarms.values()].filter((alarm) => alarm.name.startsWith(prefix)).map((alarm) => ({ ...alarm }));
  }

  async versionStats(functionName: string, alias: string, versions: readonly string[], from: number, to: number): Promise<Record<string, VersionStats>> {
    this.faults.maybeFail('GetMetricData');
    const changes = this.lambda.changes.filter((c) => c.functionName === functionName && c.alias === alias);
    const stats: Record<string, VersionStats> = Object.fromEntries(versions.map((v) => [v, { invocations: 0, errors: 0 }]));
    const end = Math.min(to, this.clock.now());
    changes.forEach((change, index) => {
      const segmentStart = Math.max(from, change.at);
      const segmentEnd = Math.min(end, changes[index + 1]?.at ?? end);
      if (segmentEnd <= segmentStart) return;
      const minutes = (segmentEnd - segmentStart) / 60_000;
      const extra = Object.values(change.routing.weights).reduce((a, b) => a + b, 0);
      const shares: Record<string, number> = { [change.routing.version]: 1 - extra, ...change.routing.weights };
      for (const version of versions) {
        const invocations = Math.floor((shares[version] ?? 0) * this.trafficPerMinute * minutes);
        const previous = stats[version]!;
        stats[version] = { invocations: previous.invocations + invocations, errors: previous.errors + Math.floor(invocations * (this.errorRates.get(version) ?? 0)) };
      }
    });
    return stats;
  }
}

type StoredDeployment = DeploymentRecord & { leaseOwner?: string; leaseUntil?: number };
type MutableState = { -readonly [K in keyof AliasLedgerState]: AliasLedgerState[K] };

/** The ledger's semantics (conditional lock, lease, idempotency pointers) over maps. */
export class FakeLedger implements LedgerPort {
  readonly states = new Map<string, MutableState>();
  readonly deployments = new Map<string, StoredDeployment>();
  readonly jobs = new Map<string, AliasRef & { deploymentId: string }>();
  readonly jobClaims = new Map<string, { owner: string; until: number }>();
  readonly alarmIndex = new Map<string, AliasRef[]>();
  /** Called when a deployment ends (engine or rollback function), so tests can look at the world at that moment. */
  onEnd?: (deploymentId: string) => void;

  constructor(private readonly faults: Faults) {}

  private key = (ref: AliasRef) => `${ref.functionName}:${ref.alias}`;
  private depKey = (ref: AliasRef, id: string) => `${ref.functionName}:${ref.alias}:${id}`;
  private strip(record: StoredDeployment | undefined): DeploymentRecord | undefined {
    if (!record) return undefined;
    const { leaseOwner: _o, leaseUntil: _u, ...rest } = record;
    return structuredClone(rest);
  }

  async getState(functionName: string, alias: string) {
    this.faults.maybeFail('ledger GetItem');
    const state = this.states.get(this.key({ functionName, alias }));
    return state ? { ...state } : undefined;
  }

  async getDeployment(functionName: string, alias: string, deploymentId: string) {
    this.faults.maybeFail('ledger GetItem');
    return this.strip(this.deployments.get(this.depKey({ functionName, alias }, deploymentId)));
  }

  async findJob(jobId: string) {
    this.faults.maybeFail('ledger GetItem');
    return this.jobs.get(jobId);
  }

  async claimJob(jobId: string, owner: string, until: number, now: number) {
    this.faults.maybeFail('ledger UpdateItem');
    const claim = this.jobClaims.get(jobId);
    if (this.jobs.has(jobId) || (claim && claim.owner !== owner && claim.until >= now)) return false;
    this.jobClaims.set(jobId, { owner, until });
    return true;
  }

  async startDeployment(record: DeploymentRecord, options: { lockUntil: number; leaseOwner: string; leaseUntil: number; knownGoodVersion?: string }) {
    this.faults.maybeFail('ledger TransactWriteItems');
    if (record.jobId && (this.jobs.has(record.jobId) || this.jobClaims.get(record.jobId)?.owner !== options.leaseOwner)) throw DeploymentLockedError.sameJob(record.jobId);
    const state = this.states.get(this.key(record));
    if (state?.lockedBy && (state.lockExpiresAt ?? 0) >= record.startedAt) {
      throw DeploymentLockedError.heldBy(record.functionName, record.alias, state.lockedBy, state.lockExpiresAt);
    }
    if (record.jobId) this.jobs.set(record.jobId, { functionName: record.functionName, alias: record.alias, deploymentId: record.deploymentId });
    this.deployments.set(this.depKey(record, record.deploymentId), { ...structuredClone(record), leaseOwner: options.leaseOwner, leaseUntil: options.leaseUntil });
    const next: MutableState = {
      ...(state ?? {}),
      functionName: record.functionName,
      alias: record.alias,
      lockedBy: record.deploymentId,
      lockExpiresAt: options.lockUntil,
      lastDeploymentId: record.deploymentId,
      lastStatus: DeploymentStatus.IN_PROGRESS,
      lastFromVersion: record.fromVersion,
      lastToVersion: record.toVersion,
    };
    if (options.knownGoodVersion) next.knownGoodVersion = options.knownGoodVersion;
    this.states.set(this.key(record), next);
  }

  async claimLease(ref: AliasRef, deploymentId: string, owner: string, until: number, now: number) {
    this.faults.maybeFail('ledger UpdateItem');
    const record = this.deployments.get(this.depKey(ref, deploymentId));
    if (!record || record.status !== DeploymentStatus.IN_PROGRESS) return false;
    if (record.leaseOwner && record.leaseOwner !== owner && (record.leaseUntil ?? 0) >= now) return false;
    record.leaseOwner = owner;
    record.leaseUntil = until;
    return true;
  }

  async saveProgress(ref: AliasRef, deploymentId: string, owner: string, progress: { cursor: RolloutCursor; leaseUntil: number; lockUntil: number }) {
    this.faults.maybeFail('ledger UpdateItem');
    const record = this.deployments.get(this.depKey(ref, deploymentId));
    if (!record || record.status !== DeploymentStatus.IN_PROGRESS || record.leaseOwner !== owner) return false;
    this.deployments.set(this.depKey(ref, deploymentId), { ...record, cursor: { ...progress.cursor }, leaseUntil: progress.leaseUntil });
    const state = this.states.get(this.key(ref));
    if (state?.lockedBy === deploymentId) state.lockExpiresAt = progress.lockUntil;
    return true;
  }

  async finishDeployment(
    ref: AliasRef,
    deploymentId: string,
    result: { status: Exclude<DeploymentStatus, 'IN_PROGRESS'>; reason: string; errorCode?: string; endedAt: number; bakeUntil?: number; rolledBackBy?: string },
  ) {
    this.faults.maybeFail('ledger UpdateItem');
    const key = this.depKey(ref, deploymentId);
    const record = this.deployments.get(key);
    let finished = false;
    if (record && record.status === DeploymentStatus.IN_PROGRESS) {
      const { leaseOwner: _o, leaseUntil: _u, operatorRequest: _r, ...rest } = record;
      this.deployments.set(key, { ...rest, ...result });
      const state = this.states.get(this.key(ref));
      if (state?.lastDeploymentId === deploymentId) {
        state.lastStatus = result.status;
        if (result.status === DeploymentStatus.SUCCEEDED) {
          state.bakingDeploymentId = deploymentId;
          state.bakingFromVersion = state.lastFromVersion;
          state.bakingToVersion = state.lastToVersion;
          state.bakeUntil = result.bakeUntil ?? result.endedAt;
        }
      }
      finished = true;
      this.onEnd?.(deploymentId);
    }
    await this.releaseLock(ref, deploymentId);
    return finished;
  }

  async markRolledBack(ref: AliasRef, deploymentId: string, result: { reason: string; errorCode: string; endedAt: number; rolledBackBy: string }) {
    this.faults.maybeFail('ledger UpdateItem');
    const key = this.depKey(ref, deploymentId);
    const record = this.deployments.get(key);
    if (!record || (record.status !== DeploymentStatus.IN_PROGRESS && record.status !== DeploymentStatus.SUCCEEDED)) return false;
    const { bakeUntil: _b, operatorRequest: _r, ...rest } = record;
    this.deployments.set(key, {
      ...rest,
      status: DeploymentStatus.ROLLED_BACK,
      reason: result.reason,
      errorCode: result.errorCode,
      rolledBackBy: result.rolledBackBy,
      endedAt: record.endedAt ?? result.endedAt,
      rolledBackAt: result.endedAt,
    });
    const state = this.states.get(this.key(ref));
    if (state?.lastDeploymentId === deploymentId) state.lastStatus = DeploymentStatus.ROLLED_BACK;
    if (state?.bakingDeploymentId === deploymentId) {
      state.knownGoodVersion = state.bakingFromVersion;
      delete state.bakingDeploymentId;
      delete state.bakingFromVersion;
      delete state.bakingToVersion;
      delete state.bakeUntil;
    }
    this.onEnd?.(deploymentId);
    return true;
  }

  async releaseLock(ref: AliasRef, deploymentId: string) {
    const state = this.states.get(this.key(ref));
    if (state?.lockedBy === deploymentId) {
      delete state.lockedBy;
      delete state.lockExpiresAt;
    }
  }

  async requestOperatorAction(ref: AliasRef, deploymentId: string, request: OperatorRequest) {
    const record = this.deployments.get(this.depKey(ref, deploymentId));
    if (!record || record.status !== DeploymentStatus.IN_PROGRESS) return false;
    this.deployments.set(this.depKey(ref, deploymentId), { ...record, operatorRequest: request });
    return true;
  }

  async listDeployments(ref: AliasRef, limit: number) {
    return [...this.deployments.values()]
      .filter((d) => d.functionName === ref.functionName && d.alias === ref.alias)
      .sort((a, b) => b.deploymentId.localeCompare(a.deploymentId))
      .slice(0, limit)
      .map((d) => this.strip(d)!);
  }

  async indexAlarms(ref: AliasRef, alarms: readonly string[]) {
    this.faults.maybeFail('ledger BatchWriteItem');
    for (const name of alarms) {
      const refs = this.alarmIndex.get(name) ?? [];
      if (!refs.some((r) => r.functionName === ref.functionName && r.alias === ref.alias)) refs.push({ ...ref });
      this.alarmIndex.set(name, refs);
    }
  }

  async aliasesGuardedBy(alarmName: string) {
    this.faults.maybeFail('ledger Query');
    return [...(this.alarmIndex.get(alarmName) ?? [])];
  }

  readonly overrides: WindowOverrideRecord[] = [];

  async recordWindowOverride(record: WindowOverrideRecord) {
    this.faults.maybeFail('ledger PutItem');
    this.overrides.push({ ...record });
  }

  async listWindowOverrides(functionName: string, limit: number) {
    return this.overrides.filter((o) => o.functionName === functionName).sort((a, b) => b.at - a.at).slice(0, limit);
  }
}

/** One result CodePipeline received. */
export type RecordedResult = { readonly at: number; readonly jobId: string } & (
  | ({ readonly kind: 'success' } & JobSuccess)
  | ({ readonly kind: 'failure' } & JobFailure)
);

/** Records job results; refuses a result for a job that already ended, as CodePipeline does. */
export class FakePipeline implements PipelinePort {
  readonly results: RecordedResult[] = [];
  constructor(
    private readonly clock: Clock,
    private readonly faults: Faults,
  ) {}

  /** Called after a job's final result is recorded (tests snapshot the world there). */
  onFinal?: (jobId: string, kind: 'success' | 'failure') => void;

  private ended(jobId: string): boolean {
    return this.results.some((r) => r.jobId === jobId && (r.kind === 'failure' || !r.continuationToken));
  }

  async succeed(jobId: string, result: JobSuccess) {
    this.faults.maybeFail('PutJobSuccessResult');
    if (this.ended(jobId)) throw new DeploymentError(ErrorCode.JOB_ALREADY_ENDED, `job ${jobId} already ended`);
    this.results.push({ at: this.clock.now(), jobId, kind: 'success', ...result });
    if (!result.continuationToken) this.onFinal?.(jobId, 'success');
  }

  async fail(jobId: string, failure: JobFailure) {
    this.faults.maybeFail('PutJobFailureResult');
    if (this.ended(jobId)) throw new DeploymentError(ErrorCode.JOB_ALREADY_ENDED, `job ${jobId} already ended`);
    this.results.push({ at: this.clock.now(), jobId, kind: 'failure', ...failure });
    this.onFinal?.(jobId, 'failure');
  }

  finalResults(jobId: string): RecordedResult[] {
    return this.results.filter((r) => r.jobId === jobId && (r.kind === 'failure' || !r.continuationToken));
  }
}

/** A logger that keeps entries for assertions. */
export class MemoryLogger implements LogPort {
  readonly entries: { level: string; message: string; extra: Record<string, unknown>[] }[] = [];
  private log = (level: string) => (message: string, ...extra: Record<string, unknown>[]) => {
    this.entries.push({ level, message, extra });
  };
  debug = this.log('debug');
  info = this.log('info');
  warn = this.log('warn');
  error = this.log('error');
  appendKeys(): void {}
}

/** A CodePipeline Lambda-invoke event. */
export function pipelineEvent(jobId: string, userParameters: unknown, continuationToken?: string) {
  return {
    'CodePipeline.job': {
      id: jobId,
      accountId: '123456789012',
      data: {
        actionConfiguration: { configuration: { FunctionName: 'lrp-shift-traffic', UserParameters: typeof userParameters === 'string' ? userParameters : JSON.stringify(userParameters) } },
        inputArtifacts: [],
        outputArtifacts: [],
        ...(continuationToken ? { continuationToken } : {}),
      },
    },
  };
}

/** An EventBridge "CloudWatch Alarm State Change" event. */
export function alarmEvent(alarmName: string, state: 'ALARM' | 'OK' = 'ALARM', reason = 'Threshold Crossed', changedAt?: number) {
  const timestamp = changedAt === undefined ? undefined : new Date(changedAt).toISOString();
  return {
    version: '0',
    id: `evt-${alarmName}`,
    'detail-type': 'CloudWatch Alarm State Change',
    source: 'aws.cloudwatch',
    account: '123456789012',
    region: 'us-east-1',
    resources: [`arn:aws:cloudwatch:us-east-1:123456789012:alarm:${alarmName}`],
    ...(timestamp ? { time: timestamp } : {}),
    detail: { alarmName, state: { value: state, reason, ...(timestamp ? { timestamp } : {}) }, previousState: { value: 'OK' } },
  };
}

/** A Lambda context whose remaining time is measured on the virtual clock. */
export function fakeContext(clock: Clock, timeoutMs: number, requestId: string) {
  const startedAt = clock.now();
  return { awsRequestId: requestId, getRemainingTimeInMillis: () => timeoutMs - (clock.now() - startedAt) } as never;
}
