import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type { Construct } from 'constructs';
import type { DeploymentFunction, PipelinePlan } from './release-plan';
import { deploymentFunctionName, type ToolingStack } from './tooling-stack';

/** What a pipeline's dashboard shows. */
export interface PipelineDashboardProps {
  readonly fnName: string;
  readonly plan: PipelinePlan;
  readonly tooling: ToolingStack;
  /** The live-alias alarms of every stage. */
  readonly alarms: readonly cloudwatch.Alarm[];
}

/** Per stage function: invocations and errors per executed version, alias traffic; the alarms; the deployment functions' errors. */
export function createPipelineDashboard(scope: Construct, props: PipelineDashboardProps): cloudwatch.Dashboard {
  const { fnName, plan, tooling } = props;
  const widgets: cloudwatch.IWidget[][] = [];
  for (const { functionName } of plan.managedFunctions) {
    const byVersion = (metricName: string) =>
      new cloudwatch.MathExpression({
        expression: `SEARCH('{AWS/Lambda,ExecutedVersion,FunctionName,Resource} MetricName="${metricName}" FunctionName="${functionName}"', 'Sum', 60)`,
        label: metricName,
        usingMetrics: {},
      });
    const aliasTraffic = (alias: string) =>
      new cloudwatch.Metric({ namespace: 'AWS/Lambda', metricName: 'Invocations', dimensionsMap: { FunctionName: functionName, Resource: `${functionName}:${alias}` }, statistic: 'Sum', period: Duration.minutes(1), label: alias });
    widgets.push([
      new cloudwatch.GraphWidget({ title: `${functionName}: invocations per executed version`, left: [byVersion('Invocations')], width: 8 }),
      new cloudwatch.GraphWidget({ title: `${functionName}: errors per executed version`, left: [byVersion('Errors')], width: 8 }),
      new cloudwatch.GraphWidget({ title: `${functionName}: alias traffic`, left: [aliasTraffic('live'), aliasTraffic('candidate')], width: 8 }),
    ]);
  }
  widgets.push([new cloudwatch.AlarmStatusWidget({ title: `${fnName}: live alias alarms`, alarms: [...props.alarms], width: 12 })]);
  widgets.push([
    new cloudwatch.GraphWidget({
      title: 'Deployment function errors',
      left: Object.keys(tooling.functions).map((name) =>
        new cloudwatch.Metric({ namespace: 'AWS/Lambda', metricName: 'Errors', dimensionsMap: { FunctionName: deploymentFunctionName(name as DeploymentFunction) }, statistic: 'Sum', period: Duration.minutes(1), label: name }),
      ),
      width: 12,
    }),
  ]);
  return new cloudwatch.Dashboard(scope, 'Dashboard', { dashboardName: `lrp-${fnName}`, widgets });
}
