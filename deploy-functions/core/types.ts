import type { TrafficStep } from './strategies';

/** Options of the new-vs-old error-rate analysis (see the shift-traffic UserParameters). */
export interface AnalysisOptions {
  readonly maxErrorRateRatio: number;
  readonly minInvocations: number;
  readonly errorRateFloor: number;
}

/** A rollout as data: what to move, where from, where to, in which steps, watched by what. */
export interface RolloutSpec {
  readonly functionName: string;
  readonly alias: string;
  readonly fromVersion: string;
  readonly toVersion: string;
  readonly steps: readonly TrafficStep[];
  readonly bakeMinutes: number;
  readonly alarms: readonly string[];
  readonly analysis: AnalysisOptions;
}

/** Where an alias routes traffic: its primary version and, during a shift, a weight on one other version. */
export interface AliasRouting {
  readonly version: string;
  /** Version → fraction (0..1) of traffic it receives on top of the primary. */
  readonly weights: Readonly<Record<string, number>>;
  readonly revisionId?: string;
}
