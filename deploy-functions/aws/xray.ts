// X-Ray subsegments for the deployment functions' SDK calls, written straight to the X-Ray daemon Lambda runs beside
// a function with active tracing. It records what Powertools Tracer's captureAWSv3Client recorded for these functions
// (one `aws` subsegment per call: service, operation, region, request id, retries, HTTP status, error / throttle /
// fault flags, the remote exception; the trace header passed on with the subsegment as parent) without bundling
// aws-xray-sdk-core: about 120 KB of each bundle and 15–20 ms of each cold start.
import { randomBytes } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';

/** What is read from the environment: Lambda sets all three when the function has active tracing. */
export interface XRayEnv {
  readonly _X_AMZN_TRACE_ID?: string;
  readonly AWS_XRAY_DAEMON_ADDRESS?: string;
  readonly POWERTOOLS_TRACE_ENABLED?: string;
}

/** A client whose calls can be traced: every SDK v3 client. */
export interface TraceableClient {
  readonly config: { readonly region?: unknown };
  readonly middlewareStack: { add(middleware: unknown, options: { step: 'build'; name: string; override?: boolean }): void };
}

/** One datagram's destination and how it is sent: the daemon's UDP address, or a test's socket. */
export type SegmentSender = (document: string, port: number, host: string) => void;

const HEADER = '{"format":"json","version":1}\n';
let socket: Socket | undefined;
const udpSend: SegmentSender = (document, port, host) => {
  socket ??= createSocket('udp4').unref();
  // Tracing never fails a deployment: a datagram that cannot be sent is dropped, as the X-Ray SDK drops it.
  socket.send(`${HEADER}${document}`, port, host, () => undefined);
};

/** The daemon's UDP address from AWS_XRAY_DAEMON_ADDRESS (`host:port`, or `udp:host:port tcp:host:port`). */
export function daemonAddress(value: string | undefined): { host: string; port: number } | undefined {
  const udp = value?.split(/\s+/).find((part) => part.startsWith('udp:'))?.slice(4) ?? value;
  const match = udp?.match(/^(.+):(\d+)$/);
  return match ? { host: match[1]!, port: Number(match[2]) } : undefined;
}

/** The sampled trace a call belongs to, from Lambda's trace header; undefined when the invocation is not sampled. */
export function sampledTrace(header: string | undefined): { root: string; parent: string; extra: string } | undefined {
  const fields = new Map((header ?? '').split(';').map((part) => part.split('=') as [string, string?]).map(([key, value]) => [key.trim(), value ?? '']));
  const root = fields.get('Root');
  const parent = fields.get('Parent');
  if (!root || !parent || fields.get('Sampled') !== '1') return undefined;
  const extra = [...fields].filter(([key]) => !['Root', 'Parent', 'Sampled', ''].includes(key)).map(([key, value]) => `;${key}=${value}`).join('');
  return { root, parent, extra };
}

type Metadata = { httpStatusCode?: number; requestId?: string; extendedRequestId?: string; attempts?: number };
type Failure = { name?: string; message?: string; $metadata?: Metadata; $retryable?: { throttling?: boolean } };

/** The subsegment document of one finished call, as the X-Ray SDK writes it for an SDK v3 call. */
export function callSubsegment(call: {
  readonly trace: { root: string; parent: string };
  readonly id: string;
  readonly service: string;
  readonly operation: string;
  readonly region: string | undefined;
  readonly startTime: number;
  readonly endTime: number;
  readonly metadata: Metadata | undefined;
  readonly error?: Failure;
}): Record<string, unknown> {
  const status = call.metadata?.httpStatusCode;
  const throttled = status === 429 || call.error?.$retryable?.throttling === true;
  return {
    id: call.id,
    name: call.service,
    trace_id: call.trace.root,
    parent_id: call.trace.parent,
    type: 'subsegment',
    namespace: 'aws',
    start_time: call.startTime,
    end_time: call.endTime,
    aws: { operation: call.operation, region: call.region, request_id: call.metadata?.requestId, id_2: call.metadata?.extendedRequestId, retries: Math.max(0, (call.metadata?.attempts ?? 1) - 1) },
    ...(status === undefined ? {} : { http: { response: { status } } }),
    ...(throttled ? { throttle: true, error: true } : status !== undefined && status >= 500 ? { fault: true } : call.error ? { error: true } : {}),
    ...(call.error ? { cause: { exceptions: [{ id: randomBytes(8).toString('hex'), type: call.error.name ?? 'Error', message: call.error.message ?? '', remote: call.error.$metadata !== undefined }] } } : {}),
  };
}

const seconds = () => Date.now() / 1000;

/**
 * Adds a subsegment per call of `client` while the invocation is sampled (Lambda's `_X_AMZN_TRACE_ID`) and a daemon is
 * there (`AWS_XRAY_DAEMON_ADDRESS`); elsewhere, and with POWERTOOLS_TRACE_ENABLED=false, calls go through untouched.
 */
export function traceAwsClient<T extends TraceableClient>(client: T, env: XRayEnv = process.env, send: SegmentSender = udpSend): T {
  const middleware = (next: (args: { request?: { headers?: Record<string, string> } }) => Promise<{ output?: { $metadata?: Metadata } }>, context: { clientName?: string; commandName?: string }) =>
    async (args: { request?: { headers?: Record<string, string> } }) => {
      const trace = env.POWERTOOLS_TRACE_ENABLED === 'false' ? undefined : sampledTrace(env._X_AMZN_TRACE_ID);
      const daemon = daemonAddress(env.AWS_XRAY_DAEMON_ADDRESS);
      if (!trace || !daemon) return next(args);
      const id = randomBytes(8).toString('hex');
      // Downstream services (a function under test, invoked) join the trace under this call, not beside it.
      if (args.request?.headers) args.request.headers['X-Amzn-Trace-Id'] = `Root=${trace.root};Parent=${id};Sampled=1${trace.extra}`;
      const startTime = seconds();
      const region = await regionOf(client);
      const call = { trace, id, service: (context.clientName ?? 'AWS').replace(/Client$/, ''), operation: (context.commandName ?? '').replace(/Command$/, ''), region, startTime };
      try {
        const result = await next(args);
        send(JSON.stringify(callSubsegment({ ...call, endTime: seconds(), metadata: result.output?.$metadata })), daemon.port, daemon.host);
        return result;
      } catch (error) {
        const failure = error as Failure;
        send(JSON.stringify(callSubsegment({ ...call, endTime: seconds(), metadata: failure?.$metadata, error: failure })), daemon.port, daemon.host);
        throw error;
      }
    };
  client.middlewareStack.add(middleware, { step: 'build', name: 'lrpXRaySubsegment', override: true });
  return client;
}

async function regionOf(client: TraceableClient): Promise<string | undefined> {
  const region = client.config.region;
  try {
    return typeof region === 'function' ? String(await (region as () => Promise<string>)()) : typeof region === 'string' ? region : undefined;
  } catch {
    return undefined;
  }
}
