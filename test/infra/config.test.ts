import { describe, expect, it } from 'vitest';
import { ReleaseConfigError, resolveReleaseConfig } from '../../infra/config';
import { join } from 'node:path';
import { describeIssues } from '../../deploy-functions/core/issues';
import { planPipeline, planRelease } from '../../infra/lib/release-plan';
import { applicationTemplateIssues, readApplicationTemplate, templateTimeoutSeconds, withTemplateSettings, type CfnTemplate } from '../../infra/templates/application-template';
import { sampleConfig } from './support';

const root = join(import.meta.dirname, '..', '..');
const minimal = {
  repository: { connectionArn: 'arn:aws:codestar-connections:eu-central-1:123456789012:connection/abc-123', owner: 'o', name: 'r' },
  functions: [{ name: 'orders-api' }],
};

describe('release configuration', () => {
  it('fills every documented default', () => {
    const config = resolveReleaseConfig(minimal);
    expect(config.repository.branch).toBe('release');
    expect(config.logLevel).toBe('INFO');
    expect(config.installation).toBe('lrp');
    expect(config.stages.map((s) => [s.name, s.approval, s.shiftTraffic])).toEqual([
      ['staging', false, false],
      ['prod', true, true],
    ]);
    // No strategy: the template's DeploymentPreference gives it, else the plan's DEFAULT_STRATEGY.
    expect(config.functions[0]!.strategy).toBeUndefined();
    expect(config.functions[0]).toMatchObject({ bakeMinutes: 10, alarms: [], maxZipKiB: 64, externalAwsSdk: false, alarmThresholds: { errors: 5, throttles: 1, durationP99PercentOfTimeout: 90 } });
  });

  it.each([
    ['no functions', { ...minimal, functions: [] }, 'functions: Too small'],
    ['a bad connection ARN', { ...minimal, repository: { ...minimal.repository, connectionArn: 'nope' } }, 'repository.connectionArn: must be a CodeStar connection ARN'],
    ['an unknown strategy', { ...minimal, functions: [{ name: 'f', strategy: 'Canary50' }] }, 'functions.0.strategy'],
    ['an upper-case function name', { ...minimal, functions: [{ name: 'Orders' }] }, 'functions.0.name: function name must be lower-case'],
    ['duplicate stages', { ...minimal, stages: [{ name: 'prod' }, { name: 'prod' }] }, 'stages.1.name: duplicate name "prod"'],
    ['a trigger path longer than CodePipeline takes', { ...minimal, sharedPaths: [`${'a/'.repeat(127)}ab`] }, 'sharedPaths.0: a CodePipeline trigger pattern is at most 255 characters'],
    ['a function name that prefixes another', { ...minimal, functions: [{ name: 'orders-api' }, { name: 'orders' }] }, 'functions.1.name: "orders-" is a prefix of function "orders-api"'],
    ['a deploy permission that reaches another function', { ...minimal, functions: [{ name: 'orders' }, { name: 'billing', deployPermissions: [{ actions: ['lambda:AddPermission'], resources: ['arn:aws:lambda:${Region}:${Account}:function:*'], reason: 'rules invoke it' }] }] }, 'functions.1.deployPermissions.0.resources.0: "arn:aws:lambda:${Region}:${Account}:function:*" reaches another function\'s resources (lambda:function:orders-staging)'],
    ['an IAM write in deploy permissions', { ...minimal, functions: [{ name: 'f', deployPermissions: [{ actions: ['iam:AttachRolePolicy'], resources: ['*'], reason: 'because I can' }] }] }, 'functions.0.deployPermissions.0.actions.0: IAM, STS, Identity Center and Organizations writes cannot be deploy permissions'],
    ['an IAM write in the application boundary', { ...minimal, applicationBoundary: { allow: [{ actions: ['iam:PassRole'], resources: ['*'], reason: 'because I can' }] } }, 'applicationBoundary.allow.0.actions.0: IAM, STS, Identity Center and Organizations writes cannot be in the application boundary'],
    ['a wildcard deploy action', { ...minimal, functions: [{ name: 'f', deployPermissions: [{ actions: ['sqs:*'], resources: ['*'], reason: 'because I can' }] }] }, 'functions.0.deployPermissions.0.actions.0: must be a single service:Action, no wildcards'],
    ['a typo in a field', { ...minimal, functions: [{ name: 'f', stratgey: 'AllAtOnce' }] }, 'functions.0: Unrecognized key: "stratgey"'],
    ['an installation name with capitals', { ...minimal, installation: 'TeamB' }, 'installation: must be 1 to 10 lower-case letters and digits'],
    ['an installation name too long for the artifact folder', { ...minimal, installation: 'platformteam' }, 'installation: must be 1 to 10 lower-case letters and digits, starting with a letter, without dashes'],
    ['an installation name with a dash, whose names another installation\'s patterns could cover', { ...minimal, installation: 'lrp-b' }, "installation: must be 1 to 10 lower-case letters and digits, starting with a letter, without dashes (every name is <installation>-…: with a dash, one installation's names and patterns could begin another's)"],
    ['a function named like the installation\'s own', { ...minimal, installation: 'teamb', functions: [{ name: 'teamb-api' }] }, 'functions.0.name: "teamb-api": names starting with "teamb-" are the release pipeline\'s own (its deployment functions are teamb-<name>)'],
    ['a window parameter outside the installation', { ...minimal, installation: 'teamb', stages: [{ name: 'prod', deploymentWindow: { policyParameter: '/lrp/deploy-window' } }] }, 'stages.0.deploymentWindow.policyParameter: "/lrp/deploy-window" must start with "/teamb/"'],
    ['function names a long installation leaves in one artifact folder', { ...minimal, installation: 'platform', functions: [{ name: 'payments-refunds' }, { name: 'payments-reports' }] }, 'make the names differ within their first 11 characters'],
    ['a window with no policy', { ...minimal, stages: [{ name: 'prod', deploymentWindow: {} }] }, 'stages.0.deploymentWindow.policy: one of policy or policyParameter is required'],
  ])('rejects %s, naming the field', (_label, input, message) => {
    expect(() => resolveReleaseConfig(input)).toThrow(ReleaseConfigError);
    expect(() => resolveReleaseConfig(input)).toThrow(message);
  });

  it('fills ${Installation} in the window parameters with the installation', () => {
    const config = resolveReleaseConfig({ ...minimal, installation: 'teamb', stages: [{ name: 'prod', deploymentWindow: { policyParameter: '/${Installation}/window', overrideParameter: '/${Installation}/window/override' } }] });
    expect(config.stages[0]!.deploymentWindow).toMatchObject({ policyParameter: '/teamb/window', overrideParameter: '/teamb/window/override' });
  });

  it('the repository configuration is valid', () => {
    expect(() => resolveReleaseConfig(sampleConfig)).not.toThrow();
  });
});

describe('release plan', () => {
  const config = resolveReleaseConfig(sampleConfig);

  it('orders stages: source, build, staging, the gates, then production', () => {
    const plan = planPipeline(config, config.functions[0]!);
    expect(plan.stages.map((s) => [s.name, s.actions.map((a) => (a.kind === 'invoke' ? a.name : a.kind))])).toEqual([
      ['Source', ['source']],
      ['Build', ['build']],
      ['Deploy-staging', ['deploy', 'IntegrationTests']],
      ['Approve-prod', ['approval', 'DeploymentWindow']],
      ['Deploy-prod', ['deploy', 'IntegrationTests', 'ShiftTraffic']],
    ]);
  });

  it('writes the shift-traffic UserParameters from the function configuration', () => {
    const plan = planPipeline(config, config.functions[1]!);
    const shift = plan.stages.at(-1)!.actions.at(-1)!;
    expect(shift).toMatchObject({
      kind: 'invoke',
      fn: 'shift-traffic',
      userParameters: { functionName: 'invoice-worker-prod', alias: 'live', targetAlias: 'candidate', strategy: 'Linear10PercentEvery1Minute', bakeMinutes: 15 },
    });
  });

  it('releases a function only for changes to its own folder and the shared paths, never the control pipeline\'s', () => {
    const plan = planPipeline(config, config.functions[0]!);
    expect(plan.triggerPaths).toContain('functions/orders-api/**');
    expect(plan.triggerPaths).toContain('scripts/**');
    // The control pipeline deploys those, then restarts the pipelines whose definition changed.
    expect(plan.triggerPaths).not.toContain('package-lock.json');
    expect(plan.triggerPaths.some((p) => p.includes('invoice-worker'))).toBe(false);
  });

  it('checks UserParameters at synth with the deployment functions\' own schemas', () => {
    const bad = resolveReleaseConfig({ ...sampleConfig, stages: [{ name: 'prod', deploymentWindow: { policyParameter: '/lrp/not a parameter name' } }] });
    expect(() => planPipeline(bad, bad.functions[0]!)).toThrow('stages.0.deploymentWindow.policy: orders-api prod DeploymentWindow UserParameters policyParameter: must be an SSM parameter name');
  });
});

describe('service limits at synth', () => {
  const shiftParameters = (alarms: string[]) => {
    const config = resolveReleaseConfig({ ...minimal, functions: [{ name: 'orders-api', alarms }] });
    const shift = planPipeline(config, config.functions[0]!).stages.at(-1)!.actions.at(-1)!;
    return JSON.stringify((shift as { userParameters: unknown }).userParameters);
  };
  /** Alarm names that make the shift-traffic UserParameters exactly `length` characters long. */
  const alarmsForLength = (length: number) => {
    const base = shiftParameters(['a']).length;
    const extra = length - base;
    const names = ['a'];
    for (let left = extra; left > 0; ) {
      const last = names.length - 1;
      const room = 255 - names[last]!.length;
      if (room > 0) {
        const add = Math.min(room, left);
        names[last] += 'a'.repeat(add);
        left -= add;
      } else {
        names.push('');
        left -= 3; // `,""`
        if (left < 0) throw new Error('cannot hit the length exactly');
      }
    }
    return names;
  };

  it('accepts UserParameters of exactly 1,000 characters', () => {
    const alarms = alarmsForLength(1000);
    expect(shiftParameters(alarms)).toHaveLength(1000);
  });

  it('refuses UserParameters of 1,001 characters, naming the field and the limit', () => {
    const alarms = alarmsForLength(1001);
    const config = resolveReleaseConfig({ ...minimal, functions: [{ name: 'orders-api', alarms }] });
    expect(() => planRelease(config)).toThrow(ReleaseConfigError);
    expect(() => planRelease(config)).toThrow(/functions\.0\.alarms: orders-api prod ShiftTraffic UserParameters would be 1,001 characters; CodePipeline allows at most 1,000/);
  });

  it('refuses a deployment window too large to pass inline, saying to move it to SSM', () => {
    const freezes = Array.from({ length: 12 }, (_, i) => ({ from: `2027-01-${String(i + 1).padStart(2, '0')}`, to: `2027-01-${String(i + 1).padStart(2, '0')}`, reason: `freeze number ${i}` }));
    const config = resolveReleaseConfig({ ...minimal, stages: [{ name: 'prod', deploymentWindow: { policy: { freezes } } }] });
    expect(() => planRelease(config)).toThrow(/stages\.0\.deploymentWindow\.policy: orders-api prod DeploymentWindow UserParameters would be [\d,]+ characters.*policyParameter/);
  });

  it('accepts 8 trigger file paths and refuses 9, naming the function\'s paths', () => {
    const withPaths = (paths: string[]) => resolveReleaseConfig({ ...minimal, functions: [{ name: 'orders-api', paths }] });
    // The function's folder and the 2 default shared paths make 3.
    const libs = (count: number) => Array.from({ length: count }, (_, i) => `libs/${i}/**`);
    expect(planRelease(withPaths(libs(5)))[0]!.triggerPaths).toHaveLength(8);
    expect(() => planRelease(withPaths(libs(6)))).toThrow(/functions\.0\.paths: orders-api's pipeline trigger would include 9 file paths.*at most 8/);
  });

  it('names sharedPaths when the shared paths alone cross the trigger limit', () => {
    const config = resolveReleaseConfig({ ...minimal, sharedPaths: Array.from({ length: 8 }, (_, i) => `shared-${i}/**`) });
    expect(() => planRelease(config)).toThrow(/sharedPaths: orders-api's pipeline trigger would include 9 file paths/);
  });

  it('refuses more pipeline stages than CodePipeline allows', () => {
    const stages = Array.from({ length: 25 }, (_, i) => ({ name: `s${i}`, approval: true }));
    expect(() => planRelease(resolveReleaseConfig({ ...minimal, stages }))).toThrow(/stages: orders-api's pipeline would have 52 stages.*at most 50/);
  });
});

describe('application templates at synth', () => {
  const config = resolveReleaseConfig({ ...minimal, stages: [{ name: 'staging' }, { name: 'production-eu-central-1' }] });
  const fn = { Fn: { Type: 'AWS::Serverless::Function', Properties: { Runtime: 'nodejs24.x', Handler: 'app.handler', CodeUri: 'src/' } } };
  const template = (parameters: Record<string, unknown> | undefined, resources: Record<string, unknown> = fn) => () => ({ Resources: resources, ...(parameters ? { Parameters: parameters } : {}) }) as CfnTemplate;

  it('accepts the repository\'s own templates for its stages', () => {
    expect(applicationTemplateIssues(resolveReleaseConfig(sampleConfig), (name) => readApplicationTemplate(root, name))).toEqual([]);
  });

  it('names a stage whose name the template\'s Stage parameter refuses', () => {
    const issues = applicationTemplateIssues(config, template({ Stage: { Type: 'String', AllowedPattern: '[a-z][a-z0-9-]{0,20}' }, CommitSha: { Type: 'String' } }));
    expect(describeIssues(issues)).toEqual([
      'stages.1.name: stage name "production-eu-central-1" does not match its AllowedPattern [a-z][a-z0-9-]{0,20} in functions/orders-api/template.yaml\'s Stage parameter, so CloudFormation would refuse the change set; rename the stage or widen the parameter',
    ]);
    expect(describeIssues(applicationTemplateIssues(config, template({ Stage: { Type: 'String', MaxLength: 10 }, CommitSha: { Type: 'String' } })))[0]).toMatch(/^stages\.1\.name: .*longer than its MaxLength 10/);
  });

  it('names a function whose template is missing or releases no function, and accepts one without parameters (the packager adds Stage and CommitSha)', () => {
    expect(describeIssues(applicationTemplateIssues(config, () => undefined))).toEqual([expect.stringMatching(/^functions\.0\.name: no template at functions\/orders-api\/template\.yaml/)]);
    expect(describeIssues(applicationTemplateIssues(config, template(undefined, {})))).toEqual([expect.stringMatching(/^functions\.0\.name: functions\/orders-api\/template\.yaml: Resources: no AWS::Serverless::Function to release/)]);
    expect(applicationTemplateIssues(config, template(undefined))).toEqual([]);
  });

  it('reads the timeout from the template (Globals included), and names a configured one that disagrees', () => {
    const withTimeouts = (fn: number | undefined, global: number | undefined) => () =>
      ({ Parameters: { Stage: { Type: 'String' }, CommitSha: { Type: 'String' } }, ...(global ? { Globals: { Function: { Timeout: global } } } : {}), Resources: { Fn: { Type: 'AWS::Serverless::Function', Properties: { ...(fn ? { Timeout: fn } : {}), AutoPublishAlias: 'candidate' } } } }) as CfnTemplate;
    expect(templateTimeoutSeconds(withTimeouts(undefined, undefined)())).toBe(3);
    expect(templateTimeoutSeconds(withTimeouts(undefined, 7)())).toBe(7);
    expect(templateTimeoutSeconds(withTimeouts(12, 7)())).toBe(12);
    const disagreeing = resolveReleaseConfig({ ...minimal, functions: [{ name: 'orders-api', timeoutSeconds: 5 }] });
    expect(describeIssues(applicationTemplateIssues(disagreeing, withTimeouts(undefined, 3)))).toEqual([expect.stringMatching(/^functions\.0\.timeoutSeconds: 5 s disagrees with functions\/orders-api\/template\.yaml, whose function times out after 3 s/)]);
  });

  it('takes a DeploymentPreference\'s Type and alarms as the function\'s settings, the configured strategy winning', () => {
    const withPreference = (preference: Record<string, unknown>) => () =>
      ({ Resources: { Fn: { Type: 'AWS::Serverless::Function', Properties: { AutoPublishAlias: 'live', DeploymentPreference: preference } } } }) as CfnTemplate;
    const preference = withPreference({ Type: 'Linear10PercentEvery2Minutes', Alarms: ['checkout-errors', { 'Fn::Sub': 'latency-${Stage}' }] });
    const [taken] = withTemplateSettings(config, preference).functions;
    expect(taken).toMatchObject({ strategy: 'Linear10PercentEvery2Minutes', alarms: ['checkout-errors', 'latency-${Stage}'] });
    const configured = resolveReleaseConfig({ ...minimal, functions: [{ name: 'orders-api', strategy: 'AllAtOnce', alarms: ['checkout-errors'] }] });
    expect(withTemplateSettings(configured, preference).functions[0]).toMatchObject({ strategy: 'AllAtOnce', alarms: ['checkout-errors', 'latency-${Stage}'] });
    expect(applicationTemplateIssues(config, preference)).toEqual([]);
  });

  it('names a custom CodeDeploy Type, unless the configuration names the strategy itself', () => {
    const custom = () => ({ Resources: { Fn: { Type: 'AWS::Serverless::Function', Properties: { AutoPublishAlias: 'live', DeploymentPreference: { Type: 'MyCompany5Percent' } } } } }) as CfnTemplate;
    expect(describeIssues(applicationTemplateIssues(config, custom))).toEqual([
      expect.stringMatching(/^functions\.0\.name: functions\/orders-api\/template\.yaml: DeploymentPreference\.Type: "MyCompany5Percent" is not a CodeDeploy predefined configuration .*name the function's strategy in release\.config\.ts/),
    ]);
    const named = resolveReleaseConfig({ ...minimal, stages: config.stages, functions: [{ name: 'orders-api', strategy: 'Canary10Percent5Minutes' }] });
    expect(applicationTemplateIssues(named, custom)).toEqual([]);
  });

  it('names a parameter the pipeline never passes that has no default', () => {
    const issues = describeIssues(applicationTemplateIssues(config, template({ Stage: { Type: 'String' }, TableName: { Type: 'String' }, Memory: { Type: 'Number', Default: 512 } })));
    expect(issues).toEqual([
      expect.stringMatching(/^functions\.0\.name: functions\/orders-api\/template\.yaml's parameter TableName has no Default; the pipeline passes only Stage and CommitSha/),
    ]);
  });
});
