import { InvalidParametersError } from '../core/errors';
import { DEFAULT_INTEGRATION_TEST_SETTINGS, type IntegrationTestSettings } from './integration-test';
import type { Clock, CloudWatchPort, LambdaPort, LedgerPort, LogPort } from '../core/ports';
import type { Notices } from './notices';

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
  /** A job claimed but not started stays its first invocation's this long: longer than a late duplicate can arrive. @default 960_000 */
  readonly jobClaimMs: number;
}

/** Defaults of `ShiftTrafficSettings`. */
export const DEFAULT_SHIFT_TRAFFIC_SETTINGS: ShiftTrafficSettings = {
  healthCheckIntervalMs: 10_000,
  safetyMarginMs: 20_000,
  maxInvocationMs: 540_000,
  inconclusiveLimitMs: 300_000,
  lockTtlMs: 1_800_000,
  leaseTtlMs: 60_000,
  jobClaimMs: 960_000,
};

/** What the engine needs from the world. */
export interface ShiftTrafficDeps {
  readonly lambda: LambdaPort;
  readonly cloudwatch: CloudWatchPort;
  readonly ledger: LedgerPort;
  readonly clock: Clock;
  readonly logger: LogPort;
  readonly settings: ShiftTrafficSettings;
  /** Where its rollbacks are announced. @default - not announced */
  readonly notices?: Notices;
  /** The installation whose generated alarms it watches (`<installation>/<function>/<alias>/…`; LRP_INSTALLATION). @default 'lrp' */
  readonly installation?: string;
}

/** A number of seconds from an environment variable, in milliseconds; fails naming the variable and its range. */
export function seconds(env: NodeJS.ProcessEnv, key: string, fallbackMs: number, min: number, max: number): number {
  const raw = env[key];
  if (raw === undefined || raw === '') return fallbackMs;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min || value > max) throw new InvalidParametersError(`${key}: must be a number of seconds from ${min} to ${max}, got "${raw}"`);
  return value * 1000;
}

/**
 * Engine timing from environment variables (seconds), each optional:
 * HEALTH_CHECK_INTERVAL_SECONDS (≤ 10), MAX_INVOCATION_SECONDS, SAFETY_MARGIN_SECONDS, INCONCLUSIVE_LIMIT_SECONDS, LOCK_TTL_SECONDS.
 */
export function shiftTrafficSettingsFromEnv(env: NodeJS.ProcessEnv): ShiftTrafficSettings {
  const d = DEFAULT_SHIFT_TRAFFIC_SETTINGS;
  return {
    healthCheckIntervalMs: seconds(env, 'HEALTH_CHECK_INTERVAL_SECONDS', d.healthCheckIntervalMs, 0.05, 10),
    maxInvocationMs: seconds(env, 'MAX_INVOCATION_SECONDS', d.maxInvocationMs, 1, 840),
    safetyMarginMs: seconds(env, 'SAFETY_MARGIN_SECONDS', d.safetyMarginMs, 0, 120),
    inconclusiveLimitMs: seconds(env, 'INCONCLUSIVE_LIMIT_SECONDS', d.inconclusiveLimitMs, 1, 3600),
    lockTtlMs: seconds(env, 'LOCK_TTL_SECONDS', d.lockTtlMs, 60, 86_400),
    leaseTtlMs: d.leaseTtlMs,
    jobClaimMs: d.jobClaimMs,
  };
}

/** Integration-test timing from INVOKE_TIMEOUT_SECONDS (1 to 900) and SAFETY_MARGIN_SECONDS (0 to 120), each optional. */
export function integrationTestSettingsFromEnv(env: NodeJS.ProcessEnv): IntegrationTestSettings {
  const d = DEFAULT_INTEGRATION_TEST_SETTINGS;
  return { invokeTimeoutMs: seconds(env, 'INVOKE_TIMEOUT_SECONDS', d.invokeTimeoutMs, 1, 900), safetyMarginMs: seconds(env, 'SAFETY_MARGIN_SECONDS', d.safetyMarginMs, 0, 120) };
}
