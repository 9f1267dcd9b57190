import { encodeContinuation, decodeContinuation } from '../core/continuation';
import { DeploymentError, DeploymentLockedError, ErrorCode, InvalidParametersError, JobOwnershipUnknownError, ResourceNotFoundError, asDeploymentError } from '../core/errors';
import { assessHealth, type AlarmObservation, type HealthObservation, type HealthVerdict } from '../core/health';
import { DeploymentStatus, knownGoodVersion, newDeploymentId, type DeploymentRecord } from '../core/ledger';
import type { AliasRef, Clock, CloudWatchPort, LambdaPort, LedgerPort, LogPort } from '../core/ports';
import { advanceCursor, decide, firstDecision, initialCursor, percentOnTarget, routingFor, type RolloutCursor, type RolloutDecision } from '../core/rollout';
import { resolveSteps, strategyLabel, type StrategySpec } from '../core/strategies';
import type { AliasRouting, RolloutSpec } from '../core/types';
import { ShiftTrafficParametersSchema, parseUserParameters, type ShiftTrafficParameters } from '../core/user-parameters';
import type { JobOutcome, PipelineJob } from './pipeline-job';
import { ROLLBACK_ATTEMPTS, withRetries } from './retry';
import { generatedAlarmPrefix } from '../core/names';

/** Timing of the engine. */
export interface ShiftTrafficSettings {
  /** Longest pause between two health checks. @default 10_000 */
  readonly healthCheckIntervalMs: number;
  /** Work stops this long before the Lambda timeout, leaving room to report. @default 20_000 */
  readonly safetyMarginMs: number;
  /** One invocation hands back a continuation token after at most this long (CodePipeline wants an answer within 20 min). @default 540_000 */
  readonly maxInvocationMs: number;
  /** Consecutive inconclusive checks tolerated before rolling back. @default 300_000 */
  readonly inconclusiveLimitMs: number;
  /** The alias lock outlives the last heartbeat by this long, covering the gap between continuation invocations. @default 1_800_000 */
  readonly lockTtlMs: number;
  /** An invocation's lease outlives its last heartbeat by this long; after it, a duplicate may take over. @default 60_000 */
  readonly leaseTtlMs: number;
}

/** Defaults of `ShiftTrafficSettings`. */
export const DEFAULT_SHIFT_TRAFFIC_SETTINGS: ShiftTrafficSettings = {
  healthCheckIntervalMs: 10_000,
  safetyMarginMs: 20_000,
  maxInvocationMs: 540_000,
  inconclusiveLimitMs: 300_000,
  lockTtlMs: 1_800_000,
  leaseTtlMs: 60_000,
};

/** What the engine needs from the world. */
export interface ShiftTrafficDeps {
  readonly lambda: LambdaPort;
  readonly cloudwatch: CloudWatchPort;
  readonly ledger: LedgerPort;
  readonly clock: Clock;
  readonly logger: LogPort;
  readonly settings: ShiftTrafficSettings;
}

const ROLLED_BACK_BY = 'shift-traffic';
/** Strategy label of deployments the engine moves at once whatever the user's strategy (first release, revert). */
const ALL_AT_ONCE_OVERRIDE = 'AllAtOnce (';

/** The job's result once its deployment ended, however it ended: the same answer for every re-delivery. */
export function outcomeOfFinished(record: DeploymentRecord): JobOutcome {
  if (record.status === DeploymentStatus.SUCCEEDED) {
    return {
      kind: 'succeeded',
      externalExecutionId: record.deploymentId,
      summary: `${record.functionName}:${record.alias} now on version ${record.toVersion} (from ${record.fromVersion}); ${record.reason ?? ''}`.trim(),
      outputVariables: {
        fromVersion: record.fromVersion,
        toVersion: record.toVersion,
        deploymentId: record.deploymentId,
        ...(record.bakeUntil !== undefined ? { bakeUntil: new Date(record.bakeUntil).toISOString() } : {}),
      },
    };
  }
  const code = (record.errorCode as ErrorCode | undefined) ?? (record.rolledBackBy && record.rolledBackBy !== ROLLED_BACK_BY ? ErrorCode.ROLLED_BACK_EXTERNALLY : ErrorCode.INTERNAL);
  const by = record.rolledBackBy && record.rolledBackBy !== ROLLED_BACK_BY ? ` by ${record.rolledBackBy}` : '';
  const verb = record.status === DeploymentStatus.ROLLED_BACK ? `rolled back${by} to version ${record.fromVersion}` : 'failed';
  return {
    kind: 'failed',
    externalExecutionId: record.deploymentId,
    error: new DeploymentError(code, `${record.functionName}:${record.alias} ${verb}: ${record.reason ?? 'no reason recorded'}`, {
      context: { deploymentId: record.deploymentId, fromVersion: record.fromVersion, toVersion: record.toVersion },
    }),
  };
}

/** One running rollout inside one invocation. */
class Rollout {
  constructor(
    private readonly deps: ShiftTrafficDeps,
    private readonly spec: RolloutSpec,
    private readonly ref: AliasRef,
    private readonly deploymentId: string,
    private readonly owner: string,
    private cursor: RolloutCursor,
    private readonly deadline: number,
    /** RevisionId of the alias as last read or written here: every forward update is conditional on it. */
    private revisionId?: string,
  ) {}

  /** Carries out decisions and health checks until the rollout ends or the invocation must hand over. */
  async run(first?: RolloutDecision): Promise<JobOutcome> {
    const { clock, settings } = this.deps;
    if (first) {
      const ended = await this.apply(first);
      if (ended) return ended;
    } else {
      const drift = await this.checkAliasMatchesCursor();
      if (drift) return drift;
    }
    for (;;) {
      const record = await this.readRecord();
      if (record && record.status !== DeploymentStatus.IN_PROGRESS) return outcomeOfFinished(record);
      const verdict = await this.observe();
      const { decision, cursor } = decide(this.spec, this.cursor, verdict, clock.now(), {
        operatorRequest: record?.operatorRequest,
        inconclusiveLimitMs: settings.inconclusiveLimitMs,
      });
      this.cursor = cursor;
      if (decision.kind === 'WAIT') this.deps.logger.debug('health check', { verdict: verdict.phase, reason: decision.reason });
      const ended = await this.apply(decision);
      if (ended) return ended;

      const now = clock.now();
      const wake = decision.kind === 'WAIT' && decision.until > now ? Math.min(decision.until, now + settings.healthCheckIntervalMs) : now + settings.healthCheckIntervalMs;
      if (wake >= this.deadline) return this.handOver();
      // A shift has just saved progress; otherwise renew the lease before sleeping.
      if (decision.kind !== 'SHIFT' && !(await this.heartbeat())) return this.lostLease();
      await clock.sleep(wake - now);
    }
  }

  private async apply(decision: RolloutDecision): Promise<JobOutcome | undefined> {
    switch (decision.kind) {
      case 'WAIT':
        return undefined;
      case 'ROLLBACK':
        return this.rollBack(new DeploymentError(decision.code, decision.reason, { context: { deploymentId: this.deploymentId } }));
      case 'SHIFT':
      case 'COMPLETE': {
        this.deps.logger.info(decision.kind === 'SHIFT' ? 'shifting traffic' : 'completing rollout', { reason: decision.reason, deploymentId: this.deploymentId });
        try {
          await this.setRouting(routingFor(this.spec, decision), true);
        } catch (error) {
          const failure = asDeploymentError(error);
          const record = await this.readRecord();
          if (record && record.status !== DeploymentStatus.IN_PROGRESS) return outcomeOfFinished(record);
          return this.rollBack(new DeploymentError(failure.code, `could not move ${this.ref.functionName}:${this.ref.alias}: ${failure.message}`, { cause: failure }));
        }
        if (decision.kind === 'COMPLETE') return this.complete(decision.reason);
        this.cursor = advanceCursor(this.cursor, decision, this.deps.clock.now());
        return (await this.heartbeat()) ? undefined : this.lostLease();
      }
    }
  }

  /**
   * One alias update. Forward moves are conditional on the revision last seen, so they can never undo someone else's
   * rollback; a conflict caused by our own earlier attempt (applied, but its answer lost) is recognised and accepted.
   */
  private async setRouting(routing: AliasRouting, guarded: boolean): Promise<void> {
    const { lambda, clock } = this.deps;
    try {
      const updated = await withRetries(clock, () => lambda.updateAlias(this.ref.functionName, this.ref.alias, routing, guarded ? this.revisionId : undefined), {
        attempts: guarded ? 5 : ROLLBACK_ATTEMPTS,
      });
      this.revisionId = updated.revisionId;
    } catch (error) {
      if (!(error instanceof DeploymentError) || error.code !== ErrorCode.ALIAS_CHANGED_EXTERNALLY) throw error;
      const current = await withRetries(clock, () => lambda.getAlias(this.ref.functionName, this.ref.alias));
      if (!sameRouting(current, routing)) throw error;
      this.revisionId = current.revisionId;
    }
  }

  private async complete(reason: string): Promise<JobOutcome> {
    const { ledger, clock, logger } = this.deps;
    const endedAt = clock.now();
    const bakeUntil = endedAt + this.spec.bakeMinutes * 60_000;
    try {
      await withRetries(clock, () => ledger.finishDeployment(this.ref, this.deploymentId, { status: DeploymentStatus.SUCCEEDED, reason, endedAt, bakeUntil }), {
        attempts: ROLLBACK_ATTEMPTS,
      });
    } catch (error) {
      // The alias is fully on the target: report that truthfully; the lock expires by itself.
      logger.error('could not record the success in the ledger', { error: asDeploymentError(error).message });
    }
    // The record tells the truth: ours, or the rollback function's if it got there first.
    const record = await this.readRecord();
    if (record && record.status !== DeploymentStatus.IN_PROGRESS) return outcomeOfFinished(record);
    return outcomeOfFinished({
      functionName: this.ref.functionName,
      alias: this.ref.alias,
      deploymentId: this.deploymentId,
      fromVersion: this.spec.fromVersion,
      toVersion: this.spec.toVersion,
      strategy: '',
      status: DeploymentStatus.SUCCEEDED,
      reason,
      startedAt: this.cursor.startedAt,
      bakeUntil,
      bakeMinutes: this.spec.bakeMinutes,
      watchedAlarms: this.spec.alarms,
    });
  }

  /** Puts the alias fully back on the previous version in one update, records why, and fails the job. */
  private rollBack(cause: DeploymentError): Promise<JobOutcome> {
    return restorePreviousVersion(this.deps, { ref: this.ref, deploymentId: this.deploymentId, fromVersion: this.spec.fromVersion, toVersion: this.spec.toVersion }, cause, cause.message);
  }

  private async observe(): Promise<HealthVerdict> {
    const { cloudwatch, clock } = this.deps;
    const readErrors: string[] = [];
    const now = clock.now();
    const [alarms, stats] = await Promise.all([
      this.spec.alarms.length === 0
        ? Promise.resolve<AlarmObservation[]>([])
        : cloudwatch.describeAlarms(this.spec.alarms).catch((error: unknown) => {
            readErrors.push(`alarms: ${asDeploymentError(error).message}`);
            return undefined;
          }),
      cloudwatch
        .versionStats(this.ref.functionName, this.ref.alias, [this.spec.fromVersion, this.spec.toVersion], this.cursor.startedAt, now)
        .catch((error: unknown) => {
          readErrors.push(`metrics: ${asDeploymentError(error).message}`);
          return undefined;
        }),
    ]);
    if (alarms) {
      const seen = new Set(alarms.map((alarm) => alarm.name));
      const missing = this.spec.alarms.filter((name) => !seen.has(name));
      if (missing.length > 0) readErrors.push(`alarm(s) ${missing.join(', ')} no longer exist`);
    }
    const observation: HealthObservation = { alarms, target: stats?.[this.spec.toVersion], baseline: stats?.[this.spec.fromVersion], readErrors };
    return assessHealth(observation, this.spec.analysis);
  }

  private async readRecord(): Promise<DeploymentRecord | undefined> {
    try {
      return await withRetries(this.deps.clock, () => this.deps.ledger.getDeployment(this.ref.functionName, this.ref.alias, this.deploymentId), { attempts: 3 });
    } catch (error) {
      this.deps.logger.warn('could not read the ledger; carrying on', { error: asDeploymentError(error).message });
      return undefined;
    }
  }

  private async heartbeat(): Promise<boolean> {
    const { ledger, clock, settings } = this.deps;
    const now = clock.now();
    try {
      return await withRetries(clock, () =>
        ledger.saveProgress(this.ref, this.deploymentId, this.owner, { cursor: this.cursor, leaseUntil: now + settings.leaseTtlMs, lockUntil: now + settings.lockTtlMs }),
      );
    } catch (error) {
      // Progress is also in the continuation token; a missed heartbeat only shortens the lease.
      this.deps.logger.warn('could not save progress', { error: asDeploymentError(error).message });
      return true;
    }
  }

  private async lostLease(): Promise<JobOutcome> {
    const record = await this.readRecord();
    if (record && record.status !== DeploymentStatus.IN_PROGRESS) return outcomeOfFinished(record);
    return { kind: 'ignored', reason: `another invocation took over deployment ${this.deploymentId}` };
  }

  private async handOver(): Promise<JobOutcome> {
    const { ledger, clock, settings } = this.deps;
    const now = clock.now();
    // Give the lease up so the continuation invocation can claim it at once; keep the lock for the gap.
    await withRetries(clock, () => ledger.saveProgress(this.ref, this.deploymentId, this.owner, { cursor: this.cursor, leaseUntil: 0, lockUntil: now + settings.lockTtlMs })).catch(
      () => undefined,
    );
    const percent = percentOnTarget(this.spec, this.cursor);
    return {
      kind: 'continue',
      externalExecutionId: this.deploymentId,
      percentComplete: percent,
      summary: `${this.ref.functionName}:${this.ref.alias}: ${percent} % on version ${this.spec.toVersion}, step ${this.cursor.stepIndex + 1}/${this.spec.steps.length}`,
      continuationToken: encodeContinuation({ deploymentId: this.deploymentId, fromVersion: this.spec.fromVersion, toVersion: this.spec.toVersion, cursor: this.cursor }),
    };
  }

  /** On resume, the alias must still route as this rollout left it; anything else means someone moved it. */
  private async checkAliasMatchesCursor(): Promise<JobOutcome | undefined> {
    const routing = await withRetries(this.deps.clock, () => this.deps.lambda.getAlias(this.ref.functionName, this.ref.alias));
    this.revisionId = routing.revisionId;
    const expectedWeight = this.cursor.stepIndex < 0 ? undefined : this.spec.steps[this.cursor.stepIndex]!.percent / 100;
    const actualWeight = routing.weights[this.spec.toVersion];
    const extra = Object.keys(routing.weights).filter((version) => version !== this.spec.toVersion);
    const matches = routing.version === this.spec.fromVersion && extra.length === 0 && (expectedWeight === undefined ? actualWeight === undefined : Math.abs((actualWeight ?? -1) - expectedWeight) < 1e-6);
    if (matches) return undefined;
    if (routing.version === this.spec.toVersion && Object.keys(routing.weights).length === 0) {
      // A previous invocation moved everything but could not record it: finish its work.
      return this.complete('completed by a previous invocation of this job');
    }
    const record = await this.readRecord();
    if (record && record.status !== DeploymentStatus.IN_PROGRESS) return outcomeOfFinished(record);
    return this.rollBack(
      new DeploymentError(
        ErrorCode.ALIAS_CHANGED_EXTERNALLY,
        `alias changed outside this deployment: expected version ${this.spec.fromVersion} with ${(expectedWeight ?? 0) * 100} % on ${this.spec.toVersion}, found ${describeRouting(routing)}`,
      ),
    );
  }
}

function sameRouting(a: AliasRouting, b: AliasRouting): boolean {
  const versions = new Set([...Object.keys(a.weights), ...Object.keys(b.weights)]);
  return a.version === b.version && [...versions].every((v) => Math.abs((a.weights[v] ?? 0) - (b.weights[v] ?? 0)) < 1e-9);
}

function describeRouting(routing: AliasRouting): string {
  const weights = Object.entries(routing.weights).map(([version, weight]) => `${Math.round(weight * 1000) / 10} % on ${version}`);
  return `version ${routing.version}${weights.length ? ` with ${weights.join(', ')}` : ''}`;
}

function buildSpec(params: ShiftTrafficParameters, fromVersion: string, toVersion: string, alarms: readonly string[], allAtOnce: boolean): RolloutSpec {
  return {
    functionName: params.functionName,
    alias: params.alias,
    fromVersion,
    toVersion,
    steps: allAtOnce ? [] : resolveSteps(params.strategy as StrategySpec),
    bakeMinutes: params.bakeMinutes,
    alarms,
    analysis: params.analysis,
  };
}

function commitFromDescription(description: string): string | undefined {
  return /commit\s+([0-9a-f]{7,40})/i.exec(description)?.[1];
}

/**
 * The shift-traffic action: moves `alias` to the target version step by step while watching alarms and
 * per-version metrics, rolls back by itself on a breach, and hands long waits over through continuation tokens.
 */
export async function shiftTraffic(job: PipelineJob, remainingMs: number, invocationId: string, deps: ShiftTrafficDeps): Promise<JobOutcome> {
  const { lambda, cloudwatch, ledger, clock, logger, settings } = deps;
  const params = parseUserParameters(ShiftTrafficParametersSchema, job.userParameters);
  const ref: AliasRef = { functionName: params.functionName, alias: params.alias };
  logger.appendKeys({ functionName: ref.functionName, alias: ref.alias });
  const started = clock.now();
  const deadline = started + Math.min(remainingMs - settings.safetyMarginMs, settings.maxInvocationMs);

  const resume = async (deploymentId: string, fallback?: { fromVersion: string; toVersion: string; cursor: RolloutCursor }): Promise<JobOutcome> => {
    const record = await withRetries(clock, () => ledger.getDeployment(ref.functionName, ref.alias, deploymentId));
    if (!record) {
      throw new DeploymentError(ErrorCode.INTERNAL, `deployment ${deploymentId} of ${ref.functionName}:${ref.alias} is missing from the ledger`);
    }
    logger.appendKeys({ deploymentId });
    if (record.status !== DeploymentStatus.IN_PROGRESS) return outcomeOfFinished(record);
    const leaseUntil = clock.now() + settings.leaseTtlMs;
    if (!(await withRetries(clock, () => ledger.claimLease(ref, deploymentId, invocationId, leaseUntil, clock.now())))) {
      return { kind: 'ignored', reason: `deployment ${deploymentId} is being run by another invocation` };
    }
    const cursor = record.cursor ?? fallback?.cursor ?? initialCursor(record.startedAt);
    const spec = buildSpec(params, record.fromVersion, record.toVersion, record.watchedAlarms, record.strategy.startsWith(ALL_AT_ONCE_OVERRIDE));
    return new Rollout(deps, spec, ref, deploymentId, invocationId, cursor, deadline).run();
  };

  if (job.continuationToken) {
    const token = decodeContinuation(job.continuationToken);
    // This invocation owns the job (CodePipeline handed it the token): whatever fails now, the alias goes back.
    return resume(token.deploymentId, token).catch((error: unknown) => forceRollback(deps, { ref, ...token }, error));
  }
  let previous: Awaited<ReturnType<LedgerPort['findJob']>>;
  let claimed: boolean;
  try {
    previous = await withRetries(clock, () => ledger.findJob(job.id), { attempts: ROLLBACK_ATTEMPTS });
    if (previous) {
      logger.info('job already known to the ledger: resuming or re-reporting it', { deploymentId: previous.deploymentId });
      return await resume(previous.deploymentId);
    }
    // Only one invocation speaks for a job: a duplicate delivery must not fail it while the original is shifting.
    claimed = await withRetries(clock, () => ledger.claimJob(job.id, invocationId, clock.now() + settings.leaseTtlMs, clock.now()), { attempts: ROLLBACK_ATTEMPTS });
  } catch (error) {
    throw new JobOwnershipUnknownError(job.id, error);
  }
  if (!claimed) return { kind: 'ignored', reason: `job ${job.id} is being handled by another invocation` };

  // A new deployment: resolve and check everything before touching the alias.
  let toVersion = params.targetVersion;
  if (params.targetAlias !== undefined) {
    const target = await withRetries(clock, () => lambda.getAlias(ref.functionName, params.targetAlias!));
    if (target.version === '$LATEST') {
      throw new InvalidParametersError(`targetAlias: ${params.targetAlias} points to $LATEST; it must point to a published version`);
    }
    toVersion = target.version;
  }
  const version = await withRetries(clock, () => lambda.getVersion(ref.functionName, toVersion!));
  const routing = await withRetries(clock, () => lambda.getAlias(ref.functionName, ref.alias));
  const state = await withRetries(clock, () => ledger.getState(ref.functionName, ref.alias));
  const fromVersion = routing.version;
  const now = clock.now();
  if (state?.lockedBy && (state.lockExpiresAt ?? 0) > now) {
    // Another deployment owns the alias: even "already on the target" would be a claim about traffic it is moving.
    throw DeploymentLockedError.heldBy(ref.functionName, ref.alias, state.lockedBy, state.lockExpiresAt);
  }
  const knownGood = knownGoodVersion(state, now);
  const commit = params.commit ?? commitFromDescription(version.description);

  const [generated, declared] = await Promise.all([
    withRetries(clock, () => cloudwatch.describeAlarmsByPrefix(generatedAlarmPrefix(ref.functionName, ref.alias))),
    params.alarms.length ? withRetries(clock, () => cloudwatch.describeAlarms(params.alarms)) : Promise.resolve<AlarmObservation[]>([]),
  ]);
  const missing = params.alarms.filter((name) => !declared.some((alarm) => alarm.name === name));
  if (missing.length > 0) throw new ResourceNotFoundError(ErrorCode.ALARM_NOT_FOUND, `alarms: ${missing.join(', ')} do not exist in CloudWatch`);
  const watched = [...new Set([...generated, ...declared].map((alarm) => alarm.name))];
  const inAlarm = [...generated, ...declared].filter((alarm) => alarm.state === 'ALARM');

  if (fromVersion === toVersion && Object.keys(routing.weights).length === 0) {
    // Not a deployment: recording one would cut short the bake window of the release that put this version live.
    logger.info('alias already fully on the target version: nothing to shift', { version: toVersion });
    return {
      kind: 'succeeded',
      summary: `${ref.functionName}:${ref.alias} already on version ${toVersion}; nothing to shift`,
      outputVariables: { fromVersion, toVersion: toVersion!, deploymentId: 'none' },
    };
  }

  let allAtOnce = false;
  let watchedAlarms = watched;
  let strategy = strategyLabel(params.strategy as StrategySpec);
  if (fromVersion === '$LATEST') {
    logger.info('first release: the alias pointed at $LATEST, so there is no previous version to compare with; moving all at once');
    allAtOnce = true;
    strategy = `${ALL_AT_ONCE_OVERRIDE}first release)`;
  }
  if (inAlarm.length > 0) {
    const names = inAlarm.map((alarm) => alarm.name).join(', ');
    if (toVersion !== knownGood) {
      throw new DeploymentError(
        ErrorCode.ALARM_BREACHED,
        `alarm ${names} already in ALARM before the shift: a forward release is blocked. Fix the cause, or release the last known-good version${knownGood ? ` ${knownGood}` : ''} to revert`,
        { context: { alarms: names, knownGood } },
      );
    }
    logger.warn('alarms in ALARM, but the target is the last known-good version: reverting at once', { alarms: names, knownGood });
    allAtOnce = true;
    watchedAlarms = [];
    strategy = `${ALL_AT_ONCE_OVERRIDE}revert to known-good)`;
  }

  // The rollback function finds the aliases an alarm guards through this index: without it, a breach between two
  // health checks (or during the bake window) would go unanswered, so no traffic moves until it is written.
  if (watchedAlarms.length > 0) await withRetries(clock, () => ledger.indexAlarms(ref, watchedAlarms));

  const deploymentId = newDeploymentId(now, job.id);
  logger.appendKeys({ deploymentId });
  const spec = buildSpec(params, fromVersion, toVersion!, watchedAlarms, allAtOnce);
  let cursor = initialCursor(now);
  const startedDeployment = await withRetries(clock, () => {
    // Stamped when the lock is actually taken: a retried start must not claim an earlier start time.
    const startedAt = clock.now();
    cursor = initialCursor(startedAt);
    return ledger.startDeployment(
      {
        functionName: ref.functionName,
        alias: ref.alias,
        deploymentId,
        jobId: job.id,
        ...(commit ? { commit } : {}),
        fromVersion,
        toVersion: toVersion!,
        strategy,
        steps: spec.steps,
        status: DeploymentStatus.IN_PROGRESS,
        startedAt,
        bakeMinutes: params.bakeMinutes,
        watchedAlarms,
        cursor,
      },
      {
        lockUntil: startedAt + settings.lockTtlMs,
        leaseOwner: invocationId,
        leaseUntil: startedAt + settings.leaseTtlMs,
        ...(fromVersion !== '$LATEST' ? { knownGoodVersion: fromVersion } : {}),
      },
    );
  }).then(
    () => true,
    (error: unknown) => {
      // A duplicate delivery of this very job won the race to start it: that invocation reports, this one stays silent.
      if (error instanceof DeploymentError && error.code === ErrorCode.DEPLOYMENT_LOCKED && error.context.sameJob) return false;
      throw error;
    },
  );
  if (!startedDeployment) return { kind: 'ignored', reason: `job ${job.id} was started by another invocation` };

  // The alias was read before the lock was ours: if anyone moved it meanwhile, `fromVersion` is stale.
  const locked = new Rollout(deps, spec, ref, deploymentId, invocationId, cursor, deadline, routing.revisionId);
  const current = await withRetries(clock, () => lambda.getAlias(ref.functionName, ref.alias)).catch(() => undefined);
  if (!current || !sameRouting(current, routing)) {
    const reason = `${ref.functionName}:${ref.alias} changed while this deployment was starting (now ${current ? describeRouting(current) : 'unreadable'}); nothing was shifted — run the action again`;
    await withRetries(clock, () =>
      ledger.finishDeployment(ref, deploymentId, { status: DeploymentStatus.FAILED, reason, errorCode: ErrorCode.ALIAS_CHANGED_EXTERNALLY, endedAt: clock.now() }),
    );
    return { kind: 'failed', externalExecutionId: deploymentId, error: new DeploymentError(ErrorCode.ALIAS_CHANGED_EXTERNALLY, reason) };
  }
  logger.info('deployment started', { fromVersion, toVersion, strategy, steps: spec.steps, alarms: watchedAlarms, commit });

  return locked.run(firstDecision(spec)).catch((error: unknown) => forceRollback(deps, { ref, deploymentId, fromVersion, toVersion: toVersion! }, error));
}

/** The deployment a rollback concerns. */
interface RollbackTarget {
  readonly ref: AliasRef;
  readonly deploymentId: string;
  readonly fromVersion: string;
  readonly toVersion: string;
}

/**
 * Last line of defence once a deployment has started: an unexpected failure puts the alias fully back on the
 * previous version and records why, so the job never ends with the alias half-shifted.
 */
async function forceRollback(deps: ShiftTrafficDeps, target: RollbackTarget, error: unknown): Promise<JobOutcome> {
  const cause = asDeploymentError(error);
  deps.logger.error('unexpected failure during the rollout: putting the alias back', { code: cause.code, reason: cause.message });
  const record = await deps.ledger.getDeployment(target.ref.functionName, target.ref.alias, target.deploymentId).catch(() => undefined);
  if (record && record.status !== DeploymentStatus.IN_PROGRESS) return outcomeOfFinished(record);
  return restorePreviousVersion(deps, target, cause, `rolled back after an unexpected failure: ${cause.message}`);
}

/**
 * The one way a rollout is undone: a single forced UpdateAlias back to the previous version (with the rollback's retry
 * budget), then the ledger. If the ledger shows the deployment already ended otherwise, that record is the answer.
 */
async function restorePreviousVersion(deps: ShiftTrafficDeps, target: RollbackTarget, cause: DeploymentError, reason: string): Promise<JobOutcome> {
  const { lambda, ledger, clock, logger } = deps;
  const { ref, deploymentId, fromVersion, toVersion } = target;
  logger.warn('rolling back', { code: cause.code, reason, toVersion: fromVersion });
  const finish = (result: Parameters<LedgerPort['finishDeployment']>[2]) =>
    withRetries(clock, () => ledger.finishDeployment(ref, deploymentId, result), { attempts: ROLLBACK_ATTEMPTS }).catch((error: unknown) => {
      logger.error('could not record the rollback in the ledger', { error: String(error) });
      return true;
    });
  try {
    await withRetries(clock, () => lambda.updateAlias(ref.functionName, ref.alias, { version: fromVersion, weights: {} }), { attempts: ROLLBACK_ATTEMPTS });
  } catch (error) {
    const failure = asDeploymentError(error);
    const message = `ROLLBACK FAILED after "${cause.message}": ${failure.message}. ${ref.functionName}:${ref.alias} may still route traffic to version ${toVersion}; run \`lrp rollback ${ref.functionName}\``;
    await finish({ status: DeploymentStatus.FAILED, reason: message, errorCode: ErrorCode.ROLLBACK_FAILED, endedAt: clock.now() });
    return { kind: 'failed', externalExecutionId: deploymentId, error: new DeploymentError(ErrorCode.ROLLBACK_FAILED, message, { cause: failure }) };
  }
  const finished = await finish({ status: DeploymentStatus.ROLLED_BACK, reason, errorCode: cause.code, endedAt: clock.now(), rolledBackBy: ROLLED_BACK_BY });
  if (!finished) {
    const record = await ledger.getDeployment(ref.functionName, ref.alias, deploymentId).catch(() => undefined);
    if (record) return outcomeOfFinished(record);
  }
  return {
    kind: 'failed',
    externalExecutionId: deploymentId,
    error: new DeploymentError(cause.code, `${ref.functionName}:${ref.alias} rolled back to version ${fromVersion}: ${reason}`, { cause }),
  };
}
