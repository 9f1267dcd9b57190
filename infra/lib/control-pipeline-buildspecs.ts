/**
 * What the control pipeline's CodeBuild projects run. Inline rather than in `buildspecs/`: they are part of the
 * control pipeline's definition (covered by its `infra/**` trigger and by its self-update), and the deploy steps run on
 * the cloud assembly, which holds no buildspec.
 */

/** The context the app is synthesized with in CodeBuild: the tooling environment and connection the control stack was deployed with. */
export const SynthEnvironment = { ACCOUNT: 'TOOLING_ACCOUNT', REGION: 'TOOLING_REGION', CONNECTION_ARN: 'CONNECTION_ARN' } as const;

/** Stacks `cdk deploy` deploys at once (dependencies still go first): enough for many pipeline stacks, few enough for CloudFormation's API rates. */
export const DEPLOY_CONCURRENCY = 4;

const QUIET_TOOLS = { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', CDK_DISABLE_VERSION_CHECK: '1', CDK_DISABLE_CLI_TELEMETRY: 'true', CI: 'true' };

/**
 * Build stage: install, lint, type-check, the whole test suite (its JUnit report in the `unit-tests` group), then synth
 * with the tooling environment and connection made explicit; the output artifact is the cloud assembly (`cdk.out`).
 */
export function synthBuildSpec(): Record<string, unknown> {
  const context = `-c account="$${SynthEnvironment.ACCOUNT}" -c region="$${SynthEnvironment.REGION}" -c connectionArn="$${SynthEnvironment.CONNECTION_ARN}"`;
  return {
    version: '0.2',
    env: { variables: QUIET_TOOLS },
    phases: {
      install: {
        'on-failure': 'ABORT',
        'runtime-versions': { nodejs: 22, python: 3.12 },
        // The emulator and linter the test suite runs against (see README: Requirements).
        commands: ['npm ci', 'pip3 install --quiet "moto[server]" cfn-lint'],
      },
      pre_build: { 'on-failure': 'ABORT', commands: ['npm run lint', 'npm run typecheck'] },
      build: { 'on-failure': 'ABORT', commands: ['npm run test:ci', `npx cdk synth --quiet ${context}`] },
    },
    reports: { 'unit-tests': { 'base-directory': 'reports', files: ['junit.xml'], 'file-format': 'JUNITXML' } },
    artifacts: { 'base-directory': 'cdk.out', files: ['**/*'] },
    cache: { paths: ['/root/.npm/**/*'] },
  };
}

/**
 * A deploy step: `cdk deploy` of the named stacks from the cloud assembly (the input artifact's root), with the CDK CLI
 * version the lock file pins. The CLI assumes each stack's environment's bootstrap roles; nothing is built or run from
 * the repository here.
 */
export function deployBuildSpec(options: { readonly cliVersion: string; readonly stackIds: readonly string[] }): Record<string, unknown> {
  if (options.stackIds.length === 0) throw new Error('a deploy step needs at least one stack');
  const unsafe = options.stackIds.find((id) => !/^[\w.:-]+$/.test(id));
  if (unsafe !== undefined) throw new Error(`stack id "${unsafe}" cannot be passed to cdk deploy as it is: use letters, digits, ".", ":", "_" and "-"`);
  const stacks = options.stackIds.map((id) => `'${id}'`).join(' ');
  return {
    version: '0.2',
    env: { variables: QUIET_TOOLS },
    phases: {
      install: { 'on-failure': 'ABORT', 'runtime-versions': { nodejs: 22 }, commands: [`npm install --global aws-cdk@${options.cliVersion}`] },
      build: { 'on-failure': 'ABORT', commands: [`cdk deploy --app . --require-approval never --exclusively --concurrency ${DEPLOY_CONCURRENCY} --no-notices ${stacks}`] },
    },
  };
}
