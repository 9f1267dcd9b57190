import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { pythonToolsFound } from './python-tools';

/** A moto server (AWS API emulator) running on a loopback port for one test file. */
export interface MotoServer {
  /** `http://127.0.0.1:<port>` — give it to the SDK as `AWS_ENDPOINT_URL`. */
  readonly endpoint: string;
  /** Environment that points the SDK and the AWS CLI at this server with dummy credentials. */
  readonly env: Record<string, string>;
  /** Forgets every resource (moto's reset API). */
  reset(): Promise<void>;
  stop(): Promise<void>;
}

/** Whether moto's server can be started here (`python3 -m moto.server`): as the run's Python tools check found, else asked. */
export function motoAvailable(): boolean {
  return pythonToolsFound() || spawnSync('python3', ['-c', 'import moto.server, flask'], { stdio: 'ignore' }).status === 0;
}

/**
 * Decides whether a moto-backed suite runs. In CI a missing moto fails the run; elsewhere the suite is skipped
 * with a loud message saying how to install it.
 */
export function requireMoto(suite: string): boolean {
  if (motoAvailable()) return true;
  const hint = `moto is not installed: ${suite} needs it (pip install "moto[server]")`;
  if (process.env.CI === 'true') throw new Error(hint);
  console.warn(`\n!!! SKIPPING ${suite}: ${hint}\n`);
  return false;
}

/** Finds a free TCP port on the loopback interface. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

async function waitUntilUp(endpoint: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`moto exited early with code ${child.exitCode}`);
    try {
      const response = await fetch(`${endpoint}/moto-api/`);
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`moto did not answer on ${endpoint} within ${timeoutMs} ms`);
}

/** Starts moto on a free loopback port; `lambdaSimple` makes Invoke answer without Docker. */
export async function startMoto(options: { lambdaSimple?: boolean } = {}): Promise<MotoServer> {
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const child = spawn('python3', ['-m', 'moto.server', '-H', '127.0.0.1', '-p', String(port)], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  try {
    await waitUntilUp(endpoint, child, 20_000);
  } catch (error) {
    child.kill('SIGKILL');
    throw new Error(`${(error as Error).message}\n${stderr}`, { cause: error });
  }
  const configure = async () => {
    if (options.lambdaSimple) {
      await fetch(`${endpoint}/moto-api/config`, { method: 'POST', body: JSON.stringify({ lambda: { use_docker: false } }) });
    }
  };
  await configure();
  return {
    endpoint,
    env: {
      AWS_ENDPOINT_URL: endpoint,
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      AWS_REGION: 'us-east-1',
      AWS_DEFAULT_REGION: 'us-east-1',
    },
    async reset() {
      await fetch(`${endpoint}/moto-api/reset`, { method: 'POST' });
      await configure();
    },
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 3000).unref();
      }),
  };
}
