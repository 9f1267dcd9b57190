import { createServer, type Server } from 'node:http';

/** One call CodePipeline's job API received. */
export interface RecordedCall {
  readonly operation: string;
  readonly input: Record<string, unknown>;
}

/** A CodePipeline-invoked Lambda handler. */
export type PipelineHandler = (event: unknown, context: { awsRequestId: string; getRemainingTimeInMillis(): number; invokedFunctionArn?: string }) => Promise<unknown>;

/** The recorder, and a way to run a job through its continuations as CodePipeline would. */
export interface CodePipelineRecorder {
  readonly endpoint: string;
  readonly calls: RecordedCall[];
  /** CodePipeline creates a job (what GetJobDetails then answers); later calls for the same id change nothing. */
  createJob(jobId: string, data: Record<string, unknown>): void;
  /** The event CodePipeline sends for a job it created: its current data, continuation token included. */
  eventOf(jobId: string): { 'CodePipeline.job': { id: string; data: Record<string, unknown> } };
  /** Creates the job, invokes `handler` with it, then again with each continuation token, until a final result; returns it. */
  runJob(handler: PipelineHandler, jobId: string, data: Record<string, unknown>, options?: { maxRounds?: number; timeoutMs?: number; invokedFunctionArn?: string }): Promise<RecordedCall>;
  /** What GetPipelineExecution answers for an execution (InProgress, Stopped, Failed, …). */
  setExecution(executionId: string, status: string): void;
  /** Forgets every job, execution and call (between tests). */
  reset(): void;
  stop(): Promise<void>;
}

/**
 * A stand-in for CodePipeline's job API on a loopback port (moto does not implement it): point
 * `AWS_ENDPOINT_URL_CODEPIPELINE` at it. It answers GetJobDetails for the jobs it created (the continuation token
 * following each PutJobSuccessResult, as CodePipeline keeps it) and records what the deployment functions reported.
 */
export async function startCodePipelineRecorder(): Promise<CodePipelineRecorder> {
  const calls: RecordedCall[] = [];
  const jobs = new Map<string, Record<string, unknown>>();
  const executions = new Map<string, string>();
  const answer = (operation: string, input: Record<string, unknown>): { status: number; body: Record<string, unknown> } => {
    const jobId = String(input.jobId ?? '');
    const data = jobs.get(jobId);
    switch (operation) {
      case 'GetJobDetails':
        return data ? { status: 200, body: { jobDetails: { id: jobId, data, accountId: '123456789012' } } } : { status: 400, body: { __type: 'JobNotFoundException', message: `job ${jobId} not found` } };
      case 'GetPipelineExecution': {
        const id = String(input.pipelineExecutionId ?? '');
        const status = executions.get(id);
        return status ? { status: 200, body: { pipelineExecution: { pipelineName: input.pipelineName, pipelineExecutionId: id, status } } } : { status: 400, body: { __type: 'PipelineExecutionNotFoundException', message: `execution ${id} not found` } };
      }
      case 'PutJobSuccessResult':
        if (data) jobs.set(jobId, { ...data, continuationToken: input.continuationToken });
        return { status: 200, body: {} };
      default:
        return { status: 200, body: {} };
    }
  };
  const server: Server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      const operation = String(request.headers['x-amz-target'] ?? '').split('.').pop() ?? '';
      const input = body ? (JSON.parse(body) as Record<string, unknown>) : {};
      if (!operation.startsWith('Get')) calls.push({ operation, input });
      const { status, body: reply } = answer(operation, input);
      response.writeHead(status, { 'content-type': 'application/x-amz-json-1.1', ...(status !== 200 ? { 'x-amzn-errortype': String(reply.__type) } : {}) });
      response.end(JSON.stringify(reply));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const createJob = (jobId: string, data: Record<string, unknown>) => {
    if (!jobs.has(jobId)) jobs.set(jobId, { ...data });
  };
  const eventOf = (jobId: string) => ({ 'CodePipeline.job': { id: jobId, data: { ...(jobs.get(jobId) ?? {}) } } });
  return {
    endpoint: `http://127.0.0.1:${port}`,
    calls,
    createJob,
    eventOf,
    async runJob(handler, jobId, data, options = {}) {
      createJob(jobId, data);
      for (let round = 0; round < (options.maxRounds ?? 200); round += 1) {
        await handler(eventOf(jobId), { awsRequestId: `${jobId}-${round}`, getRemainingTimeInMillis: () => options.timeoutMs ?? 60_000, ...(options.invokedFunctionArn ? { invokedFunctionArn: options.invokedFunctionArn } : {}) });
        const last = calls.filter((call) => call.input.jobId === jobId).at(-1);
        if (!last) throw new Error(`job ${jobId} ended without any result`);
        if (last.operation === 'PutJobFailureResult' || !last.input.continuationToken) return last;
      }
      throw new Error(`job ${jobId} did not end`);
    },
    setExecution: (executionId, status) => executions.set(executionId, status),
    reset: () => {
      jobs.clear();
      executions.clear();
      calls.length = 0;
    },
    stop: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
