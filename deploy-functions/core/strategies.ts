import { InvalidParametersError } from './errors';

/** One traffic step: route `percent` of the alias's traffic to the new version, then watch for `minutes`. */
export interface TrafficStep {
  readonly percent: number;
  readonly minutes: number;
}

/** CodeDeploy's predefined Lambda deployment configurations, by name. */
export const PredefinedStrategy = {
  AllAtOnce: 'AllAtOnce',
  Canary10Percent5Minutes: 'Canary10Percent5Minutes',
  Canary10Percent10Minutes: 'Canary10Percent10Minutes',
  Canary10Percent15Minutes: 'Canary10Percent15Minutes',
  Canary10Percent30Minutes: 'Canary10Percent30Minutes',
  Linear10PercentEvery1Minute: 'Linear10PercentEvery1Minute',
  Linear10PercentEvery2Minutes: 'Linear10PercentEvery2Minutes',
  Linear10PercentEvery3Minutes: 'Linear10PercentEvery3Minutes',
  Linear10PercentEvery10Minutes: 'Linear10PercentEvery10Minutes',
} as const;
export type PredefinedStrategy = (typeof PredefinedStrategy)[keyof typeof PredefinedStrategy];

const linear = (every: number): TrafficStep[] => Array.from({ length: 9 }, (_, i) => ({ percent: (i + 1) * 10, minutes: every }));

const PREDEFINED_STEPS: Record<PredefinedStrategy, readonly TrafficStep[]> = {
  AllAtOnce: [],
  Canary10Percent5Minutes: [{ percent: 10, minutes: 5 }],
  Canary10Percent10Minutes: [{ percent: 10, minutes: 10 }],
  Canary10Percent15Minutes: [{ percent: 10, minutes: 15 }],
  Canary10Percent30Minutes: [{ percent: 10, minutes: 30 }],
  Linear10PercentEvery1Minute: linear(1),
  Linear10PercentEvery2Minutes: linear(2),
  Linear10PercentEvery3Minutes: linear(3),
  Linear10PercentEvery10Minutes: linear(10),
};

/** A strategy as users write it: a predefined name or an explicit list of steps. */
export type StrategySpec = PredefinedStrategy | { readonly steps: readonly TrafficStep[] };

/** Longest total of step minutes: CodePipeline ends an action after 24 hours, and the bake and margins need room. */
export const MAX_TOTAL_STEP_MINUTES = 20 * 60;

/**
 * The intermediate steps of a strategy, before the final move to 100 %.
 * Percentages must rise strictly within (0, 100); minutes are non-negative (fractions allowed, for time-compressed runs).
 */
export function resolveSteps(strategy: StrategySpec): readonly TrafficStep[] {
  if (typeof strategy === 'string') {
    const steps = PREDEFINED_STEPS[strategy];
    if (!steps) throw new InvalidParametersError(`strategy: unknown name "${strategy}"; use one of ${Object.keys(PREDEFINED_STEPS).join(', ')} or {"steps":[...]}`);
    return steps;
  }
  let previous = 0;
  let total = 0;
  strategy.steps.forEach((step, index) => {
    if (!(step.percent > previous && step.percent < 100)) {
      throw new InvalidParametersError(`strategy.steps[${index}].percent: must be above ${previous} and below 100 (the final move to 100 % is implied), got ${step.percent}`);
    }
    if (!(step.minutes >= 0)) throw new InvalidParametersError(`strategy.steps[${index}].minutes: must be zero or more, got ${step.minutes}`);
    previous = step.percent;
    total += step.minutes;
  });
  if (total > MAX_TOTAL_STEP_MINUTES) {
    throw new InvalidParametersError(`strategy.steps: ${total} minutes in all exceeds the ${MAX_TOTAL_STEP_MINUTES}-minute limit of a CodePipeline action`);
  }
  return strategy.steps;
}

/** A short label for logs and the ledger. */
export function strategyLabel(strategy: StrategySpec): string {
  return typeof strategy === 'string' ? strategy : `Custom(${strategy.steps.map((s) => `${s.percent}%/${s.minutes}m`).join(',')})`;
}
