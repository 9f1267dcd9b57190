import { InvalidParametersError } from '../core/errors';
import { DEFAULT_INTEGRATION_TEST_SETTINGS, type IntegrationTestSettings } from './integration-test';
import { DEFAULT_SHIFT_TRAFFIC_SETTINGS, type ShiftTrafficSettings } from './rollout-loop';

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
