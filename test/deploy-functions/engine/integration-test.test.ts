import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { InvokePort } from '../../../deploy-functions/core/ports';
import { createPipelineHandler } from '../../../deploy-functions/engine/handlers';
import { runIntegrationTests } from '../../../deploy-functions/engine/integration-test';
import { integrationTestSettingsFromEnv } from '../../../deploy-functions/engine/settings';
import { FakePipeline, Faults, MemoryLogger, VirtualClock, fakeContext } from '../../support/fake-aws';
import { artifactZip, runAction, type RunOptions } from './integration-test-runner';
import { invokeHandler, lambdaContext } from '../../../harness/lambda-context';
import type { Context } from 'aws-lambda';
import { AwsCallError, ErrorCode, ResourceNotFoundError } from '../../../deploy-functions/core/errors';

const root = join(import.meta.dirname, '..', '..', '..');
const casesOf = (fn: string) =>
  Object.fromEntries(readdirSync(join(root, 'functions', fn, 'integration')).map((f) => [`functions/${fn}/integration/${f}`, readFileSync(join(root, 'functions', fn, 'integration', f))]));

// The sample handlers, loaded once with the configuration their templates give them (the virtual clock cannot wait
// for module loading inside a run).
process.env.TAX_RATE_PERCENT = '20';
const sampleHandlers: Record<string, (event: unknown, context: Context) => Promise<unknown>> = {
  'orders-api': (await import('../../../functions/orders-api/handler')).handler as never,
  'invoice-worker': (await import('../../../functions/invoice-worker/handler')).handler as never,
};

/** Invokes the sample functions' real handlers in-process, as Lambda would. */
const sampleInvoker = (): InvokePort => ({
  invoke: async (functionName, _qualifier, payload) => {
    const handler = sampleHandlers[functionName.replace(/-(staging|prod)$/, '')]!;
    try {
      // With a context, as Lambda invokes every handler.
      return { payload: JSON.stringify(await invokeHandler(handler, JSON.parse(payload), lambdaContext({ functionName, timeoutSeconds: 30 }))) };
    } catch (error) {
      return { functionError: 'Unhandled', payload: JSON.stringify({ errorType: (error as Error).name, errorMessage: (error as Error).message }) };
    }
  },
});

/** Runs the action on a virtual clock, invoking the sample handlers unless told otherwise. */
const runner = (zip: Uint8Array | undefined, invoker: InvokePort | ((clock: VirtualClock) => InvokePort) = sampleInvoker(), options: RunOptions = {}) => runAction(zip, invoker, options);

/** An artifact with one case per entry under functions/x/integration, each expecting `{ statusCode: 200 }`. */
const syntheticCases = (cases: Record<string, { maxDurationMs?: number }>) =>
  artifactZip(
    Object.fromEntries(
      Object.entries(cases).map(([name, expect]) => [`functions/x/integration/${name}.json`, new TextEncoder().encode(JSON.stringify({ name, event: { case: name }, expect: { statusCode: 200, ...expect } }))]),
    ),
  );

/** Answers `{ statusCode: 200 }` after `ms` of virtual time, recording which cases it was called for. */
const answeringAfter =
  (ms: number, calls: string[] = []) =>
  (clock: VirtualClock): InvokePort => ({
    invoke: async (_fn, _qualifier, payload) => {
      calls.push((JSON.parse(payload) as { case: string }).case);
      await clock.sleep(ms);
      return { payload: JSON.stringify({ statusCode: 200 }) };
    },
  });

const params = (fn = 'orders-api', overrides: Record<string, unknown> = {}) => ({ functionName: `${fn}-staging`, qualifier: 'candidate', casesPath: `functions/${fn}/integration`, ...overrides });

describe('integration-test action', () => {
  it.each(['orders-api', 'invoice-worker'])('passes the %s sample cases and reports passed, failed and milliseconds', async (fn) => {
    const result = await runner(artifactZip(casesOf(fn)))(params(fn));
    expect(result).toMatchObject({ kind: 'success', outputVariables: { passed: String(Object.keys(casesOf(fn)).length), failed: '0', milliseconds: expect.any(String) } });
  });

  it('lists every failed case with a readable diff', async () => {
    const wrong = { name: 'expects the wrong total', event: JSON.parse(readFileSync(join(root, 'functions/orders-api/integration/create-order.json'), 'utf8')).event, expect: { statusCode: 201, body: { totalCents: 1 } } };
    const zip = artifactZip({ ...casesOf('orders-api'), 'functions/orders-api/integration/wrong.json': new TextEncoder().encode(JSON.stringify(wrong)) });
    const result = await runner(zip)(params());
    expect(result).toMatchObject({ kind: 'failure', type: 'JobFailed' });
    expect(result.kind === 'failure' && result.message).toBe('[TEST_CASE_FAILED] 1 of 4 integration case(s) failed:\n- functions/orders-api/integration/wrong.json (expects the wrong total):\n    $.body.totalCents: expected 1, got 3000');
  });

  it.each([
    ['a case file with a bad field', { 'functions/x/integration/a.json': '{"name":"n","event":{},"expect":{"statusCode":"201"}}' }, params('x'), /\[INVALID_PARAMETERS\] invalid integration case file\(s\): functions\/x\/integration\/a.json: expect.statusCode: /],
    ['a case file that is not JSON', { 'functions/x/integration/a.json': '{' }, params('x'), /a.json: not valid JSON/],
    ['no cases under the path', {}, params('x'), /casesPath: no \*.json cases under functions\/x\/integration in input artifact BuildOutput \(its folders: dist\)/],
    ['a path escaping the artifact', {}, params('x', { casesPath: '../etc' }), /casesPath: must/],
    ['bad JSON parameters', {}, '{', /UserParameters: not valid JSON/],
  ])('fails with a clear message for %s', async (_label, files, userParameters, message) => {
    const zip = artifactZip(Object.fromEntries(Object.entries(files).map(([k, v]) => [k, new TextEncoder().encode(v)])));
    const result = await runner(zip)(userParameters);
    expect(result).toMatchObject({ kind: 'failure', message: expect.stringMatching(message) });
  });

  it('fails for a missing artifact and for an unreadable zip', async () => {
    expect(await runner(artifactZip({}))(params(), false)).toMatchObject({ kind: 'failure', message: expect.stringMatching(/the action needs the build output as input/) });
    expect(await runner(undefined)(params())).toMatchObject({ kind: 'failure', message: expect.stringMatching(/\[ARTIFACT_UNREADABLE\] input artifact BuildOutput is not a readable zip/) });
  });

  it('fails the whole run at once for an unknown function', async () => {
    const invoker: InvokePort = { invoke: async (fn) => Promise.reject(new ResourceNotFoundError(ErrorCode.FUNCTION_NOT_FOUND, `function ${fn}:candidate does not exist`)) };
    expect(await runner(artifactZip(casesOf('orders-api')), invoker)(params())).toMatchObject({ kind: 'failure', type: 'ConfigurationError', message: expect.stringMatching(/FUNCTION_NOT_FOUND/) });
  });

  it('retries throttled invocations, and reports a case whose invocation keeps failing', async () => {
    let calls = 0;
    const flaky: InvokePort = {
      invoke: async (fn, q, payload) => {
        calls += 1;
        if (calls % 2 === 1) throw new AwsCallError(ErrorCode.AWS_THROTTLED, 'Invoke failed: TooManyRequestsException (throttled)');
        return sampleInvoker().invoke(fn, q, payload);
      },
    };
    expect(await runner(artifactZip(casesOf('orders-api')), flaky)(params('orders-api', { concurrency: 1 }))).toMatchObject({ kind: 'success' });
    expect(calls).toBe(6);
    const down: InvokePort = { invoke: async () => Promise.reject(new AwsCallError(ErrorCode.AWS_UNAVAILABLE, 'Invoke failed: 503')) };
    const result = await runner(artifactZip(casesOf('orders-api')), down)(params());
    expect(result.kind === 'failure' && result.message).toMatch(/3 of 3 integration case\(s\) failed:[\s\S]*invocation failed: Invoke failed: 503/);
  });
});

describe('integration-test action: retries', () => {
  it('does not retry an invocation that may have run: a client timeout fails its case after one attempt', async () => {
    // Arrange
    let calls = 0;
    const timingOut: InvokePort = {
      invoke: async () => {
        calls += 1;
        throw new AwsCallError(ErrorCode.AWS_UNAVAILABLE, 'Invoke x-staging:candidate failed: TimeoutError (service unavailable or unreachable)');
      },
    };

    // Act
    const result = await runner(syntheticCases({ a: {} }), timingOut)(params('x'));

    // Assert
    expect(calls).toBe(1);
    expect(result.kind === 'failure' && result.message).toBe(
      '[TEST_CASE_FAILED] 1 of 1 integration case(s) failed:\n- functions/x/integration/a.json (a):\n    invocation failed: Invoke x-staging:candidate failed: TimeoutError (service unavailable or unreachable)',
    );
  });

  it('retries a throttled invocation and judges the attempt that ran, not the back-off before it', async () => {
    // Arrange: throttled four times (3.0 s of back-off), then an answer within the case's 1 s
    let calls = 0;
    const throttledFourTimes: InvokePort = {
      invoke: async () => {
        calls += 1;
        if (calls <= 4) throw new AwsCallError(ErrorCode.AWS_THROTTLED, 'Invoke failed: TooManyRequestsException (throttled)');
        return { payload: JSON.stringify({ statusCode: 200 }) };
      },
    };

    // Act
    const result = await runner(syntheticCases({ a: { maxDurationMs: 1_000 } }), throttledFourTimes)(params('x'));

    // Assert
    expect(calls).toBe(5);
    expect(result).toMatchObject({ kind: 'success', outputVariables: { passed: '1', failed: '0' } });
  });
});

describe('integration-test action: deadline', () => {
  it('starts a case only if the time left covers its maxDurationMs (capped by the invoke timeout), and names the others as not run', async () => {
    // Arrange: a 35 s Lambda timeout less the 10 s margin leaves 25 s; each case is expected to take 9 s at most
    const calls: string[] = [];
    const cases = syntheticCases({ a: { maxDurationMs: 600_000 }, b: { maxDurationMs: 8_500 }, c: {}, d: {} });
    const settings = { invokeTimeoutMs: 9_000, safetyMarginMs: 10_000 };

    // Act: each answer takes 8 s, one case at a time, so d would start at 24 s with 1 s left
    const result = await runner(cases, answeringAfter(8_000, calls), { lambdaTimeoutMs: 35_000, settings })(params('x', { concurrency: 1 }));

    // Assert
    expect(calls).toEqual(['a', 'b', 'c']);
    expect(result.kind === 'failure' && result.message).toBe('[TEST_CASE_FAILED] 1 of 4 integration case(s) not run, too little time left before the deadline:\n- functions/x/integration/d.json (d)');
    expect(result.elapsedMs).toBe(24_000);
  });

  it('abandons the invocations still running at the deadline and fails before the Lambda timeout, naming every unfinished case', async () => {
    // Arrange: a answers at once; b and c never answer; d waits for a free slot
    const signals: (AbortSignal | undefined)[] = [];
    const invoker = (clock: VirtualClock): InvokePort => ({
      invoke: async (fn, qualifier, payload, options) => {
        if ((JSON.parse(payload) as { case: string }).case === 'a') return answeringAfter(1_000)(clock).invoke(fn, qualifier, payload);
        signals.push(options?.signal);
        return new Promise(() => {});
      },
    });

    // Act: a 60 s Lambda timeout and the default 10 s margin
    const result = await runner(syntheticCases({ a: {}, b: {}, c: {}, d: {} }), invoker)(params('x', { concurrency: 2 }));

    // Assert
    expect(result.elapsedMs).toBe(50_000);
    expect(result.kind === 'failure' && result.message).toBe(
      [
        '[TEST_CASE_FAILED] 2 of 4 integration case(s) still running at the deadline, abandoned:',
        '- functions/x/integration/b.json (b)',
        '- functions/x/integration/c.json (c)',
        '1 of 4 integration case(s) not run, too little time left before the deadline:',
        '- functions/x/integration/d.json (d)',
      ].join('\n'),
    );
    expect(signals.map((s) => s?.aborted)).toEqual([true, true]);
  });

  it('lists failed cases besides those the deadline cut off', async () => {
    // Arrange: a answers with the wrong status; b never answers
    const invoker: InvokePort = {
      invoke: async (_fn, _qualifier, payload) => ((JSON.parse(payload) as { case: string }).case === 'a' ? { payload: JSON.stringify({ statusCode: 500 }) } : new Promise(() => {})),
    };

    // Act
    const result = await runner(syntheticCases({ a: {}, b: {} }), invoker, { lambdaTimeoutMs: 30_000 })(params('x'));

    // Assert
    expect(result.elapsedMs).toBe(20_000);
    expect(result.kind === 'failure' && result.message).toBe(
      [
        '[TEST_CASE_FAILED] 1 of 2 integration case(s) still running at the deadline, abandoned:',
        '- functions/x/integration/b.json (b)',
        '1 of 2 integration case(s) failed:',
        '- functions/x/integration/a.json (a):',
        '    statusCode: expected 200, got 500',
      ].join('\n'),
    );
  });

  it('stops reading an input artifact S3 does not serve at the deadline, and fails before the Lambda timeout', async () => {
    // Arrange: every read hangs 90 s (a 30 s request timeout, three SDK attempts), then fails
    const clock = new VirtualClock();
    const startedAt = clock.now();
    const pipeline = new FakePipeline(clock, new Faults(1));
    const logger = new MemoryLogger();
    const artifacts = {
      fetch: async () => {
        await clock.sleep(90_000);
        throw new AwsCallError(ErrorCode.AWS_UNAVAILABLE, 'GetObject s3://b/k failed: TimeoutError (service unavailable or unreachable)');
      },
    };
    const deps = { artifacts, invoker: { invoke: async () => ({ payload: '{"statusCode":200}' }) }, clock, logger };
    const handler = createPipelineHandler({ pipeline, logger, clock }, (job, context) => runIntegrationTests(job, context.getRemainingTimeInMillis(), deps));
    const event = {
      'CodePipeline.job': {
        id: 'job-1',
        data: {
          actionConfiguration: { configuration: { UserParameters: JSON.stringify({ functionName: 'orders-api-staging', qualifier: 'candidate', casesPath: 'functions/orders-api/integration' }) } },
          inputArtifacts: [{ name: 'BuildOutput', location: { s3Location: { bucketName: 'b', objectKey: 'k' } } }],
        },
      },
    };

    // Act: the action's Lambda timeout is 5 minutes
    pipeline.createJob(event);
    await clock.drive(handler(event, fakeContext(clock, 300_000, 'r')));

    // Assert
    const [result] = pipeline.finalResults('job-1');
    expect(result).toMatchObject({ kind: 'failure', message: expect.stringMatching(/^\[TIMED_OUT\] the input artifact could not be read before the deadline/) });
    expect(result!.at - startedAt).toBeLessThan(300_000);
  });
});

describe('integrationTestSettingsFromEnv', () => {
  it('defaults to a 60 s invoke timeout and a 10 s safety margin', () => {
    expect(integrationTestSettingsFromEnv({})).toEqual({ invokeTimeoutMs: 60_000, safetyMarginMs: 10_000 });
  });

  it('reads INVOKE_TIMEOUT_SECONDS and SAFETY_MARGIN_SECONDS, and names a bad one', () => {
    expect(integrationTestSettingsFromEnv({ INVOKE_TIMEOUT_SECONDS: '30', SAFETY_MARGIN_SECONDS: '2.5' })).toEqual({ invokeTimeoutMs: 30_000, safetyMarginMs: 2_500 });
    expect(() => integrationTestSettingsFromEnv({ SAFETY_MARGIN_SECONDS: 'ten' })).toThrow(/SAFETY_MARGIN_SECONDS: must be a number of seconds from 0 to 120, got "ten"/);
  });
});
