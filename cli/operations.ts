import { DeploymentError, ErrorCode, InvalidParametersError } from '../deploy-functions/core/errors';
import type { AlarmObservation } from '../deploy-functions/core/health';
import { DeploymentStatus, activeDeployment, knownGoodVersion, newDeploymentId, type DeploymentRecord } from '../deploy-functions/core/ledger';
import type { AliasRef, Clock, CloudWatchPort, LambdaPort, LedgerPort } from '../deploy-functions/core/ports';
import type { AliasRouting } from '../deploy-functions/core/types';
import { generatedAlarmPrefix } from '../deploy-functions/core/names';

/** What the operator commands need: the same ports the deployment functions use. */
export interface OperatorDeps {
  readonly lambda: LambdaPort;
  readonly cloudwatch: CloudWatchPort;
  readonly ledger: LedgerPort;
  readonly clock: Clock;
  /** Who runs the command, for the ledger (`$USER` by default). */
  readonly operator: string;
}

/** A deployment that is moving traffic, with its progress. */
export interface InFlight {
  readonly deploymentId: string;
  readonly fromVersion: string;
  readonly toVersion: string;
  readonly strategy: string;
  /** 1-based step in progress and the number of steps; 0 before the first shift. */
  readonly step: number;
  readonly steps: number;
  readonly percentOnTarget: number;
  /** Until the last step is due, if the steps are known. */
  readonly secondsLeft?: number;
  readonly operatorRequest?: string;
}

/** One alias as `lrp status` shows it. */
export interface AliasStatus {
  readonly functionName: string;
  readonly alias: string;
  readonly live: AliasRouting;
  readonly candidate?: string;
  readonly inFlight?: InFlight;
  readonly baking?: { readonly deploymentId: string; readonly until: string };
  readonly knownGood?: string;
  readonly alarms: readonly AlarmObservation[];
}

function progress(record: DeploymentRecord, now: number): InFlight {
  const steps = record.steps ?? [];
  const cursor = record.cursor;
  const index = cursor?.stepIndex ?? -1;
  const current = steps[index];
  let secondsLeft: number | undefined;
  if (cursor && record.steps) {
    const dueCurrent = current ? Math.max(0, cursor.stepStartedAt + current.minutes * 60_000 - now) : 0;
    secondsLeft = Math.round((dueCurrent + steps.slice(index + 1).reduce((sum, step) => sum + step.minutes * 60_000, 0)) / 1000);
  }
  return {
    deploymentId: record.deploymentId,
    fromVersion: record.fromVersion,
    toVersion: record.toVersion,
    strategy: record.strategy,
    step: index + 1,
    steps: steps.length,
    percentOnTarget: current?.percent ?? (index >= steps.length ? 100 : 0),
    ...(secondsLeft !== undefined ? { secondsLeft } : {}),
    ...(record.operatorRequest ? { operatorRequest: record.operatorRequest } : {}),
  };
}

/** The live alias, candidate, in-flight deployment with its progress, bake window and alarm states of one function. */
export async function aliasStatus(deps: OperatorDeps, ref: AliasRef): Promise<AliasStatus> {
  const now = deps.clock.now();
  const live = await deps.lambda.getAlias(ref.functionName, ref.alias);
  const candidate = await deps.lambda.getAlias(ref.functionName, 'candidate').then(
    (routing) => routing.version,
    () => undefined,
  );
  const state = await deps.ledger.getState(ref.functionName, ref.alias);
  const active = activeDeployment(state, now);
  const record = active ? await deps.ledger.getDeployment(ref.functionName, ref.alias, active.deploymentId) : undefined;
  const latest = state?.lastDeploymentId ? await deps.ledger.getDeployment(ref.functionName, ref.alias, state.lastDeploymentId) : undefined;
  const names = new Set(latest?.watchedAlarms ?? []);
  const generated = await deps.cloudwatch.describeAlarmsByPrefix(generatedAlarmPrefix(ref.functionName, ref.alias));
  const declared = names.size ? await deps.cloudwatch.describeAlarms([...names].filter((n) => !generated.some((g) => g.name === n))) : [];
  const good = knownGoodVersion(state, now);
  return {
    functionName: ref.functionName,
    alias: ref.alias,
    live,
    ...(candidate ? { candidate } : {}),
    ...(active?.phase === 'IN_FLIGHT' && record?.status === DeploymentStatus.IN_PROGRESS ? { inFlight: progress(record, now) } : {}),
    ...(active?.phase === 'BAKING' && state?.bakeUntil ? { baking: { deploymentId: active.deploymentId, until: new Date(state.bakeUntil).toISOString() } } : {}),
    ...(good ? { knownGood: good } : {}),
    alarms: [...generated, ...declared],
  };
}

/** The ledger's deployments of one alias, newest first. */
export function history(deps: OperatorDeps, ref: AliasRef, limit = 20): Promise<DeploymentRecord[]> {
  return deps.ledger.listDeployments(ref, limit);
}

/** What `lrp rollback` did. */
export interface RollbackResult {
  readonly functionName: string;
  readonly alias: string;
  readonly fromVersion: string;
  readonly toVersion: string;
  /** The in-flight deployment that was stopped, if any. */
  readonly stoppedDeployment?: string;
  readonly deploymentId: string;
}

/**
 * Puts the alias fully on a version at once (default: the last known-good one) and records it. A deployment in flight
 * is marked rolled back first, so its shift-traffic function stops at its next check instead of moving traffic again.
 */
export async function rollback(deps: OperatorDeps, ref: AliasRef, to?: string): Promise<RollbackResult> {
  const { lambda, ledger, clock, operator } = deps;
  const now = clock.now();
  const live = await lambda.getAlias(ref.functionName, ref.alias);
  const state = await ledger.getState(ref.functionName, ref.alias);
  const active = activeDeployment(state, now);
  const candidate = active?.phase === 'IN_FLIGHT' ? await ledger.getDeployment(ref.functionName, ref.alias, active.deploymentId) : undefined;
  const inFlight = candidate?.status === DeploymentStatus.IN_PROGRESS ? candidate : undefined;
  const target = to ?? inFlight?.fromVersion ?? knownGoodVersion(state, now);
  if (!target) throw new InvalidParametersError(`no known-good version of ${ref.functionName}:${ref.alias} is recorded; name one with --to <version>`);
  if (target === '$LATEST') throw new InvalidParametersError('--to: $LATEST cannot be rolled back to; name a published version');
  await lambda.getVersion(ref.functionName, target);
  const reason = `rolled back by ${operator} to version ${target}`;
  if (inFlight) {
    // Ended by the operator: its shift-traffic function sees this at its next check and stops; the lock goes now.
    await ledger.markRolledBack(ref, inFlight.deploymentId, { reason, errorCode: ErrorCode.ROLLED_BACK_EXTERNALLY, endedAt: now, rolledBackBy: `operator:${operator}` });
    await ledger.releaseLock(ref, inFlight.deploymentId);
  }
  await lambda.updateAlias(ref.functionName, ref.alias, { version: target, weights: {} });
  const deploymentId = newDeploymentId(now, `manual:${operator}:${now}`);
  if (!inFlight) {
    await ledger.startDeployment(
      {
        functionName: ref.functionName,
        alias: ref.alias,
        deploymentId,
        fromVersion: live.version,
        toVersion: target,
        strategy: 'ManualRollback',
        status: DeploymentStatus.IN_PROGRESS,
        startedAt: now,
        bakeMinutes: 0,
        watchedAlarms: [],
      },
      { lockUntil: now + 60_000, leaseOwner: operator, leaseUntil: now + 60_000, knownGoodVersion: target },
    );
    await ledger.finishDeployment(ref, deploymentId, { status: DeploymentStatus.SUCCEEDED, reason, endedAt: now, bakeUntil: now });
  }
  return { ...ref, fromVersion: live.version, toVersion: target, deploymentId: inFlight?.deploymentId ?? deploymentId, ...(inFlight ? { stoppedDeployment: inFlight.deploymentId } : {}) };
}

/** Leaves a promote or abort request for the deployment in flight; its shift-traffic function acts on it at its next check. */
export async function requestAction(deps: OperatorDeps, ref: AliasRef, request: 'PROMOTE' | 'ABORT'): Promise<{ deploymentId: string; request: string }> {
  const state = await deps.ledger.getState(ref.functionName, ref.alias);
  const active = activeDeployment(state, deps.clock.now());
  const record = active?.phase === 'IN_FLIGHT' ? await deps.ledger.getDeployment(ref.functionName, ref.alias, active.deploymentId) : undefined;
  if (!active || record?.status !== DeploymentStatus.IN_PROGRESS) {
    throw new DeploymentError(ErrorCode.INVALID_PARAMETERS, `no deployment of ${ref.functionName}:${ref.alias} is in flight: nothing to ${request.toLowerCase()}`);
  }
  if (!(await deps.ledger.requestOperatorAction(ref, active.deploymentId, request))) {
    throw new DeploymentError(ErrorCode.INVALID_PARAMETERS, `deployment ${active.deploymentId} ended before the request could be recorded`);
  }
  return { deploymentId: active.deploymentId, request };
}
