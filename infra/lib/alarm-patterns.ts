import { parseAlarmArn } from '../../deploy-functions/core/names';
import type { ReleaseConfig } from '../config';
import { SERVICE_LIMITS } from './limits';

/** An alarm name the rule matches exactly, or a prefix of names (`{ prefix }`). */
export type AlarmNameMatch = string | { prefix: string };

/** The EventBridge pattern of an alarm entering ALARM, for the given names. */
export function alarmStateChangePattern(alarmNames: readonly AlarmNameMatch[], accounts?: readonly string[]): { source: string[]; detailType: string[]; detail: Record<string, unknown>; account?: string[] } {
  return {
    source: ['aws.cloudwatch'],
    detailType: ['CloudWatch Alarm State Change'],
    ...(accounts ? { account: [...accounts] } : {}),
    detail: { state: { value: ['ALARM'] }, alarmName: [...alarmNames] },
  };
}

/**
 * The alarm names the rollback rules match, one group per rule: the installation's generated prefix (`<installation>/`),
 * then the declared alarms, each group's pattern within EventBridge's pattern size.
 */
export function alarmNameGroups(alarmRoot: string, declared: readonly string[]): AlarmNameMatch[][] {
  const pattern = (names: readonly unknown[]) => JSON.stringify({ source: ['aws.cloudwatch'], 'detail-type': ['CloudWatch Alarm State Change'], detail: { state: { value: ['ALARM'] }, alarmName: names } }).length;
  const groups: AlarmNameMatch[][] = [[{ prefix: alarmRoot }]];
  for (const name of [...new Set(declared)]) {
    const last = groups.at(-1)!;
    if (pattern([...last, name]) <= SERVICE_LIMITS.eventPatternChars) last.push(name);
    else groups.push([name]);
  }
  return groups;
}

/** The names of the alarms the configuration declares for the given stages (`${Stage}` filled in; an ARN's name part). */
export function declaredAlarmNames(config: Pick<ReleaseConfig, 'functions'>, stages: readonly string[]): string[] {
  return [...new Set(config.functions.flatMap((fn) => fn.alarms.flatMap((alarm) => stages.map((stage) => alarm.replaceAll('${Stage}', stage)))).map((alarm) => parseAlarmArn(alarm)?.name ?? alarm))];
}
