import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { resolveReleaseConfig, type ReleaseConfigInput } from '../../infra/config';
import { IAM5_ACKNOWLEDGEMENTS, configuredAcknowledgements, unacknowledged } from '../../infra/lib/nag-acknowledgements';
import { cfnLint } from '../support/cfn-lint';
import { sampleConfig, synthRelease, twoAccountsConfig } from './support';

type Json = Record<string, unknown>;
type Resource = { Type: string; Properties?: Json };

/**
 * Properties ending in `Name` that are no name in the account: a metric of AWS/Lambda, an inline policy (its role's
 * own), the bus a bus policy statement is added to (the account's default bus; the statement id is the name created).
 */
const NOT_CREATED = new Set(['MetricName', 'PolicyName', 'EventBusName']);
/** In a pipeline action's configuration: what the action creates (a stack, a change set) or names of the installation's own. */
const ACTION_NAMES = new Set(['StackName', 'ChangeSetName', 'FunctionName', 'ProjectName']);

/**
 * Every physical name a synthesized stack gives: the stack's own, each resource property ending in `Name` written as
 * text (function, table, alarm, policy, pipeline, project, report group, dashboard, notification rule …), and the
 * stacks, change sets, deployment functions and build projects its pipeline's actions name.
 */
function physicalNames(stackName: string, template: Template): string[] {
  const resources = Object.values((template.toJSON() as { Resources: Record<string, Resource> }).Resources);
  const own = resources.flatMap((r) => Object.entries(r.Properties ?? {}).filter(([key, value]) => (key.endsWith('Name') || key === 'StatementId') && !NOT_CREATED.has(key) && typeof value === 'string').map(([, value]) => value as string));
  const actions = resources
    .filter((r) => r.Type === 'AWS::CodePipeline::Pipeline')
    .flatMap((r) => (r.Properties!.Stages as { Actions: { Configuration?: Json }[] }[]).flatMap((s) => s.Actions))
    .flatMap((a) => Object.entries(a.Configuration ?? {}).filter(([key, value]) => ACTION_NAMES.has(key) && typeof value === 'string').map(([, value]) => value as string));
  return [stackName, ...own, ...actions];
}

function synthInstallation(installation: string, base: ReleaseConfigInput = sampleConfig) {
  const input: ReleaseConfigInput = { ...base, installation };
  const outdir = mkdtempSync(join(tmpdir(), `lrp-installation-${installation}-`));
  const release = synthRelease(input, { outdir });
  release.app.synth();
  const stacks = [release.tooling, ...release.pipelines, release.control, ...release.targets].map((stack) => ({ stackName: stack.stackName, template: Template.fromStack(stack) }));
  return { release, stacks, outdir, config: resolveReleaseConfig(input), names: stacks.flatMap((s) => physicalNames(s.stackName, s.template)) };
}

describe('GIVEN the sample configuration installed twice in one account and region, as lrp and as teamb', () => {
  let lrp: ReturnType<typeof synthInstallation>;
  let teamB: ReturnType<typeof synthInstallation>;
  beforeAll(() => {
    lrp = synthInstallation('lrp');
    teamB = synthInstallation('teamb');
  }, 180_000);

  it('THEN the two installations share no physical name', () => {
    expect(lrp.names.length).toBeGreaterThan(20);
    expect(teamB.names.length).toBe(lrp.names.length);
    expect(lrp.names.filter((name) => teamB.names.includes(name))).toEqual([]);
  });

  it('THEN every name teamb creates starts with teamb', () => {
    expect(teamB.names.filter((name) => !/^teamb[-/:]/.test(name))).toEqual([]);
  });

  it('THEN the generated alarms are teamb/<function>-<stage>/live/<metric>, and the rollback rule matches teamb/ only', () => {
    const alarms = teamB.stacks.flatMap((s) => Object.values(s.template.findResources('AWS::CloudWatch::Alarm')).map((r) => (r as Resource).Properties!.AlarmName as string));
    expect(alarms).toContain('teamb/orders-api-prod/live/errors');
    expect(alarms.filter((name) => name.includes('/')).every((name) => name.startsWith('teamb/'))).toBe(true);
    const tooling = teamB.stacks[0]!.template;
    const [alarmRule] = Object.values(tooling.findResources('AWS::Events::Rule', { Properties: { EventPattern: { source: ['aws.cloudwatch'] } } })) as Resource[];
    expect((alarmRule!.Properties!.EventPattern as { detail: { alarmName: unknown[] } }).detail.alarmName).toEqual([{ prefix: 'teamb/' }]);
  });

  it('THEN the deployment functions are told their installation, and the builds theirs (the packager names the boundary after it)', () => {
    teamB.stacks[0]!.template.hasResourceProperties('AWS::Lambda::Function', { FunctionName: 'teamb-rollback', Environment: { Variables: Match.objectLike({ LRP_INSTALLATION: 'teamb', LEDGER_TABLE: Match.anyValue() }) } });
    teamB.stacks[0]!.template.hasResourceProperties('AWS::DynamoDB::Table', { TableName: 'teamb-ledger' });
    teamB.stacks[1]!.template.hasResourceProperties('AWS::CodeBuild::Project', { Environment: Match.objectLike({ EnvironmentVariables: Match.arrayWith([{ Name: 'LRP_INSTALLATION', Type: 'PLAINTEXT', Value: 'teamb' }]) }) });
  });

  it('THEN the deployment-window parameters are the installation\'s own (/teamb/…)', () => {
    expect(teamB.config.stages.flatMap((s) => [s.deploymentWindow?.policyParameter, s.deploymentWindow?.overrideParameter]).filter(Boolean)).toEqual(['/teamb/deploy-window', '/teamb/deploy-window/override']);
    expect(lrp.config.stages.flatMap((s) => [s.deploymentWindow?.policyParameter, s.deploymentWindow?.overrideParameter]).filter(Boolean)).toEqual(['/lrp/deploy-window', '/lrp/deploy-window/override']);
  });

  it('THEN cdk-nag reports nothing unacknowledged and cfn-lint nothing but W3005 for teamb', () => {
    const report = new AwsSolutionsChecks(teamB.release.app).validateScope(teamB.release.app);
    const open = unacknowledged(report, [...IAM5_ACKNOWLEDGEMENTS, ...configuredAcknowledgements(teamB.config)]).map((v) => v.ruleName);
    expect(open).toEqual([]);
    const templates = readdirSync(teamB.outdir).filter((f) => f.endsWith('.template.json')).map((f) => join(teamB.outdir, f));
    const lint = cfnLint(templates, ['--ignore-checks', 'W3005']);
    if (lint) expect(lint).toEqual({ output: '', status: 0 });
  });
});

describe('GIVEN staging and prod in two accounts, installed twice as lrp and as teamb', () => {
  let lrp: ReturnType<typeof synthInstallation>;
  let teamB: ReturnType<typeof synthInstallation>;
  beforeAll(() => {
    lrp = synthInstallation('lrp', twoAccountsConfig);
    teamB = synthInstallation('teamb', twoAccountsConfig);
  }, 180_000);

  it('THEN the two installations share no physical name, in the tooling account or the production account', () => {
    expect(teamB.stacks.map((s) => s.stackName)).toContain('teamb-target-eu-central-1');
    expect(teamB.names).toContain('teamb-deployer-eu-central-1');
    expect(teamB.names.length).toBe(lrp.names.length);
    expect(lrp.names.filter((name) => teamB.names.includes(name))).toEqual([]);
  });

  it('THEN every name teamb creates starts with teamb', () => {
    expect(teamB.names.filter((name) => !/^teamb[-/:]/.test(name))).toEqual([]);
  });
});
