import { systemClock } from '../core/ports';
import { LambdaAdapter, lambdaClient } from '../aws/lambda';
import { DynamoDbLedger, dynamoDbClient } from '../aws/ledger';
import { createObservability } from '../aws/observability';
import { createRollbackHandler } from '../engine/handlers';

// Runs once per container; warm invocations reuse clients and observability.
const { logger, metrics } = createObservability('lrp-rollback', [lambdaClient, dynamoDbClient]);

/** EventBridge target for "CloudWatch Alarm State Change": puts a deploying or baking alias back on its previous version. */
export const handler = createRollbackHandler({
  lambda: new LambdaAdapter(),
  ledger: new DynamoDbLedger(process.env.LEDGER_TABLE ?? ''),
  clock: systemClock,
  logger,
  metrics,
});
