// An in-memory model of the AWS the deployment engine talks to — Lambda aliases, CloudWatch alarms and per-version
// metrics, the ledger, CodePipeline results — on a virtual clock, with fault injection. Test-only.
import { AwsCallError, DeploymentError, ErrorCode, ResourceNotFoundError } from '../../deploy-functions/core/errors';
import type { AlarmObservation, VersionStats } from '../../deploy-functions/core/health';
import type { AlarmTagsPort, Clock, CloudWatchPort, JobFailure, JobSuccess, LambdaPort, LogPort, PipelineJob, PipelinePort } from '../../deploy-functions/core/ports';
import { parsePipelineJob } from '../../deploy-functions/engine/pipeline-job';
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

  /** Probability that an alias update hangs in the network before it reaches Lambda (see `FakeLambda.updateAlias`). */
  stallRate = 0;

  /** How long this call hangs: 0 (most calls), else up to 15 s. */
  stallFor(): number {
    return this.stallRate > 0 && this.random() < this.stallRate ? 1 + Math.floor(this.random() * 15_000) : 0;
  }

  maybeFail(operation: string): void {
    if (this.rate > 0 && this.random() < this.rate) this.fail(operation, 'throttled');
  }

  /** Fails a call the way AWS would: throttled, or unavailable (an outage; the call may be retried later). */
  fail(operation: string, kind: 'throttled' | 'outage'): never {
    this.injected += 1;
    if (kind === 'throttled') throw new AwsCallError(ErrorCode.AWS_THROTTLED, `${operation} failed: ThrottlingException (injected)`);
    throw new AwsCallError(ErrorCode.AWS_UNAVAILABLE, `${operation} failed: ServiceUnavailable (injected outage)`);
  }
}

/** One alias update as the model saw it. */
export interface AliasChange {
  readonly at: number;
  readonly functionName: string;
  readonly alias: string;
  readonly routing: AliasRouting;
  /** Who moved it, as the writer described the move (`lrp <deploymentId> …`). */
  readonly description?: string;
}

/** Lambda functions, versions and aliases; RevisionId is enforced as AWS does. */
export class FakeLambda implements LambdaPort {
  readonly functions = new Map<string, { versions: Map<string, string>; aliases: Map<string, AliasRouting> }>();
  /** Every write that changed where the alias sends traffic (a write of the same routing only renews its revision). */
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

  /** The SDK's request timeout of the deployment functions' clients (client-config.ts). */
  static readonly REQUEST_TIMEOUT_MS = 5_000;

  /**
   * An alias update, conditional on the revision when `expectedRevisionId` is given. A stalled request (faults'
   * `stallRate`) reaches Lambda late: within the SDK's request timeout the caller just waits; beyond it the caller gets a
   * timeout, while the request is still applied (or refused, on a revision that moved on) when it arrives.
   */
  async updateAlias(functionName: string, alias: string, routing: AliasRouting, options: { expectedRevisionId?: string; description?: string } = {}): Promise<AliasRouting> {
    const stall = this.faults.stallFor();
    if (stall > FakeLambda.REQUEST_TIMEOUT_MS) {
      void this.clock.sleep(stall).then(() => this.applyUpdate(functionName, alias, routing, options).catch(() => undefined));
      await this.clock.sleep(FakeLambda.REQUEST_TIMEOUT_MS);
      throw new AwsCallError(ErrorCode.AWS_UNAVAILABLE, 'UpdateAlias failed: TimeoutError (the request may still be applied)');
    }
    if (stall > 0) await this.clock.sleep(stall);
    return this.applyUpdate(functionName, alias, routing, options);
  }

  private async applyUpdate(functionName: string, alias: string, routing: AliasRouting, options: { expectedRevisionId?: string; description?: string }): Promise<AliasRouting> {
    const { expectedRevisionId } = options;
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
    // Only writes that change where traffic goes are changes; a write of the same routing only renews the revision.
    const same = current.version === next.version && JSON.stringify(Object.entries(current.weights).filter(([, w]) => w > 0).sort()) === JSON.stringify(Object.entries(next.weights).filter(([, w]) => w > 0).sort());
    if (!same) this.changes.push({ at: this.clock.now(), functionName, alias, routing: next, ...(options.description ? { description: options.description } : {}) });
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
export class FakeCloudWatch implements CloudWatchPort, AlarmTagsPort {
  readonly alarms = new Map<string, AlarmObservation>();
  /** Tags by alarm name. */
  readonly tags = new Map<string, Record<string, string>>();
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
    const previous = this.alarms.get(name);
    const changedAt = previous?.state === state ? previous.changedAt : this.clock.now();
    this.alarms.set(name, { name, state, ...(reason ? { reason } : {}), ...(changedAt !== undefined ? { changedAt } : {}) });
  }

  async tagsOf(alarmArn: string): Promise<Record<string, string>> {
    this.faults.maybeFail('ListTagsForResource');
    return { ...(this.tags.get(alarmArn.split(':alarm:')[1] ?? '') ?? {}) };
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

/** One result CodePipeline received. */
export type RecordedResult = { readonly at: number; readonly jobId: string; readonly seq: number } & (
  | ({ readonly kind: 'success' } & JobSuccess)
  | ({ readonly kind: 'failure' } & JobFailure)
);

/**
 * CodePipeline's job API: the jobs it created (what GetJobDetails answers, the continuation token following each
 * PutJobSuccessResult), and the results; refuses a result for a job that already ended, as CodePipeline does.
 */
export class FakePipeline implements PipelinePort {
  readonly results: RecordedResult[] = [];
  readonly jobs = new Map<string, PipelineJob>();
  /** Pipeline execution statuses by execution id (what GetPipelineExecution answers). */
  readonly executions = new Map<string, string>();
  constructor(
    private readonly clock: Clock,
    private readonly faults: Faults,
  ) {}

  /** Called after a job's final result is recorded (tests snapshot the world there). */
  onFinal?: (jobId: string, kind: 'success' | 'failure') => void;

  private ended(jobId: string): boolean {
    return this.results.some((r) => r.jobId === jobId && (r.kind === 'failure' || !r.continuationToken));
  }

  /** CodePipeline creates the job an event stands for (once: later events of the same job do not change it). */
  /** The pipeline and stage GetJobDetails reports for the jobs created from now on. @default - none */
  context: { readonly pipelineName?: string; readonly stage?: string } = {};

  createJob(event: unknown): void {
    const job = parsePipelineJob(event);
    if (!this.jobs.has(job.id)) this.jobs.set(job.id, { ...job, ...this.context });
  }

  async executionStatus(_pipelineName: string, executionId: string): Promise<string | undefined> {
    this.faults.maybeFail('GetPipelineExecution');
    return this.executions.get(executionId);
  }

  async jobDetails(jobId: string): Promise<PipelineJob | undefined> {
    this.faults.maybeFail('GetJobDetails');
    const job = this.jobs.get(jobId);
    return job ? { ...job } : undefined;
  }

  async succeed(jobId: string, result: JobSuccess) {
    this.faults.maybeFail('PutJobSuccessResult');
    if (this.ended(jobId)) throw new DeploymentError(ErrorCode.JOB_ALREADY_ENDED, `job ${jobId} already ended`);
    this.results.push({ at: this.clock.now(), seq: this.results.length, jobId, kind: 'success', ...result });
    const job = this.jobs.get(jobId);
    if (job) this.jobs.set(jobId, { ...job, continuationToken: result.continuationToken });
    if (!result.continuationToken) this.onFinal?.(jobId, 'success');
  }

  async fail(jobId: string, failure: JobFailure) {
    this.faults.maybeFail('PutJobFailureResult');
    if (this.ended(jobId)) throw new DeploymentError(ErrorCode.JOB_ALREADY_ENDED, `job ${jobId} already ended`);
    this.results.push({ at: this.clock.now(), seq: this.results.length, jobId, kind: 'failure', ...failure });
    this.onFinal?.(jobId, 'failure');
  }

  /** CodePipeline's own failure of an action that got no answer in time (unless the job ended meanwhile). */
  async timeOut(jobId: string) {
    if (this.ended(jobId)) return;
    this.results.push({ at: this.clock.now(), seq: this.results.length, jobId, kind: 'failure', message: 'the action timed out: no result from the function', type: 'JobFailed' });
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

export { actionStateEvent, alarmEvent, pipelineEvent, scheduledEvent } from '../../harness/events';

/** A Lambda context whose remaining time is measured on the virtual clock. */
export function fakeContext(clock: Clock, timeoutMs: number, requestId: string) {
  const startedAt = clock.now();
  return { awsRequestId: requestId, getRemainingTimeInMillis: () => timeoutMs - (clock.now() - startedAt) } as never;
}
