// One signed AWS call made without a service client, for the calls whose SDK clients weigh far more than the call:
// S3 GetObject of a pipeline artifact (s3.ts), and in the bundles STS AssumeRole (sts-assume-role.ts) and SNS Publish
// (sns-publish.ts). It is built from what every deployment function's bundle already holds: Smithy's SigV4 signer, the
// NodeHttpHandler of clientConfig, and the SDK's partition table (README, "Deployment function size").
import { partition } from '@aws-sdk/core/client';
import { HttpRequest } from '@smithy/core/protocols';
import { Sha256 } from '@smithy/core/checksum';
import type { NodeHttpHandler } from '@smithy/node-http-handler';
import { SignatureV4 } from '@smithy/signature-v4';

/** Credentials a call is signed with. */
export interface SigningCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

/** Where credentials come from: given, or asked for each call (the SDK's default chain, or the environment's in a bundle). */
export type CredentialSource = SigningCredentials | (() => Promise<SigningCredentials>);

/** One signed call. */
export interface SignedCall {
  /** The signing name and the endpoint variable's suffix: `s3` reads AWS_ENDPOINT_URL_S3. */
  readonly service: 's3' | 'sts' | 'sns';
  readonly region: string;
  readonly method: 'GET' | 'POST';
  readonly url: URL;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
  readonly credentials: CredentialSource;
  /** The transport with the caller's timeouts (`clientConfig(...).requestHandler`). */
  readonly requestHandler: Pick<NodeHttpHandler, 'handle'>;
  /** Attempts, the first included, for network failures, throttling and 5xx answers. */
  readonly maxAttempts: number;
  readonly signal?: AbortSignal;
}

/** The answer to a signed call, read whole. */
export interface SignedAnswer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | undefined>>;
  readonly body: Uint8Array;
  /** Attempts made, the first included. */
  readonly attempts: number;
}

/** An endpoint set for `service` in the environment (AWS_ENDPOINT_URL_<SERVICE>, else AWS_ENDPOINT_URL), as the SDK reads it. */
export function configuredEndpoint(service: SignedCall['service'], env: NodeJS.ProcessEnv = process.env): URL | undefined {
  if (env.AWS_IGNORE_CONFIGURED_ENDPOINT_URLS === 'true') return undefined;
  const value = env[`AWS_ENDPOINT_URL_${service.toUpperCase()}`] ?? env.AWS_ENDPOINT_URL;
  return value ? new URL(value) : undefined;
}

/**
 * The AWS host of `service` in `region`, in the region's partition (amazonaws.com, amazonaws.com.cn, …), with the
 * FIPS and dual-stack variants the SDK picks from AWS_USE_FIPS_ENDPOINT and AWS_USE_DUALSTACK_ENDPOINT.
 */
export function awsHost(service: SignedCall['service'], region: string, env: NodeJS.ProcessEnv = process.env): string {
  const info = partition(region);
  const fips = env.AWS_USE_FIPS_ENDPOINT === 'true';
  const dualStack = env.AWS_USE_DUALSTACK_ENDPOINT === 'true';
  if (fips && (!info.supportsFIPS || (service === 's3' && info.name === 'aws-cn'))) throw new Error(`${service} in ${region} (${info.name}) has no FIPS endpoint; unset AWS_USE_FIPS_ENDPOINT`);
  // In GovCloud, STS's and SNS's regional endpoints are the FIPS ones (the SDK's rule sets say so).
  const name = `${service}${fips && !(info.name === 'aws-us-gov' && service !== 's3' && !dualStack) ? '-fips' : ''}`;
  // S3 keeps its own dual-stack form (s3.dualstack.<region>.amazonaws.com); other services use the partition's.
  if (dualStack && service === 's3') return `${name}.dualstack.${region}.${info.dnsSuffix}`;
  return `${name}.${region}.${dualStack ? info.dualStackDnsSuffix : info.dnsSuffix}`;
}

const RETRYABLE_STATUS = new Set([429, 500, 502, 503, 504]);
const RETRYABLE_NETWORK = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN']);
const isRetryableError = (error: unknown) => {
  const e = error as { name?: string; code?: string };
  return e?.name === 'TimeoutError' || RETRYABLE_NETWORK.has(e?.code ?? '');
};

/** Full-jitter exponential backoff as the SDK's standard retry strategy: up to 100 ms × 2^(attempt-1). */
const backoff = (attempt: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const timer = setTimeout(resolve, Math.random() * 100 * 2 ** (attempt - 1));
    signal?.addEventListener('abort', () => (clearTimeout(timer), reject(signal.reason)), { once: true });
  });

async function readBody(body: unknown): Promise<Uint8Array> {
  if (!body) return new Uint8Array();
  const chunks: Buffer[] = [];
  for await (const chunk of body as AsyncIterable<Buffer | string>) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return new Uint8Array(Buffer.concat(chunks));
}

/**
 * Signs `call` with SigV4 (for S3 also the payload hash S3 requires) and sends it, retrying network failures,
 * throttling and 5xx answers up to `maxAttempts` with backoff. Any other answer, error or not, is returned to the
 * caller, which knows what it means.
 */
export async function sendSigned(call: SignedCall): Promise<SignedAnswer> {
  if (!call.region) throw new Error(`${call.service}: no region (AWS_REGION is not set)`);
  const signer = new SignatureV4({
    service: call.service,
    region: call.region,
    credentials: typeof call.credentials === 'function' ? call.credentials : async () => call.credentials as SigningCredentials,
    sha256: Sha256,
    // S3 signs the path as sent, and wants the payload hash as a header; other services escape the path once more.
    uriEscapePath: call.service !== 's3',
    applyChecksum: call.service === 's3',
  });
  const { url } = call;
  for (let attempt = 1; ; attempt += 1) {
    const request = new HttpRequest({
      method: call.method,
      protocol: url.protocol,
      hostname: url.hostname,
      ...(url.port ? { port: Number(url.port) } : {}),
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers: { host: url.host, ...call.headers },
      ...(call.body !== undefined ? { body: call.body } : {}),
    });
    try {
      const signed = await signer.sign(request);
      const { response } = await call.requestHandler.handle(signed as HttpRequest, { abortSignal: call.signal });
      const body = await readBody(response.body);
      if (RETRYABLE_STATUS.has(response.statusCode) && attempt < call.maxAttempts) {
        await backoff(attempt, call.signal);
        continue;
      }
      return { status: response.statusCode, headers: response.headers, body, attempts: attempt };
    } catch (error) {
      if (!isRetryableError(error) || attempt >= call.maxAttempts || call.signal?.aborted) throw error;
      await backoff(attempt, call.signal);
    }
  }
}

/** The text of the first `<tag>` element in an XML answer, its entities decoded; undefined when there is none. */
export function xmlText(xml: string, tag: string): string | undefined {
  const match = new RegExp(`<${tag}>([^<]*)</${tag}>`).exec(xml);
  return match?.[1]?.replace(/&(lt|gt|quot|apos|amp|#(\d+)|#x([0-9a-fA-F]+));/g, (_, name: string, dec?: string, hex?: string) =>
    dec ? String.fromCodePoint(Number(dec)) : hex ? String.fromCodePoint(parseInt(hex, 16)) : ({ lt: '<', gt: '>', quot: '"', apos: "'", amp: '&' } as Record<string, string>)[name]!,
  );
}

/** What every answer carries, as the SDK shapes it: the HTTP status, the request id and the attempts it took. */
export interface ResponseMetadata {
  readonly httpStatusCode: number;
  readonly requestId?: string;
  readonly attempts: number;
}

/** An AWS error answer as the SDK's errors look to `translateAwsError`: `name` is the service's code, with the HTTP status. */
export function awsErrorOf(answer: SignedAnswer, fallbackCode: string): Error & { $metadata: { httpStatusCode: number; requestId?: string } } {
  const xml = Buffer.from(answer.body).toString('utf8');
  const code = xmlText(xml, 'Code') ?? fallbackCode;
  const message = xmlText(xml, 'Message') ?? `HTTP ${answer.status}${xml.trim() ? `: ${xml.trim().slice(0, 200)}` : ''}`;
  const requestId = xmlText(xml, 'RequestId') ?? answer.headers['x-amz-request-id'];
  return Object.assign(new Error(message), { name: code, $metadata: { httpStatusCode: answer.status, ...(requestId ? { requestId } : {}) } });
}

/** What a stand-in client is made with: `clientConfig(...)` (transport and attempts), and optionally region and credentials. */
export interface SignedClientConfig {
  readonly requestHandler: Pick<NodeHttpHandler, 'handle'>;
  /** @default 3 */
  readonly maxAttempts?: number;
  /** @default AWS_REGION */
  readonly region?: string;
  /** @default - the SDK's default chain (in a bundle: the environment's, the function's execution role) */
  readonly credentials?: CredentialSource;
}

type Args = { readonly input: unknown; readonly request: { readonly headers: Record<string, string> } };
type Next = (args: Args) => Promise<{ readonly output: unknown }>;
type Middleware = (next: Next, context: { readonly clientName: string; readonly commandName: string }) => Next;

/**
 * What the bundles' stand-ins for an SDK client (sts-assume-role.ts, sns-publish.ts) keep of one: `send` with a
 * command, `config.region`, and a middleware stack that X-Ray tracing (xray.ts) adds its build-step middleware to.
 */
export abstract class SignedClient {
  /** As an SDK client's: the region is read when a call is made (AWS_REGION unless given), not when the client is. */
  readonly config: { readonly region: () => Promise<string>; readonly maxAttempts: number; readonly requestHandler: SignedClientConfig['requestHandler']; readonly credentials: CredentialSource };
  private readonly middlewares = new Map<string, Middleware>();
  readonly middlewareStack = {
    add: (middleware: unknown, options: { readonly name: string }) => void this.middlewares.set(options.name, middleware as Middleware),
  };

  protected constructor(
    private readonly clientName: string,
    config: SignedClientConfig,
    defaultCredentials: () => CredentialSource,
  ) {
    this.config = { region: async () => config.region ?? process.env.AWS_REGION ?? '', maxAttempts: config.maxAttempts ?? 3, requestHandler: config.requestHandler, credentials: config.credentials ?? defaultCredentials() };
  }

  /** Runs `call` for `commandName` inside the middlewares added, with the headers they may set. */
  protected run<T>(commandName: string, input: unknown, call: (headers: Record<string, string>) => Promise<T>): Promise<T> {
    const core: Next = async (args) => ({ output: await call(args.request.headers) });
    const chain = [...this.middlewares.values()].reduceRight<Next>((next, middleware) => middleware(next, { clientName: this.clientName, commandName }), core);
    return chain({ input, request: { headers: {} } }).then((result) => result.output as T);
  }

  /**
   * Sends `input` as an AWS query-protocol action (a form-encoded POST of flat fields) and returns its XML answer; a
   * refusal is thrown as the SDK throws it (`name` is the service's error code, with `$metadata.httpStatusCode`).
   */
  protected async query(service: SignedCall['service'], action: { readonly Action: string; readonly Version: string }, input: object, headers: Record<string, string>, signal?: AbortSignal): Promise<{ xml: string; $metadata: ResponseMetadata }> {
    const params: Record<string, string> = { ...action };
    for (const [name, value] of Object.entries(input)) if (value !== undefined) params[name] = String(value);
    const body = new URLSearchParams(params).toString();
    const region = await this.config.region();
    const answer = await sendSigned({
      service,
      region,
      method: 'POST',
      url: configuredEndpoint(service) ?? new URL(`https://${awsHost(service, region)}/`),
      headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded', 'content-length': String(Buffer.byteLength(body)) },
      body,
      credentials: this.config.credentials,
      requestHandler: this.config.requestHandler,
      maxAttempts: this.config.maxAttempts,
      ...(signal ? { signal } : {}),
    });
    if (answer.status !== 200) throw awsErrorOf(answer, answer.status === 403 ? 'AccessDenied' : 'UnknownError');
    const xml = Buffer.from(answer.body).toString('utf8');
    const requestId = xmlText(xml, 'RequestId');
    return { xml, $metadata: { httpStatusCode: answer.status, attempts: answer.attempts, ...(requestId ? { requestId } : {}) } };
  }
}
