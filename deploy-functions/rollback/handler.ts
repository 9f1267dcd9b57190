import { CloudWatchAdapter, cloudWatchClient } from '../aws/cloudwatch';
import { CodePipelineAdapter, codePipelineClient } from '../aws/codepipeline';
import { targetEnvsFromEnv } from '../core/event-trust';
import { installationFromEnv } from '../core/names';
import { systemClock } from '../core/ports';
import { LambdaAdapter, lambdaClient } from '../aws/lambda';
import { DynamoDbLedger, dynamoDbClient } from '../aws/ledger';
import { createObservability } from '../aws/observability';
import { SnsNotifier, snsClient } from '../aws/sns';
import { TargetClients, envOfFunctionArn, runsAtHome } from '../aws/target-clients';
import { createRollbackHandler } from '../engine/handlers';
import { Notices } from '../engine/notices';
import { seconds } from '../engine/settings';
import { DEFAULT_ORPHAN_AFTER_MS } from '../engine/sweep';

// Runs once per container; warm invocations reuse clients and observability.
const { logger, metrics, traceClient } = createObservability('lrp-rollback', [lambdaClient, dynamoDbClient, cloudWatchClient, codePipelineClient, snsClient]);
// Aliases and alarms of stages in other accounts and regions (named by ARN) are reached through their deployer role.
// The remote stages' environments, whose forwarded alarm events it accepts (LRP_TARGET_ENVS, set by the tooling stack).
const targetEnvs = targetEnvsFromEnv(process.env);
const targets = new TargetClients({ installation: installationFromEnv(process.env), targets: targetEnvs, onClient: (client) => traceClient(client as Parameters<typeof traceClient>[0]) });
// Rollbacks and failed events are announced on the notices topic (NOTICES_TOPIC_ARN; none when unset).
const topicArn = process.env.NOTICES_TOPIC_ARN;

/**
 * EventBridge target for alarm state changes (puts a deploying or baking alias back), pipeline action state changes
 * (reverts the deployment of a stopped or failed execution) and the 5-minute sweep (reverts orphaned rollouts).
 */
export const handler = runsAtHome(
  targets,
  createRollbackHandler({
  lambda: new LambdaAdapter(lambdaClient, targets),
  ledger: new DynamoDbLedger(process.env.LEDGER_TABLE ?? ''),
  alarms: new CloudWatchAdapter(cloudWatchClient, targets),
  pipeline: new CodePipelineAdapter(),
  // Events of this account and region (the one in the function's own ARN), and alarm events of the target environments.
  homeOf: (context) => ({ region: process.env.AWS_REGION, ...envOfFunctionArn(context?.invokedFunctionArn), targets: targetEnvs }),
  clock: systemClock,
  logger,
  metrics,
  // Its generated alarms are `<installation>/…` (LRP_INSTALLATION, set by the tooling stack).
  installation: installationFromEnv(process.env),
  ...(topicArn ? { notices: new Notices({ notifier: new SnsNotifier(topicArn), logger, metrics, ...(process.env.AWS_REGION ? { region: process.env.AWS_REGION } : {}) }) } : {}),
  // An in-flight deployment silent for this long is an orphan (ORPHAN_AFTER_SECONDS, 1 s to 1 day).
  orphanAfterMs: seconds(process.env, 'ORPHAN_AFTER_SECONDS', DEFAULT_ORPHAN_AFTER_MS, 1, 86_400),
  }),
);
