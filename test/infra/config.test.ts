import { describe, expect, it } from 'vitest';
import { ReleaseConfigError, resolveReleaseConfig } from '../../infra/config';
import { planPipeline } from '../../infra/lib/release-plan';
import { sampleConfig } from './support';

const minimal = {
  repository: { connectionArn: 'arn:aws:codestar-connections:eu-central-1:123456789012:connection/abc-123', owner: 'o', name: 'r' },
  functions: [{ name: 'orders-api' }],
};

describe('release configuration', () => {
  it('fills every documented default', () => {
    const config = resolveReleaseConfig(minimal);
    expect(config.repository.branch).toBe('release');
    expect(config.logLevel).toBe('INFO');
    expect(config.stages.map((s) => [s.name, s.approval, s.shiftTraffic])).toEqual([
      ['staging', false, false],
      ['prod', true, true],
    ]);
    expect(config.functions[0]).toMatchObject({ strategy: 'Canary10Percent5Minutes', bakeMinutes: 10, alarms: [], timeoutSeconds: 5, alarmThresholds: { errors: 5, throttles: 1, durationP99PercentOfTimeout: 90 } });
  });

  it.each([
    ['no functions', { ...minimal, functions: [] }, 'functions: Too small'],
    ['a bad connection ARN', { ...minimal, repository: { ...minimal.repository, connectionArn: 'nope' } }, 'repository.connectionArn: must be a CodeStar connection ARN'],
    ['an unknown strategy', { ...minimal, functions: [{ name: 'f', strategy: 'Canary50' }] }, 'functions.0.strategy'],
    ['an upper-case function name', { ...minimal, functions: [{ name: 'Orders' }] }, 'functions.0.name: function name must be lower-case'],
    ['duplicate stages', { ...minimal, stages: [{ name: 'prod' }, { name: 'prod' }] }, 'stages.1.name: duplicate name "prod"'],
    ['a wildcard deploy action', { ...minimal, functions: [{ name: 'f', deployPermissions: [{ actions: ['sqs:*'], resources: ['*'], reason: 'because I can' }] }] }, 'functions.0.deployPermissions.0.actions.0: must be a single service:Action, no wildcards'],
    ['a typo in a field', { ...minimal, functions: [{ name: 'f', stratgey: 'AllAtOnce' }] }, 'functions.0: Unrecognized key: "stratgey"'],
    ['a window with no policy', { ...minimal, stages: [{ name: 'prod', deploymentWindow: {} }] }, 'stages.0.deploymentWindow.policy: one of policy or policyParameter is required'],
  ])('rejects %s, naming the field', (_label, input, message) => {
    expect(() => resolveReleaseConfig(input)).toThrow(ReleaseConfigError);
    expect(() => resolveReleaseConfig(input)).toThrow(message);
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

  it('releases a function only for changes to its own folder and the shared paths', () => {
    const plan = planPipeline(config, config.functions[0]!);
    expect(plan.triggerPaths).toContain('functions/orders-api/**');
    expect(plan.triggerPaths).toContain('package-lock.json');
    expect(plan.triggerPaths.some((p) => p.includes('invoice-worker'))).toBe(false);
  });

  it('checks UserParameters at synth with the deployment functions\' own schemas', () => {
    const bad = resolveReleaseConfig({ ...sampleConfig, stages: [{ name: 'prod', deploymentWindow: { policyParameter: 'not a parameter name' } }] });
    expect(() => planPipeline(bad, bad.functions[0]!)).toThrow('functions.orders-api stage prod: UserParameters policyParameter: must be an SSM parameter name');
  });
});
