import type { AlarmObservation } from './health';
import { ALARM_TAGS } from './names';
import type { AliasRef } from './ports';

/** Where the rollback function runs: it acts only on events of its own account and region. */
export interface Home {
  readonly partition?: string;
  readonly account?: string;
  readonly region?: string;
}

/** The account of an ARN (`arn:partition:service:region:account:…`). */
export function accountOfArn(arn: string | undefined): string | undefined {
  const account = arn?.split(':')[4];
  return account ? account : undefined;
}

/** The partition of an ARN. */
export function partitionOfArn(arn: string | undefined): string | undefined {
  const partition = arn?.split(':')[1];
  return partition ? partition : undefined;
}

/**
 * Why CloudWatch does not bear out an event saying `alarmName` changed to ALARM at `changedAt`, or undefined when it
 * does: the alarm exists and is in ALARM, or changed state at or after that time (a blip may be over by now).
 */
export function untrueAlarmEvent(alarmName: string, changedAt: number, observed: AlarmObservation | undefined): string | undefined {
  if (!observed) return `alarm ${alarmName} does not exist: refused`;
  if (observed.state === 'ALARM') return undefined;
  if (observed.changedAt !== undefined && observed.changedAt >= changedAt - 1_000) return undefined;
  return `alarm ${alarmName} is ${observed.state} and has not changed state since ${new Date(changedAt).toISOString()}, when the event says it went to ALARM: refused`;
}

/** Why an event from elsewhere is refused, or undefined when it comes from home (or home is unknown). */
export function foreignOrigin(event: { readonly account?: string; readonly region?: string }, home: Home): string | undefined {
  if (home.account && event.account !== home.account) return `event from account ${event.account ?? '(none)'}, not ${home.account}`;
  if (home.region && event.region !== home.region) return `event from region ${event.region ?? '(none)'}, not ${home.region}`;
  return undefined;
}

/**
 * Why an alarm named like a generated one does not count, or undefined when it does: it must carry the `lrp:function`
 * and `lrp:alias` tags of the alias its name points at (anyone allowed PutMetricAlarm can pick a name; tags need more).
 */
export function untrustedGeneratedAlarm(alarmName: string, ref: AliasRef, tags: Readonly<Record<string, string>> | undefined): string | undefined {
  const fn = tags?.[ALARM_TAGS.function];
  const alias = tags?.[ALARM_TAGS.alias];
  if (fn === ref.functionName && alias === ref.alias) return undefined;
  return `alarm ${alarmName} is named like one generated for ${ref.functionName}:${ref.alias} but is tagged ${ALARM_TAGS.function}=${fn ?? '(none)'}, ${ALARM_TAGS.alias}=${alias ?? '(none)'}: refused`;
}
