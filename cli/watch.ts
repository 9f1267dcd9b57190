// `lrp status --watch`: follows one deployment of one alias until it ends. What is observed (frames), how a change is
// described (events) and how a frame is drawn are pure functions; `watchDeployment` is the loop that reads AWS.
import { InvalidParametersError } from '../deploy-functions/core/errors';
import { DeploymentStatus, type DeploymentRecord } from '../deploy-functions/core/ledger';
import type { AliasRef } from '../deploy-functions/core/ports';
import type { AliasRouting } from '../deploy-functions/core/types';
import { aliasLabel } from '../deploy-functions/core/names';
import { describeRouting } from './format';
import { aliasStatus, type AliasStatus, type OperatorDeps } from './operations';

/** Where the followed deployment is. */
export const WatchPhase = {
  /** No deployment started since the watch began: waiting for the next one. */
  WAITING: 'WAITING',
  SHIFTING: 'SHIFTING',
  ROLLING_BACK: 'ROLLING_BACK',
  SUCCEEDED: 'SUCCEEDED',
  ROLLED_BACK: 'ROLLED_BACK',
  FAILED: 'FAILED',
} as const;
export type WatchPhase = (typeof WatchPhase)[keyof typeof WatchPhase];

/** One observation of the watched alias and its deployment. */
export interface WatchFrame {
  /** When it was observed (ISO 8601). */
  readonly at: string;
  readonly functionName: string;
  readonly alias: string;
  readonly phase: WatchPhase;
  readonly deploymentId?: string;
  readonly fromVersion?: string;
  readonly toVersion?: string;
  readonly strategy?: string;
  readonly commit?: string;
  /** Share of the alias's traffic on the new version, read from the alias itself (not the plan), 0–100. */
  readonly percentOnTarget: number;
  readonly live: AliasRouting;
  /** The step in progress (1-based) and the number of steps; 0 before the first shift. */
  readonly step?: number;
  readonly steps?: number;
  /** Seconds until the next step is due. */
  readonly secondsToNextStep?: number;
  readonly alarms: { readonly total: number; readonly inAlarm: readonly string[] };
  readonly operatorRequest?: string;
  /** Why the deployment ended as it did, or is rolling back. */
  readonly reason?: string;
  /** What changed since the previous frame, in words. */
  readonly event: string;
}

/** The phase a deployment record stands for. */
function phaseOf(record: DeploymentRecord | undefined): WatchPhase {
  if (!record) return WatchPhase.WAITING;
  switch (record.status) {
    case DeploymentStatus.IN_PROGRESS:
      return WatchPhase.SHIFTING;
    case DeploymentStatus.ROLLING_BACK:
      return WatchPhase.ROLLING_BACK;
    case DeploymentStatus.SUCCEEDED:
      return WatchPhase.SUCCEEDED;
    case DeploymentStatus.ROLLED_BACK:
      return WatchPhase.ROLLED_BACK;
    default:
      return WatchPhase.FAILED;
  }
}

/** Whether the watch is over, and how it exits: 0 when the deployment succeeded, 1 when it was rolled back or failed. */
export function exitCodeOf(phase: WatchPhase): number | undefined {
  if (phase === WatchPhase.SUCCEEDED) return 0;
  if (phase === WatchPhase.ROLLED_BACK || phase === WatchPhase.FAILED) return 1;
  return undefined;
}

/** The share (0–100) of an alias's traffic a version gets. */
export function percentOn(routing: AliasRouting, version: string | undefined): number {
  if (version === undefined) return 0;
  const extra = Object.values(routing.weights).reduce((sum, weight) => sum + weight, 0);
  const share = version === routing.version ? 1 - extra : (routing.weights[version] ?? 0);
  return Math.round(share * 1000) / 10;
}

/** A frame from what was read; `event` is filled by `describeChange`. */
export function frameOf(status: AliasStatus, record: DeploymentRecord | undefined, now: number): Omit<WatchFrame, 'event'> {
  const index = record?.cursor?.stepIndex;
  const current = index !== undefined ? record?.steps?.[index] : undefined;
  const shifting = record?.status === DeploymentStatus.IN_PROGRESS;
  return {
    at: new Date(now).toISOString(),
    functionName: status.functionName,
    alias: status.alias,
    phase: phaseOf(record),
    ...(record
      ? { deploymentId: record.deploymentId, fromVersion: record.fromVersion, toVersion: record.toVersion, strategy: record.strategy, ...(record.commit ? { commit: record.commit } : {}) }
      : {}),
    percentOnTarget: percentOn(status.live, record?.toVersion),
    live: status.live,
    ...(shifting && record?.steps ? { step: (index ?? -1) + 1, steps: record.steps.length } : {}),
    ...(shifting && current && record?.cursor ? { secondsToNextStep: Math.max(0, Math.round((record.cursor.stepStartedAt + current.minutes * 60_000 - now) / 1000)) } : {}),
    alarms: { total: status.alarms.length, inAlarm: status.alarms.filter((a) => a.state === 'ALARM').map((a) => a.name) },
    ...(record?.operatorRequest ? { operatorRequest: record.operatorRequest } : {}),
    ...(record?.reason && !shifting ? { reason: record.reason } : {}),
  };
}

/** What changed between two frames, in words; the most telling change first. */
export function describeChange(previous: WatchFrame | undefined, next: Omit<WatchFrame, 'event'>): string {
  const target = `version ${next.toVersion}`;
  if (next.phase !== previous?.phase) {
    switch (next.phase) {
      case WatchPhase.WAITING:
        return `waiting for a deployment of ${aliasLabel(next)} (live on ${describeRouting(next.live)})`;
      case WatchPhase.SHIFTING:
        return `deployment ${next.deploymentId} started: ${next.fromVersion} → ${next.toVersion} (${next.strategy})${next.percentOnTarget > 0 ? `; ${next.percentOnTarget} % of traffic on ${target}` : ''}`;
      case WatchPhase.ROLLING_BACK:
        return `rolling back to version ${next.fromVersion}${next.reason ? `: ${next.reason}` : ''}`;
      case WatchPhase.SUCCEEDED:
        return `succeeded: live on ${target}`;
      case WatchPhase.ROLLED_BACK:
        return `rolled back to version ${next.fromVersion}${next.reason ? `: ${next.reason}` : ''}`;
      case WatchPhase.FAILED:
        return `failed${next.reason ? `: ${next.reason}` : ''}`;
    }
  }
  const newAlarms = next.alarms.inAlarm.filter((name) => !previous.alarms.inAlarm.includes(name));
  if (newAlarms.length) return `in ALARM: ${newAlarms.join(', ')}`;
  if (next.operatorRequest && next.operatorRequest !== previous.operatorRequest) return `${next.operatorRequest.toLowerCase()} requested by an operator`;
  if (next.percentOnTarget !== previous.percentOnTarget) return `${next.percentOnTarget} % of traffic on ${target}`;
  if (next.alarms.inAlarm.length < previous.alarms.inAlarm.length) return `alarms back to OK: ${previous.alarms.inAlarm.filter((n) => !next.alarms.inAlarm.includes(n)).join(', ')}`;
  return previous.event;
}

/** What makes two frames different enough to report (not the time, the countdown, or the words for it). */
export const changeKey = (frame: Omit<WatchFrame, 'event'> & { event?: string }) => JSON.stringify({ ...frame, at: undefined, secondsToNextStep: undefined, event: undefined });

const BAR_WIDTH = 30;
/** `[█████░░░░░…]`: the share of traffic on the new version. */
export function trafficBar(percent: number, width = BAR_WIDTH): string {
  const filled = Math.round((Math.min(100, Math.max(0, percent)) / 100) * width);
  return `[${'█'.repeat(filled)}${'░'.repeat(width - filled)}]`;
}

const clock = (iso: string) => iso.slice(11, 19);
const countdown = (seconds: number) => (seconds >= 60 ? `${Math.floor(seconds / 60)}m${String(seconds % 60).padStart(2, '0')}s` : `${seconds}s`);
const alarmSummary = (frame: WatchFrame) =>
  frame.alarms.total === 0 ? 'no alarms' : frame.alarms.inAlarm.length ? `ALARM: ${frame.alarms.inAlarm.join(', ')}` : `${frame.alarms.total} alarm(s) OK`;

/** The block a terminal redraws in place. */
export function drawFrame(frame: WatchFrame): string[] {
  const head = frame.deploymentId
    ? `${aliasLabel(frame)}  ${frame.fromVersion} → ${frame.toVersion}  ${frame.strategy}${frame.commit ? `  commit ${frame.commit.slice(0, 7)}` : ''}  (${frame.phase.toLowerCase().replace('_', ' ')})`
    : `${aliasLabel(frame)}  live on ${describeRouting(frame.live)}  (waiting for a deployment)`;
  const step = frame.step !== undefined && frame.steps !== undefined ? `  step ${frame.step}/${frame.steps}` : '';
  const next = frame.secondsToNextStep !== undefined ? `, next in ${countdown(frame.secondsToNextStep)}` : '';
  return [
    head,
    `${trafficBar(frame.percentOnTarget)} ${String(frame.percentOnTarget).padStart(5)} % on ${frame.toVersion ?? '-'}${step}${next}`,
    alarmSummary(frame),
    `${clock(frame.at)} ${frame.event}`,
  ];
}

/** One line per change, for logs and pipes. */
export function frameLine(frame: WatchFrame): string {
  const step = frame.step !== undefined && frame.steps !== undefined ? ` step ${frame.step}/${frame.steps}` : '';
  return `${clock(frame.at)} ${aliasLabel(frame)} ${frame.phase.toLowerCase().replace("_", " ")} ${frame.percentOnTarget} % on ${frame.toVersion ?? '-'}${step} | ${alarmSummary(frame)} | ${frame.event}`;
}

/** How frames are written: redrawn in place on a terminal, one line per change, or one JSON object per change. */
export const WatchOutput = { TERMINAL: 'terminal', LINES: 'lines', JSON: 'json' } as const;
export type WatchOutput = (typeof WatchOutput)[keyof typeof WatchOutput];

export interface WatchOptions {
  readonly output: WatchOutput;
  /** Writes one block of text and ends the line. */
  readonly write: (text: string) => void;
  /** Between reads. @default 2000 */
  readonly intervalMs?: number;
  /** @default setTimeout */
  readonly sleep?: (ms: number) => Promise<void>;
}

/** The deployment the watch follows: the one in flight now, else the next that starts. */
async function deploymentToFollow(deps: OperatorDeps, ref: AliasRef, skip: string | undefined): Promise<DeploymentRecord | undefined> {
  const latest = (await deps.ledger.getState(ref))?.latest;
  if (!latest || latest.deploymentId === skip) return undefined;
  return deps.ledger.getDeployment(ref, latest.deploymentId);
}

/**
 * Follows one deployment of `ref` until it ends: the one in flight, else the next one to start. Answers the exit code:
 * 0 when it succeeded, 1 when it was rolled back or failed.
 */
export async function watchDeployment(deps: OperatorDeps, ref: AliasRef, options: WatchOptions): Promise<number> {
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const intervalMs = options.intervalMs ?? 2_000;
  // A deployment that already ended is not the one to watch: wait for the next.
  const initial = (await deps.ledger.getState(ref))?.latest;
  const skip = initial && exitCodeOf(phaseOf(initial as DeploymentRecord)) !== undefined ? initial.deploymentId : undefined;
  let followed: string | undefined;
  let previous: WatchFrame | undefined;
  let drawnLines = 0;
  for (;;) {
    const record = followed ? await deps.ledger.getDeployment(ref, followed) : await deploymentToFollow(deps, ref, skip);
    followed = record?.deploymentId;
    const status = await aliasStatus(deps, ref);
    const observed = frameOf(status, record, deps.clock.now());
    const changed = !previous || changeKey(observed) !== changeKey(previous);
    const frame: WatchFrame = { ...observed, event: describeChange(previous, observed) };
    if (options.output === WatchOutput.TERMINAL) {
      // Redrawn every time (the countdown moves): back to the block's first line, clear to the end, draw.
      const lines = drawFrame(frame);
      options.write(`${drawnLines ? `\x1b[${drawnLines}F\x1b[J` : ''}${lines.join('\n')}`);
      drawnLines = lines.length;
    } else if (changed) {
      options.write(options.output === WatchOutput.JSON ? JSON.stringify(frame) : frameLine(frame));
    }
    previous = frame;
    const exit = exitCodeOf(frame.phase);
    if (exit !== undefined) return exit;
    await sleep(intervalMs);
  }
}

/** The alias to watch when no function is named: the only deployment in flight of that alias. */
export async function onlyInFlight(deps: OperatorDeps, alias: string): Promise<AliasRef> {
  const inFlight = (await deps.ledger.listInFlight()).filter((entry) => entry.alias === alias);
  if (inFlight.length === 1) return { functionName: inFlight[0]!.functionName, alias };
  throw new InvalidParametersError(
    inFlight.length === 0
      ? `no deployment of a ${alias} alias is in flight: name the function to wait for its next deployment (lrp status --watch <function>)`
      : `${inFlight.length} deployments are in flight (${inFlight.map((e) => e.functionName).join(', ')}): name the function to watch`,
  );
}
