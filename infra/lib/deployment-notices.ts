import { Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';


/** What the notices need from the tooling stack. */
export interface DeploymentNoticesProps {
  readonly topic: sns.Topic;
  readonly topicKey: kms.Key;
  readonly deadLetters: sqs.Queue;
  /** The deployment functions whose failures raise the errors alarm. */
  readonly functions: readonly lambda.Function[];
  /** The functions that announce rollbacks on the topic (`NOTICES_TOPIC_ARN`). */
  readonly publishers: readonly lambda.Function[];
  /** The names of the two alarms on the pipeline's own health (InstallationNames.noticeAlarms). */
  readonly alarmNames: { readonly deadLetters: string; readonly functionErrors: string };
}

/**
 * Automatic rollbacks are never silent: the functions that roll back publish a notice to the topic (sns:Publish on it
 * alone, and the key's data keys, as the topic is KMS-encrypted); an event left in the dead-letter queue and any
 * failure of a deployment function raise an alarm whose action is the same topic.
 */
export function addDeploymentNotices(scope: Construct, props: DeploymentNoticesProps): { readonly deadLetters: cloudwatch.Alarm; readonly functionErrors: cloudwatch.Alarm } {
  const { topic, topicKey } = props;
  for (const fn of props.publishers) {
    fn.addEnvironment('NOTICES_TOPIC_ARN', topic.topicArn);
    fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['sns:Publish'], resources: [topic.topicArn] }));
    fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['kms:GenerateDataKey', 'kms:Decrypt'], resources: [topicKey.keyArn] }));
  }

  // CloudWatch publishes alarm actions as its service principal: the topic and its key must let it, from this account.
  const account = Stack.of(scope).account;
  const cloudWatch = new iam.ServicePrincipal('cloudwatch.amazonaws.com');
  const fromThisAccount = { StringEquals: { 'aws:SourceAccount': account } };
  // A statement of their own (a Sid keeps CDK from merging them with the CodeStar Notifications ones), so each reads plainly.
  topic.addToResourcePolicy(new iam.PolicyStatement({ sid: 'CloudWatchAlarmActions', principals: [cloudWatch], actions: ['sns:Publish'], resources: [topic.topicArn], conditions: fromThisAccount }));
  // In a key policy `*` means this key.
  topicKey.addToResourcePolicy(new iam.PolicyStatement({ sid: 'CloudWatchAlarmActions', principals: [cloudWatch], actions: ['kms:Decrypt', 'kms:GenerateDataKey*'], resources: ['*'], conditions: fromThisAccount }));

  const notify = new actions.SnsAction(topic);
  const deadLetters = props.deadLetters
    .metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1), statistic: 'Maximum' })
    .createAlarm(scope, 'RollbackDeadLettersAlarm', {
      alarmName: props.alarmNames.deadLetters,
      alarmDescription: 'An event the rollback function could not handle is in its dead-letter queue: an alias may still be on a bad version. Replay it (see the README, The rollback function).',
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
  deadLetters.addAlarmAction(notify);

  const usingMetrics = Object.fromEntries(props.functions.map((fn, index) => [`e${index}`, fn.metricErrors({ period: Duration.minutes(5), statistic: 'Sum' })]));
  const functionErrors = new cloudwatch.MathExpression({ expression: Object.keys(usingMetrics).join(' + '), usingMetrics, period: Duration.minutes(5), label: 'Deployment function errors' }).createAlarm(scope, 'DeploymentFunctionErrorsAlarm', {
    alarmName: props.alarmNames.functionErrors,
    alarmDescription: 'A deployment function failed (an invocation raised): a job or an event may be left unhandled. See the pipeline dashboard and the functions\' logs.',
    threshold: 1,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    evaluationPeriods: 1,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
  });
  functionErrors.addAlarmAction(notify);
  return { deadLetters, functionErrors };
}
