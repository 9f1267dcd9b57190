import { systemClock } from '../core/ports';
import { CloudWatchAdapter, cloudWatchClient } from '../aws/cloudwatch';
import { CodePipelineAdapter, codePipelineClient } from '../aws/codepipeline';
import { LambdaAdapter, lambdaClient } from '../aws/lambda';
import { DynamoDbLedger, dynamoDbClient } from '../aws/ledger';
import { createObservability } from '../aws/observability';
import { SnsNotifier, snsClient } from '../aws/sns';
import { TargetClients, runsAtHome } from '../aws/target-clients';
import { createShiftTrafficHandler } from '../engine/handlers';
import { targetEnvsOrError } from '../core/event-trust';
import { installationFromEnv } from '../core/names';
import { Notices } from '../engine/notices';
import { shiftTrafficSettingsFromEnv } from '../engine/settings';
import type { ShiftTrafficDeps } from '../engine/shift-traffic';

// Everything below runs once per container; warm invocations reuse clients, configuration and observability.
const { logger, metrics, traceClient } = createObservability('lrp-shift-traffic', [lambdaClient, cloudWatchClient, codePipelineClient, dynamoDbClient, snsClient]);
// Functions and alarms of stages in other accounts and regions (named by ARN) are reached through their deployer role.
// The only other environments it may act in (LRP_TARGET_ENVS); a bad value fails every job, naming the variable.
const targetEnvs = targetEnvsOrError(process.env);
const targets = new TargetClients({ installation: installationFromEnv(process.env), targets: targetEnvs instanceof Error ? [] : targetEnvs, onClient: (client) => traceClient(client as Parameters<typeof traceClient>[0]) });
// Its rollbacks are announced on the notices topic (NOTICES_TOPIC_ARN; none when unset).
const topicArn = process.env.NOTICES_TOPIC_ARN;

function engineDeps(): ShiftTrafficDeps | Error {
  try {
    if (targetEnvs instanceof Error) return targetEnvs;
    return {
      lambda: new LambdaAdapter(lambdaClient, targets),
      cloudwatch: new CloudWatchAdapter(cloudWatchClient, targets),
      ledger: new DynamoDbLedger(process.env.LEDGER_TABLE ?? ''),
      clock: systemClock,
      logger,
      settings: shiftTrafficSettingsFromEnv(process.env),
      installation: installationFromEnv(process.env),
      ...(topicArn ? { notices: new Notices({ notifier: new SnsNotifier(topicArn), logger, metrics, ...(process.env.AWS_REGION ? { region: process.env.AWS_REGION } : {}) }) } : {}),
    };
  } catch (error) {
    return error as Error;
  }
}

/** CodePipeline Lambda-invoke action: shift an alias to a new version step by step, rolling back on a breach. */
export const handler = runsAtHome(targets, createShiftTrafficHandler({ pipeline: new CodePipelineAdapter(), logger, clock: systemClock, metrics }, engineDeps()));
