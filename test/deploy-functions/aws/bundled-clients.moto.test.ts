// The deployment functions as bundled: `@aws-sdk/client-sts` and `@aws-sdk/client-sns` are the small signed clients
// (DEPLOYMENT_ALIASES in scripts/lib/bundle.ts), so the adapters that import them, TargetClients and SnsNotifier, run
// here with those, as in Lambda; and S3ArtifactStore reads artifacts. Against moto, and a loopback endpoint for refusals.
import { spawnSync } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { clientConfig } from '../../../deploy-functions/aws/client-config';
import { S3ArtifactStore } from '../../../deploy-functions/aws/s3';
import { SnsNotifier } from '../../../deploy-functions/aws/sns';
import { TargetClients } from '../../../deploy-functions/aws/target-clients';
import { ErrorCode } from '../../../deploy-functions/core/errors';
import { requireMoto, startMoto, type MotoServer } from '../../../harness/moto';
import { DEPLOYMENT_ALIASES } from '../../../scripts/lib/bundle';

vi.mock('@aws-sdk/client-sts', () => import('../../../deploy-functions/aws/sts-assume-role'));
vi.mock('@aws-sdk/client-sns', () => import('../../../deploy-functions/aws/sns-publish'));

const OWN = { accessKeyId: 'test', secretAccessKey: 'test' };
const fast = () => clientConfig({ connectionTimeoutMs: 500, requestTimeoutMs: 2_000 });

describe.runIf(requireMoto('bundled S3, STS and SNS calls'))('S3ArtifactStore, and TargetClients and SnsNotifier with the bundles\' STS and SNS clients, against moto', () => {
  let moto: MotoServer;
  /** The AWS CLI against moto (the SQS client is not a dependency; the SNS and STS modules are the bundles' here). */
  const aws = (...args: string[]) => {
    const run = spawnSync('aws', [...args, '--endpoint-url', moto.endpoint, '--output', 'json'], { env: { ...process.env, ...moto.env }, encoding: 'utf8' });
    if (run.status !== 0) throw new Error(`aws ${args.join(' ')}: ${run.stderr}`);
    return JSON.parse(run.stdout || '{}') as Record<string, unknown>;
  };

  beforeAll(async () => {
    moto = await startMoto();
    for (const [key, value] of Object.entries(moto.env)) vi.stubEnv(key, value);
    const s3 = new S3Client({ endpoint: moto.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: OWN });
    await s3.send(new CreateBucketCommand({ Bucket: 'pipeline-artifacts' }));
    await s3.send(new PutObjectCommand({ Bucket: 'pipeline-artifacts', Key: 'build/plain.zip', Body: 'plain artifact', ChecksumAlgorithm: 'SHA256' }));
    await s3.send(new PutObjectCommand({ Bucket: 'pipeline-artifacts', Key: 'build/kms.zip', Body: 'encrypted artifact', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: 'alias/aws/s3' }));
  }, 60_000);
  afterAll(async () => {
    vi.unstubAllEnvs();
    await moto?.stop();
  });

  it('substitutes exactly what the bundles substitute', () => {
    expect(DEPLOYMENT_ALIASES).toMatchObject({ '@aws-sdk/client-sts': './deploy-functions/aws/sts-assume-role.ts', '@aws-sdk/client-sns': './deploy-functions/aws/sns-publish.ts' });
  });

  it.each([
    ['an artifact with its checksum', 'build/plain.zip', 'plain artifact'],
    ['a KMS-encrypted artifact', 'build/kms.zip', 'encrypted artifact'],
  ])('reads %s with the job credentials', async (_, objectKey, expected) => {
    // Act
    const read = await new S3ArtifactStore().fetch({ bucketName: 'pipeline-artifacts', objectKey }, { accessKeyId: 'test', secretAccessKey: 'test', sessionToken: 'test' });
    // Assert
    expect(Buffer.from(read).toString()).toBe(expected);
  });

  it.each([
    ['object', 'pipeline-artifacts', 'build/missing.zip'],
    ['bucket', 'no-such-bucket', 'build/plain.zip'],
  ])('says a missing %s does not exist', async (_, bucketName, objectKey) => {
    // Act
    const reading = new S3ArtifactStore().fetch({ bucketName, objectKey });
    // Assert
    await expect(reading).rejects.toMatchObject({ code: ErrorCode.ARTIFACT_UNREADABLE, message: `input artifact s3://${bucketName}/${objectKey} does not exist` });
  });

  it('assumes a deployer role: the credentials act in the other account', async () => {
    // Arrange
    const targets = new TargetClients({ home: { partition: 'aws', account: '123456789012', region: 'us-east-1' } });
    // Act
    const credentials = await targets.credentialsOf({ partition: 'aws', account: '210987654321', region: 'us-east-1' });
    const identity = aws('sts', 'get-caller-identity', '--region', 'us-east-1');
    const assumed = spawnSync('aws', ['sts', 'get-caller-identity', '--endpoint-url', moto.endpoint, '--output', 'json'], {
      env: { ...process.env, ...moto.env, AWS_ACCESS_KEY_ID: credentials.accessKeyId, AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey, AWS_SESSION_TOKEN: credentials.sessionToken },
      encoding: 'utf8',
    });
    // Assert
    expect(credentials.expiration.getTime()).toBeGreaterThan(Date.now());
    expect(identity.Account).toBe('123456789012');
    expect((JSON.parse(assumed.stdout) as { Arn: string }).Arn).toMatch(/^arn:aws:sts::210987654321:assumed-role\/lrp-deployer-us-east-1\/lrp-[0-9a-f]{8}$/);
  });

  it('publishes a notice that a subscriber receives as sent', async () => {
    // Arrange
    const topicArn = aws('sns', 'create-topic', '--name', 'notices').TopicArn as string;
    const queueUrl = aws('sqs', 'create-queue', '--queue-name', 'notices-reader').QueueUrl as string;
    aws('sns', 'subscribe', '--topic-arn', topicArn, '--protocol', 'sqs', '--notification-endpoint', 'arn:aws:sqs:us-east-1:123456789012:notices-reader', '--attributes', 'RawMessageDelivery=true');
    const message = JSON.stringify({ version: 1, text: 'fn:live rolled back 2 → 1 & <why>' });
    // Act
    await new SnsNotifier(topicArn).publish({ subject: '[lrp] fn:live rolled back', message });
    const received = aws('sqs', 'receive-message', '--queue-url', queueUrl, '--wait-time-seconds', '1') as { Messages?: { Body: string }[] };
    // Assert
    expect(received.Messages?.map((m) => m.Body)).toEqual([message]);
  });

  it('turns an STS refusal into the deployer role error, naming the role, STS\'s code and message', async () => {
    // Arrange: an STS endpoint on loopback that refuses
    const bodies: string[] = [];
    const server = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => {
        bodies.push(body);
        response.writeHead(403).end('<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>not authorized to perform: sts:AssumeRole</Message></Error><RequestId>r-1</RequestId></ErrorResponse>');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    vi.stubEnv('AWS_ENDPOINT_URL_STS', `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    const { STSClient } = await import('@aws-sdk/client-sts');
    const targets = new TargetClients({ home: { partition: 'aws', account: '111111111111', region: 'us-east-1' }, sts: new STSClient({ ...fast(), credentials: OWN }) });
    try {
      // Act
      const assuming = targets.credentialsOf({ partition: 'aws', account: '222222222222', region: 'eu-west-1' });
      // Assert
      await expect(assuming).rejects.toMatchObject({ name: 'DeployerRoleError', code: ErrorCode.AWS_ACCESS_DENIED, message: expect.stringContaining('AccessDenied: not authorized to perform: sts:AssumeRole') });
      expect(bodies).toHaveLength(1);
      expect(new URLSearchParams(bodies[0]).get('RoleArn')).toBe('arn:aws:iam::222222222222:role/lrp-deployer-eu-west-1');
    } finally {
      vi.stubEnv('AWS_ENDPOINT_URL_STS', moto.endpoint);
      server.close();
    }
  });
});
