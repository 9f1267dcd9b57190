// The events AWS sends the deployment functions, as tests, benchmarks and pipeline:local build them.

/** A CodePipeline Lambda-invoke event. */
export function pipelineEvent(jobId: string, userParameters: unknown, continuationToken?: string) {
  return {
    'CodePipeline.job': {
      id: jobId,
      accountId: '123456789012',
      data: {
        actionConfiguration: { configuration: { FunctionName: 'lrp-shift-traffic', UserParameters: typeof userParameters === 'string' ? userParameters : JSON.stringify(userParameters) } },
        inputArtifacts: [],
        outputArtifacts: [],
        ...(continuationToken ? { continuationToken } : {}),
      },
    },
  };
}

/** An EventBridge "CloudWatch Alarm State Change" event. */
export function alarmEvent(alarmName: string, state: 'ALARM' | 'OK' = 'ALARM', reason = 'Threshold Crossed', changedAt?: number, from: { readonly account: string; readonly region: string } = { account: '123456789012', region: 'us-east-1' }) {
  const timestamp = changedAt === undefined ? undefined : new Date(changedAt).toISOString();
  return {
    version: '0',
    id: `evt-${alarmName}`,
    'detail-type': 'CloudWatch Alarm State Change',
    source: 'aws.cloudwatch',
    // The account and region of the alarm: a target stack forwards its alarms' events unchanged.
    account: from.account,
    region: from.region,
    resources: [`arn:aws:cloudwatch:${from.region}:${from.account}:alarm:${alarmName}`],
    ...(timestamp ? { time: timestamp } : {}),
    detail: { alarmName, state: { value: state, reason, ...(timestamp ? { timestamp } : {}) }, previousState: { value: 'OK' } },
  };
}

/** An EventBridge "CodePipeline Action Execution State Change" event. */
export function actionStateEvent(executionId: string, state: 'ABANDONED' | 'FAILED' | 'CANCELED' | 'SUCCEEDED' | 'STARTED', at: number, action = 'ShiftTraffic') {
  return {
    version: '0',
    id: `evt-${executionId}-${state}`,
    'detail-type': 'CodePipeline Action Execution State Change',
    source: 'aws.codepipeline',
    account: '123456789012',
    region: 'us-east-1',
    time: new Date(at).toISOString(),
    resources: ['arn:aws:codepipeline:us-east-1:123456789012:lrp-orders-api'],
    detail: { pipeline: 'lrp-orders-api', 'execution-id': executionId, stage: 'Deploy-prod', action, state, region: 'us-east-1', type: { owner: 'AWS', provider: 'Lambda', category: 'Invoke', version: '1' } },
  };
}

/** The EventBridge schedule's "Scheduled Event" that starts the sweep. */
export function scheduledEvent(at: number) {
  return {
    version: '0',
    id: `evt-sweep-${at}`,
    'detail-type': 'Scheduled Event',
    source: 'aws.events',
    account: '123456789012',
    region: 'us-east-1',
    time: new Date(at).toISOString(),
    resources: ['arn:aws:events:us-east-1:123456789012:rule/lrp-sweep'],
    detail: {},
  };
}

