import { systemClock } from '../core/ports';
import { CodePipelineAdapter, codePipelineClient } from '../aws/codepipeline';
import { LambdaInvoker, invokeClient } from '../aws/lambda';
import { createObservability } from '../aws/observability';
import { S3ArtifactStore } from '../aws/s3';
import { createPipelineHandler } from '../engine/handlers';
import { runIntegrationTests } from '../engine/integration-test';

// Runs once per container; warm invocations reuse clients and observability.
const { logger, metrics } = createObservability('lrp-integration-test', [invokeClient, codePipelineClient]);
const deps = { artifacts: new S3ArtifactStore(), invoker: new LambdaInvoker(), clock: systemClock, logger };

/** CodePipeline Lambda-invoke action: run a function's integration cases against its candidate. */
export const handler = createPipelineHandler({ pipeline: new CodePipelineAdapter(), logger, clock: systemClock, metrics }, (job) => runIntegrationTests(job, deps));
