import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type { Construct } from 'constructs';
import type { DeploymentFunction, PipelinePlan } from './release-plan';
import type { ToolingStack } from './tooling-stack';

/** What a pipeline's dashboard shows. */
export interface PipelineDashboardProps {
  readonly fnName: string;
  readonly plan: PipelinePlan;
  readonly tooling: ToolingStack;
  /** The live-alias alarms of the stages in the pipeline's own account and region (a target stack holds the others'). */
  readonly alarms: readonly cloudwatch.Alarm[];
}

/**
 * The Logs Insights query of a pipeline's deployment timeline: every log line of the deployment functions that names a
 * deployment of one of its stage functions (`<function>-<stage>`: no function name followed by `-` begins another),
 * newest first — its start, each step, the job's continuations and end, an undo and its notice.
 */
export function deploymentTimelineQuery(fnName: string): string {
  return [
    'fields @timestamp, deploymentId, functionName, message, coalesce(code, kind, by, outcome) as status, coalesce(reason, summary, subject) as detail',
    // Function names are lower-case letters, digits and dashes (the configuration's schema): nothing to escape.
    `| filter ispresent(deploymentId) and functionName like /^${fnName}-/`,
    '| sort @timestamp desc',
    '| limit 500',
  ].join('\n');
}

/** Per stage function: invocations and errors per executed version, alias traffic; the alarms; the deployment functions' errors and timeline. */
export function createPipelineDashboard(scope: Construct, props: PipelineDashboardProps): cloudwatch.Dashboard {
  const { fnName, plan, tooling } = props;
  const widgets: cloudwatch.IWidget[][] = [];
  for (const { functionName, env } of plan.managedFunctions) {
    // A remote stage's metrics are in its account and region (shown with CloudWatch cross-account observability).
    const where = env.remote ? { account: env.account, region: env.region } : {};
    const byVersion = (metricName: string) =>
      new cloudwatch.MathExpression({
        expression: `SEARCH('{AWS/Lambda,ExecutedVersion,FunctionName,Resource} MetricName="${metricName}" FunctionName="${functionName}"', 'Sum', 60)`,
        label: metricName,
        usingMetrics: {},
        ...(env.remote ? { searchAccount: env.account, searchRegion: env.region } : {}),
      });
    const aliasTraffic = (alias: string) =>
      new cloudwatch.Metric({ namespace: 'AWS/Lambda', metricName: 'Invocations', dimensionsMap: { FunctionName: functionName, Resource: `${functionName}:${alias}` }, statistic: 'Sum', period: Duration.minutes(1), label: alias, ...where });
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
        new cloudwatch.Metric({ namespace: 'AWS/Lambda', metricName: 'Errors', dimensionsMap: { FunctionName: tooling.names.deploymentFunction(name as DeploymentFunction) }, statistic: 'Sum', period: Duration.minutes(1), label: name }),
      ),
      width: 12,
    }),
  ]);
  widgets.push([
    new cloudwatch.LogQueryWidget({
      title: `${fnName}: deployment timeline (start, steps, end, status)`,
      logGroupNames: Object.values(tooling.functions).map((fn) => fn.logGroup.logGroupName),
      queryString: deploymentTimelineQuery(fnName),
      view: cloudwatch.LogQueryVisualizationType.TABLE,
      width: 24,
      height: 8,
    }),
  ]);
  return new cloudwatch.Dashboard(scope, 'Dashboard', { dashboardName: tooling.names.dashboard(fnName), widgets });
}
