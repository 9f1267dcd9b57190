import { systemClock } from '../core/ports';
import { CodePipelineAdapter, codePipelineClient } from '../aws/codepipeline';
import { LambdaInvoker, invokeClient } from '../aws/lambda';
import { createObservability } from '../aws/observability';
import { S3ArtifactStore } from '../aws/s3';
import { createPipelineHandler } from '../engine/handlers';
import { runIntegrationTests, type IntegrationTestDeps } from '../engine/integration-test';
import { integrationTestSettingsFromEnv } from '../engine/settings';

// Runs once per container; warm invocations reuse clients, configuration and observability.
const { logger, metrics } = createObservability('lrp-integration-test', [invokeClient, codePipelineClient]);

function engineDeps(): IntegrationTestDeps | Error {
  try {
    return { artifacts: new S3ArtifactStore(), invoker: new LambdaInvoker(), clock: systemClock, logger, settings: integrationTestSettingsFromEnv(process.env) };
  } catch (error) {
    return error as Error;
  }
}
const deps = engineDeps();

/** CodePipeline Lambda-invoke action: run a function's integration cases against its candidate, within its own timeout. */
export const handler = createPipelineHandler(
  { pipeline: new CodePipelineAdapter(), logger, clock: systemClock, metrics },
  deps instanceof Error ? deps : (job, context) => runIntegrationTests(job, context.getRemainingTimeInMillis(), deps),
);
