import { describe, expect, it } from 'vitest';
import { aliasOfGeneratedAlarm } from '../../../deploy-functions/core/names';
import { GENERATED_ALARM, USER_ALARM, standardWorld } from '../../support/simulation';

const params = { functionName: 'orders-api-prod', alias: 'live', targetAlias: 'candidate', strategy: 'AllAtOnce', alarms: [USER_ALARM], bakeMinutes: 10 };

describe('rollback function', () => {
  it('maps a generated alarm name to its function and alias', () => {
    expect(aliasOfGeneratedAlarm('lrp', 'lrp/orders-api-prod/live/errors')).toEqual({ functionName: 'orders-api-prod', alias: 'live' });
    expect(aliasOfGeneratedAlarm('lrp', 'something-else')).toBeUndefined();
  });

  it('reads only the names its own installation generates', () => {
    expect(aliasOfGeneratedAlarm('teamb', 'teamb/orders-api-prod/live/errors')).toEqual({ functionName: 'orders-api-prod', alias: 'live' });
    expect(aliasOfGeneratedAlarm('teamb', 'lrp/orders-api-prod/live/errors')).toBeUndefined();
    expect(aliasOfGeneratedAlarm('team', 'teamb/orders-api-prod/live/errors')).toBeUndefined();
  });

  it('acts on the alarms its own installation generates, and leaves another installation\'s alone', async () => {
    const world = standardWorld({ installation: 'teamb' });
    const own = 'teamb/orders-api-prod/live/errors';
    world.cloudwatch.setAlarm(own, 'OK');
    world.cloudwatch.tags.set(own, { 'lrp:function': 'orders-api-prod', 'lrp:alias': 'live' });
    await world.runJob('job-1', { ...params, alarms: [] });
    await world.clock.drive(world.deliverAlarm(GENERATED_ALARM));
    expect(world.lambda.routing('orders-api-prod', 'live')).toMatchObject({ version: '2' });
    await world.clock.drive(world.deliverAlarm(own));
    expect(world.rollbackActions.at(-1)).toMatchObject({ action: 'ROLLED_BACK', toVersion: '1' });
    expect(world.lambda.routing('orders-api-prod', 'live')).toMatchObject({ version: '1', weights: {} });
  });

  it('puts a baking release back on the previous version when a user alarm fires, and records why', async () => {
    const world = standardWorld();
    await world.runJob('job-1', params);
    await world.clock.drive(world.deliverAlarm(USER_ALARM));
    expect(world.rollbackActions).toEqual([expect.objectContaining({ action: 'ROLLED_BACK', toVersion: '1' })]);
    expect(world.lambda.routing('orders-api-prod', 'live')).toMatchObject({ version: '1', weights: {} });
    const [record] = await world.ledger.listDeployments({ functionName: 'orders-api-prod', alias: 'live' }, 1);
    expect(record).toMatchObject({ status: 'ROLLED_BACK', rolledBackBy: 'rollback-function', reason: expect.stringContaining('during the bake window') });
  });

  it('does nothing for an alarm that changed after the bake window', async () => {
    const world = standardWorld();
    await world.runJob('job-1', params);
    await world.clock.advance(11 * 60_000);
    await world.clock.drive(world.deliverAlarm(GENERATED_ALARM));
    expect(world.rollbackActions.map((a) => a.action)).toEqual(['NOTHING']);
    expect(world.lambda.routing('orders-api-prod', 'live').version).toBe('2');
  });

  it('raises on an event that is not an alarm state change, so it is retried and dead-lettered', async () => {
    const world = standardWorld();
    const { createRollbackHandler } = await import('../../../deploy-functions/engine/handlers');
    const handler = createRollbackHandler({ lambda: world.lambda, ledger: world.ledger, clock: world.clock, logger: world.logger, alarms: world.cloudwatch, pipeline: world.pipeline });
    await expect(handler({ 'detail-type': 'Something' })).rejects.toThrow(/not an event the rollback function handles/);
    await expect(handler({ source: 'evil.example', 'detail-type': 'CloudWatch Alarm State Change', detail: { alarmName: GENERATED_ALARM, state: { value: 'ALARM' } } })).rejects.toThrow(/not an event the rollback function handles/);
  });
});

describe('the simulation the property test runs on', () => {
  it('stops sweeping at its horizon, so a deployment that never ends fails the invariants instead of hanging the run', async () => {
    const world = standardWorld();
    const started = world.clock.now();
    let checks = 0;
    // A condition that never lets go, as a deployment that never ends would be.
    world.sweepWhile(() => {
      checks += 1;
      return true;
    }, 3_600_000);
    await world.clock.drain();
    // A check at each 5-minute tick up to the hour's horizon (0, 5, … 60 min), then nothing is left to run.
    expect(checks).toBe(13);
    expect(world.clock.now() - started).toBe(3_600_000);
  });
});
