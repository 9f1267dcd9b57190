/** Runtime configuration of the orders API, read once from environment variables. */
export interface OrdersConfig {
  /** ISO 4217 currency every price is quoted in. @default 'EUR' */
  readonly currency: string;
  /** Largest number of line items one order may hold. @default 50 */
  readonly maxItems: number;
  /** Tax added to the subtotal, in percent. @default 0 */
  readonly taxRatePercent: number;
}

/** Thrown when an environment variable holds a value the function cannot run with. */
export class ConfigurationError extends Error {
  override readonly name = 'ConfigurationError';
}

function readNumber(env: NodeJS.ProcessEnv, key: string, fallback: number, min: number, max: number): number {
  const raw = env[key];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min || value > max) {
    throw new ConfigurationError(`${key} must be a number between ${min} and ${max}, got "${raw}"`);
  }
  return value;
}

/** Reads and validates the configuration; fails at cold start rather than on the first request. */
export function loadOrdersConfig(env: NodeJS.ProcessEnv = process.env): OrdersConfig {
  const currency = env.CURRENCY ?? 'EUR';
  if (!/^[A-Z]{3}$/.test(currency)) {
    throw new ConfigurationError(`CURRENCY must be a three-letter ISO 4217 code, got "${currency}"`);
  }
  return {
    currency,
    maxItems: readNumber(env, 'MAX_ITEMS', 50, 1, 1000),
    taxRatePercent: readNumber(env, 'TAX_RATE_PERCENT', 0, 0, 100),
  };
}
