/** Runtime configuration of the catalog API, read once from environment variables. */
export interface CatalogConfig {
  /** ISO 4217 currency the catalog's prices are quoted in. @default 'EUR' */
  readonly currency: string;
  /** Products per page when a request names no `limit`. @default 20 */
  readonly defaultPageSize: number;
  /** Largest `limit` a request may ask for. @default 100 */
  readonly maxPageSize: number;
}

/** Thrown when an environment variable holds a value the function cannot run with. */
export class ConfigurationError extends Error {
  override readonly name = 'ConfigurationError';
}

function readPageSize(env: NodeJS.ProcessEnv, key: string, fallback: number): number {
  const raw = env[key];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1 || value > 1000) throw new ConfigurationError(`${key} must be an integer from 1 to 1000, got "${raw}"`);
  return value;
}

/** Reads and validates the configuration; fails at cold start rather than on the first request. */
export function loadCatalogConfig(env: NodeJS.ProcessEnv = process.env): CatalogConfig {
  const currency = env.CURRENCY ?? 'EUR';
  if (!/^[A-Z]{3}$/.test(currency)) throw new ConfigurationError(`CURRENCY must be a three-letter ISO 4217 code, got "${currency}"`);
  const defaultPageSize = readPageSize(env, 'DEFAULT_PAGE_SIZE', 20);
  const maxPageSize = readPageSize(env, 'MAX_PAGE_SIZE', 100);
  if (defaultPageSize > maxPageSize) throw new ConfigurationError(`DEFAULT_PAGE_SIZE (${defaultPageSize}) must not exceed MAX_PAGE_SIZE (${maxPageSize})`);
  return { currency, defaultPageSize, maxPageSize };
}
