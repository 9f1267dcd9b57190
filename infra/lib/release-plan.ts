import type { z } from 'zod';
import { describeIssues } from '../../deploy-functions/core/issues';
import { DeployWindowParametersSchema, IntegrationTestParametersSchema, ShiftTrafficParametersSchema } from '../../deploy-functions/core/user-parameters';
import { ReleaseConfigError, type FunctionConfig, type ReleaseConfig } from '../config';

/** The deployment function a Lambda-invoke action calls. */
export const DeploymentFunction = {
  SHIFT_TRAFFIC: 'shift-traffic',
  INTEGRATION_TEST: 'integration-test',
  DEPLOY_WINDOW: 'deploy-window',
  ROLLBACK: 'rollback',
} as const;
export type DeploymentFunction = (typeof DeploymentFunction)[keyof typeof DeploymentFunction];

/** One action of a planned stage; each is exactly one kind. */
export type PlannedAction =
  | { readonly kind: 'source' }
  | { readonly kind: 'build' }
  | { readonly kind: 'deploy'; readonly stackName: string; readonly stage: string }
  | { readonly kind: 'approval'; readonly stage: string }
  | { readonly kind: 'invoke'; readonly name: string; readonly fn: DeploymentFunction; readonly userParameters: Record<string, unknown>; readonly namespace: string };

/** One pipeline stage as data. */
export interface PlannedStage {
  readonly name: string;
  readonly actions: readonly PlannedAction[];
}

/** What one function's pipeline does, before CodePipeline renders it. */
export interface PipelinePlan {
  readonly function: FunctionConfig;
  readonly stages: readonly PlannedStage[];
  /** Paths whose changes start this pipeline. */
  readonly triggerPaths: readonly string[];
  /** Names of the deployed functions, per stage (`<function>-<stage>`). */
  readonly managedFunctions: readonly { readonly stage: string; readonly functionName: string }[];
}

/** The alarms generated for a managed function's `live` alias are named under this prefix (see the shift-traffic engine). */
export function generatedAlarmName(functionName: string, alias: string, metric: string): string {
  return `lrp/${functionName}/${alias}/${metric}`;
}

/** Validates UserParameters at synth time with the very schema the deployment function parses them with. */
function checked<T extends z.ZodType>(schema: T, value: Record<string, unknown>, where: string): Record<string, unknown> {
  const result = schema.safeParse(value);
  if (!result.success) {
    throw new ReleaseConfigError(`${where}: UserParameters ${describeIssues(result.error.issues).join('; ')}`);
  }
  return value;
}

/** Plans one function's pipeline: source, build, then for each stage its gates, deploy, tests and traffic shift. */
export function planPipeline(config: ReleaseConfig, fn: FunctionConfig): PipelinePlan {
  const stages: PlannedStage[] = [
    { name: 'Source', actions: [{ kind: 'source' }] },
    { name: 'Build', actions: [{ kind: 'build' }] },
  ];
  for (const stage of config.stages) {
    const functionName = `${fn.name}-${stage.name}`;
    const where = `functions.${fn.name} stage ${stage.name}`;
    const gates: PlannedAction[] = [];
    if (stage.approval) gates.push({ kind: 'approval', stage: stage.name });
    if (stage.deploymentWindow) {
      gates.push({
        kind: 'invoke',
        name: 'DeploymentWindow',
        fn: DeploymentFunction.DEPLOY_WINDOW,
        namespace: `${stage.name}-window`,
        userParameters: checked(DeployWindowParametersSchema, { functionName, ...stage.deploymentWindow }, where),
      });
    }
    if (gates.length > 0) stages.push({ name: `Approve-${stage.name}`, actions: gates });

    const actions: PlannedAction[] = [{ kind: 'deploy', stage: stage.name, stackName: `lrp-app-${fn.name}-${stage.name}` }];
    if (stage.integrationTests) {
      actions.push({
        kind: 'invoke',
        name: 'IntegrationTests',
        fn: DeploymentFunction.INTEGRATION_TEST,
        namespace: `${stage.name}-tests`,
        userParameters: checked(IntegrationTestParametersSchema, { functionName, qualifier: 'candidate', casesPath: `functions/${fn.name}/integration` }, where),
      });
    }
    if (stage.shiftTraffic) {
      actions.push({
        kind: 'invoke',
        name: 'ShiftTraffic',
        fn: DeploymentFunction.SHIFT_TRAFFIC,
        namespace: `${stage.name}-shift`,
        userParameters: checked(
          ShiftTrafficParametersSchema,
          { functionName, alias: 'live', targetAlias: 'candidate', strategy: fn.strategy, alarms: fn.alarms, bakeMinutes: fn.bakeMinutes, analysis: fn.analysis },
          where,
        ),
      });
    }
    stages.push({ name: `Deploy-${stage.name}`, actions });
  }
  return {
    function: fn,
    stages,
    triggerPaths: [`functions/${fn.name}/**`, ...fn.paths, ...config.sharedPaths],
    managedFunctions: config.stages.map((stage) => ({ stage: stage.name, functionName: `${fn.name}-${stage.name}` })),
  };
}
