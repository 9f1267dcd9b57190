import type { FieldIssue } from '../../deploy-functions/core/issues';
import type { ReleaseConfig } from '../config';

/** The suffix of the control pipeline's names: `<installation>-control` (its stack and pipeline). */
export const CONTROL = 'control';

/**
 * The paths whose pushes start the control pipeline: what the synthesized app is made of. Function pipelines never
 * trigger on them (see `controlPathIssues`), but for the two that are theirs as well: the control pipeline deploys
 * these changes first, and a function pipeline whose definition it changed starts again with it (`restartExecutionOnUpdate`).
 * - `release.config.ts`, `infra/**` (the control pipeline's own buildspecs included), `deploy-functions/**` (the engine);
 * - the package files and `tsconfig.json`: they change what synth bundles and what every build compiles;
 * - `cdk.json`: its context (feature flags, the bootstrap qualifier) changes every template;
 * - `scripts/lib/**`: infra imports it (the deployment functions' esbuild options, the function folders, the packaged
 *   layout), so it changes what synth deploys; function builds run it too, so their pipelines start on it as well;
 * - each function's `template.yaml`: synth reads its timeout, DeploymentPreference strategy and alarms into the
 *   function's pipeline, so the function's own pipeline and the control pipeline both start on it.
 * The root files are one `{…}` group (CodePipeline's globs take one level of braces): a push filter takes eight patterns.
 */
export const CONTROL_TRIGGER_PATHS = [
  '{release.config.ts,package.json,package-lock.json,tsconfig.json,cdk.json}',
  'infra/**',
  'deploy-functions/**',
  'scripts/lib/**',
  'functions/*/template.yaml',
] as const;

/** The trigger paths that are a function's own as well: its pipeline deploys the template and runs the build scripts, the control pipeline synthesizes them. */
const SHARED_WITH_FUNCTIONS: ReadonlySet<string> = new Set(['functions/*/template.yaml', 'scripts/lib/**']);

/** The patterns a `{a,b}` group stands for (one level, as CodePipeline's globs allow). */
export function expandBraces(pattern: string): string[] {
  const match = /^(.*?)\{([^{}]*)\}(.*)$/.exec(pattern);
  return match ? match[2]!.split(',').flatMap((choice) => expandBraces(`${match[1]}${choice}${match[3]}`)) : [pattern];
}

/** The CDK bootstrap roles the control pipeline's deploy steps assume in an environment (no lookups: nothing is looked up). */
export const BootstrapRole = {
  /** Runs CloudFormation (it passes the environment's cfn-exec role). */
  DEPLOY: 'deploy',
  /** Uploads templates and file assets to the bootstrap bucket. */
  FILE_PUBLISHING: 'file-publishing',
} as const;
export type BootstrapRole = (typeof BootstrapRole)[keyof typeof BootstrapRole];

/** An environment a stack deploys to, as CDK's bootstrap names it; `undefined` account or region: the pipeline's own. */
export interface BootstrapEnvironment {
  readonly account?: string;
  readonly region?: string;
  /** The bootstrap qualifier (`cdk bootstrap --qualifier`; context `@aws-cdk/core:bootstrapQualifier`). */
  readonly qualifier: string;
}

/**
 * The ARN of an environment's bootstrap role, written as CDK's DefaultStackSynthesizer writes it (`${AWS::Partition}`,
 * and `${AWS::AccountId}` / `${AWS::Region}` for an environment-agnostic stack): substitute it in the control stack,
 * which lives in the tooling environment.
 */
export function bootstrapRoleArn(role: BootstrapRole, env: BootstrapEnvironment): string {
  const account = env.account ?? '${AWS::AccountId}';
  const region = env.region ?? '${AWS::Region}';
  return `arn:\${AWS::Partition}:iam::${account}:role/cdk-${env.qualifier}-${role}-role-${account}-${region}`;
}

/** Functions whose name the control pipeline takes (`<installation>-control`), and configured trigger paths that are the control pipeline's. */
export function controlPathIssues(config: ReleaseConfig): FieldIssue[] {
  const control = new Set<string>(CONTROL_TRIGGER_PATHS.filter((path) => !SHARED_WITH_FUNCTIONS.has(path)).flatMap(expandBraces));
  const why = (path: string) =>
    `"${path}" starts the control pipeline (${config.installation}-control), which deploys it and restarts every function pipeline whose definition changed; function pipelines no longer trigger on it (remove it)`;
  return [
    ...config.sharedPaths.flatMap((path, index) => (control.has(path) ? [{ path: ['sharedPaths', index], message: why(path) }] : [])),
    ...config.functions.flatMap((fn, fnIndex) => [
      ...fn.paths.flatMap((path, index) => (control.has(path) ? [{ path: ['functions', fnIndex, 'paths', index], message: why(path) }] : [])),
      ...(fn.name === CONTROL ? [{ path: ['functions', fnIndex, 'name'], message: `"${CONTROL}": ${config.installation}-${CONTROL} is the control pipeline's name; rename the function` }] : []),
    ]),
  ];
}
