import { Aspects, Stack, type App, type Environment } from 'aws-cdk-lib';
import { ExplicitIamActions } from './explicit-actions';
import { CONTROL } from './control-pipeline-plan';
import { ControlPipelineStack } from './control-pipeline-stack';
import { join } from 'node:path';
import type { ReleaseConfig } from '../config';
import { SAM_DEFAULT_TIMEOUT_SECONDS, readApplicationTemplate, withTemplateSettings, type CfnTemplate } from '../templates/application-template';
import { FunctionPipelineStack } from './function-pipeline-stack';
import { InstallationNames } from './installation-names';
import { caseSourceOf, type CaseSource, type MissingCases } from './case-source';
import { planRelease } from './release-plan';
import { ToolingStack } from './tooling-stack';

/** The stacks of a release app: the shared tooling and one pipeline stack per function. */
export interface ReleaseStacks {
  readonly tooling: ToolingStack;
  readonly pipelines: FunctionPipelineStack[];
  /** `<installation>-control`: deploys every other stack of the app when a control path changes. */
  readonly control: ControlPipelineStack;
}

/** Where the app reads each function's template. */
export interface ReleaseAppOptions {
  /** @default - `functions/<name>/template.yaml` under the project root */
  readonly readTemplate?: (functionName: string) => CfnTemplate | undefined;
  /** @default - what `functions/<name>/` under the project root holds: `integration/*.json` cases, else `events/*.json` */
  readonly readCases?: (functionName: string) => CaseSource | MissingCases | undefined;
}

const PROJECT_ROOT = join(import.meta.dirname, '..', '..');

/** Adds the tooling stack and one pipeline stack per configured function to `app`. */
export function buildReleaseApp(app: App, configured: ReleaseConfig, env: Environment, options: ReleaseAppOptions = {}): ReleaseStacks {
  const readTemplate = options.readTemplate ?? ((name: string) => readApplicationTemplate(PROJECT_ROOT, name));
  // Each template's timeout, DeploymentPreference strategy and alarms count as configured.
  const config = withTemplateSettings(configured, readTemplate);
  const names = new InstallationNames(config.installation);
  const tooling = new ToolingStack(app, names.toolingStack, { env, config, description: 'Lambda Release Pipeline: shared tooling (artifacts, deployment functions, ledger, rollback rule)' });
  const readCases = options.readCases ?? ((name: string) => caseSourceOf(PROJECT_ROOT, name));
  const pipelines = planRelease(config, { casesOf: readCases }).map(
    (plan) =>
      new FunctionPipelineStack(app, names.pipelineStack(plan.function.name), {
        env,
        config,
        plan,
        tooling,
        timeoutSeconds: plan.function.timeoutSeconds ?? SAM_DEFAULT_TIMEOUT_SECONDS,
        description: `Lambda Release Pipeline: release pipeline, alarms and dashboard of ${plan.function.name}`,
      }),
  );
  // Last: it deploys every stack the app holds so far (CDK's pipeline support stacks included).
  const control = new ControlPipelineStack(app, `${config.installation}-${CONTROL}`, {
    env,
    config,
    deploys: app.node.children.filter((child) => Stack.isStack(child)),
    description: 'Lambda Release Pipeline: the control pipeline, which tests, synthesizes and deploys the release app itself',
  });
  Aspects.of(app).add(new ExplicitIamActions());
  return { tooling, pipelines, control };
}
