import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GetAliasCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { daemonAddress, sampledTrace, traceAwsClient } from '../../../deploy-functions/aws/xray';

const ROOT = '1-5759e988-bd862e3fe1be46a994272793';
const LAMBDA_PARENT = '53995c3f42cd8ad8';
const sampledEnv = { _X_AMZN_TRACE_ID: `Root=${ROOT};Parent=${LAMBDA_PARENT};Sampled=1;Lineage=a1b2:0`, AWS_XRAY_DAEMON_ADDRESS: '169.254.79.129:2000' };

/** A Lambda endpoint answering GetAlias with the status queued next, recording the trace header it was sent. */
let server: Server;
let endpoint: string;
const answers: { status: number; body: object; headers?: Record<string, string> }[] = [];
const received: IncomingHttpHeaders[] = [];
beforeAll(async () => {
  server = createServer((request, response) => {
    received.push(request.headers);
    const answer = answers.shift() ?? { status: 200, body: { Name: 'live', FunctionVersion: '3' } };
    response.writeHead(answer.status, { 'content-type': 'application/json', 'x-amzn-requestid': 'req-1', ...answer.headers });
    response.end(JSON.stringify(answer.body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

function tracedClient(env: Record<string, string>) {
  const sent: { document: Record<string, unknown>; port: number; host: string }[] = [];
  const client = new LambdaClient({ endpoint, region: 'eu-west-1', maxAttempts: 1, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
  traceAwsClient(client, env, (document, port, host) => sent.push({ document: JSON.parse(document) as Record<string, unknown>, port, host }));
  return { client, sent };
}

describe('traceAwsClient', () => {
  it('sends one subsegment per call to the daemon, under the invocation segment, and passes the trace on under it', async () => {
    // Arrange
    const { client, sent } = tracedClient(sampledEnv);
    // Act
    await client.send(new GetAliasCommand({ FunctionName: 'fn', Name: 'live' }));
    // Assert
    expect(sent).toHaveLength(1);
    const [{ document, port, host }] = sent as [(typeof sent)[number]];
    expect({ port, host }).toEqual({ port: 2000, host: '169.254.79.129' });
    expect(document).toMatchObject({ name: 'Lambda', type: 'subsegment', namespace: 'aws', trace_id: ROOT, parent_id: LAMBDA_PARENT, aws: { operation: 'GetAlias', region: 'eu-west-1', request_id: 'req-1', retries: 0 }, http: { response: { status: 200 } } });
    expect(document).not.toHaveProperty('error');
    expect(document.end_time as number).toBeGreaterThanOrEqual(document.start_time as number);
    expect(received.at(-1)!['x-amzn-trace-id']).toBe(`Root=${ROOT};Parent=${String(document.id)};Sampled=1;Lineage=a1b2:0`);
  });

  it.each([
    [404, { __type: 'ResourceNotFoundException', message: 'no alias' }, { error: true }, 'ResourceNotFoundException'],
    [429, { __type: 'TooManyRequestsException', message: 'slow down' }, { throttle: true, error: true }, 'TooManyRequestsException'],
    [500, { __type: 'ServiceException', message: 'broken' }, { fault: true }, 'ServiceException'],
  ])('marks a call answered %i with its flags and the remote exception, and still throws it', async (status, body, flags, type) => {
    // Arrange
    const { client, sent } = tracedClient(sampledEnv);
    answers.push({ status, body, headers: { 'x-amzn-errortype': body.__type } });
    // Act
    const call = client.send(new GetAliasCommand({ FunctionName: 'fn', Name: 'live' }));
    // Assert
    await expect(call).rejects.toMatchObject({ name: type });
    expect(sent[0]!.document).toMatchObject({ ...flags, http: { response: { status } }, cause: { exceptions: [{ type, remote: true }] } });
  });

  it.each([
    ['an unsampled invocation', { ...sampledEnv, _X_AMZN_TRACE_ID: `Root=${ROOT};Parent=${LAMBDA_PARENT};Sampled=0` }],
    ['no trace header (not in Lambda, or tracing off)', { AWS_XRAY_DAEMON_ADDRESS: sampledEnv.AWS_XRAY_DAEMON_ADDRESS }],
    ['no daemon', { _X_AMZN_TRACE_ID: sampledEnv._X_AMZN_TRACE_ID }],
    ['POWERTOOLS_TRACE_ENABLED=false', { ...sampledEnv, POWERTOOLS_TRACE_ENABLED: 'false' }],
  ])('sends nothing and leaves the request alone with %s', async (_, env) => {
    // Arrange
    const { client, sent } = tracedClient(env);
    // Act
    const alias = await client.send(new GetAliasCommand({ FunctionName: 'fn', Name: 'live' }));
    // Assert
    expect(alias.FunctionVersion).toBe('3');
    expect(sent).toEqual([]);
    expect(received.at(-1)!['x-amzn-trace-id']).toBeUndefined();
  });
});

describe('daemonAddress and sampledTrace', () => {
  it.each([
    ['169.254.79.129:2000', { host: '169.254.79.129', port: 2000 }],
    ['tcp:127.0.0.1:2000 udp:127.0.0.2:2001', { host: '127.0.0.2', port: 2001 }],
    ['not-an-address', undefined],
    [undefined, undefined],
  ])('reads the UDP address of %s', (value, expected) => {
    expect(daemonAddress(value)).toEqual(expected);
  });

  it('keeps the root, the parent and extra fields of a sampled header only', () => {
    expect(sampledTrace(`Root=${ROOT};Parent=${LAMBDA_PARENT};Sampled=1;Lineage=x:1`)).toEqual({ root: ROOT, parent: LAMBDA_PARENT, extra: ';Lineage=x:1' });
    expect(sampledTrace(`Root=${ROOT};Parent=${LAMBDA_PARENT};Sampled=0`)).toBeUndefined();
    expect(sampledTrace(`Root=${ROOT};Sampled=1`)).toBeUndefined();
  });
});
