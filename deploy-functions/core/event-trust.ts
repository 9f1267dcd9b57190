import { InvalidParametersError } from './errors';
import type { AlarmObservation } from './health';
import { ALARM_TAGS, alarmArn, envKey, parsePlainEnvs, partitionOfRegion, plainFunctionName } from './names';
import type { AliasRef } from './ports';

/** An account and region whose alarm events the rollback function accepts besides its own (a remote stage's). */
export interface TargetEnv {
  readonly account: string;
  readonly region: string;
}

/**
 * Where the rollback function runs: it acts on events of its own account and region, and on alarm events of the
 * target environments (remote stages' alarms, forwarded by their target stacks); everything else is refused.
 */
export interface Home {
  readonly partition?: string;
  readonly account?: string;
  readonly region?: string;
  /** The remote stages' environments (LRP_TARGET_ENVS). @default [] */
  readonly targets?: readonly TargetEnv[];
}

/** The target environments of LRP_TARGET_ENVS (a JSON array of `{ account, region }`; none when unset); a bad value throws, naming the variable. */
export function targetEnvsFromEnv(env: Readonly<Record<string, string | undefined>>): TargetEnv[] {
  const raw = env.LRP_TARGET_ENVS;
  if (raw === undefined || raw.trim() === '') return [];
  try {
    return parsePlainEnvs(JSON.parse(raw));
  } catch (error) {
    throw new InvalidParametersError(`LRP_TARGET_ENVS: ${(error as Error).message}; expected a JSON array of {"account":"<12 digits>","region":"<region>"}`, { cause: error });
  }
}

/** `targetEnvsFromEnv`, its failure returned rather than thrown (a handler then fails every job with it). */
export function targetEnvsOrError(env: Readonly<Record<string, string | undefined>>): TargetEnv[] | InvalidParametersError {
  try {
    return targetEnvsFromEnv(env);
  } catch (error) {
    return error as InvalidParametersError;
  }
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

/** The target environment an event comes from, if it is an alarm event of one (no other event is taken from a target). */
function targetOf(event: { readonly account?: string; readonly region?: string; readonly source?: string }, home: Home): TargetEnv | undefined {
  if (event.source !== 'aws.cloudwatch') return undefined;
  return home.targets?.find((t) => t.account === event.account && t.region === event.region && !(t.account === home.account && t.region === home.region));
}

/** What an event's origin is judged by: its account, region and source, and for an alarm event its alarm's name and ARN. */
type OriginOf = { readonly account?: string; readonly region?: string; readonly source?: string; readonly resources?: readonly string[]; readonly detail?: object };

/**
 * Why an alarm event whose resources name another alarm than its account, region and alarm name say is refused:
 * CloudWatch names the alarm's own ARN there, and an event forwarded from a target account keeps both unchanged, so a
 * disagreement is a forged or mangled event (it would be judged as one alarm and read as another).
 */
function mismatchedResource(event: OriginOf, home: Home): string | undefined {
  const alarmName = (event.detail as { readonly alarmName?: unknown } | undefined)?.alarmName;
  if (event.source !== 'aws.cloudwatch' || typeof alarmName !== 'string' || !event.resources?.length || !event.account || !event.region) return undefined;
  const expected = alarmArn({ partition: home.partition ?? partitionOfRegion(event.region), account: event.account, region: event.region }, alarmName);
  if (event.resources.includes(expected)) return undefined;
  return `alarm event for ${alarmName} from ${envKey({ account: event.account, region: event.region })} names ${event.resources.join(', ')} as its alarm, not ${expected}: refused`;
}

/**
 * Why an event from elsewhere is refused, or undefined when it comes from home (or home is unknown), or is an alarm
 * event of a target environment.
 */
export function foreignOrigin(event: OriginOf, home: Home): string | undefined {
  if (targetOf(event, home)) return mismatchedResource(event, home);
  const targets = home.targets?.length ? ` nor an alarm event of a target (${home.targets.map(envKey).join(', ')})` : '';
  if (home.account && event.account !== home.account) return `event from account ${event.account ?? '(none)'}, not ${home.account}${targets}`;
  if (home.region && event.region !== home.region) return `event from region ${event.region ?? '(none)'}, not ${home.region}${targets}`;
  return mismatchedResource(event, home);
}

/**
 * The name an alarm of an accepted event is known by in releases and the ledger: its name for an alarm of home, its
 * ARN for an alarm of a target environment (where remote stages' alarms live).
 */
export function alarmRefOf(event: { readonly account?: string; readonly region?: string; readonly source?: string; readonly detail: { readonly alarmName: string } }, home: Home): string {
  const target = targetOf(event, home);
  // A home alarm whose own name looks like an ARN is known by its home ARN, so it never passes for a target's alarm.
  if (!target) return event.detail.alarmName.startsWith('arn:') ? homeAlarmArn(event.detail.alarmName, home, event) : event.detail.alarmName;
  return alarmArn({ partition: home.partition ?? partitionOfRegion(target.region), ...target }, event.detail.alarmName);
}

/** The ARN of an alarm known by `alarmRef` (a name of home, or already an ARN). */
export function alarmArnOf(alarmRef: string, home: Home, event: { readonly account?: string; readonly region?: string }): string {
  return alarmRef.startsWith('arn:') ? alarmRef : homeAlarmArn(alarmRef, home, event);
}

function homeAlarmArn(name: string, home: Home, event: { readonly account?: string; readonly region?: string }): string {
  const region = home.region ?? event.region ?? '';
  return alarmArn({ partition: home.partition ?? partitionOfRegion(region), account: home.account ?? event.account ?? '', region }, name);
}

/**
 * Why an alarm named like a generated one does not count, or undefined when it does: it must carry the `lrp:function`
 * and `lrp:alias` tags of the alias its name points at (anyone allowed PutMetricAlarm can pick a name; tags need more).
 */
export function untrustedGeneratedAlarm(alarmName: string, ref: AliasRef, tags: Readonly<Record<string, string>> | undefined): string | undefined {
  const fn = tags?.[ALARM_TAGS.function];
  const alias = tags?.[ALARM_TAGS.alias];
  // The tags name the function as its own account knows it; the alarm's ARN (which the ref came from) says which account.
  if (fn === plainFunctionName(ref.functionName) && alias === ref.alias) return undefined;
  return `alarm ${alarmName} is named like one generated for ${ref.functionName}:${ref.alias} but is tagged ${ALARM_TAGS.function}=${fn ?? '(none)'}, ${ALARM_TAGS.alias}=${alias ?? '(none)'}: refused`;
}
