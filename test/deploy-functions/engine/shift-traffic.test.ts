import { describe, expect, it } from 'vitest';
import { DeploymentStatus } from '../../../deploy-functions/core/ledger';
import { pipelineEvent } from '../../support/fake-aws';
import { GENERATED_ALARM, USER_ALARM, standardWorld } from '../../support/simulation';

const params = (overrides: Record<string, unknown> = {}) => ({
  functionName: 'orders-api-prod',
  alias: 'live',
  targetAlias: 'candidate',
  strategy: 'Canary10Percent5Minutes',
  alarms: [USER_ALARM],
  bakeMinutes: 10,
  ...overrides,
});

const finalOf = (world: ReturnType<typeof standardWorld>, jobId: string) => {
  const finals = world.pipeline.finalResults(jobId);
  expect(finals).toHaveLength(1);
  return finals[0]!;
};

describe('shift-traffic: a healthy canary', () => {
  it('moves 10 %, waits 5 minutes, then moves everything, and succeeds with output variables', async () => {
    // Arrange
    const world = standardWorld();
    const started = world.clock.now();
    // Act
    await world.runJob('job-1', params());
    // Assert
    const result = finalOf(world, 'job-1');
    expect(result.kind).toBe('success');
    expect(result.kind === 'success' && result.outputVariables).toMatchObject({ fromVersion: '1', toVersion: '2', deploymentId: expect.any(String) });
    expect(world.lambda.changes.map((c) => [c.routing.version, c.routing.weights])).toEqual([
      ['1', { '2': 0.1 }],
      ['2', {}],
    ]);
    const [canary, full] = world.lambda.changes;
    expect(full!.at - canary!.at).toBeGreaterThanOrEqual(5 * 60_000);
    expect(full!.at - started).toBeLessThan(5 * 60_000 + 60_000);
    const [record] = await world.ledger.listDeployments({ functionName: 'orders-api-prod', alias: 'live' }, 5);
    expect(record).toMatchObject({ status: DeploymentStatus.SUCCEEDED, fromVersion: '1', toVersion: '2', commit: 'abcdef1234567', strategy: 'Canary10Percent5Minutes' });
    expect(record!.bakeUntil).toBe(record!.endedAt! + 10 * 60_000);
  });

  it('hands long waits over through continuation tokens no longer than 2048 characters', async () => {
    const world = standardWorld({ settings: { maxInvocationMs: 60_000 } });
    await world.runJob('job-1', params({ strategy: 'Linear10PercentEvery3Minutes' }));
    const tokens = world.pipeline.results.flatMap((r) => (r.kind === 'success' && r.continuationToken ? [r.continuationToken] : []));
    expect(tokens.length).toBeGreaterThan(20);
    for (const token of tokens) expect(token.length).toBeLessThanOrEqual(2048);
    expect(finalOf(world, 'job-1').kind).toBe('success');
    expect(world.lambda.routing('orders-api-prod', 'live')).toMatchObject({ version: '2', weights: {} });
    expect(world.overruns).toEqual([]);
  });

  it('answers CodePipeline at least every 20 minutes even with a long Lambda timeout', async () => {
    const world = standardWorld({ timeoutMs: 900_000 });
    await world.runJob('job-1', params({ strategy: 'Canary10Percent30Minutes' }));
    const times = world.pipeline.results.map((r) => r.at);
    const gaps = times.slice(1).map((t, i) => t - times[i]!);
    expect(Math.max(...gaps)).toBeLessThanOrEqual(20 * 60_000);
  });
});

describe('shift-traffic: breaches', () => {
  it('rolls back within one health-check interval of an alarm, in one alias update, naming the alarm', async () => {
    const world = standardWorld();
    const breachAt = world.clock.now() + 2 * 60_000 + 3_000;
    world.clock.schedule(breachAt, () => world.cloudwatch.setAlarm(USER_ALARM, 'ALARM', 'p99 latency above 800 ms'));
    await world.runJob('job-1', params());
    const result = finalOf(world, 'job-1');
    expect(result.kind).toBe('failure');
    expect(result.kind === 'failure' && result.message).toMatch(/\[ALARM_BREACHED\].*rolled back to version 1.*orders-api-prod-latency.*p99 latency/);
    const restore = world.lambda.changes.at(-1)!;
    expect(restore.routing).toMatchObject({ version: '1', weights: {} });
    expect(restore.at - breachAt).toBeLessThanOrEqual(world.settings.healthCheckIntervalMs);
    const [record] = await world.ledger.listDeployments({ functionName: 'orders-api-prod', alias: 'live' }, 1);
    expect(record).toMatchObject({ status: DeploymentStatus.ROLLED_BACK, errorCode: 'ALARM_BREACHED', rolledBackBy: 'shift-traffic' });
  });

  it('rolls back when the new version fails much more often than the old one', async () => {
    const world = standardWorld();
    world.cloudwatch.errorRates.set('1', 0.01);
    world.cloudwatch.errorRates.set('2', 0.2);
    await world.runJob('job-1', params());
    const result = finalOf(world, 'job-1');
    expect(result.kind === 'failure' && result.message).toMatch(/\[METRIC_BREACHED\].*error rate 2\d\.\d\d %.*2x the previous version's \d\.\d\d %/);
    expect(world.lambda.routing('orders-api-prod', 'live')).toMatchObject({ version: '1', weights: {} });
  });

  it('does not judge the error rate before minInvocations', async () => {
    const world = standardWorld();
    world.cloudwatch.trafficPerMinute = 4; // 10 % of 4/min for 5 min: 2 invocations, far below 50
    world.cloudwatch.errorRates.set('2', 1);
    await world.runJob('job-1', params());
    expect(finalOf(world, 'job-1').kind).toBe('success');
  });

  it('holds a step while health is unknown, and rolls back when it stays unknown too long', async () => {
    const world = standardWorld({ settings: { inconclusiveLimitMs: 60_000 } });
    world.clock.schedule(world.clock.now() + 30_000, () => {
      world.cloudwatch.alarms.delete(USER_ALARM);
    });
    await world.runJob('job-1', params());
    const result = finalOf(world, 'job-1');
    expect(result.kind === 'failure' && result.message).toMatch(/\[HEALTH_UNKNOWN\].*orders-api-prod-latency no longer exist/);
    expect(world.lambda.routing('orders-api-prod', 'live')).toMatchObject({ version: '1', weights: {} });
  });
});

describe('shift-traffic: alarms already firing', () => {
  it('blocks a forward release with a clear message and touches nothing', async () => {
    const world = standardWorld();
    world.cloudwatch.setAlarm(GENERATED_ALARM, 'ALARM');
    await world.runJob('job-1', params());
    const result = finalOf(world, 'job-1');
    expect(result.kind === 'failure' && result.message).toMatch(/\[ALARM_BREACHED\].*already in ALARM: a forward release is blocked.*hotfix reason.*revert/);
    expect(world.lambda.changes).toEqual([]);
  });

  it('lets a revert to a version that was fully live before through at once, and records it as a revert', async () => {
    // Arrange: version 2 released and baked; then its alarm fires.
    const world = standardWorld();
    await world.runJob('job-1', params({ bakeMinutes: 1 }));
    await world.clock.advance(2 * 60_000);
    world.cloudwatch.setAlarm(GENERATED_ALARM, 'ALARM');
    const before = world.lambda.changes.length;
    // Act: release version 1 again.
    await world.runJob('job-2', params({ targetAlias: undefined, targetVersion: '1' }));
    // Assert
    expect(finalOf(world, 'job-2').kind).toBe('success');
    expect(world.lambda.changes.slice(before).map((c) => c.routing)).toEqual([expect.objectContaining({ version: '1', weights: {} })]);
    const [revert] = await world.ledger.listDeployments({ functionName: 'orders-api-prod', alias: 'live' }, 1);
    expect(revert).toMatchObject({ kind: 'REVERT', status: 'SUCCEEDED', fromVersion: '2', toVersion: '1', strategy: 'AllAtOnce (revert)' });
  });

  it('refuses to revert to a version a rollback replaced: only a new deployment of it puts it live again', async () => {
    const world = standardWorld();
    world.lambda.functions.get('orders-api-prod')!.versions.set('3', 'commit 3333333');
    await world.runJob('job-1', params({ bakeMinutes: 30 }));
    world.cloudwatch.setAlarm(GENERATED_ALARM, 'ALARM');
    await world.clock.drive(world.deliverAlarm(GENERATED_ALARM));
    expect(world.lambda.routing('orders-api-prod', 'live').version).toBe('1');
    // Version 2 was replaced by the rollback; releasing it while the alarm fires is a forward release, blocked.
    await world.runJob('job-2', params({ targetAlias: undefined, targetVersion: '2' }));
    expect(finalOf(world, 'job-2')).toMatchObject({ kind: 'failure', message: expect.stringMatching(/forward release is blocked/) });
    expect(world.lambda.routing('orders-api-prod', 'live').version).toBe('1');
  });

  it('lets a hotfix out with a reason: alarms already firing neither block nor roll it back, a new breach does', async () => {
    const world = standardWorld();
    world.lambda.functions.get('orders-api-prod')!.versions.set('3', 'commit 3333333');
    world.cloudwatch.setAlarm(GENERATED_ALARM, 'ALARM', 'errors from version 1');
    await world.clock.advance(60_000);
    await world.runJob('job-1', params({ targetAlias: undefined, targetVersion: '3' }));
    expect(finalOf(world, 'job-1')).toMatchObject({ kind: 'failure', message: expect.stringMatching(/HotfixReason/) });

    await world.runJob('job-2', params({ targetAlias: undefined, targetVersion: '3', hotfixReason: 'INC-42: fix the null check' }));
    expect(finalOf(world, 'job-2').kind).toBe('success');
    const [hotfix] = await world.ledger.listDeployments({ functionName: 'orders-api-prod', alias: 'live' }, 1);
    expect(hotfix).toMatchObject({ kind: 'HOTFIX', hotfixReason: 'INC-42: fix the null check', status: 'SUCCEEDED', toVersion: '3', ignoredAlarms: [expect.objectContaining({ name: GENERATED_ALARM })] });
    // The original breach's event, however late, does not roll the hotfix back.
    await world.clock.drive(world.deliverAlarm(GENERATED_ALARM, world.cloudwatch.alarms.get(GENERATED_ALARM)!.changedAt!));
    expect(world.lambda.routing('orders-api-prod', 'live').version).toBe('3');
    // A user alarm that changes to ALARM during its bake window does.
    world.cloudwatch.setAlarm(USER_ALARM, 'ALARM');
    await world.clock.drive(world.deliverAlarm(USER_ALARM));
    expect(world.lambda.routing('orders-api-prod', 'live').version).toBe('1');
  });

  it('watches a hotfix for alarms that change to ALARM again during it', async () => {
    const world = standardWorld();
    world.lambda.functions.get('orders-api-prod')!.versions.set('3', 'commit 3333333');
    world.cloudwatch.setAlarm(GENERATED_ALARM, 'ALARM');
    await world.clock.advance(60_000);
    const started = world.clock.now();
    world.clock.schedule(started + 90_000, () => world.cloudwatch.setAlarm(GENERATED_ALARM, 'OK'));
    world.clock.schedule(started + 120_000, () => world.cloudwatch.setAlarm(GENERATED_ALARM, 'ALARM', 'still failing'));
    await world.runJob('job-1', params({ targetAlias: undefined, targetVersion: '3', hotfixReason: 'INC-43' }));
    expect(finalOf(world, 'job-1')).toMatchObject({ kind: 'failure', message: expect.stringMatching(/\[ALARM_BREACHED\].*still failing/) });
    expect(world.lambda.routing('orders-api-prod', 'live')).toMatchObject({ version: '1', weights: {} });
  });
});

describe('shift-traffic: bad input and faults end the job with a clear message', () => {
  it.each([
    ['no UserParameters', undefined, /\[INVALID_PARAMETERS\] UserParameters: missing/],
    ['malformed JSON', '{nope', /UserParameters: not valid JSON/],
    ['both targets', params({ targetVersion: '2' }), /exactly one of targetVersion or targetAlias/],
    ['neither target', params({ targetAlias: undefined }), /exactly one of targetVersion or targetAlias/],
    ['$LATEST as target', params({ targetAlias: undefined, targetVersion: '$LATEST' }), /targetVersion: must be a published version number/],
    ['an unknown strategy', params({ strategy: 'Canary50Percent' }), /strategy/],
    ['falling steps', params({ strategy: { steps: [{ percent: 50, minutes: 1 }, { percent: 20, minutes: 1 }] } }), /strategy.*must be above 50/],
    ['an unknown field', params({ alais: 'live' }), /Unrecognized key/],
    ['an unknown function', params({ functionName: 'nope' }), /\[FUNCTION_NOT_FOUND\] function nope does not exist/],
    ['an unknown alias', params({ alias: 'blue' }), /\[ALIAS_NOT_FOUND\] alias blue/],
    ['an unknown version', params({ targetAlias: undefined, targetVersion: '9' }), /\[VERSION_NOT_FOUND\] version 9/],
    ['an unknown alarm', params({ alarms: ['nope'] }), /\[ALARM_NOT_FOUND\] alarms: nope do not exist/],
  ])('%s', async (_label, userParameters, message) => {
    const world = standardWorld();
    await world.runJob('job-1', userParameters as never);
    const result = finalOf(world, 'job-1');
    expect(result.kind).toBe('failure');
    expect(result.kind === 'failure' && result.message).toMatch(message);
    expect(world.lambda.changes).toEqual([]);
  });

  it('marks configuration mistakes as ConfigurationError and runtime failures as JobFailed', async () => {
    const world = standardWorld();
    await world.runJob('job-1', params({ functionName: 'nope' }));
    world.cloudwatch.setAlarm(USER_ALARM, 'ALARM');
    await world.runJob('job-2', params());
    expect(world.pipeline.finalResults('job-1')[0]).toMatchObject({ type: 'ConfigurationError' });
    expect(world.pipeline.finalResults('job-2')[0]).toMatchObject({ type: 'JobFailed' });
  });

  it('fails a job whose candidate alias points to $LATEST', async () => {
    const world = standardWorld();
    world.lambda.functions.get('orders-api-prod')!.aliases.set('candidate', { version: '$LATEST', weights: {} });
    await world.runJob('job-1', params());
    expect(finalOf(world, 'job-1')).toMatchObject({ kind: 'failure', message: expect.stringMatching(/points to \$LATEST/) });
  });

  it('fails an event that is not a CodePipeline job without throwing', async () => {
    const world = standardWorld();
    const report = await world.invoke({ hello: 'world' }, 'none');
    expect(report.outcome).toBe('unreportable');
    // A malformed event for a job CodePipeline never created: there is nobody to report to.
    const malformed = await world.invokeForged({ 'CodePipeline.job': { id: 'job-x', data: { inputArtifacts: 'nope' } } }, 'job-x');
    expect(malformed.outcome).toBe('refused');
    expect(world.pipeline.results).toEqual([]);
  });

  it('fails a forged continuation token', async () => {
    const world = standardWorld();
    await world.invoke(pipelineEvent('job-1', params(), 'bm90IGEgdG9rZW4'), 'job-1');
    expect(finalOf(world, 'job-1')).toMatchObject({ kind: 'failure', message: expect.stringMatching(/continuationToken: not a token this function issued/) });
  });

  it('refuses a second deployment of an alias while one is in flight', async () => {
    const world = standardWorld({ settings: { maxInvocationMs: 60_000 } });
    world.clock.schedule(world.clock.now() + 90_000, () => world.startJob('job-2', params({ targetAlias: undefined, targetVersion: '2' })).then(() => undefined));
    await world.runJob('job-1', params());
    expect(finalOf(world, 'job-2')).toMatchObject({ kind: 'failure', message: expect.stringMatching(/\[DEPLOYMENT_LOCKED\].*one deployment at a time/) });
    expect(finalOf(world, 'job-1').kind).toBe('success');
  });

  it('never shifts twice for a re-delivered job, and repeats the same final result', async () => {
    const world = standardWorld();
    await world.runJob('job-1', params());
    const changes = world.lambda.changes.length;
    const report = await world.invoke(pipelineEvent('job-1', params()), 'job-1');
    expect(world.lambda.changes).toHaveLength(changes);
    expect(report).toMatchObject({ outcome: 'ignored', message: expect.stringMatching(/already ended/) });
    expect(world.pipeline.finalResults('job-1')).toHaveLength(1);
  });

  it('retries throttled calls and still ends the job', async () => {
    const world = standardWorld({ faultRate: 0.2, seed: 7 });
    world.enableFaults();
    await world.runJob('job-1', params());
    expect(world.faults.injected).toBeGreaterThan(0);
    expect(world.pipeline.finalResults('job-1')).toHaveLength(1);
    const routing = world.lambda.routing('orders-api-prod', 'live');
    expect(routing.weights).toEqual({});
  });
});

describe('shift-traffic: first release and no-op', () => {
  it('moves all at once when live still points at $LATEST', async () => {
    const world = standardWorld();
    world.lambda.functions.get('orders-api-prod')!.aliases.set('live', { version: '$LATEST', weights: {}, revisionId: 'x' });
    await world.runJob('job-1', params());
    expect(finalOf(world, 'job-1').kind).toBe('success');
    expect(world.lambda.changes.map((c) => c.routing)).toEqual([expect.objectContaining({ version: '2', weights: {} })]);
  });

  it('succeeds without shifting when the alias is already on the target', async () => {
    const world = standardWorld();
    await world.runJob('job-1', params({ targetAlias: undefined, targetVersion: '1' }));
    expect(finalOf(world, 'job-1')).toMatchObject({ kind: 'success', summary: expect.stringMatching(/already fully on version 1/) });
    expect(world.ledger.deployments.size).toBe(0);
    expect(world.lambda.changes).toEqual([]);
  });

  it('does not let a no-op release cut short the bake window of the release before it', async () => {
    const world = standardWorld();
    await world.runJob('job-1', params({ bakeMinutes: 30 }));
    await world.runJob('job-2', params());
    world.cloudwatch.setAlarm(GENERATED_ALARM, 'ALARM');
    await world.clock.drive(world.deliverAlarm(GENERATED_ALARM));
    expect(world.lambda.routing('orders-api-prod', 'live')).toMatchObject({ version: '1', weights: {} });
  });
});

describe('shift-traffic: operator requests', () => {
  it('completes at once on promote and rolls back on abort', async () => {
    const promoteWorld = standardWorld();
    promoteWorld.clock.schedule(promoteWorld.clock.now() + 60_000, async () => {
      const [record] = await promoteWorld.ledger.listDeployments({ functionName: 'orders-api-prod', alias: 'live' }, 1);
      await promoteWorld.ledger.requestOperatorAction({ functionName: 'orders-api-prod', alias: 'live' }, record!.deploymentId, 'PROMOTE');
    });
    const started = promoteWorld.clock.now();
    await promoteWorld.runJob('job-1', params({ strategy: 'Canary10Percent30Minutes' }));
    expect(finalOf(promoteWorld, 'job-1').kind).toBe('success');
    expect(promoteWorld.lambda.changes.at(-1)!.at - started).toBeLessThan(2 * 60_000);

    const abortWorld = standardWorld();
    abortWorld.clock.schedule(abortWorld.clock.now() + 60_000, async () => {
      const [record] = await abortWorld.ledger.listDeployments({ functionName: 'orders-api-prod', alias: 'live' }, 1);
      await abortWorld.ledger.requestOperatorAction({ functionName: 'orders-api-prod', alias: 'live' }, record!.deploymentId, 'ABORT');
    });
    await abortWorld.runJob('job-1', params({ strategy: 'Canary10Percent30Minutes' }));
    expect(finalOf(abortWorld, 'job-1')).toMatchObject({ kind: 'failure', message: expect.stringMatching(/\[ABORTED\]/) });
    expect(abortWorld.lambda.routing('orders-api-prod', 'live')).toMatchObject({ version: '1', weights: {} });
  });
});
