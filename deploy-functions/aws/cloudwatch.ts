import { CloudWatchClient, DescribeAlarmsCommand, GetMetricDataCommand, ListTagsForResourceCommand, type MetricDataQuery } from '@aws-sdk/client-cloudwatch';
import type { AlarmObservation, VersionStats } from '../core/health';
import type { AlarmTagsPort, CloudWatchPort } from '../core/ports';
import { alarmArn, envKey, parseAlarmArn, parseFunctionArn, type AwsEnv } from '../core/names';
import { clientConfig } from './client-config';
import { translateAwsError } from './errors';
import type { TargetClients } from './target-clients';

/** Created once per container and reused by warm invocations. */
export const cloudWatchClient = new CloudWatchClient(clientConfig());

type RawAlarm = { AlarmName?: string; AlarmArn?: string; StateValue?: string; StateReason?: string; StateUpdatedTimestamp?: Date; StateTransitionedTimestamp?: Date };
/**
 * When the alarm last changed state: `StateTransitionedTimestamp` (CloudWatch also moves `StateUpdatedTimestamp` when
 * only its evaluation state or reason changes); the latter only where an endpoint does not report the former.
 */
const changedAt = (alarm: RawAlarm) => (alarm.StateTransitionedTimestamp ?? alarm.StateUpdatedTimestamp)?.getTime();
const toObservation = (alarm: RawAlarm): AlarmObservation => ({
  name: alarm.AlarmName ?? '',
  state: (alarm.StateValue as AlarmObservation['state']) ?? 'INSUFFICIENT_DATA',
  ...(alarm.StateReason ? { reason: alarm.StateReason } : {}),
  ...(changedAt(alarm) !== undefined ? { changedAt: changedAt(alarm)! } : {}),
});

/** How long a container trusts the tags it read of an alarm. */
const TAGS_TTL_MS = 5 * 60_000;

/**
 * Alarms and per-version Lambda metrics through the SDK. An alarm or function named by ARN is read in its own account
 * and region (through `targets`), and an alarm asked for by ARN is answered by ARN, only if CloudWatch's ARN for it is
 * that one.
 */
export class CloudWatchAdapter implements CloudWatchPort, AlarmTagsPort {
  private readonly tags = new Map<string, { readonly tags: Record<string, string>; readonly until: number }>();

  /** `targets` serves ARNs of other accounts and regions. @default - every call through `client` */
  constructor(
    private readonly client: CloudWatchClient = cloudWatchClient,
    private readonly targets?: TargetClients,
  ) {}

  private send<T>(env: AwsEnv | undefined, call: (client: CloudWatchClient) => Promise<T>): Promise<T> {
    if (!this.targets || !env) return call(this.client);
    return this.targets.use(env, 'cloudwatch', this.client, (config) => new CloudWatchClient({ ...clientConfig(), ...config }), call);
  }

  /** The alarm's tags, read once and kept for a few minutes by the warm container. */
  async tagsOf(alarmArn: string): Promise<Record<string, string>> {
    const cached = this.tags.get(alarmArn);
    if (cached && cached.until > Date.now()) return cached.tags;
    try {
      const output = await this.send(parseAlarmArn(alarmArn)?.env, (client) => client.send(new ListTagsForResourceCommand({ ResourceARN: alarmArn })));
      const tags = Object.fromEntries((output.Tags ?? []).flatMap((t) => (t.Key ? [[t.Key, t.Value ?? '']] : [])));
      if (this.tags.size > 500) this.tags.clear();
      this.tags.set(alarmArn, { tags, until: Date.now() + TAGS_TTL_MS });
      return tags;
    } catch (error) {
      // An alarm deleted since it fired has no tags to vouch for it.
      if ((error as { name?: string })?.name === 'ResourceNotFoundException') return {};
      throw translateAwsError(error, `ListTagsForResource ${alarmArn}`);
    }
  }

  /** The alarms matching `input` in `env` (undefined: the client's own), named by ARN when `env` is given. */
  private async describe(env: AwsEnv | undefined, input: { AlarmNames?: string[]; AlarmNamePrefix?: string }, operation: string): Promise<AlarmObservation[]> {
    const alarms: AlarmObservation[] = [];
    let nextToken: string | undefined;
    // Asked by ARN: only CloudWatch's alarm of that very ARN counts (never a same-named one another client reached).
    const named = (alarm: RawAlarm): RawAlarm[] => {
      if (!env) return [alarm];
      const arn = alarmArn(env, alarm.AlarmName ?? '');
      return alarm.AlarmArn === undefined || alarm.AlarmArn === arn ? [{ ...alarm, AlarmName: arn }] : [];
    };
    try {
      do {
        const output = await this.send(env, (client) => client.send(new DescribeAlarmsCommand({ ...input, AlarmTypes: ['MetricAlarm', 'CompositeAlarm'], NextToken: nextToken })));
        alarms.push(...[...(output.MetricAlarms ?? []), ...(output.CompositeAlarms ?? [])].flatMap(named).map(toObservation));
        nextToken = output.NextToken;
      } while (nextToken);
    } catch (error) {
      throw translateAwsError(error, operation);
    }
    return alarms;
  }

  /** Alarms named by name or by ARN; each is read in its own environment and answered under the name it was asked by. */
  async describeAlarms(names: readonly string[]): Promise<AlarmObservation[]> {
    const groups = new Map<string, { env: AwsEnv | undefined; names: string[] }>();
    for (const name of names) {
      const arn = parseAlarmArn(name);
      const key = arn ? `${arn.env.partition}/${envKey(arn.env)}` : '';
      const group = groups.get(key) ?? { env: arn?.env, names: [] };
      group.names.push(arn?.name ?? name);
      groups.set(key, group);
    }
    const results: AlarmObservation[] = [];
    for (const { env, names: group } of groups.values()) {
      for (let i = 0; i < group.length; i += 100) {
        results.push(...(await this.describe(env, { AlarmNames: group.slice(i, i + 100) }, env ? `DescribeAlarms in ${envKey(env)}` : 'DescribeAlarms')));
      }
    }
    return results;
  }

  /** Alarms whose names start with `prefix`, a name or an alarm ARN (then read in that environment, answered by ARN). */
  describeAlarmsByPrefix(prefix: string): Promise<AlarmObservation[]> {
    const arn = parseAlarmArn(prefix);
    return this.describe(arn?.env, { AlarmNamePrefix: arn?.name ?? prefix }, `DescribeAlarms prefix ${prefix}`);
  }

  /** Per-version invocations and errors of an alias; a function ARN is read in its account and region. */
  async versionStats(functionArnOrName: string, alias: string, versions: readonly string[], from: number, to: number): Promise<Record<string, VersionStats>> {
    const remote = parseFunctionArn(functionArnOrName);
    const functionName = remote?.name ?? functionArnOrName;
    const queries: MetricDataQuery[] = versions.flatMap((version, index) =>
      (['Invocations', 'Errors'] as const).map((metric) => ({
        Id: `${metric === 'Invocations' ? 'inv' : 'err'}${index}`,
        MetricStat: {
          Metric: {
            Namespace: 'AWS/Lambda',
            MetricName: metric,
            Dimensions: [
              { Name: 'FunctionName', Value: functionName },
              { Name: 'Resource', Value: `${functionName}:${alias}` },
              { Name: 'ExecutedVersion', Value: version },
            ],
          },
          Period: 60,
          Stat: 'Sum',
        },
        ReturnData: true,
      })),
    );
    const sums = new Map<string, number>();
    let nextToken: string | undefined;
    try {
      do {
        const output = await this.send(remote?.env, (client) =>
          client.send(new GetMetricDataCommand({
            MetricDataQueries: queries,
            // Whole minutes: CloudWatch aligns 60-second periods on the minute.
            StartTime: new Date(Math.floor(from / 60_000) * 60_000),
            EndTime: new Date(Math.ceil(to / 60_000) * 60_000 + 60_000),
            NextToken: nextToken,
          })),
        );
        for (const result of output.MetricDataResults ?? []) {
          sums.set(result.Id!, (sums.get(result.Id!) ?? 0) + (result.Values ?? []).reduce((a, b) => a + b, 0));
        }
        nextToken = output.NextToken;
      } while (nextToken);
    } catch (error) {
      throw translateAwsError(error, 'GetMetricData');
    }
    return Object.fromEntries(versions.map((version, index) => [version, { invocations: sums.get(`inv${index}`) ?? 0, errors: sums.get(`err${index}`) ?? 0 }]));
  }
}
