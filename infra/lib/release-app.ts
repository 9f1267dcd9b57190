import { Aspects, type App, type Environment } from 'aws-cdk-lib';
import { ExplicitIamActions } from './explicit-actions';
import { join } from 'node:path';
import type { FunctionConfig, ReleaseConfig } from '../config';
import { SAM_DEFAULT_TIMEOUT_SECONDS, readApplicationTemplate, templateTimeoutSeconds, type CfnTemplate } from '../templates/application-template';
import { FunctionPipelineStack } from './function-pipeline-stack';
import { planRelease } from './release-plan';
import { ToolingStack } from './tooling-stack';

/** The function's timeout: the configured one, else its template's, else SAM's default (a function with no template yet). */
function timeoutOf(fn: FunctionConfig, readTemplate: (name: string) => CfnTemplate | undefined): number {
  if (fn.timeoutSeconds !== undefined) return fn.timeoutSeconds;
  const template = readTemplate(fn.name);
  return template ? templateTimeoutSeconds(template) : SAM_DEFAULT_TIMEOUT_SECONDS;
}

/** The stacks of a release app: the shared tooling and one pipeline stack per function. */
export interface ReleaseStacks {
  readonly tooling: ToolingStack;
  readonly pipelines: FunctionPipelineStack[];
}

/** Where the app reads each function's template. */
export interface ReleaseAppOptions {
  /** @default - `functions/<name>/template.yaml` under the project root */
  readonly readTemplate?: (functionName: string) => CfnTemplate | undefined;
}

const PROJECT_ROOT = join(import.meta.dirname, '..', '..');

/** Adds the tooling stack and one pipeline stack per configured function to `app`. */
export function buildReleaseApp(app: App, config: ReleaseConfig, env: Environment, options: ReleaseAppOptions = {}): ReleaseStacks {
  const readTemplate = options.readTemplate ?? ((name: string) => readApplicationTemplate(PROJECT_ROOT, name));
  const tooling = new ToolingStack(app, 'lrp-tooling', { env, config, description: 'Lambda Release Pipeline: shared tooling (artifacts, deployment functions, ledger, rollback rule)' });
  const pipelines = planRelease(config).map(
    (plan) =>
      new FunctionPipelineStack(app, `lrp-pipeline-${plan.function.name}`, {
        env,
        config,
        plan,
        tooling,
        timeoutSeconds: timeoutOf(plan.function, readTemplate),
        description: `Lambda Release Pipeline: release pipeline, alarms and dashboard of ${plan.function.name}`,
      }),
  );
  Aspects.of(app).add(new ExplicitIamActions());
  return { tooling, pipelines };
}
