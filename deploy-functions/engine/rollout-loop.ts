import { encodeContinuation } from '../core/continuation';
import { DeploymentError, ErrorCode, asDeploymentError } from '../core/errors';
import { alarmsThatCount, assessHealth, type AlarmObservation, type HealthVerdict } from '../core/health';
import { DeploymentStatus, isFinal, type DeploymentRecord, type IgnoredAlarm } from '../core/ledger';
import type { AliasRef } from '../core/ports';
import { advanceCursor, decide, percentOnTarget, routingFor, type RolloutCursor, type RolloutDecision } from '../core/rollout';
import type { AliasRouting, RolloutSpec } from '../core/types';
import { moveAlias } from './alias-moves';
import { SHIFT_TRAFFIC, outcomeOfFinished } from './job-outcome';
import type { JobOutcome } from './pipeline-job';
import { ROLLBACK_ATTEMPTS, withRetries } from './retry';
import type { ShiftTrafficDeps } from './settings';
import { undoDeployment } from './undo';

/** A rollout this invocation holds the lock of, with the fence it holds it by. */
export interface HeldRollout {
  readonly spec: RolloutSpec;
  readonly ref: AliasRef;
  readonly deploymentId: string;
  readonly fence: number;
  readonly cursor: RolloutCursor;
  readonly ignoredAlarms: readonly IgnoredAlarm[];
  /** Alias revision after the last move this deployment made (or as found when it started). */
  readonly revisionId?: string;
  /** The routing that revision stands for, when known. */
  readonly routing?: AliasRouting;
  /** The invocation's deadline: it hands over before. */
  readonly deadline: number;
}

/** Renewing the lock: held (renewed now), lost (someone else holds it or the deployment ended), or unknown (ledger unreachable). */
type Renewal = 'HELD' | 'LOST' | 'UNKNOWN';

/** One running rollout inside one invocation: every alias write follows a renewal of the lock that proved it still holds it. */
export class Rollout {
  private cursor: RolloutCursor;
  private revisionId?: string;
  private routing?: AliasRouting;
  /** Until when the lock is certainly ours: the last successful renewal plus its TTL. */
  private heldUntil: number;

  constructor(
    private readonly deps: ShiftTrafficDeps,
    private readonly held: HeldRollout,
  ) {
    this.cursor = held.cursor;
    this.revisionId = held.revisionId;
    this.routing = held.routing;
    this.heldUntil = deps.clock.now() + deps.settings.lockTtlMs;
  }

  /** Carries out decisions and health checks until the rollout ends or the invocation must hand over. */
  async run(first?: RolloutDecision): Promise<JobOutcome> {
    const { clock, settings } = this.deps;
    if (first) {
      const ended = await this.apply(first);
      if (ended) return ended;
    }
    for (;;) {
      const record = await this.readRecord();
      if (record && record.status !== DeploymentStatus.IN_PROGRESS) return this.endedElsewhere(record);
      const verdict = await this.observe();
      const decided = decide(this.held.spec, this.cursor, verdict, clock.now(), { operatorRequest: record?.operatorRequest, inconclusiveLimitMs: settings.inconclusiveLimitMs });
      this.cursor = decided.cursor;
      // Without the record an operator's abort cannot be seen: never move forward blind, hold the step and look again.
      const blind = !record && (decided.decision.kind === 'SHIFT' || decided.decision.kind === 'COMPLETE');
      const decision: RolloutDecision = blind ? { kind: 'WAIT', until: clock.now(), reason: 'the ledger could not be read (an operator request may be pending): holding the step' } : decided.decision;
      const ended = await this.apply(decision);
      if (ended) return ended;
      const now = clock.now();
      const wake = decision.kind === 'WAIT' && decision.until > now ? Math.min(decision.until, now + settings.healthCheckIntervalMs) : now + settings.healthCheckIntervalMs;
      if (wake >= this.held.deadline) return this.handOver();
      await clock.sleep(wake - now);
    }
  }

  /**
   * Any unexpected failure once this invocation holds the lock: if it still holds it, the alias goes back and the job
   * fails, so the job's result and the alias agree; if another invocation of the deployment took over, it stays silent.
   */
  async failSafely(error: unknown): Promise<JobOutcome> {
    const failure = asDeploymentError(error);
    this.deps.logger.error('unexpected failure during the rollout', { code: failure.code, reason: failure.message });
    if ((await this.renew()) === 'LOST') return this.lostLock();
    return this.undo(failure.code, `rolled back after an unexpected failure: ${failure.message}`);
  }

  /** Runs `work` (the rollout, or anything after taking the lock) so that it always ends in an outcome. */
  async guard(work: () => Promise<JobOutcome>): Promise<JobOutcome> {
    try {
      return await work();
    } catch (error) {
      return this.failSafely(error);
    }
  }

  /** The alias is already fully on the target (a previous invocation moved it): record the success without moving. */
  async recordCompletion(reason: string): Promise<JobOutcome> {
    const renewal = await this.renew();
    if (renewal === 'LOST') return this.lostLock();
    return this.complete(reason);
  }

  private async apply(decision: RolloutDecision): Promise<JobOutcome | undefined> {
    const renewal = await this.renew();
    if (renewal === 'LOST') return this.lostLock();
    if (renewal === 'UNKNOWN' && this.deps.clock.now() >= this.heldUntil - this.deps.settings.lockTtlMs / 6) {
      // The lock could lapse before the ledger answers again: undo our own shift while it is still certainly ours.
      return this.undo(ErrorCode.LOCK_LOST, `could not renew the alias lock (the ledger is unreachable) before it would lapse at ${new Date(this.heldUntil).toISOString()}`);
    }
    switch (decision.kind) {
      case 'WAIT':
        return undefined;
      case 'ROLLBACK':
        return this.undo(decision.code, decision.reason, decision.code === ErrorCode.ALARM_BREACHED ? decision.source : undefined);
      case 'SHIFT':
      case 'COMPLETE': {
        // Never move forward on a lock we could not just renew: hold the step and look again.
        if (renewal !== 'HELD') return undefined;
        this.deps.logger.info(decision.kind === 'SHIFT' ? 'shifting traffic' : 'completing rollout', { reason: decision.reason, deploymentId: this.held.deploymentId });
        try {
          const moved = await moveAlias(this.deps, this.held.ref, routingFor(this.held.spec, decision), { expectedRevision: this.revisionId, description: `lrp ${this.held.deploymentId} ${decision.kind === 'SHIFT' ? `step ${decision.stepIndex + 1}` : 'complete'}` });
          this.revisionId = moved.revisionId;
          this.routing = moved;
        } catch (error) {
          // The move may have been applied with its answer lost: from here the routing is unknown until read again.
          this.routing = undefined;
          const failure = asDeploymentError(error);
          const record = await this.readRecord();
          if (record && record.status !== DeploymentStatus.IN_PROGRESS) return this.endedElsewhere(record);
          return this.undo(failure.code, `could not move ${this.held.ref.functionName}:${this.held.ref.alias}: ${failure.message}`);
        }
        if (decision.kind === 'COMPLETE') return this.complete(decision.reason);
        this.cursor = advanceCursor(this.cursor, decision, this.deps.clock.now());
        // Saved at once, so the ledger knows the new step and revision (a lost save is reconciled on resume).
        if ((await this.renew()) === 'LOST') return this.lostLock();
        return undefined;
      }
    }
  }

  /** Renews lock and lease, saving the cursor and the alias revision. */
  private async renew(leaseUntil?: number): Promise<Renewal> {
    const { ledger, clock, settings } = this.deps;
    const now = clock.now();
    try {
      const held = await withRetries(clock, () =>
        ledger.heartbeat(this.held.ref, this.held.deploymentId, this.held.fence, {
          now,
          leaseUntil: leaseUntil ?? now + settings.leaseTtlMs,
          lockUntil: now + settings.lockTtlMs,
          cursor: this.cursor,
          ...(this.revisionId ? { aliasRevision: this.revisionId } : {}),
        }),
        { attempts: 3 },
      );
      if (held) this.heldUntil = now + settings.lockTtlMs;
      return held ? 'HELD' : 'LOST';
    } catch (error) {
      this.deps.logger.warn('could not renew the alias lock', { error: asDeploymentError(error).message, heldUntil: new Date(this.heldUntil).toISOString() });
      return 'UNKNOWN';
    }
  }

  private async complete(reason: string): Promise<JobOutcome> {
    const { ledger, clock } = this.deps;
    const endedAt = clock.now();
    const bakeUntil = endedAt + this.held.spec.bakeMinutes * 60_000;
    const finished = await withRetries(
      clock,
      () => ledger.finishDeployment(this.held.ref, this.held.deploymentId, this.held.fence, { status: DeploymentStatus.SUCCEEDED, reason, endedAt, bakeUntil, ...(this.revisionId ? { aliasRevision: this.revisionId } : {}) }),
      { attempts: ROLLBACK_ATTEMPTS },
    ).catch((error: unknown) => {
      // The alias is fully on the target: a continuation or the sweep reconciles the record.
      this.deps.logger.error('could not record the success in the ledger', { error: asDeploymentError(error).message });
      return undefined;
    });
    const record = await this.readRecord();
    if (record && isFinal(record.status)) return outcomeOfFinished(record);
    if (finished === false && record && record.status !== DeploymentStatus.IN_PROGRESS) return this.endedElsewhere(record);
    // An operator's abort, recorded while the last move was under way, wins over the success when the ledger refused it.
    // So does one the ledger could not be asked about (it was unreachable for writes): a later copy of this job's event
    // would find the abort pending, be refused the success, and put the alias back after this job reported success.
    if (finished !== true && record?.operatorRequest === 'ABORT') return this.undo(ErrorCode.ABORTED, 'aborted by an operator');
    if (finished === false) return this.lostLock();
    if (finished === undefined && !record) {
      // Neither recorded nor readable: an abort may be pending that this invocation cannot see, and a success reported
      // now would be undone by the next hand that reads it, after the pipeline moved on. CodePipeline's answer for "not
      // yet known" is a continuation: the next invocation finds the alias whole on the target and records the success,
      // or applies the abort, once the ledger answers.
      this.deps.logger.warn('could neither record nor read the outcome: continuing, so the next invocation confirms it', { deploymentId: this.held.deploymentId });
      const { spec, ref } = this.held;
      return this.handOver({ percent: 100, summary: `${ref.functionName}:${ref.alias}: 100 % on version ${spec.toVersion}; could not confirm the outcome in the ledger (an operator's abort may be pending): the next invocation does` });
    }
    // The ledger could not record it, and no abort was pending: the alias is fully on the target, which is what the job
    // reports; the sweep finds the deployment still in progress, sees the alias whole on its target and records it.
    const { spec, ref, deploymentId } = this.held;
    return {
      kind: 'succeeded',
      externalExecutionId: deploymentId,
      summary: `${ref.functionName}:${ref.alias} now on version ${spec.toVersion} (from ${spec.fromVersion}); ${reason} (not yet recorded in the ledger)`,
      outputVariables: { fromVersion: spec.fromVersion, toVersion: spec.toVersion, deploymentId, bakeUntil: new Date(bakeUntil).toISOString() },
    };
  }

  /** Puts the alias back through the one undo path and fails the job with the reason. */
  private async undo(code: ErrorCode, reason: string, alarmName?: string): Promise<JobOutcome> {
    const { spec, deploymentId, ref } = this.held;
    const outcome = await undoDeployment(this.deps, ref, { deploymentId, kind: 'ROLLOUT', status: DeploymentStatus.IN_PROGRESS, fromVersion: spec.fromVersion, toVersion: spec.toVersion, startedAt: 0, watchedAlarms: [] }, { by: SHIFT_TRAFFIC, code, reason, recordBestEffort: true, ...(alarmName ? { alarmName } : {}), ...(this.routing ? { observed: this.routing } : {}), ...(this.revisionId ? { knownRevision: this.revisionId } : {}) });
    if (outcome.kind === 'ALREADY_ENDED' && outcome.record) return this.endedElsewhere(outcome.record);
    if (outcome.kind === 'NOT_MOVED') return { kind: 'failed', externalExecutionId: deploymentId, error: new DeploymentError(ErrorCode.ALIAS_CHANGED_EXTERNALLY, `${ref.functionName}:${ref.alias}: ${outcome.reason}`) };
    return { kind: 'failed', externalExecutionId: deploymentId, error: new DeploymentError(code, `${ref.functionName}:${ref.alias} rolled back to version ${spec.fromVersion}: ${reason}`) };
  }

  /** The deployment ended by another hand (an operator, the rollback function, the sweep): report how, never move. */
  private endedElsewhere(record: DeploymentRecord): JobOutcome {
    return outcomeOfFinished(record);
  }

  /** The renewal was refused: another invocation of this deployment took over (stay silent), or the lock is gone (fail). */
  private async lostLock(): Promise<JobOutcome> {
    const { ledger, clock } = this.deps;
    const { ref, deploymentId } = this.held;
    const [record, state] = await Promise.all([withRetries(clock, () => ledger.getDeployment(ref, deploymentId)), withRetries(clock, () => ledger.getState(ref))]);
    if (record && record.status !== DeploymentStatus.IN_PROGRESS) return this.endedElsewhere(record);
    if (state?.lock?.deploymentId === deploymentId) return { kind: 'ignored', reason: `another invocation took deployment ${deploymentId} over` };
    return { kind: 'failed', externalExecutionId: deploymentId, error: new DeploymentError(ErrorCode.LOCK_LOST, `${ref.functionName}:${ref.alias}: deployment ${deploymentId} lost the alias lock (now ${state?.lock ? `held by ${state.lock.deploymentId}` : 'free'}); it moves nothing more`) };
  }

  /** Hands the job to its next invocation through a continuation token (`progress` when the cursor does not say it). */
  private async handOver(progress?: { readonly percent: number; readonly summary: string }): Promise<JobOutcome> {
    const { spec, ref, deploymentId } = this.held;
    // Give the lease up so the continuation takes over at once; the lock stays for the gap.
    const renewal = await this.renew(0);
    if (renewal === 'LOST') return this.lostLock();
    const percent = progress?.percent ?? percentOnTarget(spec, this.cursor);
    return {
      kind: 'continue',
      externalExecutionId: deploymentId,
      percentComplete: percent,
      summary: progress?.summary ?? `${ref.functionName}:${ref.alias}: ${percent} % on version ${spec.toVersion}, step ${this.cursor.stepIndex + 1}/${spec.steps.length}`,
      continuationToken: encodeContinuation({ deploymentId, fromVersion: spec.fromVersion, toVersion: spec.toVersion, cursor: this.cursor }),
    };
  }

  private async readRecord(): Promise<DeploymentRecord | undefined> {
    return withRetries(this.deps.clock, () => this.deps.ledger.getDeployment(this.held.ref, this.held.deploymentId), { attempts: 3 }).catch((error: unknown) => {
      this.deps.logger.warn('could not read the ledger; carrying on', { error: asDeploymentError(error).message });
      return undefined;
    });
  }

  private async observe(): Promise<HealthVerdict> {
    const { cloudwatch, clock } = this.deps;
    const { spec, ref } = this.held;
    const readErrors: string[] = [];
    const failed = (what: string) => (error: unknown) => {
      readErrors.push(`${what}: ${asDeploymentError(error).message}`);
      return undefined;
    };
    const [alarms, stats] = await Promise.all([
      spec.alarms.length === 0 ? Promise.resolve<AlarmObservation[]>([]) : cloudwatch.describeAlarms(spec.alarms).catch(failed('alarms')),
      cloudwatch.versionStats(ref.functionName, ref.alias, [spec.fromVersion, spec.toVersion], this.cursor.startedAt, clock.now()).catch(failed('metrics')),
    ]);
    if (alarms) {
      const missing = spec.alarms.filter((name) => !alarms.some((alarm) => alarm.name === name));
      if (missing.length > 0) readErrors.push(`alarm(s) ${missing.join(', ')} no longer exist`);
    }
    const counting = alarms ? alarmsThatCount(alarms, this.held.ignoredAlarms) : undefined;
    return assessHealth({ alarms: counting, target: stats?.[spec.toVersion], baseline: stats?.[spec.fromVersion], readErrors }, spec.analysis);
  }
}
