import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { DeployWindowParametersSchema, IntegrationTestParametersSchema, ShiftTrafficParametersSchema } from '../../deploy-functions/core/user-parameters';
import { resolveReleaseConfig, type ReleaseConfigInput } from '../../infra/config';
import { IAM5_ACKNOWLEDGEMENTS, configuredAcknowledgements, unacknowledged } from '../../infra/lib/nag-acknowledgements';
import { cfnLint } from '../support/cfn-lint';
import { PROD_ACCOUNT, TOOLING_ENV, synthRelease, twoAccountsConfig, twoRegionsConfig } from './support';

type Json = Record<string, unknown>;
type Resource = { Type: string; Properties?: Json; DependsOn?: unknown };
type Template = { Resources: Record<string, Resource> };
type Action = { Name: string; ActionTypeId: { Provider: string }; Configuration: Record<string, string>; RoleArn?: unknown; Region?: string };

/** Synthesizes a configuration once into a folder and reads every template back, by stack name. */
function synthesized(input: ReleaseConfigInput) {
  const outdir = mkdtempSync(join(tmpdir(), 'lrp-multi-account-'));
  const release = synthRelease(input, { outdir });
  const assembly = release.app.synth();
  const templates = Object.fromEntries(assembly.stacks.map((stack) => [stack.stackName, JSON.parse(readFileSync(join(outdir, stack.templateFile), 'utf8')) as Template]));
  const envOf = Object.fromEntries(assembly.stacks.map((stack) => [stack.stackName, stack.environment]));
  return { release, assembly, outdir, templates, envOf, config: resolveReleaseConfig(input) };
}

const resourcesOf = (template: Template, type: string) => Object.entries(template.Resources).filter(([, r]) => r.Type === type);
const stagesOf = (template: Template) => (resourcesOf(template, 'AWS::CodePipeline::Pipeline')[0]![1].Properties!.Stages as { Name: string; Actions: Action[] }[]);
const trustOf = (role: Resource) => (role.Properties!.AssumeRolePolicyDocument as { Statement: { Principal: Json; Condition?: Json }[] }).Statement;

describe.each([
  ['staging and prod in two accounts', twoAccountsConfig, [{ stage: 'prod', region: TOOLING_ENV.region }]],
  ['prod in a second account, in two regions', twoRegionsConfig, [{ stage: 'prod-eu', region: 'eu-west-1' }, { stage: 'prod-us', region: 'us-east-1' }]],
] as const)('GIVEN %s', (_, input, remote) => {
  let release: ReturnType<typeof synthesized>;
  beforeAll(() => {
    release = synthesized(input);
  }, 120_000);
  const target = (region: string) => release.templates[`lrp-target-${region}`]!;

  it('THEN each target environment has one target stack, in its account and region', () => {
    for (const { region } of remote) expect(release.envOf[`lrp-target-${region}`]).toMatchObject({ account: PROD_ACCOUNT, region });
    expect(Object.keys(release.templates).filter((name) => name.startsWith('lrp-target-'))).toHaveLength(remote.length);
  });

  it('THEN the remote stages\' CloudFormation actions run as a target-account role and deploy with the target stack\'s CloudFormation role, in its region', () => {
    for (const fn of release.config.functions) {
      for (const { stage, region } of remote) {
        const actions = stagesOf(release.templates[`lrp-pipeline-${fn.name}`]!).find((s) => s.Name === `Deploy-${stage}`)!.Actions.filter((a) => a.ActionTypeId.Provider === 'CloudFormation');
        expect(actions.map((a) => a.Name)).toEqual(['PrepareChanges', 'Deploy']);
        const pipelineRole = resourcesOf(release.templates[`lrp-pipeline-${fn.name}`]!, 'AWS::IAM::Role').find(([id]) => id.startsWith('PipelineRole'))![1].Properties!.RoleName as string;
        const roles = Object.fromEntries(resourcesOf(target(region), 'AWS::IAM::Role').map(([, r]) => [`arn:aws:iam::${PROD_ACCOUNT}:role/${r.Properties!.RoleName as string}`, r]));
        for (const action of actions) {
          expect(action.Region, `${fn.name} ${stage} ${action.Name}`).toBe(region);
          const actionRole = roles[action.RoleArn as string];
          expect(actionRole, `${fn.name} ${stage} ${action.Name} ${String(action.RoleArn)}`).toBeDefined();
          // Only this pipeline's role, from the tooling account, may assume it.
          expect(trustOf(actionRole!)).toEqual([expect.objectContaining({ Principal: { AWS: `arn:aws:iam::${TOOLING_ENV.account}:root` }, Condition: { ArnEquals: { 'aws:PrincipalArn': `arn:aws:iam::${TOOLING_ENV.account}:role/${pipelineRole}` } } })]);
        }
        const cfnRole = roles[actions[0]!.Configuration.RoleArn!];
        expect(trustOf(cfnRole!).map((st) => st.Principal)).toEqual([{ Service: 'cloudformation.amazonaws.com' }]);
        expect(actions[0]!.Configuration.StackName).toBe(`lrp-app-${fn.name}-${stage}`);
      }
    }
  });

  it('THEN the remote stages\' Lambda actions call the deployment functions in the tooling account, naming the target function by ARN', () => {
    const schemas = { ShiftTraffic: ShiftTrafficParametersSchema, IntegrationTests: IntegrationTestParametersSchema, DeploymentWindow: DeployWindowParametersSchema } as const;
    for (const fn of release.config.functions) {
      const stages = stagesOf(release.templates[`lrp-pipeline-${fn.name}`]!);
      for (const { stage, region } of remote) {
        const invokes = stages.filter((s) => s.Name.endsWith(`-${stage}`)).flatMap((s) => s.Actions).filter((a) => a.ActionTypeId.Provider === 'Lambda');
        expect(invokes.map((a) => a.Name).sort()).toEqual(['DeploymentWindow', 'IntegrationTests', 'ShiftTraffic']);
        for (const action of invokes) {
          expect(action.Configuration.FunctionName).toMatch(/^lrp-(shift-traffic|integration-test|deploy-window)$/);
          expect(action.Region ?? TOOLING_ENV.region).toBe(TOOLING_ENV.region);
          expect(action.RoleArn, `${stage} ${action.Name}`).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/ActionRole/), 'Arn'] });
          const parameters = JSON.parse(action.Configuration.UserParameters!) as { functionName: string };
          expect(parameters.functionName).toBe(`arn:aws:lambda:${region}:${PROD_ACCOUNT}:function:${fn.name}-${stage}`);
          expect(schemas[action.Name as keyof typeof schemas].safeParse(parameters).success, `${stage} ${action.Name}`).toBe(true);
        }
      }
      // Staging, in the tooling account, is as it always was: plain names.
      const staging = stages.find((s) => s.Name === 'Deploy-staging')!.Actions;
      expect(JSON.parse(staging.find((a) => a.Name === 'IntegrationTests')!.Configuration.UserParameters!)).toMatchObject({ functionName: `${fn.name}-staging` });
      expect(staging.filter((a) => a.ActionTypeId.Provider === 'CloudFormation').every((a) => typeof a.RoleArn === 'object')).toBe(true);
    }
  });

  it('THEN each target stack\'s deployer role trusts only the tooling account\'s tooling roles (and the configured operator roles) and reaches only the functions deployed there', () => {
    const toolingRoles = `arn:aws:iam::${TOOLING_ENV.account}:role/lrp-tooling-*`;
    const trusted = release.config.operatorRoleArns.length ? [toolingRoles, ...release.config.operatorRoleArns] : toolingRoles;
    for (const { region } of remote) {
      const [[, deployer]] = resourcesOf(target(region), 'AWS::IAM::Role').filter(([, r]) => r.Properties!.RoleName === `lrp-deployer-${region}`) as [[string, Resource]];
      expect(trustOf(deployer)).toEqual([expect.objectContaining({ Principal: { AWS: `arn:aws:iam::${TOOLING_ENV.account}:root` }, Condition: { ArnLike: { 'aws:PrincipalArn': trusted } } })]);
      // No role of a target stack trusts anything but the tooling account or an AWS service.
      for (const [id, role] of resourcesOf(target(region), 'AWS::IAM::Role')) {
        for (const st of trustOf(role)) expect(st.Principal, id).toSatisfy((p: Json) => 'Service' in p || JSON.stringify(p) === JSON.stringify({ AWS: `arn:aws:iam::${TOOLING_ENV.account}:root` }));
      }
      const lambdaResources = JSON.stringify(resourcesOf(target(region), 'AWS::IAM::Policy').filter(([id]) => id.startsWith('Deployer')).map(([, p]) => p.Properties!.PolicyDocument));
      const here = remote.find((r) => r.region === region)!.stage;
      expect(lambdaResources).toContain(`function:orders-api-${here}`);
      expect(lambdaResources).not.toContain('function:orders-api-staging');
    }
  });

  it('THEN the tooling side assumes exactly those deployer roles, tells the deployment functions the targets, and takes the target accounts\' alarm events', () => {
    const tooling = release.templates['lrp-tooling']!;
    const deployers = [...new Set(remote.map((r) => r.region))].map((region) => `arn:aws:iam::${PROD_ACCOUNT}:role/lrp-deployer-${region}`).sort();
    const assumes = resourcesOf(tooling, 'AWS::IAM::Policy').flatMap(([, p]) => (p.Properties!.PolicyDocument as { Statement: { Action: unknown; Resource: unknown }[] }).Statement.filter((st) => JSON.stringify(st.Action).includes('sts:AssumeRole')));
    expect(assumes).toHaveLength(3);
    for (const st of assumes) expect([st.Resource].flat().sort()).toEqual(deployers);
    const envs = [...new Set(remote.map((r) => r.region))].sort().map((region) => ({ account: PROD_ACCOUNT, region }));
    for (const [, fn] of resourcesOf(tooling, 'AWS::Lambda::Function')) {
      const variables = (fn.Properties!.Environment as { Variables: Record<string, string> }).Variables;
      if (variables.LRP_INSTALLATION) expect(JSON.parse(variables.LRP_TARGET_ENVS!)).toEqual(envs);
    }
    const [[, rule]] = resourcesOf(tooling, 'AWS::Events::Rule').filter(([id]) => id.startsWith('AlarmStateChange')) as [[string, Resource]];
    expect((rule.Properties!.EventPattern as { account: string[] }).account).toEqual([TOOLING_ENV.account, PROD_ACCOUNT]);
    expect(resourcesOf(tooling, 'AWS::Events::EventBusPolicy').map(([, p]) => (p.Properties!.Statement as { Principal: unknown }).Principal)).toEqual([{ AWS: `arn:aws:iam::${PROD_ACCOUNT}:root` }]);
  });

  it('THEN a stage in another region deploys its code from the build\'s Code artifact as replicated there; every other stage keeps the uploaded code', () => {
    for (const fn of release.config.functions) {
      const stages = stagesOf(release.templates[`lrp-pipeline-${fn.name}`]!);
      const build = stages.flatMap((s) => s.Actions).find((a) => a.Name === 'BuildTestPackage') as Action & { OutputArtifacts: { Name: string }[] };
      expect(build.OutputArtifacts.map((a) => a.Name)).toEqual(['BuildOutput', 'Code']);
      for (const stage of release.config.stages) {
        const prepare = stages.find((s) => s.Name === `Deploy-${stage.name}`)!.Actions.find((a) => a.Name === 'PrepareChanges') as Action & { InputArtifacts: { Name: string }[] };
        const overrides = JSON.parse(prepare.Configuration.ParameterOverrides!) as Json;
        const elsewhere = (stage.region ?? TOOLING_ENV.region) !== TOOLING_ENV.region;
        if (!elsewhere) {
          // The template's defaults: the code the packager uploaded to the tooling region's artifact bucket.
          expect(overrides, `${fn.name} ${stage.name}`).toEqual({ Stage: stage.name });
          expect(prepare.InputArtifacts.map((a) => a.Name)).toEqual(['BuildOutput']);
          continue;
        }
        expect(overrides, `${fn.name} ${stage.name}`).toEqual({ Stage: stage.name, ReleaseCodeBucket: { 'Fn::GetArtifactAtt': ['Code', 'BucketName'] }, ReleaseCodeKey: { 'Fn::GetArtifactAtt': ['Code', 'ObjectKey'] } });
        expect(prepare.InputArtifacts.map((a) => a.Name).sort()).toEqual(['BuildOutput', 'Code']);
        // The stage's CloudFormation role (Lambda reads the code with its credentials) may read the pipeline's folder of
        // the region's replication bucket and decrypt with its key, and the bucket's and key's policies admit it.
        const cfnRoleArn = prepare.Configuration.RoleArn!;
        const support = release.assembly.stacks.find((s) => s.id.startsWith('cross-region-stack-') && s.environment.region === stage.region)!;
        const supportTemplate = JSON.parse(readFileSync(join(release.outdir, support.templateFile), 'utf8')) as Template;
        const [[, bucket]] = resourcesOf(supportTemplate, 'AWS::S3::Bucket') as [[string, Resource]];
        const folder = `arn:aws:s3:::${bucket.Properties!.BucketName as string}/lrp-${fn.name}`.slice(0, `arn:aws:s3:::${bucket.Properties!.BucketName as string}/`.length + 20);
        const roleName = cfnRoleArn.split('/').at(-1)!;
        const [[, role]] = resourcesOf(target(stage.region!), 'AWS::IAM::Role').filter(([, r]) => r.Properties!.RoleName === roleName) as [[string, Resource]];
        expect(role).toBeDefined();
        const granted = JSON.stringify(resourcesOf(target(stage.region!), 'AWS::IAM::Policy').filter(([, p]) => JSON.stringify(p.Properties!.Roles).includes(JSON.stringify(Object.keys(target(stage.region!).Resources).find((id) => target(stage.region!).Resources[id] === role)))).map(([, p]) => p.Properties!.PolicyDocument));
        expect(granted).toContain(`{"Action":["s3:GetObject","s3:GetObjectVersion"],"Effect":"Allow","Resource":["${folder}/*"`);
        expect(granted).toContain(`arn:aws:kms:${stage.region}:${TOOLING_ENV.account}:key/*`);
        const bucketPolicy = (resourcesOf(supportTemplate, 'AWS::S3::BucketPolicy')[0]![1].Properties!.PolicyDocument as { Statement: { Action: unknown; Principal: { AWS: unknown }; Resource: unknown }[] }).Statement;
        const admitted = bucketPolicy.filter((st) => [st.Principal.AWS].flat().includes(cfnRoleArn));
        expect(admitted.map((st) => st.Action)).toEqual([['s3:GetObject', 's3:GetObjectVersion']]);
        expect(JSON.stringify(admitted[0]!.Resource)).toContain(`"${folder.slice(folder.lastIndexOf('/'))}/*"`);
        const keyPolicy = (resourcesOf(supportTemplate, 'AWS::KMS::Key')[0]![1].Properties!.KeyPolicy as { Statement: { Action: unknown; Principal: { AWS: unknown } }[] }).Statement;
        expect(keyPolicy.filter((st) => st.Action === 'kms:Decrypt' && [st.Principal.AWS].flat().includes(cfnRoleArn))).toHaveLength(1);
      }
    }
  });

  it('THEN the remote stages\' alarms are in their target stacks, forwarded to the tooling account\'s default bus', () => {
    for (const { stage, region } of remote) {
      const alarms = resourcesOf(target(region), 'AWS::CloudWatch::Alarm').map(([, a]) => a.Properties!.AlarmName);
      expect(alarms).toContain(`lrp/orders-api-${stage}/live/errors`);
      const [[, rule]] = resourcesOf(target(region), 'AWS::Events::Rule') as [[string, Resource]];
      expect(rule.Properties!.Targets).toEqual([expect.objectContaining({ Arn: `arn:aws:events:${TOOLING_ENV.region}:${TOOLING_ENV.account}:event-bus/default` })]);
      expect(rule.Properties!.EventPattern).toMatchObject({ source: ['aws.cloudwatch'], detail: { alarmName: [{ prefix: 'lrp/' }] } });
      const pipelineAlarms = resourcesOf(release.templates['lrp-pipeline-orders-api']!, 'AWS::CloudWatch::Alarm').map(([, a]) => a.Properties!.AlarmName);
      expect(pipelineAlarms).not.toContain(`lrp/orders-api-${stage}/live/errors`);
      expect(pipelineAlarms).toContain('lrp/orders-api-staging/live/errors');
    }
  });

  it('THEN the application boundary and deploy guard are created once in the production account, covering each of its regions', () => {
    const owners = remote.map((r) => r.region).filter((region, i, all) => all.indexOf(region) === i).filter((region) => resourcesOf(target(region), 'AWS::IAM::ManagedPolicy').length > 0);
    expect(owners).toHaveLength(1);
    const policies = resourcesOf(target(owners[0]!), 'AWS::IAM::ManagedPolicy').map(([, p]) => p.Properties!);
    expect(policies.map((p) => p.ManagedPolicyName).sort()).toEqual(['lrp-app-boundary', 'lrp-deploy-guard']);
    const boundary = JSON.stringify(policies.find((p) => p.ManagedPolicyName === 'lrp-app-boundary'));
    for (const { region } of remote) expect(boundary).toContain(`arn:aws:sqs:${region}:${PROD_ACCOUNT}:*`);
  });

  it('THEN cross-region artifacts go through one CDK support stack per region, not one per pipeline', () => {
    const support = release.assembly.stacks.filter((s) => s.id.startsWith('cross-region-stack-'));
    const regions = [...new Set(remote.map((r) => r.region))].filter((region) => region !== TOOLING_ENV.region).sort();
    expect(support.map((s) => s.environment.region).sort()).toEqual(regions);
    for (const stack of support) expect(stack.environment.account).toBe(TOOLING_ENV.account);
  });

  it('THEN cdk-nag reports nothing unacknowledged and cfn-lint nothing but W3005', () => {
    const report = new AwsSolutionsChecks(release.release.app).validateScope(release.release.app);
    const open = unacknowledged(report, [...IAM5_ACKNOWLEDGEMENTS, ...configuredAcknowledgements(release.config)]).map((v) => `${v.ruleName}: ${v.violatingResources.map((r) => (r as { constructPath?: string }).constructPath).join(', ')}`);
    expect(open).toEqual([]);
    const templates = readdirSync(release.outdir).filter((f) => f.endsWith('.template.json')).map((f) => join(release.outdir, f));
    const lint = cfnLint(templates, ['--ignore-checks', 'W3005']);
    if (lint) expect(lint).toEqual({ output: '', status: 0 });
  }, 60_000);
});

describe('GIVEN a stage in another account while the tooling account is unknown', () => {
  it('THEN synth fails, naming the stage\'s field and how to give the account', async () => {
    const { App } = await import('aws-cdk-lib');
    const { buildReleaseApp } = await import('../../infra/lib/release-app');
    expect(() => buildReleaseApp(new App(), resolveReleaseConfig(twoAccountsConfig), { region: TOOLING_ENV.region })).toThrow(/stages\.1\.account: a stage in another account needs the tooling stack's account/);
  });

  it('THEN a malformed account or region is refused by the configuration', () => {
    expect(() => resolveReleaseConfig({ ...twoAccountsConfig, stages: [{ name: 'prod', account: '12345' }] })).toThrow(/stages\.0\.account: must be a 12-digit AWS account id/);
    expect(() => resolveReleaseConfig({ ...twoAccountsConfig, stages: [{ name: 'prod', region: 'Europe' }] })).toThrow(/stages\.0\.region: must be an AWS region/);
  });
});

describe('GIVEN operator roles for the remote stages', () => {
  it('THEN a role of another account than the tooling one fails synth, naming it', () => {
    expect(() => synthRelease({ ...twoAccountsConfig, operatorRoleArns: [`arn:aws:iam::${PROD_ACCOUNT}:role/ReleaseOperator`] })).toThrow(`operatorRoleArns[0]: arn:aws:iam::${PROD_ACCOUNT}:role/ReleaseOperator is not a role of the tooling account (aws, ${TOOLING_ENV.account})`);
  });

  it('THEN anything but named IAM roles is refused by the configuration', () => {
    for (const arn of ['*', `arn:aws:iam::${TOOLING_ENV.account}:role/*`, `arn:aws:iam::${TOOLING_ENV.account}:user/alice`, `arn:aws:sts::${TOOLING_ENV.account}:assumed-role/Ops/alice`]) {
      expect(() => resolveReleaseConfig({ ...twoAccountsConfig, operatorRoleArns: [arn] }), arn).toThrow(/operatorRoleArns\.0: must/);
    }
  });
});
