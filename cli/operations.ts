import { DeploymentError, ErrorCode, InvalidParametersError } from '../deploy-functions/core/errors';
import type { AlarmObservation } from '../deploy-functions/core/health';
import { DeploymentKind, DeploymentStatus, activeDeployment, knownGoodVersion, type AliasLedgerState, type DeploymentRecord } from '../deploy-functions/core/ledger';
import type { AliasRef, Clock, CloudWatchPort, LambdaPort, LedgerPort, LogPort } from '../deploy-functions/core/ports';
import { withRetries } from '../deploy-functions/engine/retry';
import { finishManualRollback, rollBackTo } from '../deploy-functions/engine/manual-rollback';
import { undoDeployment } from '../deploy-functions/engine/undo';
import type { AliasRouting } from '../deploy-functions/core/types';
import { DEFAULT_INSTALLATION, aliasLabel, generatedAlarmPrefix } from '../deploy-functions/core/names';

/** What the operator commands need: the same ports the deployment functions use. */
export interface OperatorDeps {
  readonly lambda: LambdaPort;
  readonly cloudwatch: CloudWatchPort;
  readonly ledger: LedgerPort;
  readonly clock: Clock;
  /** Who runs the command, for the ledger (`$USER` by default). */
  readonly operator: string;
  /** Where the undo path logs. @default - nowhere */
  readonly logger?: LogPort;
  /** Every alias the ledger knows, for `lrp status` outside a checkout. @default - none known */
  readonly knownAliases?: () => Promise<AliasRef[]>;
  /**
   * How the ledger knows a function the operator named by ARN: its plain name in the tooling account and region, its
   * ARN elsewhere. @default - as named
   */
  readonly refOf?: (functionName: string) => Promise<string>;
  /** The operator's own account and region, for stages configured in another one. @default - unknown */
  readonly homeEnv?: () => Promise<{ readonly account?: string; readonly region?: string }>;
  /** The installation whose generated alarms `status` shows (`<installation>/<function>/<alias>/…`). @default 'lrp' */
  readonly installation?: string;
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
  const state = await deps.ledger.getState(ref);
  const active = activeDeployment(state, now);
  const record = active ? await deps.ledger.getDeployment(ref, active.deploymentId) : undefined;
  const names = new Set(state?.latest?.watchedAlarms ?? []);
  const generated = await deps.cloudwatch.describeAlarmsByPrefix(generatedAlarmPrefix(deps.installation ?? DEFAULT_INSTALLATION, ref.functionName, ref.alias));
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
  /** The deployment in flight or baking that was undone, if any. */
  readonly stoppedDeployment?: string;
  /** The manual rollback recorded when nothing was in flight or baking. */
  readonly deploymentId?: string;
}

/** The deployment an operator's rollback undoes: one being undone, in flight, or baking. */
function deploymentToUndo(state: AliasLedgerState | undefined, now: number): string | undefined {
  if (state?.undoPending) return state.undoPending;
  const latest = state?.latest;
  if (latest && (latest.status === DeploymentStatus.IN_PROGRESS || latest.status === DeploymentStatus.ROLLING_BACK)) return latest.deploymentId;
  return activeDeployment(state, now)?.phase === 'BAKING' ? state!.bakingDeploymentId : undefined;
}

/**
 * Puts the alias fully back now, through the one undo path: a deployment in flight or baking is fenced first (its
 * shift-traffic function stops), then the alias moves to the version before it, with retries, then it is recorded.
 * With nothing in flight, the alias goes to `to` (default: the last known-good version) as a recorded manual rollback.
 */
export async function rollback(deps: OperatorDeps, ref: AliasRef, to?: string): Promise<RollbackResult> {
  const { lambda, ledger, clock, operator } = deps;
  const undo = { lambda, ledger, clock, logger: deps.logger ?? SILENT };
  const now = clock.now();
  const live = await withRetries(clock, () => lambda.getAlias(ref.functionName, ref.alias));
  const state = await withRetries(clock, () => ledger.getState(ref));
  const by = `operator:${operator}`;
  if (to !== undefined) await withRetries(clock, () => lambda.getVersion(ref.functionName, to));
  const undoing = deploymentToUndo(state, now);
  if (undoing) {
    const record = await withRetries(clock, () => ledger.getDeployment(ref, undoing));
    if (!record) throw new DeploymentError(ErrorCode.INTERNAL, `deployment ${undoing} is missing from the ledger`);
    if (record.kind === DeploymentKind.MANUAL_ROLLBACK && record.status === DeploymentStatus.IN_PROGRESS) {
      // A manual rollback left unfinished (an answer lost, a process stopped, another operator): finish it, never undo it.
      if (to !== undefined && to !== record.toVersion) {
        throw new InvalidParametersError(`manual rollback ${record.deploymentId} to version ${record.toVersion} is in progress (${record.reason ?? 'by another operator'}); run \`lrp rollback\` to finish it, then \`lrp rollback --to ${to}\``);
      }
      const finished = await finishManualRollback(undo, ref, record, by);
      if (finished.kind === 'BUSY') throw new DeploymentError(ErrorCode.DEPLOYMENT_LOCKED, `${finished.reason}; try again in a few minutes`);
      return { ...ref, fromVersion: live.version, toVersion: record.toVersion, deploymentId: record.deploymentId };
    }
    if (to !== undefined && to !== record.fromVersion) {
      throw new InvalidParametersError(`deployment ${undoing} (${record.fromVersion} → ${record.toVersion}) is ${record.status === DeploymentStatus.SUCCEEDED ? 'baking' : 'in flight'}: \`lrp rollback\` puts the alias back on ${record.fromVersion}; run it without --to, then \`lrp rollback --to ${to}\``);
    }
    const outcome = await undoDeployment(undo, ref, record, { by, code: ErrorCode.ROLLED_BACK_EXTERNALLY, reason: `rolled back by ${operator} to version ${record.fromVersion}`, fenceFirst: true });
    if (outcome.kind === 'BUSY') throw new DeploymentError(ErrorCode.DEPLOYMENT_LOCKED, `${outcome.reason}; try again in a few minutes`);
    if (outcome.kind === 'NOT_MOVED') throw new DeploymentError(ErrorCode.ALIAS_CHANGED_EXTERNALLY, outcome.reason);
    if (outcome.kind === 'NOTHING_TO_UNDO') throw new InvalidParametersError(`${outcome.reason}; release a fix, or once its bake window ended, \`lrp rollback --to <version>\``);
    return { ...ref, fromVersion: live.version, toVersion: record.fromVersion, stoppedDeployment: undoing };
  }
  const target = to ?? knownGoodVersion(state, now);
  if (!target) throw new InvalidParametersError(`no known-good version of ${aliasLabel(ref)} is recorded; name one with --to <version>`);
  if (state?.replacedVersions?.includes(target)) {
    throw new InvalidParametersError(`--to: version ${target} was replaced by a rollback; only a new deployment of it (through the pipeline) puts it live again`);
  }
  if (to === undefined) await withRetries(clock, () => lambda.getVersion(ref.functionName, target));
  const moved = await rollBackTo(undo, ref, target, by);
  return { ...ref, fromVersion: live.version, toVersion: target, ...(moved.kind === 'MOVED' ? { deploymentId: moved.deploymentId } : {}) };
}

/** Leaves a promote or abort request for the deployment in flight; its shift-traffic function acts on it at its next check. */
export async function requestAction(deps: OperatorDeps, ref: AliasRef, request: 'PROMOTE' | 'ABORT'): Promise<{ deploymentId: string; request: string }> {
  const state = await deps.ledger.getState(ref);
  const latest = state?.latest;
  if (!latest || latest.status !== DeploymentStatus.IN_PROGRESS) {
    throw new InvalidParametersError(`no deployment of ${aliasLabel(ref)} is in flight: nothing to ${request.toLowerCase()}`);
  }
  if (latest.kind === DeploymentKind.MANUAL_ROLLBACK) {
    throw new InvalidParametersError(`${latest.deploymentId} is a manual rollback, not a rollout: nothing to ${request.toLowerCase()} (run \`lrp rollback\` to finish it)`);
  }
  const outcome = await deps.ledger.requestOperatorAction(ref, latest.deploymentId, request);
  if (outcome === 'ABORT_PENDING') throw new InvalidParametersError(`an abort is pending for deployment ${latest.deploymentId}: promote refused (an abort always wins)`);
  if (outcome === 'NOT_RUNNING') throw new InvalidParametersError(`deployment ${latest.deploymentId} ended before the request could be recorded`);
  return { deploymentId: latest.deploymentId, request };
}

const SILENT: LogPort = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined, appendKeys: () => undefined };
