// Runs the integration-test action through its pipeline handler on a virtual clock, with an in-memory artifact.
import type { InvokePort } from '../../../deploy-functions/core/ports';
import { createPipelineHandler } from '../../../deploy-functions/engine/handlers';
import { runIntegrationTests, type IntegrationTestSettings } from '../../../deploy-functions/engine/integration-test';
import { deterministicZip } from '../../../scripts/lib/bundle';
import { FakePipeline, Faults, MemoryLogger, VirtualClock, fakeContext } from '../../support/fake-aws';

/** A build output artifact: a packaged template besides `files`. */
export const artifactZip = (files: Record<string, Uint8Array>) => deterministicZip({ 'dist/orders-api.packaged.yaml': new TextEncoder().encode('x'), ...files });

/** How a run is set up besides its artifact and invoker. */
export interface RunOptions {
  /** The action's own Lambda timeout. @default 60000 */
  readonly lambdaTimeoutMs?: number;
  /** @default - the engine's defaults */
  readonly settings?: IntegrationTestSettings;
}

/** Runs the action on a virtual clock; `invoker` may be built on that clock. The result carries when it was reported. */
export function runAction(zip: Uint8Array | undefined, invoker: InvokePort | ((clock: VirtualClock) => InvokePort), options: RunOptions = {}) {
  const clock = new VirtualClock();
  const startedAt = clock.now();
  const faults = new Faults(1);
  const pipeline = new FakePipeline(clock, faults);
  const logger = new MemoryLogger();
  const artifacts = { fetch: async () => zip ?? new Uint8Array([1, 2, 3]) };
  const deps = { artifacts, invoker: typeof invoker === 'function' ? invoker(clock) : invoker, clock, logger, settings: options.settings };
  const handler = createPipelineHandler({ pipeline, logger, clock }, (job, context) => runIntegrationTests(job, context.getRemainingTimeInMillis(), deps));
  return async (params: unknown, withArtifact = true) => {
    const event = {
      'CodePipeline.job': {
        id: 'job-1',
        data: {
          actionConfiguration: { configuration: { UserParameters: typeof params === 'string' ? params : JSON.stringify(params) } },
          inputArtifacts: withArtifact ? [{ name: 'BuildOutput', location: { s3Location: { bucketName: 'b', objectKey: 'k' } } }] : [],
          artifactCredentials: { accessKeyId: 'a', secretAccessKey: 's', sessionToken: 't' },
        },
      },
    };
    pipeline.createJob(event);
    await clock.drive(handler(event, fakeContext(clock, options.lambdaTimeoutMs ?? 60_000, 'r')));
    const result = pipeline.finalResults('job-1')[0]!;
    return { ...result, elapsedMs: result.at - startedAt };
  };
}
