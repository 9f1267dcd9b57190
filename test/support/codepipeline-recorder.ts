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
export async function startCodePipelineRecorder(): Promise<{ endpoint: string; calls: RecordedCall[]; stop(): Promise<void> }> {
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
    stop: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
