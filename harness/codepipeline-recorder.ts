import { createServer, type Server } from 'node:http';

/** One call CodePipeline's job API received. */
export interface RecordedCall {
  readonly operation: string;
  readonly input: Record<string, unknown>;
}

/**
 * A stand-in for CodePipeline's job-result API on a loopback port (moto does not implement it): point
 * `AWS_ENDPOINT_URL_CODEPIPELINE` at it and read what the deployment functions reported.
 */
/** A CodePipeline-invoked Lambda handler. */
export type PipelineHandler = (event: unknown, context: { awsRequestId: string; getRemainingTimeInMillis(): number }) => Promise<unknown>;

/** The recorder, and a way to run a job through its continuations as CodePipeline would. */
export interface CodePipelineRecorder {
  readonly endpoint: string;
  readonly calls: RecordedCall[];
  /** Invokes `handler` with the job, then again with each continuation token, until a final result; returns it. */
  runJob(handler: PipelineHandler, jobId: string, data: Record<string, unknown>, options?: { maxRounds?: number; timeoutMs?: number }): Promise<RecordedCall>;
  stop(): Promise<void>;
}

export async function startCodePipelineRecorder(): Promise<CodePipelineRecorder> {
  const calls: RecordedCall[] = [];
  const server: Server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      const operation = String(request.headers['x-amz-target'] ?? '').split('.').pop() ?? '';
      calls.push({ operation, input: body ? (JSON.parse(body) as Record<string, unknown>) : {} });
      response.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
      response.end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    calls,
    async runJob(handler, jobId, data, options = {}) {
      let continuationToken: string | undefined;
      for (let round = 0; round < (options.maxRounds ?? 200); round += 1) {
        const job = { id: jobId, data: { ...data, ...(continuationToken ? { continuationToken } : {}) } };
        await handler({ 'CodePipeline.job': job }, { awsRequestId: `${jobId}-${round}`, getRemainingTimeInMillis: () => options.timeoutMs ?? 60_000 });
        const last = calls.filter((call) => call.input.jobId === jobId).at(-1);
        if (!last) throw new Error(`job ${jobId} ended without any result`);
        if (last.operation === 'PutJobFailureResult' || !last.input.continuationToken) return last;
        continuationToken = last.input.continuationToken as string;
      }
      throw new Error(`job ${jobId} did not end`);
    },
    stop: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
