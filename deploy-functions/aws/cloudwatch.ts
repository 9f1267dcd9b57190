import { CloudWatchClient, DescribeAlarmsCommand, GetMetricDataCommand, ListTagsForResourceCommand, type MetricDataQuery } from '@aws-sdk/client-cloudwatch';
import type { AlarmObservation, VersionStats } from '../core/health';
import type { AlarmTagsPort, CloudWatchPort } from '../core/ports';
import { clientConfig } from './client-config';
import { translateAwsError } from './errors';

/** Created once per container and reused by warm invocations. */
export const cloudWatchClient = new CloudWatchClient(clientConfig());

type RawAlarm = { AlarmName?: string; StateValue?: string; StateReason?: string; StateUpdatedTimestamp?: Date; StateTransitionedTimestamp?: Date };
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

/** Alarms and per-version Lambda metrics through the SDK. */
export class CloudWatchAdapter implements CloudWatchPort, AlarmTagsPort {
  private readonly tags = new Map<string, { readonly tags: Record<string, string>; readonly until: number }>();

  constructor(private readonly client: CloudWatchClient = cloudWatchClient) {}

  /** The alarm's tags, read once and kept for a few minutes by the warm container. */
  async tagsOf(alarmArn: string): Promise<Record<string, string>> {
    const cached = this.tags.get(alarmArn);
    if (cached && cached.until > Date.now()) return cached.tags;
    try {
      const output = await this.client.send(new ListTagsForResourceCommand({ ResourceARN: alarmArn }));
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

  private async describe(input: { AlarmNames?: string[]; AlarmNamePrefix?: string }, operation: string): Promise<AlarmObservation[]> {
    const alarms: AlarmObservation[] = [];
    let nextToken: string | undefined;
    try {
      do {
        const output = await this.client.send(new DescribeAlarmsCommand({ ...input, AlarmTypes: ['MetricAlarm', 'CompositeAlarm'], NextToken: nextToken }));
        alarms.push(...(output.MetricAlarms ?? []).map(toObservation), ...(output.CompositeAlarms ?? []).map(toObservation));
        nextToken = output.NextToken;
      } while (nextToken);
    } catch (error) {
      throw translateAwsError(error, operation);
    }
    return alarms;
  }

  async describeAlarms(names: readonly string[]): Promise<AlarmObservation[]> {
    const results: AlarmObservation[] = [];
    for (let i = 0; i < names.length; i += 100) {
      results.push(...(await this.describe({ AlarmNames: names.slice(i, i + 100) }, 'DescribeAlarms')));
    }
    return results;
  }

  describeAlarmsByPrefix(prefix: string): Promise<AlarmObservation[]> {
    return this.describe({ AlarmNamePrefix: prefix }, `DescribeAlarms prefix ${prefix}`);
  }

  async versionStats(functionName: string, alias: string, versions: readonly string[], from: number, to: number): Promise<Record<string, VersionStats>> {
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
        const output = await this.client.send(
          new GetMetricDataCommand({
            MetricDataQueries: queries,
            // Whole minutes: CloudWatch aligns 60-second periods on the minute.
            StartTime: new Date(Math.floor(from / 60_000) * 60_000),
            EndTime: new Date(Math.ceil(to / 60_000) * 60_000 + 60_000),
            NextToken: nextToken,
          }),
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
