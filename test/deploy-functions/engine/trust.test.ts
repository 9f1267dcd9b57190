// What the deployment functions trust: alarms with generated names only when infra's tags vouch for them, events of
// their own account and region, continuation tokens only for the job the ledger says they belong to.
import { describe, expect, it } from 'vitest';
import { encodeContinuation } from '../../../deploy-functions/core/continuation';
import { alarmEvent, pipelineEvent } from '../../support/fake-aws';
import { MIN, REF, history, live, params } from '../../support/operations';
import { GENERATED_ALARM, standardWorld, type World } from '../../support/simulation';

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

  it('WHEN the alarm\'s own event carries its tags THEN they are used without reading them', async () => {
    const world = await baking();
    world.cloudwatch.setAlarm(GENERATED_ALARM, 'ALARM');
    world.cloudwatch.tags.clear(); // a read would find nothing: the event's tags must be what vouches
    const event = alarmEvent(GENERATED_ALARM);

    await world.clock.drive(world.deliver({ ...event, detail: { ...event.detail, alarmTags: { 'lrp:function': 'orders-api-prod', 'lrp:alias': 'live' }, alarmTagsStatus: 'SUCCESS' } }, 'tagged'));

    expect(world.rollbackActions).toEqual([expect.objectContaining({ action: 'ROLLED_BACK' })]);
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
