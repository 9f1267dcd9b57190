import { Duration, Tags } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type { Construct } from 'constructs';
import { ALARM_TAGS } from '../../deploy-functions/core/names';
import type { FunctionConfig } from '../config';
import type { InstallationNames } from './installation-names';

/** Errors, Throttles and Duration p99 on a managed function's `live` alias, named and tagged so the engine can find and trust them. */
export function createLiveAliasAlarms(scope: Construct, names: InstallationNames, functionName: string, fn: FunctionConfig, timeoutSeconds: number): cloudwatch.Alarm[] {
  const dimensionsMap = { FunctionName: functionName, Resource: `${functionName}:live` };
  const metric = (metricName: string, statistic: string) => new cloudwatch.Metric({ namespace: 'AWS/Lambda', metricName, dimensionsMap, statistic, period: Duration.minutes(1) });
  const specs = [
    { metric: 'errors', m: metric('Errors', 'Sum'), threshold: fn.alarmThresholds.errors, periods: 1 },
    { metric: 'throttles', m: metric('Throttles', 'Sum'), threshold: fn.alarmThresholds.throttles, periods: 1 },
    { metric: 'duration-p99', m: metric('Duration', 'p99'), threshold: (timeoutSeconds * 1000 * fn.alarmThresholds.durationP99PercentOfTimeout) / 100, periods: 3 },
  ];
  return specs.map((spec) => {
    const alarm = new cloudwatch.Alarm(scope, `${functionName}-${spec.metric}`, {
      alarmName: names.generatedAlarm(functionName, 'live', spec.metric),
      alarmDescription: `${spec.metric} of ${functionName}:live; an ALARM during a rollout or bake window rolls the release back`,
      metric: spec.m,
      threshold: spec.threshold,
      evaluationPeriods: spec.periods,
      datapointsToAlarm: Math.min(spec.periods, 2),
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    // The rollback function trusts an alarm with a generated name only when these tags match it.
    Tags.of(alarm).add(ALARM_TAGS.function, functionName);
    Tags.of(alarm).add(ALARM_TAGS.alias, 'live');
    return alarm;
  });
}
