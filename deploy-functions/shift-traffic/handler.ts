import { systemClock } from '../core/ports';
import { CloudWatchAdapter, cloudWatchClient } from '../aws/cloudwatch';
import { CodePipelineAdapter, codePipelineClient } from '../aws/codepipeline';
import { LambdaAdapter, lambdaClient } from '../aws/lambda';
import { DynamoDbLedger, dynamoDbClient } from '../aws/ledger';
import { createObservability } from '../aws/observability';
import { createShiftTrafficHandler } from '../engine/handlers';
import { shiftTrafficSettingsFromEnv } from '../engine/settings';
import type { ShiftTrafficDeps } from '../engine/shift-traffic';

// Everything below runs once per container; warm invocations reuse clients, configuration and observability.
const { logger, metrics } = createObservability('lrp-shift-traffic', [lambdaClient, cloudWatchClient, codePipelineClient, dynamoDbClient]);

function engineDeps(): ShiftTrafficDeps | Error {
  try {
    return {
      lambda: new LambdaAdapter(),
      cloudwatch: new CloudWatchAdapter(),
      ledger: new DynamoDbLedger(process.env.LEDGER_TABLE ?? ''),
      clock: systemClock,
      logger,
      settings: shiftTrafficSettingsFromEnv(process.env),
    };
  } catch (error) {
    return error as Error;
  }
}

/** CodePipeline Lambda-invoke action: shift an alias to a new version step by step, rolling back on a breach. */
export const handler = createShiftTrafficHandler({ pipeline: new CodePipelineAdapter(), logger, clock: systemClock, metrics }, engineDeps());
