import type { IgnoredAlarm } from './ledger';
import type { AnalysisOptions } from './types';

/** The closed set of analysis outcomes. `Inconclusive` means look again; only `Failed` rolls back. */
export const HealthPhase = {
  SUCCESSFUL: 'Successful',
  FAILED: 'Failed',
  INCONCLUSIVE: 'Inconclusive',
} as const;
export type HealthPhase = (typeof HealthPhase)[keyof typeof HealthPhase];

/** A verdict and the sentence that explains it. */
export interface HealthVerdict {
  readonly phase: HealthPhase;
  readonly reason: string;
  /** The alarm or metric that decided a failure. */
  readonly source?: string;
}

/** An alarm as read from CloudWatch. */
export interface AlarmObservation {
  readonly name: string;
  readonly state: 'OK' | 'ALARM' | 'INSUFFICIENT_DATA';
  readonly reason?: string;
  /** When it last changed state (ms since epoch). */
  readonly changedAt?: number;
}

/** Invocations and errors of one version over the observation window. */
export interface VersionStats {
  readonly invocations: number;
  readonly errors: number;
}

/** Everything one health check saw; a read that failed is `undefined` with the failure in `readErrors`. */
export interface HealthObservation {
  readonly alarms?: readonly AlarmObservation[];
  readonly target?: VersionStats;
  readonly baseline?: VersionStats;
  readonly readErrors: readonly string[];
}

const rate = (stats: VersionStats) => (stats.invocations === 0 ? 0 : stats.errors / stats.invocations);
const pct = (value: number) => `${(value * 100).toFixed(2)} %`;

/**
 * Judges one observation. Any watched alarm in ALARM fails. The new version's error rate fails when it is above
 * both the floor and `maxErrorRateRatio` times the old version's (the floor alone when the old one served fewer than
 * `minInvocations`); it is judged only once the new version served `minInvocations`. A failed read is inconclusive.
 */
export function assessHealth(observation: HealthObservation, analysis: AnalysisOptions): HealthVerdict {
  const breached = observation.alarms?.filter((alarm) => alarm.state === 'ALARM') ?? [];
  if (breached.length > 0) {
    const first = breached[0]!;
    const names = breached.map((alarm) => alarm.name).join(', ');
    return { phase: HealthPhase.FAILED, source: first.name, reason: `alarm ${names} in ALARM${first.reason ? `: ${first.reason}` : ''}` };
  }
  const { target, baseline } = observation;
  if (target && target.invocations >= analysis.minInvocations) {
    const targetRate = rate(target);
    const baselineJudged = baseline !== undefined && baseline.invocations >= analysis.minInvocations;
    const limit = baselineJudged ? Math.max(analysis.errorRateFloor, rate(baseline) * analysis.maxErrorRateRatio) : analysis.errorRateFloor;
    if (targetRate > limit) {
      const comparison = baselineJudged
        ? `${analysis.maxErrorRateRatio}x the previous version's ${pct(rate(baseline))}`
        : `the ${pct(analysis.errorRateFloor)} floor (previous version had too few invocations to compare)`;
      return {
        phase: HealthPhase.FAILED,
        source: 'Errors/Invocations by ExecutedVersion',
        reason: `new version error rate ${pct(targetRate)} (${target.errors}/${target.invocations}) exceeds ${comparison}`,
      };
    }
  }
  if (observation.readErrors.length > 0) {
    return { phase: HealthPhase.INCONCLUSIVE, reason: `could not read health: ${observation.readErrors.join('; ')}` };
  }
  if (!target || target.invocations < analysis.minInvocations) {
    return {
      phase: HealthPhase.SUCCESSFUL,
      reason: `no alarm in ALARM; error rate not judged yet (${target?.invocations ?? 0} of ${analysis.minInvocations} invocations)`,
    };
  }
  return { phase: HealthPhase.SUCCESSFUL, reason: `no alarm in ALARM; new version error rate ${pct(rate(target))} within limits` };
}

/**
 * The alarms a hotfix still answers to: an alarm already in ALARM when it started counts only once it changed state
 * again after that.
 */
export function alarmsThatCount(alarms: readonly AlarmObservation[], ignored: readonly IgnoredAlarm[] = []): AlarmObservation[] {
  return alarms.filter((alarm) => {
    const exempt = ignored.find((i) => i.name === alarm.name);
    return !exempt || (alarm.changedAt !== undefined && alarm.changedAt > exempt.since);
  });
}
