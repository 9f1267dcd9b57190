import { systemClock } from '../core/ports';
import { CodePipelineAdapter, codePipelineClient } from '../aws/codepipeline';
import { LambdaInvoker, invokeClient } from '../aws/lambda';
import { createObservability } from '../aws/observability';
import { S3ArtifactStore } from '../aws/s3';
import { TargetClients, runsAtHome } from '../aws/target-clients';
import { targetEnvsOrError } from '../core/event-trust';
import { installationFromEnv } from '../core/names';
import { createPipelineHandler } from '../engine/handlers';
import { runIntegrationTests, type IntegrationTestDeps } from '../engine/integration-test';
import { integrationTestSettingsFromEnv } from '../engine/settings';

// Runs once per container; warm invocations reuse clients, configuration and observability.
const { logger, metrics, traceClient } = createObservability('lrp-integration-test', [invokeClient, codePipelineClient]);
// A stage in another account or region (its function named by ARN) is invoked through that environment's deployer role.
// The only other environments it may act in (LRP_TARGET_ENVS); a bad value fails every job, naming the variable.
const targetEnvs = targetEnvsOrError(process.env);
const targets = new TargetClients({ installation: installationFromEnv(process.env), targets: targetEnvs instanceof Error ? [] : targetEnvs, onClient: (client) => traceClient(client as Parameters<typeof traceClient>[0]) });

function engineDeps(): IntegrationTestDeps | Error {
  try {
    if (targetEnvs instanceof Error) return targetEnvs;
    return { artifacts: new S3ArtifactStore(), invoker: new LambdaInvoker(invokeClient, targets), clock: systemClock, logger, settings: integrationTestSettingsFromEnv(process.env) };
  } catch (error) {
    return error as Error;
  }
}
const deps = engineDeps();

/** CodePipeline Lambda-invoke action: run a function's integration cases against its candidate, within its own timeout. */
export const handler = runsAtHome(
  targets,
  createPipelineHandler({ pipeline: new CodePipelineAdapter(), logger, clock: systemClock, metrics }, deps instanceof Error ? deps : (job, context) => runIntegrationTests(job, context.getRemainingTimeInMillis(), deps)),
);
