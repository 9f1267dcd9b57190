import { createHash } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { S3Client as SdkS3Client } from '@aws-sdk/client-s3';
import { SNSClient as SdkSNSClient } from '@aws-sdk/client-sns';
import { STSClient as SdkSTSClient } from '@aws-sdk/client-sts';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { clientConfig } from '../../../deploy-functions/aws/client-config';
import { S3ArtifactStore, objectUrl } from '../../../deploy-functions/aws/s3';
import { awsHost } from '../../../deploy-functions/aws/signed-request';
import { SNSClient, PublishCommand } from '../../../deploy-functions/aws/sns-publish';
import { traceAwsClient } from '../../../deploy-functions/aws/xray';
import { ErrorCode } from '../../../deploy-functions/core/errors';

const JOB_CREDENTIALS = { accessKeyId: 'ASIAJOBKEY', secretAccessKey: 'job-secret', sessionToken: 'job-token' };
const OWN = { accessKeyId: 'test', secretAccessKey: 'test' };
const fast = () => clientConfig({ connectionTimeoutMs: 500, requestTimeoutMs: 2_000 });

/** A loopback endpoint answering each request with the next queued answer, and remembering what it was sent. */
async function fakeAws() {
  const answers: { status: number; body?: string | Buffer; headers?: Record<string, string> }[] = [];
  const seen: { method: string; url: string; headers: IncomingHttpHeaders; body: string }[] = [];
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      seen.push({ method: request.method!, url: request.url!, headers: request.headers, body: Buffer.concat(chunks).toString() });
      const answer = answers.shift() ?? { status: 500, body: '<Error><Code>InternalError</Code><Message>nothing queued</Message></Error>' };
      response.writeHead(answer.status, answer.headers).end(answer.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, answers, seen, close: () => new Promise((resolve) => server.close(resolve)) };
}

describe('awsHost and objectUrl', () => {
  const sdk = { s3: new SdkS3Client({ region: 'us-east-1' }), sts: new SdkSTSClient({ region: 'us-east-1' }), sns: new SdkSNSClient({ region: 'us-east-1' }) };
  const regions = ['us-east-1', 'eu-west-1', 'cn-north-1', 'us-gov-west-1', 'eusc-de-east-1', 'us-iso-east-1'];
  const cases = regions.flatMap((region) => [false, true].flatMap((fips) => [false, true].flatMap((dualStack) => (['s3', 'sts', 'sns'] as const).map((service) => [service, region, fips, dualStack] as const))));

  it.each(cases)('names the host the SDK would for %s in %s (FIPS %s, dual-stack %s), or refuses as it does', (service, region, fips, dualStack) => {
    // Arrange
    const endpointProvider = sdk[service].config.endpointProvider as (params: Record<string, unknown>) => { url: URL };
    const params = { Bucket: 'artifact-bucket', Region: region, UseFIPS: fips, UseDualStack: dualStack, ForcePathStyle: false, Accelerate: false, UseGlobalEndpoint: false, UseArnRegion: false, DisableMultiRegionAccessPoints: false };
    const expected = (() => {
      try {
        return new URL(endpointProvider(params).url.href).host.replace(/^artifact-bucket\./, '');
      } catch {
        return 'refused';
      }
    })();
    // Act
    const host = (() => {
      try {
        return awsHost(service, region, { AWS_USE_FIPS_ENDPOINT: String(fips), AWS_USE_DUALSTACK_ENDPOINT: String(dualStack) });
      } catch {
        return 'refused';
      }
    })();
    // Assert
    expect(host).toBe(expected);
  });

  it.each([
    ['virtual-hosted on AWS', {}, 'codepipeline-eu-west-1-1234', 'eu-west-1', 'https://codepipeline-eu-west-1-1234.s3.eu-west-1.amazonaws.com/a/b%20c%2B.zip'],
    ['in the China partition', {}, 'artifacts-cn', 'cn-north-1', 'https://artifacts-cn.s3.cn-north-1.amazonaws.com.cn/a/b%20c%2B.zip'],
    ['path-style for a dotted bucket', {}, 'my.artifacts', 'us-gov-west-1', 'https://s3.us-gov-west-1.amazonaws.com/my.artifacts/a/b%20c%2B.zip'],
    ['path-style when forced', { S3_FORCE_PATH_STYLE: 'true' }, 'artifacts', 'us-east-1', 'https://s3.us-east-1.amazonaws.com/artifacts/a/b%20c%2B.zip'],
    ['path-style on a configured endpoint', { AWS_ENDPOINT_URL: 'http://127.0.0.1:5000' }, 'artifacts', 'us-east-1', 'http://127.0.0.1:5000/artifacts/a/b%20c%2B.zip'],
    ['on the S3 endpoint before the general one', { AWS_ENDPOINT_URL: 'http://127.0.0.1:5000', AWS_ENDPOINT_URL_S3: 'http://localhost:4566/' }, 'artifacts', 'us-east-1', 'http://localhost:4566/artifacts/a/b%20c%2B.zip'],
  ])('addresses an object %s', (_, env, bucketName, region, expected) => {
    // Act
    const url = objectUrl({ bucketName, objectKey: 'a/b c+.zip' }, region, env);
    // Assert
    expect(url.href).toBe(expected);
  });
});

describe('S3ArtifactStore and the bundles\' SNS client against a loopback endpoint', () => {
  let fake: Awaited<ReturnType<typeof fakeAws>>;
  beforeAll(async () => {
    fake = await fakeAws();
  });
  afterEach(() => {
    fake.answers.length = 0;
    fake.seen.length = 0;
    vi.unstubAllEnvs();
  });
  afterAll(() => fake.close());
  const store = () => {
    vi.stubEnv('AWS_ENDPOINT_URL_S3', fake.endpoint);
    return new S3ArtifactStore({ region: 'us-east-1', credentials: OWN });
  };

  it('signs the GET with the job credentials, the payload hash S3 requires and the checksum mode, and retries a 503', async () => {
    // Arrange
    const body = Buffer.from('zip bytes');
    fake.answers.push({ status: 503, body: '<Error><Code>SlowDown</Code></Error>' }, { status: 200, body, headers: { 'x-amz-checksum-sha256': createHash('sha256').update(body).digest('base64') } });
    // Act
    const read = await store().fetch({ bucketName: 'artifacts', objectKey: 'build/out.zip' }, JOB_CREDENTIALS);
    // Assert
    expect(Buffer.from(read).toString()).toBe('zip bytes');
    expect(fake.seen).toHaveLength(2);
    expect(fake.seen[1]).toMatchObject({ method: 'GET', url: '/artifacts/build/out.zip' });
    expect(fake.seen[1]!.headers).toMatchObject({
      authorization: expect.stringMatching(/^AWS4-HMAC-SHA256 Credential=ASIAJOBKEY\/\d{8}\/us-east-1\/s3\/aws4_request, SignedHeaders=.*x-amz-content-sha256.*/),
      'x-amz-security-token': 'job-token',
      'x-amz-content-sha256': createHash('sha256').update('').digest('hex'),
      'x-amz-checksum-mode': 'ENABLED',
    });
  });

  it.each([
    ['a missing object', 404, '<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message></Error>', ErrorCode.ARTIFACT_UNREADABLE, 'does not exist'],
    ['a refusal', 403, '<Error><Code>AccessDenied</Code><Message>User is not authorized to perform: kms:Decrypt</Message></Error>', ErrorCode.AWS_ACCESS_DENIED, 'AccessDenied: User is not authorized to perform: kms:Decrypt'],
    ['a wrong region', 400, '<Error><Code>AuthorizationHeaderMalformed</Code><Message>the region us-east-1 is wrong; expecting eu-west-1</Message></Error>', ErrorCode.AWS_ERROR, 'AuthorizationHeaderMalformed'],
  ])('reports %s with S3\'s code and message, naming the object', async (_, status, body, code, words) => {
    // Arrange
    fake.answers.push({ status, body });
    // Act
    const reading = store().fetch({ bucketName: 'artifacts', objectKey: 'build/out.zip' }, JOB_CREDENTIALS);
    // Assert
    await expect(reading).rejects.toMatchObject({ code, message: expect.stringMatching(new RegExp(`s3://artifacts/build/out\\.zip.*${words.replace(/[.:]/g, '\\$&')}|${words}.*s3://artifacts`)) });
  });

  it('refuses an object whose full-object checksum differs from what arrived', async () => {
    // Arrange
    fake.answers.push({ status: 200, body: 'tampered', headers: { 'x-amz-checksum-crc32': 'AAAAAA==', 'x-amz-checksum-type': 'FULL_OBJECT' } });
    // Act
    const reading = store().fetch({ bucketName: 'artifacts', objectKey: 'out.zip' }, JOB_CREDENTIALS);
    // Assert
    await expect(reading).rejects.toMatchObject({ code: ErrorCode.ARTIFACT_UNREADABLE, message: expect.stringContaining('crc32 checksum mismatch') });
  });

  it('gives up after three attempts when S3 keeps failing', async () => {
    // Arrange
    for (let i = 0; i < 3; i += 1) fake.answers.push({ status: 500, body: '<Error><Code>InternalError</Code><Message>We encountered an internal error.</Message></Error>' });
    // Act
    const reading = store().fetch({ bucketName: 'artifacts', objectKey: 'out.zip' }, JOB_CREDENTIALS);
    // Assert
    await expect(reading).rejects.toMatchObject({ code: ErrorCode.AWS_UNAVAILABLE });
    expect(fake.seen).toHaveLength(3);
  });

  it('publishes inside the X-Ray middleware: the trace header goes out with the call, the subsegment names SNS Publish', async () => {
    // Arrange
    vi.stubEnv('AWS_ENDPOINT_URL_SNS', fake.endpoint);
    fake.answers.push({ status: 200, body: '<PublishResponse><PublishResult><MessageId>m-7</MessageId></PublishResult><ResponseMetadata><RequestId>req-7</RequestId></ResponseMetadata></PublishResponse>' });
    const sent: string[] = [];
    const client = traceAwsClient(new SNSClient({ ...fast(), region: 'us-east-1', credentials: OWN }), { _X_AMZN_TRACE_ID: 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1', AWS_XRAY_DAEMON_ADDRESS: '127.0.0.1:2000' }, (document) => sent.push(document));
    // Act
    const output = await client.send(new PublishCommand({ TopicArn: 'arn:aws:sns:us-east-1:111111111111:notices', Subject: 'rolled back', Message: '{"a":1}' }));
    // Assert
    expect(output).toMatchObject({ MessageId: 'm-7', $metadata: { httpStatusCode: 200, requestId: 'req-7' } });
    expect(fake.seen[0]!.headers['x-amzn-trace-id']).toMatch(/^Root=1-5759e988-bd862e3fe1be46a994272793;Parent=[0-9a-f]{16};Sampled=1$/);
    expect(JSON.parse(sent[0]!)).toMatchObject({ name: 'SNS', aws: { operation: 'Publish', region: 'us-east-1', request_id: 'req-7', retries: 0 }, http: { response: { status: 200 } } });
  });
});
