import { S3Client, GetObjectCommand } from '@aws-sdk/client-s3';
import { DeploymentError, ErrorCode } from '../core/errors';
import type { ArtifactPort } from '../core/ports';
import { clientConfig } from './client-config';
import { translateAwsError } from './errors';

/** `S3_FORCE_PATH_STYLE=true` for S3-compatible endpoints (LocalStack, moto) that do not serve virtual-hosted buckets. */
const forcePathStyle = process.env.S3_FORCE_PATH_STYLE === 'true';

/** The client for the function's own role; job credentials get a client of their own (cached per key). */
const clients = new Map<string, S3Client>();
function clientFor(credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken: string }): S3Client {
  const key = credentials?.accessKeyId ?? '';
  let client = clients.get(key);
  if (!client) {
    client = new S3Client({ ...clientConfig({ requestTimeoutMs: 30_000 }), forcePathStyle, ...(credentials ? { credentials } : {}) });
    if (clients.size > 16) clients.clear();
    clients.set(key, client);
  }
  return client;
}

/** Reads CodePipeline artifacts from S3 with the job's temporary credentials. */
export class S3ArtifactStore implements ArtifactPort {
  async fetch(location: { bucketName: string; objectKey: string }, credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken: string }, options: { signal?: AbortSignal } = {}): Promise<Uint8Array> {
    try {
      const output = await clientFor(credentials).send(new GetObjectCommand({ Bucket: location.bucketName, Key: location.objectKey }), { abortSignal: options.signal });
      if (!output.Body) throw new DeploymentError(ErrorCode.ARTIFACT_UNREADABLE, `s3://${location.bucketName}/${location.objectKey} is empty`);
      return await output.Body.transformToByteArray();
    } catch (error) {
      const name = (error as { name?: string })?.name;
      if (name === 'NoSuchKey' || name === 'NoSuchBucket' || name === 'NotFound') {
        throw new DeploymentError(ErrorCode.ARTIFACT_UNREADABLE, `input artifact s3://${location.bucketName}/${location.objectKey} does not exist`, { cause: error });
      }
      throw translateAwsError(error, `GetObject s3://${location.bucketName}/${location.objectKey}`);
    }
  }
}
