// The deployment functions' handlers run in-process against moto, with CodePipeline's job API played by the recorder:
// what the moto suites of the engine, the operations and the CLI share.
import { vi } from 'vitest';
import { startCodePipelineRecorder } from '../../harness/codepipeline-recorder';
import { lambdaContext } from '../../harness/lambda-context';
import { startMoto, type MotoServer } from '../../harness/moto';

/** Timings that let a rollout, its health checks and its continuations run in seconds. */
export const FAST_ENGINE_SETTINGS = { HEALTH_CHECK_INTERVAL_SECONDS: '0.2', SAFETY_MARGIN_SECONDS: '1', MAX_INVOCATION_SECONDS: '2' } as const;

export interface EngineOnMoto {
  readonly moto: MotoServer;
  readonly recorder: Awaited<ReturnType<typeof startCodePipelineRecorder>>;
  /** Stops both servers and takes the environment back. */
  stop(): Promise<void>;
}

/**
 * Starts moto and the recorder, and points the SDK's environment at them, with fast settings and `env` on top. Modules
 * are reset: import the handlers after this, so their clients are made for this environment.
 */
export async function startEngineOnMoto(env: Readonly<Record<string, string>>): Promise<EngineOnMoto> {
  const moto = await startMoto({ lambdaSimple: true });
  const recorder = await startCodePipelineRecorder();
  for (const [key, value] of Object.entries({ ...moto.env, AWS_ENDPOINT_URL_CODEPIPELINE: recorder.endpoint, ...FAST_ENGINE_SETTINGS, ...env })) vi.stubEnv(key, value);
  vi.resetModules();
  return {
    moto,
    recorder,
    stop: async () => {
      vi.unstubAllEnvs();
      await recorder.stop();
      await moto.stop();
    },
  };
}

/** What the rollback function returns for an event: one action per alias it judged. */
export type RollbackActions = { action: string; reason: string }[];

/**
 * The rollback function's handler, imported for the current environment (after `startEngineOnMoto`) and invoked as
 * Lambda invokes it: the context's function ARN tells the function its own account and region.
 */
export async function importRollbackFunction(): Promise<(event: unknown) => Promise<RollbackActions>> {
  const { handler } = (await import('../../deploy-functions/rollback/handler')) as unknown as { handler: (event: unknown, context: unknown) => Promise<RollbackActions> };
  return (event) => handler(event, lambdaContext({ functionName: 'lrp-rollback', timeoutSeconds: 60 }));
}
