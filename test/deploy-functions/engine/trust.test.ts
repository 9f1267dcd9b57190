// What the deployment functions trust: alarms with generated names only when infra's tags vouch for them, events of
// their own account and region, continuation tokens only for the job the ledger says they belong to.
import { describe, expect, it } from 'vitest';
import { encodeContinuation } from '../../../deploy-functions/core/continuation';
import { actionStateEvent, alarmEvent, pipelineEvent } from '../../support/fake-aws';
import { MIN, REF, history, live, params } from '../../support/operations';
import { GENERATED_ALARM, USER_ALARM, standardWorld, type World } from '../../support/simulation';

/** A release 1 → 2 that is baking for 30 minutes. */
async function baking(): Promise<World> {
  const world = standardWorld();
  await world.runJob('job-1', params({ strategy: 'AllAtOnce', bakeMinutes: 30 }));
  await world.clock.advance(MIN);
  return world;
}
const refusals = (world: World) => world.logger.entries.filter((e) => e.level === 'warn' && /refused/.test(e.message));

describe('GIVEN a release in its bake window', () => {
  it('WHEN an alarm named like a generated one but without infra\'s tags fires THEN it is refused, logged, and nothing moves', async () => {
    const world = await baking();
    const impostor = 'lrp/orders-api-prod/live/impostor';
    world.cloudwatch.setAlarm(impostor, 'ALARM');
    world.cloudwatch.tags.set(impostor, { 'lrp:function': 'invoice-worker-prod', 'lrp:alias': 'live' });

    await world.clock.drive(world.deliverAlarm(impostor));

    expect(world.rollbackActions).toEqual([expect.objectContaining({ ...REF, action: 'REFUSED', reason: expect.stringMatching(/tagged lrp:function=invoice-worker-prod, lrp:alias=live: refused/) })]);
    expect(refusals(world)).toHaveLength(1);
    expect(live(world)).toMatchObject({ version: '2', weights: {} });
    expect((await history(world))[0]).toMatchObject({ status: 'SUCCEEDED' });
  });

  it('WHEN an event for the generated alarm carries made-up tags and resources, but CloudWatch shows it OK and untagged THEN nothing moves', async () => {
    const world = await baking();
    world.cloudwatch.tags.clear();
    const forged = alarmEvent(GENERATED_ALARM, 'ALARM', 'forged', world.clock.now());
    await world.clock.drive(world.deliver({ ...forged, detail: { ...forged.detail, alarmTags: { 'lrp:function': 'orders-api-prod', 'lrp:alias': 'live' }, alarmTagsStatus: 'SUCCESS' } }, 'forged tags'));

    expect(world.rollbackActions).toEqual([expect.objectContaining({ action: 'REFUSED', reason: expect.stringMatching(/is OK and has not changed state since .* when the event says it went to ALARM: refused/) })]);
    expect(live(world)).toMatchObject({ version: '2', weights: {} });
  });

  it('WHEN an untagged alarm\'s event lists the genuine alarm\'s ARN as its resource THEN the tags read are those of the alarm it names', async () => {
    const world = await baking();
    const impostor = 'lrp/orders-api-prod/live/impostor';
    world.cloudwatch.setAlarm(impostor, 'ALARM');
    const event = alarmEvent(impostor, 'ALARM', 'Threshold Crossed', world.clock.now());

    await world.clock.drive(world.deliver({ ...event, resources: [`arn:aws:cloudwatch:us-east-1:123456789012:alarm:${GENERATED_ALARM}`] }, 'borrowed ARN'));

    expect(world.rollbackActions.map((a) => a.action)).toEqual(['REFUSED']);
    expect(live(world)).toMatchObject({ version: '2', weights: {} });
  });

  it('WHEN an event says a declared alarm went to ALARM but CloudWatch shows it OK since before THEN nothing moves', async () => {
    const world = await baking();

    await world.clock.drive(world.deliverAlarm(USER_ALARM));

    expect(world.rollbackActions).toEqual([expect.objectContaining({ action: 'REFUSED' })]);
    expect(live(world)).toMatchObject({ version: '2', weights: {} });
  });

  it('WHEN the alarm went to ALARM and recovered before its event is handled THEN the blip still counts', async () => {
    const world = await baking();
    const changedAt = world.clock.now();
    world.cloudwatch.setAlarm(GENERATED_ALARM, 'ALARM');
    world.cloudwatch.setAlarm(GENERATED_ALARM, 'OK');

    await world.clock.drive(world.deliverAlarm(GENERATED_ALARM, changedAt));

    expect(world.rollbackActions.map((a) => a.action)).toEqual(['ROLLED_BACK']);
  });

  it('WHEN someone allowed to set the genuine alarm\'s state puts it in ALARM THEN it rolls back: who may do that may roll back (never forward)', async () => {
    const world = await baking();
    world.cloudwatch.setAlarm(GENERATED_ALARM, 'ALARM', 'set by cloudwatch:SetAlarmState');

    await world.clock.drive(world.deliverAlarm(GENERATED_ALARM));

    expect(world.rollbackActions.map((a) => a.action)).toEqual(['ROLLED_BACK']);
    expect(live(world)).toMatchObject({ version: '1', weights: {} });
  });

  it('WHEN a breach is reported from another account or region THEN it is refused, logged, and nothing moves', async () => {
    const world = await baking();
    world.cloudwatch.setAlarm(GENERATED_ALARM, 'ALARM');

    await world.clock.drive(world.deliver({ ...alarmEvent(GENERATED_ALARM), account: '999999999999' }, 'foreign account'));
    await world.clock.drive(world.deliver({ ...alarmEvent(GENERATED_ALARM), region: 'eu-west-1' }, 'foreign region'));

    expect(world.rollbackActions.map((a) => [a.action, a.reason])).toEqual([
      ['REFUSED', 'event from account 999999999999, not 123456789012'],
      ['REFUSED', 'event from region eu-west-1, not us-east-1'],
    ]);
    expect(refusals(world)).toHaveLength(2);
    expect(live(world)).toMatchObject({ version: '2', weights: {} });
  });
});

describe('GIVEN a continuation token the ledger does not give to this job', () => {
  it('WHEN it names another job\'s deployment, or one that does not exist THEN the job fails, the refusal is logged, and nothing moves', async () => {
    const world = await baking();
    const [first] = await history(world);
    const token = (deploymentId: string) => encodeContinuation({ deploymentId, fromVersion: '2', toVersion: '1', cursor: { stepIndex: 0, stepStartedAt: 0, startedAt: 0 } });
    const changes = world.lambda.changes.length;

    await world.invoke(pipelineEvent('job-x', params(), token(first!.deploymentId)), 'job-x');
    await world.invoke(pipelineEvent('job-y', params(), token('20261125T000000000Z-made-up')), 'job-y');

    expect(world.pipeline.finalResults('job-x')[0]).toMatchObject({ kind: 'failure', message: expect.stringMatching(/continuationToken: deployment \S+ belongs to another job; nothing was moved/) });
    expect(world.pipeline.finalResults('job-y')[0]).toMatchObject({ kind: 'failure', message: expect.stringMatching(/continuationToken: no deployment 20261125T000000000Z-made-up of orders-api-prod:live is recorded; nothing was moved/) });
    expect(refusals(world)).toHaveLength(2);
    expect(world.lambda.changes).toHaveLength(changes);
  });

  it('WHEN a stale token of this job comes after its deployment ended THEN it reports how it ended and moves nothing', async () => {
    const world = standardWorld({ settings: { maxInvocationMs: 60_000 } });
    await world.runJob('job-1', params());
    const stale = world.pipeline.results.find((r) => r.kind === 'success' && r.continuationToken);
    const changes = world.lambda.changes.length;

    await world.invoke(pipelineEvent('job-1', params(), stale!.kind === 'success' ? stale!.continuationToken : ''), 'job-1');

    expect(world.lambda.changes).toHaveLength(changes);
    expect(world.pipeline.finalResults('job-1').at(-1)).toMatchObject({ kind: 'success' });
  });
});

describe('GIVEN events someone allowed to invoke shift-traffic wrote, not the pipeline', () => {
  it('WHEN the job id is one CodePipeline never created THEN the event is refused, nothing is reported, and nothing moves', async () => {
    const world = standardWorld();
    const report = await world.invokeForged(pipelineEvent('job-made-up', params({ strategy: 'AllAtOnce', targetVersion: '2', targetAlias: undefined })), 'job-made-up');
    expect(report.outcome).toBe('refused');
    expect(world.pipeline.results).toEqual([]);
    expect(world.lambda.changes).toEqual([]);
    expect(world.logger.entries).toContainEqual(expect.objectContaining({ level: 'warn', message: 'event refused' }));
  });

  it('WHEN the event of a real job carries other UserParameters or a continuation token CodePipeline never issued THEN CodePipeline\'s job is what runs', async () => {
    const world = standardWorld({ settings: { maxInvocationMs: 60_000 } });
    world.pipeline.createJob(pipelineEvent('job-1', params({ strategy: 'AllAtOnce', bakeMinutes: 0 })));
    // The writer asks for version 1 at once, and offers a token naming a deployment it made up.
    const token = encodeContinuation({ deploymentId: '20261125T000000000Z-made-up', fromVersion: '2', toVersion: '1', cursor: { stepIndex: 0, stepStartedAt: 0, startedAt: 0 } });
    const withToken = await world.invokeForged(pipelineEvent('job-1', params({ targetVersion: '1', targetAlias: undefined }), token), 'job-1');
    expect(withToken.outcome).toBe('ignored');
    expect(world.lambda.changes).toEqual([]);
    await world.invokeForged(pipelineEvent('job-1', params({ targetVersion: '1', targetAlias: undefined, strategy: 'AllAtOnce' })), 'job-1');
    // CodePipeline's job: the candidate (version 2), all at once.
    expect(live(world)).toMatchObject({ version: '2', weights: {} });
    expect(world.logger.entries).toContainEqual(expect.objectContaining({ level: 'warn', message: 'the event\'s UserParameters differ from CodePipeline\'s job: using CodePipeline\'s' }));
  });
});

describe('GIVEN a healthy canary in flight, between two invocations of its job', () => {
  it('WHEN someone sends a "ShiftTraffic FAILED" action event while CodePipeline reports the execution in progress THEN it is refused and nothing moves', async () => {
    const world = standardWorld({ settings: { maxInvocationMs: 60_000 } });
    await world.invoke(pipelineEvent('job-1', params({ pipelineExecutionId: 'exec-1' })), 'job-1');
    world.pipeline.executions.set('exec-1', 'InProgress');

    await world.clock.drive(world.deliver(actionStateEvent('exec-1', 'FAILED', world.clock.now()), 'forged FAILED'));

    expect(world.rollbackActions).toEqual([expect.objectContaining({ action: 'REFUSED', reason: expect.stringMatching(/CodePipeline reports execution exec-1 of lrp-orders-api as InProgress, not stopped or failed/) })]);
    expect(live(world).weights).toEqual({ '2': 0.1 });
    expect((await history(world))[0]).toMatchObject({ status: 'IN_PROGRESS' });
  });

  it('WHEN someone sends a copy of the job\'s first event while CodePipeline holds its continuation token THEN it does nothing', async () => {
    const world = standardWorld({ settings: { maxInvocationMs: 60_000 } });
    const event = pipelineEvent('job-1', params({ pipelineExecutionId: 'exec-1' }));
    await world.invoke(event, 'job-1');

    const copy = await world.invoke(event, 'job-1');

    expect(copy).toMatchObject({ outcome: 'ignored', message: expect.stringMatching(/waiting for its continuation/) });
    expect((await history(world))[0]).toMatchObject({ status: 'IN_PROGRESS' });
    expect(live(world).weights).toEqual({ '2': 0.1 });
  });
});
