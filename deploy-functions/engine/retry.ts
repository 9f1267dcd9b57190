import { asDeploymentError, type ErrorCode } from '../core/errors';
import type { Clock } from '../core/ports';

/** Options of `withRetries`. */
export interface RetryOptions {
  /** Attempts in all, the first included. @default 5 */
  readonly attempts?: number;
  /** Delay before the second attempt; doubles each time, capped at 5 s. @default 200 */
  readonly baseDelayMs?: number;
  /**
   * The failure codes worth another attempt. Narrow it to `[ErrorCode.AWS_THROTTLED]` for a call that must not run twice:
   * a throttled request was refused before it ran, whereas a timeout or a 5xx may come from a request that did run.
   * @default - every retryable code (`DeploymentError.retryable`: AWS_THROTTLED, AWS_UNAVAILABLE)
   */
  readonly retryOn?: readonly ErrorCode[];
  /**
   * Keep trying, whatever `attempts` says, until this instant (ms since epoch): for calls without which the invocation
   * cannot act at all, retried for as long as it has time. @default - `attempts` alone decides
   */
  readonly until?: number;
}

/**
 * Runs `call` again after retryable failures (throttling, 5xx, timeouts, or only `retryOn`) with exponential back-off on the given clock.
 * The SDK already retries each call a few times; this outer loop protects the writes the engine cannot lose.
 */
export async function withRetries<T>(clock: Clock, call: () => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const attempts = options.attempts ?? 5;
  let delay = options.baseDelayMs ?? 200;
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await call();
    } catch (error) {
      const failure = asDeploymentError(error);
      const retryable = options.retryOn ? options.retryOn.includes(failure.code) : failure.retryable;
      const timeLeft = options.until !== undefined && clock.now() + delay < options.until;
      if (!retryable || (attempt >= attempts && !timeLeft)) throw failure;
      await clock.sleep(delay);
      delay = Math.min(delay * 2, 5_000);
    }
  }
}

/** Attempts for the one write that must not fail: putting an alias back (about 30 s of back-off in all). */
export const ROLLBACK_ATTEMPTS = 10;
