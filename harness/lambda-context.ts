// The Lambda context a handler receives, for invoking handlers locally (tests, pipeline:local) as the runtime does.
import { randomBytes, randomUUID } from 'node:crypto';
import type { Context } from 'aws-lambda';

/** What the context of a local invocation says about the function; each default is what Lambda would report. */
export interface LambdaContextOptions {
  /** The deployed function name. @default 'local-function' */
  readonly functionName?: string;
  /** The version that runs. @default '$LATEST' */
  readonly functionVersion?: string;
  /** The alias or version the caller invoked, appended to `invokedFunctionArn`. @default - none (unqualified ARN) */
  readonly qualifier?: string;
  /** @default 128 */
  readonly memoryLimitInMB?: number;
  /** The function's timeout: `getRemainingTimeInMillis` counts down from it. @default 3 (SAM's default) */
  readonly timeoutSeconds?: number;
  /** @default 'us-east-1' */
  readonly region?: string;
  /** @default '123456789012' */
  readonly accountId?: string;
  /** @default - a random UUID, as Lambda gives each invocation */
  readonly awsRequestId?: string;
  /** Milliseconds since the epoch; the invocation starts at the first reading. @default Date.now */
  readonly now?: () => number;
}

/**
 * A realistic `Context` for one invocation: ids, ARN, log group and stream named as Lambda names them, and a
 * remaining time that counts down from the timeout. `done`, `fail` and `succeed` (the pre-async callbacks) do nothing.
 *
 * @example
 * const response = await handler(event, lambdaContext({ functionName: 'orders-api-staging', timeoutSeconds: 5 }));
 */
export function lambdaContext(options: LambdaContextOptions = {}): Context {
  const functionName = options.functionName ?? 'local-function';
  const functionVersion = options.functionVersion ?? '$LATEST';
  const region = options.region ?? 'us-east-1';
  const now = options.now ?? Date.now;
  const started = now();
  const deadline = started + (options.timeoutSeconds ?? 3) * 1000;
  const day = new Date(started).toISOString().slice(0, 10).replaceAll('-', '/');
  const arn = `arn:aws:lambda:${region}:${options.accountId ?? '123456789012'}:function:${functionName}`;
  return {
    awsRequestId: options.awsRequestId ?? randomUUID(),
    functionName,
    functionVersion,
    invokedFunctionArn: options.qualifier === undefined ? arn : `${arn}:${options.qualifier}`,
    memoryLimitInMB: String(options.memoryLimitInMB ?? 128),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: `${day}/[${functionVersion}]${randomBytes(16).toString('hex')}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - now()),
    callbackWaitsForEmptyEventLoop: true,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/**
 * Calls a handler as the Lambda runtime does, with the event and a context, whatever parameters it declares.
 *
 * @example
 * const response = await invokeHandler(handler, event, lambdaContext({ functionName: 'orders-api-staging' }));
 */
export function invokeHandler<E, R>(handler: (event: E, context: Context) => R, event: E, context: Context = lambdaContext()): R {
  return handler(event, context);
}
