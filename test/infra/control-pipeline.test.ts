import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { App, BootstraplessSynthesizer, DefaultStackSynthesizer, LegacyStackSynthesizer, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { resolveReleaseConfig, type ReleaseConfigInput } from '../../infra/config';
import { CONTROL_TRIGGER_PATHS } from '../../infra/lib/control-pipeline-plan';
import { bootstrapRolesOf, lockedCdkCliVersion } from '../../infra/lib/control-pipeline-stack';
import { SERVICE_LIMITS } from '../../infra/lib/limits';
import { buildReleaseApp } from '../../infra/lib/release-app';
import { planRelease } from '../../infra/lib/release-plan';
import { JUNIT_REPORT } from '../../scripts/lib/check-function';
import { gitTrackedOrPresentFiles, globToRegExp } from '../support/files';
import { cdkContext, sampleConfig, synthRelease } from './support';

type Json = Record<string, unknown>;
type Statement = { Effect: string; Action: string | string[]; Resource: unknown; Sid?: string };
type Stage = { Name: string; Actions: { Name: string; RoleArn?: unknown; Configuration: { ProjectName?: { Ref: string } } }[] };
type BuildSpec = { phases: Record<string, { commands: string[] }>; artifacts?: { 'base-directory': string; files: string[] }; reports?: Record<string, { 'base-directory': string; files: string[] }> };

const root = join(import.meta.dirname, '..', '..');
const env = { account: '123456789012', region: 'eu-central-1' };
const remote = { account: '210987654321', region: 'us-west-2' };
const roleArn = (role: string, at: { account: string; region: string }, qualifier = 'hnb659fds') => ({ 'Fn::Sub': `arn:\${AWS::Partition}:iam::${at.account}:role/cdk-${qualifier}-${role}-role-${at.account}-${at.region}` });
const asArray = <T>(value: T | T[]): T[] => (Array.isArray(value) ? value : [value]);

/** What a synthesized control stack says: its pipeline, and each CodeBuild step's buildspec, environment and role statements. */
function controlOf(release: ReturnType<typeof synthRelease>) {
  const template = Template.fromStack(release.control);
  const resources = (template.toJSON() as { Resources: Record<string, { Type: string; Properties: Json }> }).Resources;
  const [pipeline] = Object.values(template.findResources('AWS::CodePipeline::Pipeline')).map((r) => r.Properties as Json);
  const stages = pipeline!.Stages as Stage[];
  const projectOf = (actionName: string) => {
    const projectId = stages.flatMap((s) => s.Actions).find((a) => a.Name === actionName)!.Configuration.ProjectName!.Ref;
    const project = resources[projectId]!.Properties as { Source: { BuildSpec: string }; Environment: { EnvironmentVariables?: { Name: string; Value: string }[] }; ServiceRole: { 'Fn::GetAtt': [string, string] } };
    const roleId = project.ServiceRole['Fn::GetAtt'][0];
    const statements = Object.values(resources)
      .filter((r) => r.Type === 'AWS::IAM::Policy' && (r.Properties.Roles as { Ref: string }[]).some((role) => role.Ref === roleId))
      .flatMap((r) => (r.Properties.PolicyDocument as { Statement: Statement[] }).Statement);
    const variables = Object.fromEntries((project.Environment.EnvironmentVariables ?? []).map((v) => [v.Name, v.Value]));
    return { buildSpec: JSON.parse(project.Source.BuildSpec) as BuildSpec, variables, statements };
  };
  /** Every role the statements let a project assume. */
  const assumable = (statements: Statement[]) => statements.filter((st) => asArray(st.Action).some((a) => a.startsWith('sts:'))).flatMap((st) => asArray(st.Resource));
  return { template, resources, pipeline: pipeline!, stages, projectOf, assumable };
}

/** The stack ids a deploy step's `cdk deploy` names. */
const deployedIds = (buildSpec: BuildSpec) => {
  const command = buildSpec.phases.build!.commands.find((c) => c.startsWith('cdk deploy'))!;
  expect(command).toMatch(/^cdk deploy --app \. --require-approval never --exclusively /);
  return [...command.matchAll(/'([^']+)'/g)].map((m) => m[1]);
};

describe('GIVEN the repository release configuration (one account)', () => {
  let release: ReturnType<typeof synthRelease>;
  let control: ReturnType<typeof controlOf>;
  const config = resolveReleaseConfig(sampleConfig);
  beforeAll(() => {
    release = synthRelease();
    control = controlOf(release);
  }, 60_000);

  it('THEN the app holds lrp-control, a V2 pipeline that restarts when its definition changes', () => {
    expect(release.app.node.tryFindChild('lrp-control')).toBe(release.control);
    expect(release.control.stackName).toBe('lrp-control');
    expect(control.pipeline).toMatchObject({ Name: 'lrp-control', PipelineType: 'V2', RestartExecutionOnUpdate: true });
  });

  it('THEN it updates itself before it deploys anything else: Source, Build, UpdatePipeline, Deploy', () => {
    expect(control.stages.map((s) => [s.Name, s.Actions.map((a) => a.Name)])).toEqual([
      ['Source', ['Source']],
      ['Build', ['Synth']],
      ['UpdatePipeline', ['SelfUpdate']],
      ['Deploy', ['Deploy']],
    ]);
    expect(deployedIds(control.projectOf('SelfUpdate').buildSpec)).toEqual(['lrp-control']);
  });

  it('THEN a push to the release branch through the functions\' connection starts it on exactly the control paths', () => {
    const [trigger] = control.pipeline.Triggers as { ProviderType: string; GitConfiguration: { SourceActionName: string; Push: { Branches: { Includes: string[] }; FilePaths: { Includes: string[] } }[] } }[];
    expect(trigger!.ProviderType).toBe('CodeStarSourceConnection');
    expect(trigger!.GitConfiguration.Push).toEqual([{ Branches: { Includes: [config.repository.branch] }, FilePaths: { Includes: [...CONTROL_TRIGGER_PATHS] } }]);
    for (const file of ['release.config.ts', 'package.json', 'package-lock.json', 'tsconfig.json', 'cdk.json', 'infra/bin/app.ts', 'deploy-functions/engine/undo.ts', 'scripts/lib/bundle.ts']) {
      expect(CONTROL_TRIGGER_PATHS.some((pattern) => globToRegExp(pattern).test(file)), file).toBe(true);
    }
    const source = control.stages[0]!.Actions[0] as unknown as { Configuration: Json };
    expect(source.Configuration).toMatchObject({ ConnectionArn: config.repository.connectionArn, FullRepositoryId: `${config.repository.owner}/${config.repository.name}`, BranchName: config.repository.branch });
  });

  it('THEN every file the app is synthesized from (what infra/bin/app.ts imports, transitively) starts it', () => {
    const seen = new Set<string>();
    const visit = (file: string) => {
      if (seen.has(file)) return;
      seen.add(file);
      const source = readFileSync(join(root, file), 'utf8');
      for (const [, specifier] of source.matchAll(/(?:from|import\()\s*'(\.{1,2}\/[^']+)'/g)) {
        const base = join(dirname(file), specifier!);
        const found = [`${base}.ts`, base, join(base, 'index.ts')].find((candidate) => existsSync(join(root, candidate)) && statSync(join(root, candidate)).isFile());
        if (found) visit(found);
      }
    };
    visit('infra/bin/app.ts');
    expect(seen.size).toBeGreaterThan(20);
    expect([...seen].filter((file) => !CONTROL_TRIGGER_PATHS.some((pattern) => globToRegExp(pattern).test(file)))).toEqual([]);
  });

  it('THEN no function pipeline triggers on a control path, and of the repository\'s files only the function templates and the build scripts\' library start both', () => {
    const functionTriggers = release.pipelines.map((stack) => {
      const [pipeline] = Object.values(Template.fromStack(stack).findResources('AWS::CodePipeline::Pipeline')).map((r) => r.Properties as Json);
      expect(pipeline!.RestartExecutionOnUpdate, stack.stackName).toBe(true);
      return (pipeline!.Triggers as { GitConfiguration: { Push: { FilePaths: { Includes: string[] } }[] } }[])[0]!.GitConfiguration.Push[0]!.FilePaths.Includes;
    });
    expect(functionTriggers).toHaveLength(config.functions.length);
    for (const paths of functionTriggers) expect(paths.filter((path) => (CONTROL_TRIGGER_PATHS as readonly string[]).includes(path))).toEqual([]);
    const matches = (patterns: readonly string[]) => (file: string) => patterns.some((pattern) => globToRegExp(pattern).test(file));
    const files = gitTrackedOrPresentFiles(root);
    const both = files.filter(matches(CONTROL_TRIGGER_PATHS)).filter((file) => functionTriggers.some((paths) => matches(paths)(file)));
    expect(both.sort()).toEqual([...config.functions.map((fn) => `functions/${fn.name}/template.yaml`), ...files.filter((file) => file.startsWith('scripts/lib/'))].sort());
    for (const file of ['release.config.ts', 'infra/lib/release-app.ts', 'deploy-functions/core/names.ts', 'package-lock.json', 'cdk.json']) expect(files.filter(matches(CONTROL_TRIGGER_PATHS)), file).toContain(file);
  });

  it('THEN the build installs, lints, type-checks, runs the whole suite, and synthesizes with the environment and connection it was deployed with', () => {
    const { buildSpec, variables, statements } = control.projectOf('Synth');
    expect(buildSpec.phases.install!.commands[0]).toBe('npm ci');
    // Run as CodeBuild would, with npm and npx recorded instead of run.
    const bin = mkdtempSync(join(tmpdir(), 'lrp-control-buildspec-'));
    try {
      for (const tool of ['npm', 'npx']) {
        writeFileSync(join(bin, tool), `#!/bin/sh\necho "${tool} $*" >> "${bin}/calls"\n`);
        chmodSync(join(bin, tool), 0o755);
      }
      for (const command of [...buildSpec.phases.pre_build!.commands, ...buildSpec.phases.build!.commands]) {
        const run = spawnSync('sh', ['-c', command], { env: { PATH: `${bin}:${process.env.PATH}`, ...variables }, encoding: 'utf8' });
        expect(run.status, `${command}: ${run.stderr}`).toBe(0);
      }
      expect(readFileSync(join(bin, 'calls'), 'utf8').trim().split('\n')).toEqual([
        'npm run lint',
        'npm run typecheck',
        'npm run test:ci',
        `npx cdk synth --quiet -c account=${env.account} -c region=${env.region} -c connectionArn=${config.repository.connectionArn}`,
      ]);
    } finally {
      rmSync(bin, { recursive: true, force: true });
    }
    const cdkJson = JSON.parse(readFileSync(join(root, 'cdk.json'), 'utf8')) as { output: string };
    expect(buildSpec.artifacts).toEqual({ 'base-directory': cdkJson.output, files: ['**/*'] });
    const [report] = Object.values(buildSpec.reports!);
    expect(join(report!['base-directory'], report!.files[0]!)).toBe(JUNIT_REPORT);
    // The build runs the pushed code: it may assume no role at all.
    expect(control.assumable(statements)).toEqual([]);
  });

  it('THEN the deploy step deploys every other stack of the app, with the CDK CLI the lock file pins', () => {
    const { buildSpec } = control.projectOf('Deploy');
    const others = release.app.node.children.filter((c): c is Stack => Stack.isStack(c) && c !== release.control).map((s) => s.node.path);
    expect(others).toEqual(['lrp-tooling', ...config.functions.map((fn) => `lrp-pipeline-${fn.name}`)]);
    expect(deployedIds(buildSpec)).toEqual(others);
    for (const step of ['SelfUpdate', 'Deploy']) expect(control.projectOf(step).buildSpec.phases.install!.commands).toEqual([`npm install --global aws-cdk@${lockedCdkCliVersion()}`]);
  });

  it('THEN the deploy steps may assume the tooling environment\'s deploy and file-publishing bootstrap roles and nothing else', () => {
    for (const step of ['SelfUpdate', 'Deploy']) {
      const { statements } = control.projectOf(step);
      expect(control.assumable(statements), step).toEqual([roleArn('deploy', env), roleArn('file-publishing', env)]);
      // Beyond that: CodeBuild's logs and reports, reading the cloud assembly and using its key; no write, no wildcard action.
      const actions = statements.filter((st) => st.Effect === 'Allow').flatMap((st) => asArray(st.Action));
      expect(actions.filter((a) => !/^(logs:|codebuild:|kms:|s3:(Get|List)|sts:AssumeRole$)/.test(a)), step).toEqual([]);
      expect(actions.filter((a) => a.includes('*')), step).toEqual([]);
    }
  });

  it('THEN every action role trusts only the control pipeline\'s role', () => {
    const pipelineRoleId = Object.keys(control.template.findResources('AWS::IAM::Role')).find((id) => id.startsWith('PipelineRole'))!;
    const actionRoles = Object.entries(control.template.findResources('AWS::IAM::Role')).filter(([id]) => /ActionRole/.test(id));
    expect(actionRoles).toHaveLength(4);
    for (const [id, role] of actionRoles) {
      const trust = (role.Properties as { AssumeRolePolicyDocument: { Statement: { Principal: unknown }[] } }).AssumeRolePolicyDocument.Statement;
      expect(trust.map((st) => st.Principal), id).toEqual([{ AWS: { 'Fn::GetAtt': [pipelineRoleId, 'Arn'] } }]);
    }
  });

  it('THEN it shares no resource with the tooling stack, so it deploys first and alone', () => {
    expect(release.control.dependencies).toEqual([]);
    expect(JSON.stringify(control.template.toJSON())).not.toContain('Fn::ImportValue');
  });
});

describe('GIVEN prod in another account and region', () => {
  const input: ReleaseConfigInput = { ...sampleConfig, stages: sampleConfig.stages!.map((stage) => (stage.name === 'prod' ? { ...stage, ...remote } : stage)) };
  let release: ReturnType<typeof synthRelease>;
  let control: ReturnType<typeof controlOf>;
  beforeAll(() => {
    release = synthRelease(input);
    control = controlOf(release);
  }, 60_000);

  it('THEN the deploy step deploys the target stack and CDK\'s support stacks too, through the bootstrap roles of their environments', () => {
    expect(release.targets.map((t) => [t.account, t.region])).toEqual([[remote.account, remote.region]]);
    const others = release.app.node.children.filter((c): c is Stack => Stack.isStack(c) && c !== release.control);
    const { buildSpec, statements } = control.projectOf('Deploy');
    expect(deployedIds(buildSpec).sort()).toEqual(others.map((s) => s.node.path).sort());
    expect(deployedIds(buildSpec)).toEqual(expect.arrayContaining([release.targets[0]!.node.path, `cross-region-stack-${env.account}:${remote.region}`]));
    // CodePipeline's cross-region support stack deploys with the tooling environment's deploy role, as CDK synthesizes it.
    expect(control.assumable(statements)).toEqual([roleArn('deploy', env), roleArn('file-publishing', env), roleArn('deploy', remote), roleArn('file-publishing', remote)]);
  });

  it('THEN the self-update may still assume only the tooling environment\'s roles', () => {
    expect(control.assumable(control.projectOf('SelfUpdate').statements)).toEqual([roleArn('deploy', env), roleArn('file-publishing', env)]);
  });
});

describe('GIVEN another installation and bootstrap qualifier', () => {
  it('THEN its control pipeline is teamb-control and assumes the roles of that qualifier', () => {
    const app = new App({ context: { ...cdkContext, 'aws:cdk:bundling-stacks': [], '@aws-cdk/core:bootstrapQualifier': 'teambboot' }, builtinCloudFormationValidation: false });
    const release = buildReleaseApp(app, resolveReleaseConfig({ ...sampleConfig, installation: 'teamb' }), env);
    expect(release.control.stackName).toBe('teamb-control');
    const control = controlOf({ app, ...release });
    expect(control.pipeline.Name).toBe('teamb-control');
    expect(deployedIds(control.projectOf('SelfUpdate').buildSpec)).toEqual(['teamb-control']);
    expect(deployedIds(control.projectOf('Deploy').buildSpec)[0]).toBe('teamb-tooling');
    expect(control.assumable(control.projectOf('Deploy').statements)).toEqual([roleArn('deploy', env, 'teambboot'), roleArn('file-publishing', env, 'teambboot')]);
  });
});

describe('control pipeline rules', () => {
  it('keeps its trigger within CodePipeline\'s limits', () => {
    expect(CONTROL_TRIGGER_PATHS.length).toBeLessThanOrEqual(SERVICE_LIMITS.triggerFilePathIncludes);
    for (const path of CONTROL_TRIGGER_PATHS) expect(path.length).toBeLessThanOrEqual(SERVICE_LIMITS.triggerPatternChars);
  });

  it('refuses a function path or shared path that is the control pipeline\'s, and a function named control, naming each field', () => {
    const config = resolveReleaseConfig({ ...sampleConfig, sharedPaths: ['scripts/**', 'package.json'], functions: [{ name: 'control' }, { name: 'orders', paths: ['libs/**', 'infra/**'] }] });
    expect(() => planRelease(config, { casesOf: () => ({ casesPath: 'x', format: 'cases' }) as never })).toThrow(
      /sharedPaths\.1: "package\.json" starts the control pipeline \(lrp-control\)[\s\S]*functions\.0\.name: "control": lrp-control is the control pipeline's name[\s\S]*functions\.1\.paths\.1: "infra\/\*\*" starts the control pipeline/,
    );
  });

  it('reads a stack\'s bootstrap roles as CDK writes them, and refuses stacks that deploy with other roles', () => {
    const app = new App({ context: { '@aws-cdk/core:bootstrapQualifier': 'q1' } });
    const any = '${AWS::AccountId}';
    expect(bootstrapRolesOf(new Stack(app, 'Agnostic'))).toEqual(['deploy', 'file-publishing'].map((role) => `arn:\${AWS::Partition}:iam::${any}:role/cdk-q1-${role}-role-${any}-\${AWS::Region}`));
    expect(bootstrapRolesOf(new Stack(app, 'Remote', { env: remote })).map((arn) => ({ 'Fn::Sub': arn }))).toEqual([roleArn('deploy', remote, 'q1'), roleArn('file-publishing', remote, 'q1')]);
    // A stack without assets that deploys with another stack's role (CodePipeline's cross-region support stacks).
    const bootstrapless = new BootstraplessSynthesizer({ deployRoleArn: 'arn:${AWS::Partition}:iam::123456789012:role/cdk-q1-deploy-role-123456789012-eu-central-1' });
    expect(bootstrapRolesOf(new Stack(app, 'Support', { env: remote, synthesizer: bootstrapless }))).toEqual(['arn:${AWS::Partition}:iam::123456789012:role/cdk-q1-deploy-role-123456789012-eu-central-1']);
    expect(() => bootstrapRolesOf(new Stack(app, 'Custom', { synthesizer: new DefaultStackSynthesizer({ deployRoleArn: 'arn:aws:iam::123456789012:role/admin' }) }))).toThrow(/Custom deploys with arn:aws:iam::123456789012:role\/admin/);
    expect(() => bootstrapRolesOf(new Stack(app, 'Legacy', { synthesizer: new LegacyStackSynthesizer() }))).toThrow(/Legacy: the control pipeline deploys through the CDK bootstrap roles/);
  });

  it('fails synth when a stack is added after the control pipeline, which would never deploy it', () => {
    const app = new App({ context: { ...cdkContext, 'aws:cdk:bundling-stacks': [] }, builtinCloudFormationValidation: false });
    buildReleaseApp(app, resolveReleaseConfig(sampleConfig), env);
    new Stack(app, 'late', { env });
    expect(() => app.synth()).toThrow(/late is not deployed by lrp-control/);
  });

  it('fails with a clear message when the lock file pins no CDK CLI', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lrp-lock-'));
    try {
      writeFileSync(join(dir, 'package-lock.json'), JSON.stringify({ packages: {} }));
      expect(() => lockedCdkCliVersion(join(dir, 'package-lock.json'))).toThrow(/pins no aws-cdk/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
