/** Runtime configuration of the invoice worker, read once from environment variables. */
export interface InvoiceConfig {
  /** Largest invoice amount accepted without manual review, in cents. @default 1_000_000 */
  readonly maxAmountCents: number;
}

/** Thrown when an environment variable holds a value the function cannot run with. */
export class ConfigurationError extends Error {
  override readonly name = 'ConfigurationError';
}

/** Reads and validates the configuration; fails at cold start rather than on the first message. */
export function loadInvoiceConfig(env: NodeJS.ProcessEnv = process.env): InvoiceConfig {
  const raw = env.MAX_AMOUNT_CENTS;
  const maxAmountCents = raw === undefined || raw === '' ? 1_000_000 : Number(raw);
  if (!Number.isInteger(maxAmountCents) || maxAmountCents <= 0) {
    throw new ConfigurationError(`MAX_AMOUNT_CENTS must be a positive integer, got "${raw}"`);
  }
  return { maxAmountCents };
}
