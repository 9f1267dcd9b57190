import { systemClock } from '../core/ports';
import { CodePipelineAdapter, codePipelineClient } from '../aws/codepipeline';
import { DynamoDbLedger, dynamoDbClient } from '../aws/ledger';
import { createObservability } from '../aws/observability';
import { SsmParameters, ssmClient } from '../aws/ssm';
import { createPipelineHandler } from '../engine/handlers';
import { checkDeploymentWindow, type DeployWindowDeps } from '../engine/deploy-window';

// Runs once per container; warm invocations reuse clients and observability.
const { logger, metrics } = createObservability('lrp-deploy-window', [ssmClient, dynamoDbClient, codePipelineClient]);

function gateDeps(): DeployWindowDeps | Error {
  try {
    return { parameters: new SsmParameters(), ledger: new DynamoDbLedger(process.env.LEDGER_TABLE ?? ''), clock: systemClock, logger };
  } catch (error) {
    return error as Error;
  }
}
const deps = gateDeps();

/** CodePipeline Lambda-invoke action: let a production release through only inside a deployment window. */
export const handler = createPipelineHandler(
  { pipeline: new CodePipelineAdapter(), logger, clock: systemClock, metrics },
  deps instanceof Error ? deps : (job) => checkDeploymentWindow(job, deps),
);
