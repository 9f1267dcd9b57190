import { Aspects, Stack, Validations, type App, type Environment } from 'aws-cdk-lib';
import { envKey, type AwsEnv } from '../../deploy-functions/core/names';
import { StageEnvironments } from './stage-environments';
import { TargetStack } from './target-stack';
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
  /** One per account and region that stages deploy to besides the tooling stack's (none in a one-account release). */
  readonly targets: TargetStack[];
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
  const environments = StageEnvironments.of(config, env);
  const tooling = new ToolingStack(app, names.toolingStack, { env, config, environments, description: 'Lambda Release Pipeline: shared tooling (artifacts, deployment functions, ledger, rollback rule)' });
  const targets = createTargetStacks(app, config, environments, tooling);
  const targetOf = (target: AwsEnv) => targets.find((t) => t.account === target.account && t.region === target.region)!;
  const readCases = options.readCases ?? ((name: string) => caseSourceOf(PROJECT_ROOT, name));
  const pipelines = planRelease(config, { casesOf: readCases, environments }).map(
    (plan) =>
      new FunctionPipelineStack(app, names.pipelineStack(plan.function.name), {
        env,
        config,
        plan,
        tooling,
        timeoutSeconds: plan.function.timeoutSeconds ?? SAM_DEFAULT_TIMEOUT_SECONDS,
        targetOf,
        description: `Lambda Release Pipeline: release pipeline, alarms and dashboard of ${plan.function.name}`,
      }),
  );
  orderCrossRegionSupport(app, targets);
  // Last: it deploys every stack the app holds so far (CDK's pipeline support stacks included).
  const control = new ControlPipelineStack(app, `${config.installation}-${CONTROL}`, {
    env,
    config,
    deploys: app.node.children.filter((child) => Stack.isStack(child)),
    description: 'Lambda Release Pipeline: the control pipeline, which tests, synthesizes and deploys the release app itself',
  });
  Aspects.of(app).add(new ExplicitIamActions());
  return { tooling, pipelines, targets, control };
}

/**
 * One target stack per account and region the stages deploy to besides the tooling stack's. IAM names are per
 * account: the application boundary and deploy guard of a target account are created by its first target stack (the
 * tooling stack's in the tooling account), the account's other target stacks deploy after it.
 */
function createTargetStacks(app: App, config: ReleaseConfig, environments: StageEnvironments, tooling: ToolingStack): TargetStack[] {
  const names = tooling.names;
  const home = { partition: tooling.partition, account: tooling.account, region: tooling.region };
  const created: TargetStack[] = [];
  for (const target of environments.targets) {
    const owner = created.find((t) => t.account === target.account);
    const stack = new TargetStack(app, `${names.targetStack(target.region)}-${target.account}`, {
      env: { account: target.account, region: target.region },
      stackName: names.targetStack(target.region),
      description: `Lambda Release Pipeline: target ${envKey(target)} of ${names.installation} (deployer role, CloudFormation roles, alarms, alarm forwarding)`,
      config,
      names,
      tooling: home,
      stages: environments.stagesIn(target),
      timeoutSecondsOf: (fn) => fn.timeoutSeconds ?? SAM_DEFAULT_TIMEOUT_SECONDS,
      ...(owner || target.account === tooling.account ? {} : { accountPolicyRegions: environments.targets.filter((t) => t.account === target.account).map((t) => t.region) }),
    });
    if (owner) stack.addStackDependency(owner, 'the account\'s application boundary and deploy guard');
    if (target.account === tooling.account) stack.addStackDependency(tooling, 'the account\'s application boundary and deploy guard');
    created.push(stack);
  }
  return created;
}

/**
 * CDK's cross-region support stacks (one per region, shared by every pipeline) write the target roles into their
 * replication buckets' and keys' policies: those roles must exist first. Their findings are CDK's choices, acknowledged.
 */
function orderCrossRegionSupport(app: App, targets: readonly TargetStack[]): void {
  for (const support of app.node.children.filter((child): child is Stack => child instanceof Stack && child.node.id.startsWith('cross-region-stack-'))) {
    // Only other accounts' roles are named there (see grantRegionalCode); a target stack of the tooling account refers to the support stack instead.
    for (const target of targets.filter((t) => t.region === support.region && t.account !== support.account)) support.addStackDependency(target, 'its replication bucket policy names the target roles');
    Validations.of(support).acknowledge(
      { id: 'AwsSolutions-S1', reason: 'CDK\'s cross-region replication bucket holds copies of pipeline artifacts only; the artifact bucket in the tooling region logs access.' },
    );
  }
}
