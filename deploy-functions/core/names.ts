import type { AliasRef } from './ports';

/**
 * The names infra, the deployment functions and the CLI must agree on, in one place: a stage's function, the alarms
 * generated for an alias, and the metrics namespace.
 */

/** The function a stage deploys: `<function>-<stage>`. */
export function stageFunctionName(functionName: string, stage: string): string {
  return `${functionName}-${stage}`;
}

/** The CloudFormation stack a stage deploys a function with: `lrp-app-<function>-<stage>`. */
export function applicationStackName(functionName: string, stage: string): string {
  return `lrp-app-${stageFunctionName(functionName, stage)}`;
}

const ALARM_PREFIX = 'lrp';
/** Every generated alarm's name starts with this. */
export const GENERATED_ALARM_ROOT = `${ALARM_PREFIX}/`;

/** Name of an alarm generated for a function alias: `lrp/<function>/<alias>/<metric>`. */
export function generatedAlarmName(functionName: string, alias: string, metric: string): string {
  return `${generatedAlarmPrefix(functionName, alias)}${metric}`;
}

/** Every generated alarm of a function alias starts with this. */
export function generatedAlarmPrefix(functionName: string, alias: string): string {
  return `${ALARM_PREFIX}/${functionName}/${alias}/`;
}

/** The function alias a generated alarm guards, read back from its name; undefined for any other alarm. */
export function aliasOfGeneratedAlarm(alarmName: string): AliasRef | undefined {
  const match = new RegExp(`^${ALARM_PREFIX}/([A-Za-z0-9-_]{1,64})/([A-Za-z0-9-_]{1,128})/[^/]+$`).exec(alarmName);
  return match ? { functionName: match[1]!, alias: match[2]! } : undefined;
}

/** The tags every generated alarm carries, naming the function and alias it guards: the rollback function trusts only those. */
export const ALARM_TAGS = { function: 'lrp:function', alias: 'lrp:alias' } as const;

/** The pipeline action that runs shift-traffic: its stopped, abandoned or failed state reverts the deployment. */
export const SHIFT_TRAFFIC_ACTION = 'ShiftTraffic';

/** CloudWatch namespace of the deployment functions' own metrics. */
export const METRICS_NAMESPACE = 'LambdaReleasePipeline';
