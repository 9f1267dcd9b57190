import type * as z from '../../deploy-functions/core/zod';
import { describeIssues, type FieldIssue } from '../../deploy-functions/core/issues';
import { CaseFormat } from '../../deploy-functions/core/cases';
import { DeployWindowParametersSchema, IntegrationTestParametersSchema, ShiftTrafficParametersSchema } from '../../deploy-functions/core/user-parameters';
import { DEFAULT_STRATEGY, invalidConfiguration, type FunctionConfig, type ReleaseConfig } from '../config';
import type { CaseSource, MissingCases } from './case-source';
import { SERVICE_LIMITS, checkActionConfigurationValue } from './limits';
import { controlPathIssues } from './control-pipeline-plan';
import { SHIFT_TRAFFIC_ACTION, alarmArn, applicationStackName, stageFunctionName } from '../../deploy-functions/core/names';
import { StageEnvironments, type StageEnvironment } from './stage-environments';

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
  | { readonly kind: 'deploy'; readonly stackName: string; readonly stage: string; readonly env: StageEnvironment }
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
  /** Names of the deployed functions, per stage (`<function>-<stage>`), and where each is deployed. */
  readonly managedFunctions: readonly { readonly stage: string; readonly functionName: string; readonly env: StageEnvironment }[];
}

/** CodePipeline's variable for the id of the running execution. */
export const PIPELINE_EXECUTION_ID = '#{codepipeline.PipelineExecutionId}';
/** The pipeline variable a release is started with to let a forward release out while alarms fire. */
export const HOTFIX_REASON_VARIABLE = 'HotfixReason';
/** Its value when nobody gave one (CodePipeline wants a non-empty default); the engine reads it as no reason. */
export const NO_HOTFIX_REASON = 'none';
const HOTFIX_REASON_REFERENCE = `#{variables.${HOTFIX_REASON_VARIABLE}}`;

/**
 * Validates UserParameters at synth time with the very schema the deployment function parses them with, and checks
 * they fit CodePipeline's 1,000 characters. `field` is the configuration field the value comes from.
 */
function checked<T extends z.ZodMiniType>(schema: T, value: Record<string, unknown>, where: { readonly field: string; readonly action: string; readonly hint: string }, issues: FieldIssue[]): Record<string, unknown> {
  const result = schema.safeParse(value);
  if (!result.success) {
    issues.push({ path: where.field.split('.'), message: `${where.action} UserParameters ${describeIssues(result.error.issues).join('; ')}` });
    return value;
  }
  const tooLong = checkActionConfigurationValue(JSON.stringify(value), where.field, `${where.action} UserParameters`, where.hint);
  if (tooLong) issues.push(tooLong);
  return value;
}

/** A configured alarm as a remote stage's action names it: by ARN in the stage's account and region (an ARN stays as written). */
function alarmRef(alarm: string, env: StageEnvironment): string {
  return env.remote && !alarm.startsWith('arn:') ? alarmArn(env, alarm) : alarm;
}

/** The paths whose pushes start a function's pipeline: its folder, its own paths, then the shared ones (no repeats). */
export function triggerPathsOf(config: ReleaseConfig, fn: FunctionConfig): string[] {
  return [...new Set([`functions/${fn.name}/**`, ...fn.paths, ...config.sharedPaths])];
}

/** What the plan needs to know of the function folders. */
export interface PlanOptions {
  /**
   * What a function's integration-test action runs (see `caseSourceOf`); a function with nothing to run fails the plan.
   * @default - the function's integration cases, `functions/<name>/integration`
   */
  readonly casesOf?: (functionName: string) => CaseSource | MissingCases | undefined;
  /**
   * Where each stage deploys: a remote stage's actions name its function (and alarms) by ARN.
   * @default - every stage in the tooling account and region
   */
  readonly environments?: StageEnvironments;
}

/** Plans every configured function's pipeline; fails once, naming every field whose value AWS would refuse. */
export function planRelease(config: ReleaseConfig, options: PlanOptions = {}): PipelinePlan[] {
  // Paths the control pipeline deploys are never a function's (see CONTROL_TRIGGER_PATHS).
  const issues: FieldIssue[] = controlPathIssues(config);
  const plans = config.functions.map((fn) => planPipelineCollecting(config, fn, options, issues));
  if (issues.length > 0) throw invalidConfiguration(issues);
  return plans;
}

/** Plans one function's pipeline: source, build, then for each stage its gates, deploy, tests and traffic shift. */
export function planPipeline(config: ReleaseConfig, fn: FunctionConfig, options: PlanOptions = {}): PipelinePlan {
  const issues: FieldIssue[] = [];
  const plan = planPipelineCollecting(config, fn, options, issues);
  if (issues.length > 0) throw invalidConfiguration(issues);
  return plan;
}

/** The integration-test action's parameters naming what it runs: `cases` only when it is not the default. */
function casesParameters(fn: FunctionConfig, fnField: string, options: PlanOptions, issues: FieldIssue[]): Record<string, unknown> {
  const source = options.casesOf?.(fn.name) ?? { casesPath: `functions/${fn.name}/integration`, format: CaseFormat.CASES };
  if ('missing' in source) {
    issues.push({ path: [...fnField.split('.'), 'name'], message: source.missing });
    return { casesPath: `functions/${fn.name}/integration` };
  }
  return { casesPath: source.casesPath, ...(source.format === CaseFormat.CASES ? {} : { cases: source.format }) };
}

function planPipelineCollecting(config: ReleaseConfig, fn: FunctionConfig, options: PlanOptions, issues: FieldIssue[]): PipelinePlan {
  const fnField = `functions.${config.functions.indexOf(fn)}`;
  const cases = config.stages.some((stage) => stage.integrationTests) ? casesParameters(fn, fnField, options, issues) : {};
  const stages: PlannedStage[] = [
    { name: 'Source', actions: [{ kind: 'source' }] },
    { name: 'Build', actions: [{ kind: 'build' }] },
  ];
  const environments = options.environments ?? StageEnvironments.local(config);
  for (const [stageIndex, stage] of config.stages.entries()) {
    const env = environments.of(stage.name);
    // What the deployment functions act on: the plain name at home, the function's ARN in another account or region.
    const functionName = environments.functionRef(fn.name, stage.name);
    const gates: PlannedAction[] = [];
    if (stage.approval) gates.push({ kind: 'approval', stage: stage.name });
    if (stage.deploymentWindow) {
      gates.push({
        kind: 'invoke',
        name: 'DeploymentWindow',
        fn: DeploymentFunction.DEPLOY_WINDOW,
        namespace: `${stage.name}-window`,
        userParameters: checked(
          DeployWindowParametersSchema,
          { functionName, ...stage.deploymentWindow },
          {
            field: `stages.${stageIndex}.deploymentWindow.policy`,
            action: `${fn.name} ${stage.name} DeploymentWindow`,
            hint: 'Keep the policy in the SSM parameter named by policyParameter and leave policy out of the configuration.',
          },
          issues,
        ),
      });
    }
    if (gates.length > 0) stages.push({ name: `Approve-${stage.name}`, actions: gates });

    const actions: PlannedAction[] = [{ kind: 'deploy', stage: stage.name, env, stackName: applicationStackName(config.installation, fn.name, stage.name) }];
    if (stage.integrationTests) {
      actions.push({
        kind: 'invoke',
        name: 'IntegrationTests',
        fn: DeploymentFunction.INTEGRATION_TEST,
        namespace: `${stage.name}-tests`,
        userParameters: checked(
          IntegrationTestParametersSchema,
          { functionName, qualifier: 'candidate', ...cases },
          { field: `${fnField}.name`, action: `${fn.name} ${stage.name} IntegrationTests`, hint: 'Use a shorter function name.' },
          issues,
        ),
      });
    }
    if (stage.shiftTraffic) {
      actions.push({
        kind: 'invoke',
        name: SHIFT_TRAFFIC_ACTION,
        fn: DeploymentFunction.SHIFT_TRAFFIC,
        namespace: `${stage.name}-shift`,
        userParameters: checked(
          ShiftTrafficParametersSchema,
          {
            functionName,
            alias: 'live',
            targetAlias: 'candidate',
            strategy: fn.strategy ?? DEFAULT_STRATEGY,
            alarms: fn.alarms.map((alarm) => alarmRef(alarm.replaceAll('${Stage}', stage.name), env)),
            bakeMinutes: fn.bakeMinutes,
            analysis: fn.analysis,
            // Filled by CodePipeline when the action runs: a stopped execution reverts its deployment, and a hotfix
            // reason given when starting the pipeline lets a forward release out while alarms fire.
            pipelineExecutionId: PIPELINE_EXECUTION_ID,
            hotfixReason: HOTFIX_REASON_REFERENCE,
          },
          {
            field: `${fnField}.alarms`,
            action: `${fn.name} ${stage.name} ShiftTraffic`,
            hint: 'Watch fewer alarms (the generated Errors, Throttles and Duration alarms are found by name and need no entry), or use a strategy name instead of explicit steps.',
          },
          issues,
        ),
      });
    }
    stages.push({ name: `Deploy-${stage.name}`, actions });
  }
  const triggerPaths = triggerPathsOf(config, fn);
  if (triggerPaths.length > SERVICE_LIMITS.triggerFilePathIncludes) {
    issues.push({
      path: (fn.paths.length > 0 ? `${fnField}.paths` : 'sharedPaths').split('.'),
      message: `${fn.name}'s pipeline trigger would include ${triggerPaths.length} file paths (its folder, ${fn.paths.length} of its own paths, ${config.sharedPaths.length} shared); a CodePipeline V2 push trigger allows at most ${SERVICE_LIMITS.triggerFilePathIncludes}. Merge paths into broader globs (e.g. \`libs/**\`).`,
    });
  }
  if (stages.length > SERVICE_LIMITS.stagesPerPipeline) {
    issues.push({ path: ['stages'], message: `${fn.name}'s pipeline would have ${stages.length} stages (source, build, each stage's deploy and gates); CodePipeline allows at most ${SERVICE_LIMITS.stagesPerPipeline}. Use fewer stages.` });
  }
  return {
    function: fn,
    stages,
    triggerPaths,
    managedFunctions: config.stages.map((stage) => ({ stage: stage.name, functionName: stageFunctionName(fn.name, stage.name), env: environments.of(stage.name) })),
  };
}
