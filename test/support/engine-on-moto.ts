// The deployment functions' handlers run in-process against moto, with CodePipeline's job API played by the recorder:
// what the moto suites of the engine, the operations and the CLI share.
import { vi } from 'vitest';
import { startCodePipelineRecorder } from '../../harness/codepipeline-recorder';
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
