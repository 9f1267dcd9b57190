import { readFileSync, readdirSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { deterministicZip } from '../../scripts/lib/bundle';
import { startCodePipelineRecorder } from '../../harness/codepipeline-recorder';
import { requireMoto, startMoto, type MotoServer } from '../../harness/moto';
import { createLedgerTable, createSampleFunction } from '../../harness/moto-fixtures';
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { DynamoDbLedger } from '../../deploy-functions/aws/ledger';
import { LambdaInvoker } from '../../deploy-functions/aws/lambda';

const root = join(import.meta.dirname, '..', '..');
const FN = 'orders-api-staging';
const CASES = 'functions/orders-api/integration';
/** Events as `sam init` writes them, for a function without integration cases (run as smoke cases). */
const EVENTS = 'functions/hello/events';
const samInitEvent = join(root, 'test', 'fixtures', 'sam-init-project', EVENTS, 'event.json');
type Handler = (event: unknown, context: unknown) => Promise<{ outcome: string }>;

describe.runIf(requireMoto('integration-test and deploy-window suite'))('integration-test action and deploy-window gate against moto', () => {
  let moto: MotoServer;
  let recorder: Awaited<ReturnType<typeof startCodePipelineRecorder>>;
  let handler: Handler;
  let windowGate: Handler;
  const caseFiles = readdirSync(join(root, CASES)).filter((f) => f.endsWith('.json')).sort();
  const cases = caseFiles.map((f) => JSON.parse(readFileSync(join(root, CASES, f), 'utf8')) as { event: unknown });

  /** Queues moto's answers for the next invocations (its Lambda runs no code without Docker). */
  const queueAnswers = (results: unknown[]) =>
    fetch(`${moto.endpoint}/moto-api/static/lambda-simple/response`, { method: 'POST', body: JSON.stringify({ results: results.map((r) => JSON.stringify(r)), region: 'us-east-1' }) });
  /** The event CodePipeline sends for a job it created (the recorder then answers GetJobDetails for it). */
  const event = (jobId: string, parameters: Record<string, unknown> = {}) => {
    const made = {
    'CodePipeline.job': {
      id: jobId,
      data: {
        actionConfiguration: { configuration: { UserParameters: JSON.stringify({ functionName: FN, qualifier: 'candidate', casesPath: CASES, concurrency: 1, ...parameters }) } },
        inputArtifacts: [{ name: 'BuildOutput', location: { s3Location: { bucketName: 'pipeline-artifacts', objectKey: 'build/output.zip' } } }],
        artifactCredentials: { accessKeyId: 'test', secretAccessKey: 'test', sessionToken: 'test' },
      },
    },
    };
    recorder.createJob(jobId, made['CodePipeline.job'].data);
    return made;
  };

  beforeAll(async () => {
    moto = await startMoto({ lambdaSimple: true });
    recorder = await startCodePipelineRecorder();
    await createSampleFunction(moto, FN, []);
    const s3 = new S3Client({ endpoint: moto.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
    await s3.send(new CreateBucketCommand({ Bucket: 'pipeline-artifacts' }));
    const zip = deterministicZip({ ...Object.fromEntries(caseFiles.map((f) => [`${CASES}/${f}`, readFileSync(join(root, CASES, f))])), [`${EVENTS}/event.json`]: readFileSync(samInitEvent) });
    await s3.send(new PutObjectCommand({ Bucket: 'pipeline-artifacts', Key: 'build/output.zip', Body: zip }));
    for (const [key, value] of Object.entries({ ...moto.env, AWS_ENDPOINT_URL_CODEPIPELINE: recorder.endpoint, S3_FORCE_PATH_STYLE: 'true', TAX_RATE_PERCENT: '20', LEDGER_TABLE: 'ledger' })) vi.stubEnv(key, value);
    await createLedgerTable(moto, 'ledger');
    vi.resetModules();
    handler = (await import('../../deploy-functions/integration-test/handler')).handler as unknown as Handler;
    windowGate = (await import('../../deploy-functions/deploy-window/handler')).handler as unknown as Handler;
  }, 120_000);

  afterAll(async () => {
    vi.unstubAllEnvs();
    await recorder?.stop();
    await moto?.stop();
  });

  it('passes the sample cases against the candidate, reading them from the S3 artifact with the job credentials', async () => {
    const { handler: sample } = await import('../../functions/orders-api/handler');
    await queueAnswers(await Promise.all(cases.map((c) => sample(c.event as never))));
    await handler(event('job-pass'), { awsRequestId: 'r1', getRemainingTimeInMillis: () => 60_000 });
    const [call] = recorder.calls.filter((c) => c.input.jobId === 'job-pass');
    expect(call).toMatchObject({ operation: 'PutJobSuccessResult', input: { outputVariables: { passed: String(cases.length), failed: '0' } } });
  }, 60_000);

  it('fails listing the cases whose answers differ', async () => {
    await queueAnswers(cases.map(() => ({ statusCode: 500, body: '{"message":"boom"}' })));
    await handler(event('job-fail'), { awsRequestId: 'r2', getRemainingTimeInMillis: () => 60_000 });
    const [call] = recorder.calls.filter((c) => c.input.jobId === 'job-fail');
    expect(call!.operation).toBe('PutJobFailureResult');
    expect((call!.input.failureDetails as { message: string }).message).toMatch(new RegExp(`^\\[TEST_CASE_FAILED\\] ${cases.length} of ${cases.length} integration case\\(s\\) failed:[\\s\\S]*statusCode: expected 201, got 500`));
  }, 60_000);

  it('runs the events of a folder without integration cases as smoke cases: a 5xx answer fails naming the event file, a 200 passes', async () => {
    const smoke = { casesPath: EVENTS, cases: 'events' };
    await queueAnswers([{ statusCode: 502, body: 'bad gateway' }]);
    await handler(event('job-smoke-5xx', smoke), { awsRequestId: 'r4', getRemainingTimeInMillis: () => 60_000 });
    expect(recorder.calls.find((c) => c.input.jobId === 'job-smoke-5xx')).toMatchObject({
      operation: 'PutJobFailureResult',
      input: { failureDetails: { message: expect.stringContaining(`- ${EVENTS}/event.json (smoke: event event.json):\n    statusCode: expected below 500`) } },
    });
    await queueAnswers([{ statusCode: 200, body: '{"message":"hello world"}' }]);
    await handler(event('job-smoke-ok', smoke), { awsRequestId: 'r5', getRemainingTimeInMillis: () => 60_000 });
    expect(recorder.calls.find((c) => c.input.jobId === 'job-smoke-ok')).toMatchObject({ operation: 'PutJobSuccessResult', input: { outputVariables: { passed: '1', failed: '0' } } });
  }, 60_000);

  it('reports before its Lambda timeout: with less time left than the safety margin it starts no case and names them all', async () => {
    // Arrange: 5 s left is less than the default 10 s margin
    const context = { awsRequestId: 'r3', getRemainingTimeInMillis: () => 5_000 };

    // Act
    await handler(event('job-late'), context);

    // Assert
    const [call] = recorder.calls.filter((c) => c.input.jobId === 'job-late');
    expect(call!.operation).toBe('PutJobFailureResult');
    const message = (call!.input.failureDetails as { message: string }).message;
    expect(message).toMatch(new RegExp(`^\\[TEST_CASE_FAILED\\] ${cases.length} of ${cases.length} integration case\\(s\\) not run, too little time left before the deadline:`));
    for (const file of caseFiles) expect(message).toContain(`- ${CASES}/${file}`);
  }, 60_000);

  it('the deploy-window gate reads its policy and override from SSM and records the override in the ledger', async () => {
    const ssm = new SSMClient({ endpoint: moto.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
    const today = new Date().toISOString().slice(0, 10);
    const put = (Name: string, value: unknown) => ssm.send(new PutParameterCommand({ Name, Value: JSON.stringify(value), Type: 'String', Overwrite: true }));
    await put('/lrp/window', { windows: [], freezes: [{ from: today, to: today, reason: 'moto freeze' }] });
    const gateEvent = (jobId: string, override: boolean) => {
      const data = { actionConfiguration: { configuration: { UserParameters: JSON.stringify({ functionName: 'orders-api-prod', policyParameter: '/lrp/window', ...(override ? { overrideParameter: '/lrp/override' } : {}) }) } } };
      recorder.createJob(jobId, data);
      return { 'CodePipeline.job': { id: jobId, data } };
    };
    await windowGate(gateEvent('gate-closed', false), { awsRequestId: 'g1', getRemainingTimeInMillis: () => 60_000 });
    expect(recorder.calls.find((c) => c.input.jobId === 'gate-closed')).toMatchObject({ operation: 'PutJobFailureResult', input: { failureDetails: { message: expect.stringMatching(/\[WINDOW_CLOSED\] release freeze .* \(moto freeze\); next window opens at/) } } });

    await put('/lrp/override', { by: 'oncall@example.com', reason: 'INC-7 hotfix', expiresAt: new Date(Date.now() + 3_600_000).toISOString() });
    await windowGate(gateEvent('gate-override', true), { awsRequestId: 'g2', getRemainingTimeInMillis: () => 60_000 });
    expect(recorder.calls.find((c) => c.input.jobId === 'gate-override')).toMatchObject({ operation: 'PutJobSuccessResult', input: { outputVariables: { override: 'true' } } });
    expect(await new DynamoDbLedger('ledger').listWindowOverrides('orders-api-prod', 5)).toEqual([expect.objectContaining({ by: 'oncall@example.com', reason: 'INC-7 hotfix', jobId: 'gate-override' })]);
  }, 60_000);
});

describe('LambdaInvoker', () => {
  it('abandons an invocation when its signal aborts, with TIMED_OUT, rather than waiting for an answer', async () => {
    // Arrange: an endpoint that accepts the request and never answers
    const silent = createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as AddressInfo;
    const client = new LambdaClient({ endpoint: `http://127.0.0.1:${port}`, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, maxAttempts: 1 });
    const stop = new AbortController();

    try {
      // Act
      const invocation = new LambdaInvoker(client).invoke(FN, 'candidate', '{}', { signal: stop.signal });
      setTimeout(() => stop.abort(), 200);

      // Assert
      await expect(invocation).rejects.toMatchObject({ code: 'TIMED_OUT', message: `Invoke ${FN}:candidate abandoned: the caller's deadline arrived first` });
    } finally {
      silent.closeAllConnections();
      await new Promise((resolve) => silent.close(resolve));
    }
  }, 10_000);
});
