import { NodeHttpHandler } from '@smithy/node-http-handler';

/** Fail-fast settings shared by every SDK client: short connect and request timeouts, bounded retries. */
export interface ClientTimeouts {
  /** @default 1000 */
  readonly connectionTimeoutMs?: number;
  /** @default 5000 */
  readonly requestTimeoutMs?: number;
  /** SDK attempts per call, the first included. @default 3 */
  readonly maxAttempts?: number;
}

/**
 * Client configuration for the deployment functions. Region, credentials and endpoints come from the SDK's standard
 * chain (`AWS_REGION`, the execution role, `AWS_ENDPOINT_URL` / `AWS_ENDPOINT_URL_<SERVICE>`): nothing is hard-coded.
 */
export function clientConfig(options: ClientTimeouts = {}) {
  return {
    maxAttempts: options.maxAttempts ?? 3,
    requestHandler: new NodeHttpHandler({
      connectionTimeout: options.connectionTimeoutMs ?? 1_000,
      requestTimeout: options.requestTimeoutMs ?? 5_000,
    }),
  };
}
