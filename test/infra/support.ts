import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import releaseConfig from '../../release.config';
import { resolveReleaseConfig, type ReleaseConfig, type ReleaseConfigInput } from '../../infra/config';
import { buildReleaseApp } from '../../infra/lib/release-app';
import { readApplicationTemplate } from '../../infra/templates/application-template';
import { stageFunctionName } from '../../deploy-functions/core/names';

const root = join(import.meta.dirname, '..', '..');
/** cdk.json's context: a test App does not read it by itself. */
export const cdkContext = (JSON.parse(readFileSync(join(root, 'cdk.json'), 'utf8')) as { context: Record<string, unknown> }).context;

/** The repository's own release configuration, as users would write it. */
export const sampleConfig: ReleaseConfigInput = releaseConfig;

/**
 * Builds the release app for a configuration, reading each function's template under `root` (this repository by
 * default). Bundling is skipped (the `npm run synth` test bundles for real) and the built-in template validation is
 * off: cfn-lint checks the templates instead.
 */
export function synthRelease(input: ReleaseConfigInput = sampleConfig, options: { outdir?: string; root?: string } = {}) {
  const app = new App({
    context: { ...cdkContext, 'aws:cdk:bundling-stacks': [] },
    builtinCloudFormationValidation: false,
    ...(options.outdir ? { outdir: options.outdir } : {}),
  });
  const templateRoot = options.root ?? root;
  const stacks = buildReleaseApp(app, resolveReleaseConfig(input), { account: '123456789012', region: 'eu-central-1' }, { readTemplate: (name) => readApplicationTemplate(templateRoot, name) });
  return { app, ...stacks };
}

/** The stacks a one-account configuration synthesizes to: the shared tooling, one pipeline stack per configured function, and the control pipeline. */
export const stackNamesOf = (config: ReleaseConfig): string[] => [`${config.installation}-tooling`, ...config.functions.map((fn) => `${config.installation}-pipeline-${fn.name}`), `${config.installation}-control`];

/** Every function the release manages, as deployed: each configured function in each stage (`<function>-<stage>`). */
export const stageFunctionsOf = (config: ReleaseConfig): string[] => config.functions.flatMap((fn) => config.stages.map((stage) => stageFunctionName(fn.name, stage.name)));

/** Templates of a synthesized release app, by stack name. */
export function templatesOf(stacks: ReturnType<typeof synthRelease>) {
  return {
    tooling: Template.fromStack(stacks.tooling),
    pipelines: Object.fromEntries(stacks.pipelines.map((p) => [p.stackName, Template.fromStack(p)])),
  };
}

/** The tooling stack's account and region in every synthesized test app. */
export const TOOLING_ENV = { account: '123456789012', region: 'eu-central-1' } as const;
/** The production account of the multi-account configurations. */
export const PROD_ACCOUNT = '210987654321';
const [sampleStaging, sampleProd] = sampleConfig.stages!;

/** The sample with staging in the tooling account and prod in a second account (same region). */
export const twoAccountsConfig: ReleaseConfigInput = { ...sampleConfig, stages: [sampleStaging!, { ...sampleProd!, account: PROD_ACCOUNT }] };

/** The sample with prod in a second account and two regions, neither the tooling stack's: `prod-eu` and `prod-us`; operators may reach them. */
export const twoRegionsConfig: ReleaseConfigInput = {
  ...sampleConfig,
  // Operators of an IAM Identity Center permission set may run lrp on the remote stages.
  operatorRoleArns: [`arn:aws:iam::${TOOLING_ENV.account}:role/aws-reserved/sso.amazonaws.com/*/AWSReservedSSO_ReleaseOperator_*`],
  stages: [sampleStaging!, { ...sampleProd!, name: 'prod-eu', account: PROD_ACCOUNT, region: 'eu-west-1' }, { ...sampleProd!, name: 'prod-us', account: PROD_ACCOUNT, region: 'us-east-1' }],
};
