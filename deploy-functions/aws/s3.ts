// Reads a pipeline artifact with one signed GET instead of the S3 client, which is about 140 KB of minified bundle
// (40 KB zipped) for this single call (README, "Deployment function size"). SigV4 is all S3 asks of a reader, KMS-
// encrypted objects included.
import { createHash } from 'node:crypto';
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { isVirtualHostableS3Bucket } from '@aws-sdk/core/client';
import { Crc32 } from '@smithy/core/checksum';
import { escapeUri } from '@smithy/core/protocols';
import { DeploymentError, ErrorCode } from '../core/errors';
import type { ArtifactPort } from '../core/ports';
import { clientConfig } from './client-config';
import { translateAwsError } from './errors';
import { awsErrorOf, awsHost, configuredEndpoint, sendSigned, type CredentialSource } from './signed-request';

/** Where an object is read from. */
export interface S3Location {
  readonly bucketName: string;
  readonly objectKey: string;
}

/**
 * The URL of an object: on a configured endpoint (AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL: moto, LocalStack, MinIO)
 * path-style; on AWS virtual-hosted in the region's partition, path-style for a bucket name that cannot be a host
 * name (dots, capitals) or with `S3_FORCE_PATH_STYLE=true`.
 */
export function objectUrl(location: S3Location, region: string, env: NodeJS.ProcessEnv = process.env): URL {
  const key = location.objectKey.split('/').map(escapeUri).join('/');
  const endpoint = configuredEndpoint('s3', env);
  if (endpoint) return new URL(`${endpoint.origin}${endpoint.pathname.replace(/\/$/, '')}/${location.bucketName}/${key}`);
  const host = awsHost('s3', region, env);
  const virtual = env.S3_FORCE_PATH_STYLE !== 'true' && isVirtualHostableS3Bucket(location.bucketName, false);
  return new URL(virtual ? `https://${location.bucketName}.${host}/${key}` : `https://${host}/${location.bucketName}/${key}`);
}

/** The full-object checksums S3 may send that are checked here (CRC32C and CRC64NVME are not: Node has no native hash for them). */
const CHECKSUMS: readonly (readonly [string, (body: Uint8Array) => Promise<string> | string])[] = [
  ['x-amz-checksum-sha256', (body) => createHash('sha256').update(body).digest('base64')],
  ['x-amz-checksum-sha1', (body) => createHash('sha1').update(body).digest('base64')],
  [
    'x-amz-checksum-crc32',
    async (body) => {
      const crc = new Crc32();
      crc.update(body);
      return Buffer.from(await crc.digest()).toString('base64');
    },
  ],
];

/** Why a read object is not what S3 said it sent (truncated, or a full-object checksum differs); undefined when it is. */
async function integrityProblem(body: Uint8Array, headers: Readonly<Record<string, string | undefined>>): Promise<string | undefined> {
  const length = headers['content-length'];
  if (length !== undefined && Number(length) !== body.byteLength) return `${body.byteLength} bytes read of ${length}`;
  // A multipart object's checksum is of its parts' checksums (`…-<parts>`, type COMPOSITE): not the body's.
  if (headers['x-amz-checksum-type'] === 'COMPOSITE') return undefined;
  for (const [header, compute] of CHECKSUMS) {
    const expected = headers[header];
    if (expected && !expected.includes('-') && (await compute(body)) !== expected) return `${header.slice('x-amz-checksum-'.length)} checksum mismatch`;
  }
  return undefined;
}

/** Options of `S3ArtifactStore`. */
export interface S3ArtifactStoreProps {
  /** @default AWS_REGION */
  readonly region?: string;
  /** Credentials when a call brings none. @default - the SDK's default chain (in a bundle: the environment's) */
  readonly credentials?: CredentialSource;
}

/** Reads CodePipeline artifacts from S3 with the job's temporary credentials. */
export class S3ArtifactStore implements ArtifactPort {
  private readonly config = clientConfig({ requestTimeoutMs: 30_000 });
  private readonly ownCredentials: CredentialSource;

  constructor(private readonly props: S3ArtifactStoreProps = {}) {
    this.ownCredentials = props.credentials ?? defaultProvider();
  }

  async fetch(location: S3Location, credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken: string }, options: { signal?: AbortSignal } = {}): Promise<Uint8Array> {
    const where = `s3://${location.bucketName}/${location.objectKey}`;
    const region = this.props.region ?? process.env.AWS_REGION ?? '';
    let answer;
    try {
      answer = await sendSigned({
        service: 's3',
        region,
        method: 'GET',
        url: objectUrl(location, region),
        headers: { 'x-amz-checksum-mode': 'ENABLED' },
        credentials: credentials ?? this.ownCredentials,
        requestHandler: this.config.requestHandler,
        maxAttempts: this.config.maxAttempts,
        ...(options.signal ? { signal: options.signal } : {}),
      });
    } catch (error) {
      throw translateAwsError(error, `GetObject ${where}`);
    }
    if (answer.status === 404) {
      throw new DeploymentError(ErrorCode.ARTIFACT_UNREADABLE, `input artifact ${where} does not exist`, { cause: awsErrorOf(answer, 'NotFound') });
    }
    if (answer.status !== 200) throw translateAwsError(awsErrorOf(answer, answer.status === 403 ? 'AccessDenied' : 'UnknownError'), `GetObject ${where}`);
    const problem = await integrityProblem(answer.body, answer.headers);
    if (problem) throw new DeploymentError(ErrorCode.ARTIFACT_UNREADABLE, `input artifact ${where} arrived damaged (${problem})`);
    return answer.body;
  }
}
