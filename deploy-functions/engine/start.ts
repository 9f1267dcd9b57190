import { DeploymentError, DeploymentLockedError, ErrorCode, InvalidParametersError, ResourceNotFoundError } from '../core/errors';
import { alarmsThatCount, type AlarmObservation } from '../core/health';
import { DeploymentKind, DeploymentStatus, newDeploymentId, type DeploymentRecord } from '../core/ledger';
import { DEFAULT_INSTALLATION, generatedAlarmPrefix } from '../core/names';
import type { AliasRef } from '../core/ports';
import { hotfixReasonOf, preflight } from '../core/preflight';
import { firstDecision, initialCursor } from '../core/rollout';
import { resolveSteps, strategyLabel, type StrategySpec } from '../core/strategies';
import type { AliasRouting, RolloutSpec } from '../core/types';
import type { ShiftTrafficParameters } from '../core/user-parameters';
import { describeRouting, moveAlias } from './alias-moves';
import type { JobOutcome, PipelineJob } from './pipeline-job';
import { ROLLBACK_ATTEMPTS, withRetries } from './retry';
import { Rollout, type HeldRollout } from './rollout-loop';
import type { ShiftTrafficDeps } from './settings';

const LABELS: Record<DeploymentKind, (strategy: string) => string> = {
  ROLLOUT: (s) => s,
  FIRST_RELEASE: () => 'AllAtOnce (first release)',
  REVERT: () => 'AllAtOnce (revert)',
  HOTFIX: (s) => `${s} (hotfix)`,
  MANUAL_ROLLBACK: () => 'ManualRollback',
};

function commitFromDescription(description: string): string | undefined {
  return /commit\s+([0-9a-f]{7,40})/i.exec(description)?.[1];
}

/**
 * A new deployment for a job this invocation claimed: resolve and check everything, apply the preflight rules, take
 * the lock (closing the previous release's bake window) and run the rollout. Nothing moves before the lock is ours.
 */
export async function startRelease(job: PipelineJob, params: ShiftTrafficParameters, invocationId: string, deadline: number, deps: ShiftTrafficDeps): Promise<JobOutcome> {
  const { lambda, cloudwatch, ledger, clock, logger, settings } = deps;
  const ref: AliasRef = { functionName: params.functionName, alias: params.alias };
  let toVersion = params.targetVersion;
  if (params.targetAlias !== undefined) {
    const target = await withRetries(clock, () => lambda.getAlias(ref.functionName, params.targetAlias!));
    if (target.version === '$LATEST') throw new InvalidParametersError(`targetAlias: ${params.targetAlias} points to $LATEST; it must point to a published version`);
    toVersion = target.version;
  }
  const version = await withRetries(clock, () => lambda.getVersion(ref.functionName, toVersion!));
  const [routing, state] = await Promise.all([withRetries(clock, () => lambda.getAlias(ref.functionName, ref.alias)), withRetries(clock, () => ledger.getState(ref))]);
  const now = clock.now();
  if ((state?.lock && state.lock.expiresAt > now) || state?.undoPending) {
    // Another deployment owns the alias: even "already on the target" would be a claim about traffic it is moving.
    throw DeploymentLockedError.heldBy(ref.functionName, ref.alias, state.lock?.deploymentId ?? state.undoPending, state.lock?.expiresAt);
  }
  const [generated, declared] = await Promise.all([
    withRetries(clock, () => cloudwatch.describeAlarmsByPrefix(generatedAlarmPrefix(deps.installation ?? DEFAULT_INSTALLATION, ref.functionName, ref.alias))),
    params.alarms.length ? withRetries(clock, () => cloudwatch.describeAlarms(params.alarms)) : Promise.resolve<AlarmObservation[]>([]),
  ]);
  const missing = params.alarms.filter((name) => !declared.some((alarm) => alarm.name === name));
  if (missing.length > 0) throw new ResourceNotFoundError(ErrorCode.ALARM_NOT_FOUND, `alarms: ${missing.join(', ')} do not exist in CloudWatch`);
  const alarms = [...generated, ...declared.filter((d) => !generated.some((g) => g.name === d.name))];
  const strategySteps = resolveSteps(params.strategy as StrategySpec);
  const verdict = preflight({ routing, toVersion: toVersion!, state, now, alarms, steps: strategySteps, hotfixReason: params.hotfixReason });
  logger.info('preflight', { verdict: verdict.kind, reason: verdict.reason });
  if (verdict.kind === 'NO_OP') {
    // Not a deployment: recording one would cut short the bake window of the release that put this version live.
    return { kind: 'succeeded', summary: `${ref.functionName}:${ref.alias} ${verdict.reason}`, outputVariables: { fromVersion: routing.version, toVersion: toVersion!, deploymentId: 'none' } };
  }
  if (verdict.kind === 'REFUSE') throw new DeploymentError(verdict.code, `${ref.functionName}:${ref.alias}: ${verdict.reason}`, { context: { toVersion } });

  // The rollback function finds the aliases a declared alarm guards through this index: it is written before anything
  // moves. Alarms this release no longer declares are removed only once it holds the alias (see runStarted).
  await withRetries(clock, () => ledger.indexAlarms(ref, params.alarms));
  const deploymentId = newDeploymentId(now, job.id);
  logger.appendKeys({ deploymentId });
  const commit = params.commit ?? commitFromDescription(version.description);
  const spec: RolloutSpec = { ...ref, fromVersion: routing.version, toVersion: toVersion!, steps: verdict.steps, bakeMinutes: verdict.deploymentKind === DeploymentKind.REVERT ? 0 : params.bakeMinutes, alarms: verdict.watchedAlarms, analysis: params.analysis };
  let record: DeploymentRecord | undefined;
  let fence: number;
  try {
    ({ fence } = await withRetries(clock, () => {
      // Stamped when the lock is actually taken: a retried start must not claim an earlier start time.
      const startedAt = clock.now();
      record = {
        ...ref,
        deploymentId,
        kind: verdict.deploymentKind,
        jobId: job.id,
        ...(params.pipelineExecutionId ? { pipelineExecutionId: params.pipelineExecutionId } : {}),
        ...(job.pipelineName ? { pipelineName: job.pipelineName } : {}),
        ...(job.stage ? { stage: job.stage } : {}),
        ...(commit ? { commit } : {}),
        fromVersion: spec.fromVersion,
        toVersion: spec.toVersion,
        strategy: LABELS[verdict.deploymentKind](strategyLabel(params.strategy as StrategySpec)),
        steps: spec.steps,
        status: DeploymentStatus.IN_PROGRESS,
        reason: verdict.reason,
        startedAt,
        bakeMinutes: spec.bakeMinutes,
        watchedAlarms: spec.alarms,
        ...(verdict.ignoredAlarms.length ? { ignoredAlarms: verdict.ignoredAlarms } : {}),
        ...(verdict.deploymentKind === DeploymentKind.HOTFIX ? { hotfixReason: hotfixReasonOf(params.hotfixReason)! } : {}),
        cursor: initialCursor(startedAt),
        ...(routing.revisionId ? { aliasRevision: routing.revisionId } : {}),
      };
      return ledger.startDeployment(record, { owner: invocationId, now: startedAt, leaseUntil: startedAt + settings.leaseTtlMs, lockUntil: startedAt + settings.lockTtlMs });
    }));
  } catch (error) {
    // A duplicate delivery of this very job won the race to start it: that invocation reports, this one stays silent.
    if (error instanceof DeploymentError && error.code === ErrorCode.DEPLOYMENT_LOCKED && error.context.sameJob) return { kind: 'ignored', reason: `job ${job.id} was started by another invocation` };
    throw error;
  }
  const started = record!;
  logger.info('deployment started', { kind: started.kind, fromVersion: spec.fromVersion, toVersion: spec.toVersion, strategy: started.strategy, steps: spec.steps, alarms: spec.alarms, commit });

  // The previous release's bake window is closed now: the alarms this release no longer declares guard nothing.
  await withRetries(clock, () => ledger.indexAlarms(ref, params.alarms, { prune: true })).catch((error: unknown) =>
    logger.warn('could not remove alarms this release no longer declares from the index; they stay harmless (no deployment watches them)', { error: String(error) }),
  );
  const held = { spec, ref, deploymentId, fence, cursor: started.cursor!, ignoredAlarms: verdict.ignoredAlarms, deadline };
  // From here the lock is ours: whatever fails, the alias goes back before the job fails.
  return new Rollout(deps, held).guard(() => runStarted(deps, held, routing, state?.lock?.deploymentId));
}

/** The first moves of a deployment whose lock this invocation just took. */
async function runStarted(deps: ShiftTrafficDeps, held: HeldRollout, routing: AliasRouting, previousLock: string | undefined): Promise<JobOutcome> {
  const { lambda, ledger, clock, logger } = deps;
  const { ref, deploymentId, fence, spec } = held;
  // A deployment whose lock lapsed without a final status, and whose traffic this one now owns, ends here.
  const stale = previousLock !== undefined && previousLock !== deploymentId ? previousLock : undefined;
  if (stale) {
    await ledger
      .recordUndo(ref, stale, { moved: false, reason: `its alias lock lapsed; deployment ${deploymentId} took the alias over`, errorCode: ErrorCode.LOCK_LOST, at: clock.now(), by: 'shift-traffic' })
      .catch((error: unknown) => logger.warn('could not close the lapsed deployment', { stale, error: String(error) }));
  }

  // The alias was read before the lock was ours: if anyone moved it meanwhile, `fromVersion` is stale. The check is a
  // write of the same routing, conditional on the revision read: it also gives the alias a new revision, so an undo of
  // the previous release that was judged before this start (and is unfenced, for speed) can no longer land.
  const unchanged = { version: routing.version, weights: routing.weights };
  const current = await moveAlias(deps, ref, unchanged, { expectedRevision: routing.revisionId, description: `lrp ${deploymentId} start` }).catch(async () => withRetries(clock, () => lambda.getAlias(ref.functionName, ref.alias)).then((now) => ({ ...now, changed: true }), () => undefined));
  if (!current || 'changed' in current) {
    const reason = `${ref.functionName}:${ref.alias} changed while this deployment was starting (now ${current ? describeRouting(current) : 'unreadable'}); nothing was shifted — run the action again`;
    await withRetries(clock, () => ledger.finishDeployment(ref, deploymentId, fence, { status: DeploymentStatus.FAILED, reason, errorCode: ErrorCode.ALIAS_CHANGED_EXTERNALLY, endedAt: clock.now() }), { attempts: ROLLBACK_ATTEMPTS });
    return { kind: 'failed', externalExecutionId: deploymentId, error: new DeploymentError(ErrorCode.ALIAS_CHANGED_EXTERNALLY, reason) };
  }
  // An alarm that changed to ALARM after preflight read it, but before the start, would never be judged against this
  // deployment (its event predates it): look once more before anything moves.
  const observed = spec.alarms.length ? await deps.cloudwatch.describeAlarms(spec.alarms).catch(() => undefined) : [];
  const firing = alarmsThatCount(observed ?? [], held.ignoredAlarms).filter((alarm) => alarm.state === 'ALARM');
  if (firing.length > 0) {
    const reason = `alarm ${firing.map((alarm) => alarm.name).join(', ')} changed to ALARM while this deployment was starting; nothing was shifted`;
    await withRetries(clock, () => ledger.finishDeployment(ref, deploymentId, fence, { status: DeploymentStatus.FAILED, reason, errorCode: ErrorCode.ALARM_BREACHED, endedAt: clock.now() }), { attempts: ROLLBACK_ATTEMPTS });
    return { kind: 'failed', externalExecutionId: deploymentId, error: new DeploymentError(ErrorCode.ALARM_BREACHED, `${ref.functionName}:${ref.alias}: ${reason}`) };
  }
  return new Rollout(deps, { ...held, routing: current, ...(current.revisionId ? { revisionId: current.revisionId } : {}) }).run(firstDecision(spec));
}
