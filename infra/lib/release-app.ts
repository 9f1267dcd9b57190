import { Aspects, type App, type Environment } from 'aws-cdk-lib';
import { ExplicitIamActions } from './explicit-actions';
import type { ReleaseConfig } from '../config';
import { FunctionPipelineStack } from './function-pipeline-stack';
import { planRelease } from './release-plan';
import { ToolingStack } from './tooling-stack';

/** The stacks of a release app: the shared tooling and one pipeline stack per function. */
export interface ReleaseStacks {
  readonly tooling: ToolingStack;
  readonly pipelines: FunctionPipelineStack[];
}

/** Adds the tooling stack and one pipeline stack per configured function to `app`. */
export function buildReleaseApp(app: App, config: ReleaseConfig, env: Environment): ReleaseStacks {
  const tooling = new ToolingStack(app, 'lrp-tooling', { env, config, description: 'Lambda Release Pipeline: shared tooling (artifacts, deployment functions, ledger, rollback rule)' });
  const pipelines = planRelease(config).map(
    (plan) =>
      new FunctionPipelineStack(app, `lrp-pipeline-${plan.function.name}`, {
        env,
        config,
        plan,
        tooling,
        description: `Lambda Release Pipeline: release pipeline, alarms and dashboard of ${plan.function.name}`,
      }),
  );
  Aspects.of(app).add(new ExplicitIamActions());
  return { tooling, pipelines };
}
