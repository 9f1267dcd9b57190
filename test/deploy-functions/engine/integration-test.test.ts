import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { InvokePort } from '../../../deploy-functions/core/ports';
import { createPipelineHandler } from '../../../deploy-functions/engine/handlers';
import { runIntegrationTests } from '../../../deploy-functions/engine/integration-test';
import { deterministicZip } from '../../../scripts/lib/bundle';
import { FakePipeline, Faults, MemoryLogger, VirtualClock, fakeContext } from '../../support/fake-aws';
import { AwsCallError, ErrorCode, ResourceNotFoundError } from '../../../deploy-functions/core/errors';

const root = join(import.meta.dirname, '..', '..', '..');
const casesOf = (fn: string) =>
  Object.fromEntries(readdirSync(join(root, 'functions', fn, 'integration')).map((f) => [`functions/${fn}/integration/${f}`, readFileSync(join(root, 'functions', fn, 'integration', f))]));
const artifactZip = (files: Record<string, Uint8Array>) => deterministicZip({ 'dist/orders-api.packaged.yaml': new TextEncoder().encode('x'), ...files });

// The sample handlers, loaded once with the configuration their templates give them (the virtual clock cannot wait
// for module loading inside a run).
process.env.TAX_RATE_PERCENT = '20';
const sampleHandlers: Record<string, (event: unknown) => Promise<unknown>> = {
  'orders-api': (await import('../../../functions/orders-api/handler')).handler as never,
  'invoice-worker': (await import('../../../functions/invoice-worker/handler')).handler as never,
};

/** Invokes the sample functions' real handlers in-process, as Lambda would. */
const sampleInvoker = (): InvokePort => ({
  invoke: async (functionName, _qualifier, payload) => {
    const handler = sampleHandlers[functionName.replace(/-(staging|prod)$/, '')]!;
    try {
      return { payload: JSON.stringify(await handler(JSON.parse(payload))) };
    } catch (error) {
      return { functionError: 'Unhandled', payload: JSON.stringify({ errorType: (error as Error).name, errorMessage: (error as Error).message }) };
    }
  },
});

function runner(zip: Uint8Array | undefined, invoker: InvokePort = sampleInvoker()) {
  const clock = new VirtualClock();
  const faults = new Faults(1);
  const pipeline = new FakePipeline(clock, faults);
  const logger = new MemoryLogger();
  const artifacts = { fetch: async () => zip ?? new Uint8Array([1, 2, 3]) };
  const handler = createPipelineHandler({ pipeline, logger, clock }, (job) => runIntegrationTests(job, { artifacts, invoker, clock, logger }));
  return async (params: unknown, withArtifact = true) => {
    const event = {
      'CodePipeline.job': {
        id: 'job-1',
        data: {
          actionConfiguration: { configuration: { UserParameters: typeof params === 'string' ? params : JSON.stringify(params) } },
          inputArtifacts: withArtifact ? [{ name: 'BuildOutput', location: { s3Location: { bucketName: 'b', objectKey: 'k' } } }] : [],
          artifactCredentials: { accessKeyId: 'a', secretAccessKey: 's', sessionToken: 't' },
        },
      },
    };
    await clock.drive(handler(event, fakeContext(clock, 60_000, 'r')));
    return pipeline.finalResults('job-1')[0]!;
  };
}

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
    const down: InvokePort = { invoke: async () => Promise.reject(new AwsCallError(ErrorCode.AWS_UNAVAILABLE, 'Invoke failed: 503')) };
    const result = await runner(artifactZip(casesOf('orders-api')), down)(params());
    expect(result.kind === 'failure' && result.message).toMatch(/3 of 3 integration case\(s\) failed:[\s\S]*invocation failed: Invoke failed: 503/);
  });
});
