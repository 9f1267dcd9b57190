// Attack tests of issue 10's multi-account change, infra side: careless configurations (partitions mixed, operator
// role patterns that cover the release pipeline's own roles or another installation's) and least privilege of what
// a stage in the tooling account's other region and a stage in another account synthesize to.
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { resolveReleaseConfig, type ReleaseConfigInput } from '../../infra/config';
import { IAM5_ACKNOWLEDGEMENTS, configuredAcknowledgements, unacknowledged } from '../../infra/lib/nag-acknowledgements';
import { StageEnvironments } from '../../infra/lib/stage-environments';
import { cfnLint } from '../support/cfn-lint';
import { PROD_ACCOUNT, TOOLING_ENV, sampleConfig, synthRelease } from './support';

type Statement = { Effect: string; Action: string | string[]; Resource?: unknown; Principal?: unknown; Condition?: Record<string, Record<string, unknown>> };
const [staging, prod] = sampleConfig.stages!;
const arrayOf = <T>(value: T | T[] | undefined): T[] => (value === undefined ? [] : Array.isArray(value) ? value : [value]);

describe('GIVEN a careless configuration', () => {
  it('WHEN a stage is in another partition than the tooling stack THEN synth fails naming the stage\'s region (no role is assumed across partitions)', () => {
    const config = { stages: [{ name: 'staging' }, { name: 'prod', account: PROD_ACCOUNT, region: 'cn-north-1' }] } as const;
    expect(() => StageEnvironments.of(config as never, TOOLING_ENV)).toThrow(/stages\.1\.region.*partition aws-cn.*aws/s);
  });

  it.each([
    ['every role of the installation', 'arn:aws:iam::123456789012:role/lrp-*'],
    ['the deployment functions of every installation', 'arn:aws:iam::123456789012:role/*-tooling-*'],
    ['every role whose name starts with a letter of an installation', 'arn:aws:iam::123456789012:role/l*'],
    ['the deployment functions of any installation, by a part of their name', 'arn:aws:iam::123456789012:role/*tooling*'],
  ])('WHEN operatorRoleArns covers %s THEN the configuration is refused, naming the field', (_case, pattern) => {
    expect(() => resolveReleaseConfig({ ...sampleConfig, operatorRoleArns: [pattern] })).toThrow(/operatorRoleArns\.0/);
  });

  it.each([
    'arn:aws:iam::123456789012:role/ReleaseOperator',
    'arn:aws:iam::123456789012:role/aws-reserved/sso.amazonaws.com/*/AWSReservedSSO_ReleaseOperator_*',
  ])('WHEN operatorRoleArns names operators only (%s) THEN it is accepted', (pattern) => {
    expect(resolveReleaseConfig({ ...sampleConfig, operatorRoleArns: [pattern] }).operatorRoleArns).toEqual([pattern]);
  });
});

describe('GIVEN prod in another account and prod2 in the tooling account\'s other region', () => {
  const input: ReleaseConfigInput = { ...sampleConfig, stages: [staging!, { ...prod!, account: PROD_ACCOUNT }, { ...prod!, name: 'prod2', region: 'us-east-1' }] };
  let templates: Record<string, { Resources: Record<string, { Type: string; Properties?: Record<string, unknown> }> }>;
  let release: ReturnType<typeof synthRelease>;
  const outdir = mkdtempSync(join(tmpdir(), 'lrp-multi-account-attack-'));
  beforeAll(() => {
    release = synthRelease(input, { outdir });
    release.app.synth();
    templates = Object.fromEntries([release.tooling, ...release.pipelines, ...release.targets, release.control].map((stack) => [stack.stackName, Template.fromStack(stack).toJSON() as never]));
  }, 120_000);
  const statementsOf = (stack: string, type = 'AWS::IAM::Policy', of = '') =>
    Object.values(templates[stack]!.Resources)
      .filter((r) => r.Type === type && JSON.stringify(r.Properties!.Roles ?? '').includes(of))
      .flatMap((r) => ((r.Properties!.PolicyDocument ?? r.Properties!.KeyPolicy) as { Statement: Statement[] }).Statement);

  it('THEN no role of the tooling account may sts:AssumeRole more than named roles, and only the deployment functions the deployer roles', () => {
    const deployers = [`arn:aws:iam::${PROD_ACCOUNT}:role/lrp-deployer-eu-central-1`, `arn:aws:iam::${TOOLING_ENV.account}:role/lrp-deployer-us-east-1`];
    for (const stack of Object.keys(templates).filter((name) => !name.startsWith('lrp-target-'))) {
      for (const st of statementsOf(stack).filter((s) => arrayOf(s.Action).some((a) => /^sts:(AssumeRole|\*)$|^\*$/.test(a)))) {
        const resources = arrayOf(st.Resource).map((r) => JSON.stringify(r));
        expect(resources.filter((r) => r === '"*"' || /role\/\*"?$/.test(r)), `${stack}: ${resources.join(', ')}`).toEqual([]);
        const named = resources.filter((r) => r.includes('lrp-deployer-'));
        if (named.length) expect(new Set(named.map((r) => JSON.parse(r) as string)), stack).toEqual(new Set(deployers));
      }
    }
  });

  it('THEN cdk-nag reports nothing unacknowledged and cfn-lint nothing but W3005', () => {
    const report = new AwsSolutionsChecks(release.app).validateScope(release.app);
    const open = unacknowledged(report, [...IAM5_ACKNOWLEDGEMENTS, ...configuredAcknowledgements(resolveReleaseConfig(input))]).map((v) => `${v.ruleName}: ${v.violatingResources.map((r) => (r as { constructPath?: string }).constructPath).join(', ')}`);
    expect(open).toEqual([]);
    const lint = cfnLint(readdirSync(outdir).filter((f) => f.endsWith('.template.json')).map((f) => join(outdir, f)), ['--ignore-checks', 'W3005']);
    if (lint) expect(lint).toEqual({ output: '', status: 0 });
  }, 60_000);

  it('THEN each deployer role reaches only the functions of the stages deployed in its own environment', () => {
    const reached = (target: string) =>
      statementsOf(target, 'AWS::IAM::Policy', 'Deployer')
        .filter((st) => arrayOf(st.Action).some((a) => a.startsWith('lambda:')))
        .flatMap((st) => arrayOf(st.Resource))
        .map((r) => JSON.stringify(r).match(/function:([\w-]+)/)?.[1]);
    expect(new Set(reached('lrp-target-eu-central-1'))).toEqual(new Set(sampleConfig.functions.map((fn) => `${fn.name}-prod`)));
    expect(new Set(reached('lrp-target-us-east-1'))).toEqual(new Set(sampleConfig.functions.map((fn) => `${fn.name}-prod2`)));
  });

  it('THEN the tooling stack\'s bucket and key policies admit the target account only through named roles, never its whole account', () => {
    const statements = [...statementsOf('lrp-tooling', 'AWS::S3::BucketPolicy'), ...statementsOf('lrp-tooling', 'AWS::KMS::Key')].filter((st) => st.Effect === 'Allow' && JSON.stringify(st.Principal ?? '').includes(PROD_ACCOUNT));
    expect(statements.length).toBeGreaterThan(0);
    for (const st of statements) {
      const principals = JSON.stringify(st.Principal);
      const rootOnly = principals.includes(`${PROD_ACCOUNT}:root`);
      const narrowed = JSON.stringify(st.Condition ?? {}).includes(`${PROD_ACCOUNT}:role/`);
      expect(!rootOnly || narrowed, `${principals} ${JSON.stringify(st.Condition ?? {})}`).toBe(true);
    }
  });
});
