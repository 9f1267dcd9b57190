import { z } from 'zod';
import { describeIssues, type FieldIssue } from '../deploy-functions/core/issues';
import { AnalysisSchema, DEFAULT_BAKE_MINUTES, StrategySchema } from '../deploy-functions/core/user-parameters';
import { WindowPolicySchema } from '../deploy-functions/core/window';
import { DEFAULT_INSTALLATION, INSTALLATION_PATTERN, INSTALLATION_RULE, applicationStackName, stageFunctionName } from '../deploy-functions/core/names';
import { UNKNOWN, globMatches } from './iam/policy';
import { STAR_ONLY_ACTIONS, isStarOnlyAction } from './iam/star-only-actions';
import { DEFAULT_APPLICATION_BOUNDARY } from './lib/application-boundary';
import { InstallationNames, PIPELINE_ARTIFACT_FOLDER_CHARS } from './lib/installation-names';
import { SERVICE_LIMITS } from './lib/limits';

/** One IAM action, spelled out. */
const iamAction = z.string().regex(/^[a-z0-9-]+:[A-Za-z0-9]+$/, 'must be a single service:Action, no wildcards');
/** Calls that change who may do what (IAM, STS, Identity Center, Organizations): never for application templates to claim. */
const IAM_WRITE = /^(iam:(?!Get|List)|sts:|sso:|sso-directory:|identitystore:|organizations:|account:)/i;
const IAM_WRITE_MESSAGE =
  'IAM, STS, Identity Center and Organizations writes cannot be deploy permissions: the template\'s roles are created through the pipeline\'s own grants, which require the application permissions boundary (see the README, "Threat model")';

/** A glob of a V2 pipeline trigger's push filter (a branch or a file path): CodePipeline takes 1–255 characters. */
const triggerPattern = z.string().min(1).max(SERVICE_LIMITS.triggerPatternChars, `a CodePipeline trigger pattern is at most ${SERVICE_LIMITS.triggerPatternChars} characters`);
const name = (what: string) => z.string().regex(/^[a-z][a-z0-9-]{0,30}$/, `${what} must be lower-case letters, digits and dashes, starting with a letter (at most 31)`);

/** Where the code lives: a CodeStar connection (GitHub, Bitbucket or GitLab) and the release branch. */
const RepositorySchema = z.strictObject({
  /** ARN of a CodeStar/CodeConnections connection, created and authorised once in the console. */
  connectionArn: z.string().regex(/^arn:aws[a-z-]*:(codestar-connections|codeconnections):[a-z0-9-]+:\d{12}:connection\/[\w-]+$/, 'must be a CodeStar connection ARN'),
  /** Repository owner (user or organisation). */
  owner: z.string().min(1),
  /** Repository name. */
  name: z.string().min(1),
  /** Pushes to this branch release. @default 'release' */
  branch: triggerPattern.default('release'),
});

/** Stands for the installation in the SSM parameter names of a deployment-window gate. */
export const INSTALLATION_PLACEHOLDER = '${Installation}';

/**
 * The deployment-window gate of a stage (see the README): a policy inline or in SSM, and an optional override parameter.
 * Parameter names start with `/<installation>/` (write `/${Installation}/…`), so two installations never share one.
 */
const WindowGateSchema = z
  .strictObject({
    policy: z.optional(WindowPolicySchema),
    policyParameter: z.string().min(1).optional(),
    overrideParameter: z.string().min(1).optional(),
  })
  .refine((w) => w.policy !== undefined || w.policyParameter !== undefined, { message: 'one of policy or policyParameter is required', path: ['policy'] });

/** One deployment stage, in pipeline order. */
const StageSchema = z.strictObject({
  name: name('stage name'),
  /** A manual approval (SNS-notified) before this stage. @default false */
  approval: z.boolean().default(false),
  /** A deployment-window gate before this stage. @default - none */
  deploymentWindow: WindowGateSchema.optional(),
  /** Run the function's integration cases against the new version. @default true */
  integrationTests: z.boolean().default(true),
  /** Move `live` to the new version with the function's strategy; otherwise only `candidate` moves. @default false */
  shiftTraffic: z.boolean().default(false),
  /**
   * The AWS account the stage deploys to (12 digits). Another account than the tooling stack's needs that account's
   * target stack (README, "Multi-account set-up"). @default - the tooling stack's account
   */
  account: z.string().regex(/^\d{12}$/, 'must be a 12-digit AWS account id').optional(),
  /**
   * The AWS region the stage deploys to, e.g. `eu-west-1`. Another region than the tooling stack's needs the target
   * stack of that account and region. @default - the tooling stack's region
   */
  region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'must be an AWS region such as eu-west-1').optional(),
});

/** The strategy of a function that names none, in its configuration or in its template's `DeploymentPreference`. */
export const DEFAULT_STRATEGY = 'Canary10Percent5Minutes';

/** One function of the application, with how it is released. */
const FunctionSchema = z.strictObject({
  /** Folder name under `functions/`; each stage deploys it as `<name>-<stage>`. */
  name: name('function name'),
  /**
   * How `live` moves to a new version. @default - the `Type` of the template's `DeploymentPreference`, else
   * `Canary10Percent5Minutes` (DEFAULT_STRATEGY)
   */
  strategy: z.optional(StrategySchema),
  /**
   * Existing CloudWatch alarms to watch besides the generated ones; `${Stage}` in a name stands for the stage's name.
   * The template's `DeploymentPreference.Alarms` are watched too. @default []
   */
  alarms: z.array(z.string().min(1)).default([]),
  /** @default 10 */
  bakeMinutes: z.number().min(0).max(1440).default(DEFAULT_BAKE_MINUTES),
  /** New-vs-old error-rate analysis (see the shift-traffic action). */
  analysis: AnalysisSchema,
  /**
   * The function's timeout in seconds, for the Duration p99 alarm. It is read from the template (the function's
   * `Timeout`, else `Globals.Function.Timeout`, else SAM's 3 s); given here, it must agree. @default - the template's
   */
  timeoutSeconds: z.number().int().min(1).max(900).optional(),
  /** The zip size budget of the function's bundle, in KiB (the build fails above it). @default 64 */
  maxZipKiB: z.number().int().min(1).max(51_200).default(64),
  /**
   * Leave `@aws-sdk/*` out of the bundle and use the SDK the Lambda runtime ships: smaller zips and faster builds, but
   * the SDK version is the runtime's, not the lock file's (it changes when AWS updates the runtime). @default false
   */
  externalAwsSdk: z.boolean().default(false),
  /** Generated alarm thresholds. */
  alarmThresholds: z
    .strictObject({
      /** Errors per minute. @default 5 */
      errors: z.number().min(1).default(5),
      /** Throttles per minute. @default 1 */
      throttles: z.number().min(1).default(1),
      /** Duration p99 as a percentage of the timeout. @default 90 */
      durationP99PercentOfTimeout: z.number().min(1).max(100).default(90),
    })
    .default({ errors: 5, throttles: 1, durationP99PercentOfTimeout: 90 }),
  /**
   * What CloudFormation may do beyond the function, its role and aliases (which are always allowed) to deploy this
   * function's template, e.g. its queue or API. `${Partition}`, `${Region}` and `${Account}` are substituted, and a
   * value naming `${Stage}` becomes one value per stage. IAM writes are refused: roles come only through the
   * pipeline's own, boundary-guarded grants. @default []
   */
  deployPermissions: z
    .array(
      z.strictObject({
        actions: z.array(iamAction.refine((action) => !IAM_WRITE.test(action), IAM_WRITE_MESSAGE)).min(1),
        resources: z.array(z.string().min(1)).min(1),
        /** IAM condition block, e.g. {"ArnLike":{"lambda:FunctionArn":"arn:aws:lambda:${Region}:${Account}:function:orders-api-*"}}. */
        conditions: z.record(z.string(), z.record(z.string(), z.union([z.string(), z.array(z.string())]))).optional(),
        /** Why the permission is needed (and why a `*` resource, if any); shown in cdk-nag acknowledgements. */
        reason: z.string().min(10),
        /**
         * The template's resource types this permission is for, e.g. ['AWS::SQS::Queue']. The permission check then
         * also fails when the template no longer has such a resource (a permission nobody needs), or when nothing is
         * recorded about the type's handlers. @default []
         */
        resourceTypes: z.array(z.string().regex(/^AWS::\w+::\w+$/, 'must be a CloudFormation resource type such as AWS::SQS::Queue')).default([]),
      }),
    )
    .default([]),
  /** Extra paths (globs) whose changes release this function, besides its folder and the shared paths. @default [] */
  paths: z.array(triggerPattern).default([]),
});

/** The whole release configuration; every field but the repository and the functions has a default. */
export const ReleaseConfigSchema = z
  .strictObject({
    repository: RepositorySchema,
    /**
     * Prefixes every name the release pipeline creates (stacks, pipelines, deployment functions, ledger, alarms,
     * policies …), so several installations fit in one account and region. 1 to 10 lower-case letters and digits,
     * starting with a letter, no dashes (INSTALLATION_RULE says why). @default 'lrp' (DEFAULT_INSTALLATION)
     */
    installation: z.string().regex(INSTALLATION_PATTERN, INSTALLATION_RULE).default(DEFAULT_INSTALLATION),
    /**
     * Paths whose changes release every function. The control pipeline's paths (release.config.ts, infra, the
     * deployment functions, package files, tsconfig.json, cdk.json) are not among them: it deploys those changes.
     * @default the buildspecs and the build and package scripts
     */
    sharedPaths: z.array(triggerPattern).default(['buildspecs/**', 'scripts/**']),
    /**
     * The permissions boundary every role of an application template must carry: the most any function may do.
     * `${Partition}`, `${Region}`, `${Account}` are substituted. The release pipeline's own bucket, ledger, keys and
     * deployment functions are always denied. @default DEFAULT_APPLICATION_BOUNDARY (infra/lib/application-boundary.ts)
     */
    applicationBoundary: z
      .strictObject({
        allow: z
          .array(
            z.strictObject({
              actions: z.array(iamAction.refine((action) => !IAM_WRITE.test(action), 'IAM, STS, Identity Center and Organizations writes cannot be in the application boundary')).min(1),
              resources: z.array(z.string().min(1)).min(1),
              conditions: z.record(z.string(), z.record(z.string(), z.union([z.string(), z.array(z.string())]))).optional(),
              /** Why functions need it; shown in cdk-nag acknowledgements. */
              reason: z.string().min(10),
            }),
          )
          .min(1),
      })
      .default(() => ({ allow: structuredClone(DEFAULT_APPLICATION_BOUNDARY) })),
    /**
     * Roles of the tooling account whose holders may run `lrp status`, `history` and `rollback` on stages in other
     * accounts or regions: the target stacks' deployer roles trust them besides the deployment functions. IAM role ARNs
     * of the tooling account; `*` may stand for a path segment or a name's end, as IAM Identity Center roles need
     * (`arn:aws:iam::111111111111:role/aws-reserved/sso.amazonaws.com/*\/AWSReservedSSO_ReleaseOperator_*`). The
     * holders still need `sts:AssumeRole` on `<installation>-deployer-*` from their own policies.
     * @default [] (only the deployment functions reach remote stages; `lrp promote` and `abort` need no deployer role)
     */
    operatorRoleArns: z
      .array(
        z
          .string()
          .regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@*/-]{1,512}$/, 'must be an IAM role ARN (`*` allowed in the path and name), such as arn:aws:iam::111111111111:role/ReleaseOperator')
          .refine((arn) => !/:role\/\*?$/.test(arn) && arn !== '*', 'must name roles, not every role of the account'),
      )
      .max(20)
      .default([]),
    /** LOG_LEVEL of the deployment functions. @default 'INFO' */
    logLevel: z.enum(['DEBUG', 'INFO', 'WARN', 'ERROR']).default('INFO'),
    /** Days build artifacts are kept. @default 30 */
    artifactRetentionDays: z.number().int().min(1).max(3650).default(30),
    stages: z
      .array(StageSchema)
      .min(1)
      .default([
        { name: 'staging', approval: false, integrationTests: true, shiftTraffic: false },
        { name: 'prod', approval: true, integrationTests: true, shiftTraffic: true },
      ]),
    functions: z.array(FunctionSchema).min(1),
  })
  .superRefine((config, ctx) => {
    reachOfDeployPermissions(config).forEach((issue) => ctx.addIssue({ code: 'custom', path: [...issue.path], message: issue.message }));
    const seen = (values: string[], path: string) =>
      values.forEach((value, index) => {
        if (values.indexOf(value) !== index) ctx.addIssue({ code: 'custom', path: [path, index, 'name'], message: `duplicate name "${value}"` });
      });
    config.operatorRoleArns.forEach((arn, index) => {
      const covered = releasePipelineRoleCoveredBy(arn, config.installation);
      if (covered) ctx.addIssue({ code: 'custom', path: ['operatorRoleArns', index], message: `${arn} would also admit ${covered}, a role of the release pipeline itself: name the operators' roles by a name of their own` });
    });
    seen(config.stages.map((s) => s.name), 'stages');
    seen(config.functions.map((f) => f.name), 'functions');
    const names = new InstallationNames(config.installation);
    // The deployment functions are <installation>-<name>: a stage function named like one would be reached by the pipeline's roles.
    config.functions.forEach((fn, index) => {
      if (fn.name === config.installation || fn.name.startsWith(names.pipelinePrefix))
        ctx.addIssue({ code: 'custom', path: ['functions', index, 'name'], message: `"${fn.name}": names starting with "${names.pipelinePrefix}" are the release pipeline's own (its deployment functions are ${names.deploymentFunction('*').replace('*', '<name>')}); rename the function or the installation` });
    });
    // Operators' SSM parameters are the installation's: another installation's gate must never read them.
    config.stages.forEach((stage, index) =>
      (['policyParameter', 'overrideParameter'] as const).forEach((key) => {
        const parameter = stage.deploymentWindow?.[key];
        if (parameter !== undefined && !withInstallation(parameter, config.installation).startsWith(`/${config.installation}/`))
          ctx.addIssue({ code: 'custom', path: ['stages', index, 'deploymentWindow', key], message: `"${parameter}" must start with "/${config.installation}/" (write "/${INSTALLATION_PLACEHOLDER}/…"), so no other installation reads it` });
      }),
    );
    // Each pipeline's roles reach `<function>-*` (its functions, stacks and roles in every stage): `orders` would reach `orders-api`'s.
    config.functions.forEach((fn, index) => {
      const reached = config.functions.find((other) => other.name.startsWith(`${fn.name}-`));
      if (reached) ctx.addIssue({ code: 'custom', path: ['functions', index, 'name'], message: `"${fn.name}-" is a prefix of function "${reached.name}": patterns written for "${fn.name}" (${fn.name}-*) would reach its resources; rename one of them` });
      // CodePipeline keeps a pipeline's artifacts under the first 20 characters of its name.
      const folder = names.pipelineArtifactFolder(fn.name);
      const sharing = config.functions.find((other, otherIndex) => otherIndex < index && names.pipelineArtifactFolder(other.name) === folder);
      if (sharing) ctx.addIssue({ code: 'custom', path: ['functions', index, 'name'], message: `the pipelines of "${sharing.name}" and "${fn.name}" would share the artifact folder "${folder}/" (CodePipeline keeps the first 20 characters of a pipeline's name), so one build could overwrite the other's artifacts; make the names differ within their first ${PIPELINE_ARTIFACT_FOLDER_CHARS - names.pipelinePrefix.length} characters` });
    });
    config.functions.forEach((fn, index) =>
      config.stages.forEach((stage) => {
        const deployed = stageFunctionName(fn.name, stage.name);
        if (deployed.length > 64) ctx.addIssue({ code: 'custom', path: ['functions', index, 'name'], message: `${deployed} exceeds Lambda's 64-character limit` });
      }),
    );
  });

/**
 * A role of this or another installation (every name `<installation>-…`: its deployment functions, pipelines and
 * builds, which run pushed code) that an operator role pattern would also admit to the deployer roles, or undefined.
 */
function releasePipelineRoleCoveredBy(arn: string, installation: string): string | undefined {
  const pattern = arn.slice(arn.indexOf(':role/') + ':role/'.length);
  const matches = new RegExp(`^${pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replaceAll('*', '.*')}$`);
  const prefix = pattern.split('*')[0]!;
  const installations = [installation, ...'abcdefghijklmnopqrstuvwxyz', ...(INSTALLATION_PATTERN.test(prefix) ? [prefix] : [])];
  return installations.flatMap((name) => [`${name}-tooling-Role`, `${name}-pipeline-Role`, `${name}-control-Role`]).find((role) => matches.test(role));
}

/**
 * Deploy permissions that would reach another function's stage functions, roles or stacks (each pipeline's roles are
 * scoped to its own function; a `*` in the wrong place undoes that). Statements with conditions are left to them. A
 * `*` resource is accepted for actions IAM authorises on nothing narrower that only read or change what the stack
 * itself created (STAR_ONLY_ACTIONS): for them a `*` reaches no more than a name would.
 */
function reachOfDeployPermissions(config: { installation: string; functions: readonly { name: string; deployPermissions: readonly { actions: readonly string[]; resources: readonly string[]; conditions?: unknown }[] }[]; stages: readonly { name: string }[] }): FieldIssue[] {
  const fill = (text: string) => text.replaceAll('${Partition}', 'aws').replaceAll('${Region}', 'r').replaceAll('${Account}', '1');
  return config.functions.flatMap((fn, fnIndex) =>
    fn.deployPermissions.flatMap((permission, index) => {
      if (permission.conditions) return [];
      const others = config.functions.filter((other) => other.name !== fn.name);
      const probes = others.flatMap((other) =>
        config.stages.flatMap((stage) => {
          const deployed = stageFunctionName(other.name, stage.name);
          return [`arn:aws:lambda:r:1:function:${deployed}`, `arn:aws:iam::1:role/${applicationStackName(config.installation, other.name, stage.name)}-${UNKNOWN}`, `arn:aws:cloudformation:r:1:stack/${applicationStackName(config.installation, other.name, stage.name)}/${UNKNOWN}`];
        }),
      );
      const notStarOnly = permission.actions.filter((action) => !isStarOnlyAction(action));
      return permission.resources.flatMap((resource, resourceIndex) => {
        if (resource === '*' && notStarOnly.length === 0) return [];
        const pattern = fill(resource);
        const reached = probes.find((probe) => config.stages.some((stage) => globMatches(pattern.replaceAll('${Stage}', stage.name), probe)));
        if (!reached) return [];
        const where = reached.replace(UNKNOWN, '…').replace('arn:aws:', '').replace(':r:1:', ':');
        const star =
          resource === '*'
            ? `; "*" alone is accepted only for actions IAM authorises on nothing narrower that read or list, or change only what the stack created (${Object.keys(STAR_ONLY_ACTIONS).join(', ')}), not for ${notStarOnly.join(', ')}: give those their own permission with ${fn.name}'s ARNs`
            : '';
        return [{ path: ['functions', fnIndex, 'deployPermissions', index, 'resources', resourceIndex], message: `"${resource}" reaches another function's resources (${where}): name ${fn.name}'s own (use \${Stage}), or narrow it with a condition${star}` }];
      });
    }),
  );
}

/** A deployment-window parameter name with `${Installation}` filled in. */
function withInstallation(parameter: string, installation: string): string {
  return parameter.replaceAll(INSTALLATION_PLACEHOLDER, installation);
}

/** The configuration as users write it (defaults optional). */
export type ReleaseConfigInput = z.input<typeof ReleaseConfigSchema>;
/** The configuration with every default filled in. */
export type ReleaseConfig = z.output<typeof ReleaseConfigSchema>;
export type FunctionConfig = ReleaseConfig['functions'][number];
export type StageConfig = ReleaseConfig['stages'][number];

/** Thrown when the release configuration is invalid; the message names every bad field. */
export class ReleaseConfigError extends Error {
  override readonly name = 'ReleaseConfigError';
}

/** Types the configuration in `release.config.ts`. */
export function defineReleaseConfig(config: ReleaseConfigInput): ReleaseConfigInput {
  return config;
}

/** Validates the configuration and fills the defaults and `${Installation}`; fails with every bad field named. */
export function resolveReleaseConfig(input: unknown): ReleaseConfig {
  const result = ReleaseConfigSchema.safeParse(input);
  if (!result.success) throw invalidConfiguration(result.error.issues);
  const config = result.data;
  const fill = (parameter: string) => withInstallation(parameter, config.installation);
  return {
    ...config,
    stages: config.stages.map((stage) =>
      stage.deploymentWindow
        ? {
            ...stage,
            deploymentWindow: {
              ...stage.deploymentWindow,
              ...(stage.deploymentWindow.policyParameter !== undefined ? { policyParameter: fill(stage.deploymentWindow.policyParameter) } : {}),
              ...(stage.deploymentWindow.overrideParameter !== undefined ? { overrideParameter: fill(stage.deploymentWindow.overrideParameter) } : {}),
            },
          }
        : stage,
    ),
  };
}

/** The error for configuration problems found at any point of synth: one line per field. */
export function invalidConfiguration(issues: readonly FieldIssue[]): ReleaseConfigError {
  return new ReleaseConfigError(`Invalid release configuration:\n${describeIssues(issues).map((line) => `  ${line}`).join('\n')}`);
}
