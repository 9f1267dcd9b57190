import type { Context } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { invokeHandler, lambdaContext } from '../../harness/lambda-context';

describe('lambdaContext', () => {
  it('names the function, its ARN, log group and stream as Lambda does', () => {
    // Arrange
    const at = Date.parse('2026-03-04T05:06:07Z');

    // Act
    const context = lambdaContext({ functionName: 'orders-api-staging', qualifier: 'live', memoryLimitInMB: 256, region: 'eu-central-1', now: () => at });

    // Assert
    expect(context).toMatchObject({
      functionName: 'orders-api-staging',
      functionVersion: '$LATEST',
      invokedFunctionArn: 'arn:aws:lambda:eu-central-1:123456789012:function:orders-api-staging:live',
      memoryLimitInMB: '256',
      logGroupName: '/aws/lambda/orders-api-staging',
      callbackWaitsForEmptyEventLoop: true,
    });
    expect(context.logStreamName).toMatch(/^2026\/03\/04\/\[\$LATEST\][0-9a-f]{32}$/);
    expect(context.awsRequestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(lambdaContext().awsRequestId).not.toBe(lambdaContext().awsRequestId);
  });

  it('counts the remaining time down from the timeout, never below zero', () => {
    let now = 1_000;
    const context = lambdaContext({ timeoutSeconds: 5, now: () => now });
    expect(context.getRemainingTimeInMillis()).toBe(5_000);
    now += 1_200;
    expect(context.getRemainingTimeInMillis()).toBe(3_800);
    now += 10_000;
    expect(context.getRemainingTimeInMillis()).toBe(0);
  });

  it('gives the legacy callbacks as no-ops', () => {
    const context = lambdaContext();
    expect(() => [context.done(), context.fail('x'), context.succeed('y')]).not.toThrow();
  });
});

describe('invokeHandler', () => {
  it('passes the event and the context, as the runtime does', async () => {
    const seen: [unknown, Context][] = [];
    const handler = async (event: { n: number }, context: Context) => {
      seen.push([event, context]);
      return event.n + 1;
    };
    const context = lambdaContext({ awsRequestId: 'req-1' });
    expect(await invokeHandler(handler, { n: 1 }, context)).toBe(2);
    expect(seen[0]![1].awsRequestId).toBe('req-1');
  });
});
