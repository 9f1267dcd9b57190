// Attack tests of issue 10's multi-account change, core and engine side: what a retrying or forwarding AWS service,
// a forged event and a careless config change do to the rollback function's trust in events from target accounts.
import { describe, expect, it } from 'vitest';
import { DeployerRoleError } from '../../../deploy-functions/aws/target-clients';
import { ErrorCode } from '../../../deploy-functions/core/errors';
import { foreignOrigin, type Home } from '../../../deploy-functions/core/event-trust';
import type { LambdaPort } from '../../../deploy-functions/core/ports';
import { createRollbackHandler } from '../../../deploy-functions/engine/handlers';
import { alarmEvent, scheduledEvent } from '../../../harness/events';
import { standardWorld, type World } from '../../support/simulation';

const PROD_FN = 'arn:aws:lambda:eu-west-1:210987654321:function:orders-api-prod';
const GENERATED = 'lrp/orders-api-prod/live/errors';
const PROD_ALARM = `arn:aws:cloudwatch:eu-west-1:210987654321:alarm:${GENERATED}`;
const TARGET = { account: '210987654321', region: 'eu-west-1' };
const HOME: Home = { partition: 'aws', account: '123456789012', region: 'us-east-1', targets: [TARGET] };
const TAGS = { 'lrp:function': 'orders-api-prod', 'lrp:alias': 'live' };

function rollbackHandler(world: World, lambda: LambdaPort = world.lambda) {
  return createRollbackHandler({ lambda, ledger: world.ledger, clock: world.clock, logger: world.logger, alarms: world.cloudwatch, pipeline: world.pipeline, home: HOME, orphanAfterMs: 900_000 });
}

/** The remote stage released and baking (live on 2, was 1), its generated alarm in ALARM in the target account. */
async function bakingRemoteRelease() {
  const world = standardWorld();
  world.lambda.addFunction(PROD_FN, { '1': 'commit a', '2': 'commit b', '3': 'commit c' }, { live: '1', candidate: '2' });
  world.cloudwatch.setAlarm(PROD_ALARM, 'OK');
  world.cloudwatch.tags.set(GENERATED, TAGS);
  await world.runJob('job-1', { functionName: PROD_FN, alias: 'live', targetAlias: 'candidate', strategy: 'AllAtOnce', bakeMinutes: 10 });
  world.cloudwatch.setAlarm(PROD_ALARM, 'ALARM');
  return { world, handler: rollbackHandler(world) };
}

describe('GIVEN an alarm event forwarded from a target account', () => {
  it('WHEN the same event is delivered twice THEN the alias is put back once and the second delivery moves nothing', async () => {
    const { world, handler } = await bakingRemoteRelease();
    const event = alarmEvent(GENERATED, 'ALARM', 'Threshold Crossed', world.clock.now(), TARGET);
    const [first, second] = [await handler(event), await handler(event)];
    expect(first).toEqual([expect.objectContaining({ functionName: PROD_FN, action: 'ROLLED_BACK', toVersion: '1' })]);
    expect(second.map((a) => a.action)).not.toContain('ROLLED_BACK');
    expect(world.lambda.routing(PROD_FN, 'live')).toEqual(expect.objectContaining({ version: '1', weights: {} }));
  });

  it('WHEN it arrives late, after the next release went out THEN it never fails the newer release', async () => {
    const { world, handler } = await bakingRemoteRelease();
    const firedAt = world.clock.now();
    world.cloudwatch.setAlarm(PROD_ALARM, 'OK');
    await world.clock.advance(11 * 60_000);
    world.lambda.addFunction(PROD_FN, { '1': 'commit a', '2': 'commit b', '3': 'commit c' }, { live: '2', candidate: '3' });
    await world.runJob('job-2', { functionName: PROD_FN, alias: 'live', targetAlias: 'candidate', strategy: 'AllAtOnce', bakeMinutes: 10 });
    world.cloudwatch.setAlarm(PROD_ALARM, 'ALARM');
    const actions = await handler(alarmEvent(GENERATED, 'ALARM', 'Threshold Crossed', firedAt, TARGET));
    expect(actions.map((a) => a.action)).not.toContain('ROLLED_BACK');
    expect(world.lambda.routing(PROD_FN, 'live').version).toBe('3');
  });

  it.each([
    ['another account', 'arn:aws:cloudwatch:eu-west-1:999999999999:alarm:lrp/orders-api-prod/live/errors'],
    ['another region', 'arn:aws:cloudwatch:us-west-2:210987654321:alarm:lrp/orders-api-prod/live/errors'],
    ['another alarm', 'arn:aws:cloudwatch:eu-west-1:210987654321:alarm:lrp/orders-api-prod/live/throttles'],
  ])('WHEN its account is the target but its alarm ARN (resources) names %s THEN it is refused, and the alias stays', async (_case, resource) => {
    const { world, handler } = await bakingRemoteRelease();
    const event = { ...alarmEvent(GENERATED, 'ALARM', 'Threshold Crossed', world.clock.now(), TARGET), resources: [resource] };
    const actions = await handler(event);
    expect(actions).toEqual([expect.objectContaining({ action: 'REFUSED', reason: expect.stringContaining(resource) as string })]);
    expect(world.lambda.routing(PROD_FN, 'live').version).toBe('2');
  });

  it('WHEN it has no resources at all THEN it is judged by its account, region and alarm name as before', () => {
    expect(foreignOrigin({ source: 'aws.cloudwatch', account: TARGET.account, region: TARGET.region }, HOME)).toBeUndefined();
  });

  it.each([
    ['another installation\'s generated alarm', 'team/orders-api-prod/live/errors'],
    ['a tooling-account function\'s generated alarm', 'lrp/orders-api-prod/live/errors'],
  ])('WHEN it names an alarm like %s THEN no alias of the tooling account or another installation moves', async (_case, name) => {
    const { world, handler } = await bakingRemoteRelease();
    // The tooling account's own orders-api-prod is baking a release too (live on 2, was 1).
    await world.runJob('job-home', { functionName: 'orders-api-prod', alias: 'live', targetAlias: 'candidate', strategy: 'AllAtOnce', bakeMinutes: 10 });
    world.cloudwatch.setAlarm(`arn:aws:cloudwatch:eu-west-1:210987654321:alarm:${name}`, 'ALARM');
    await handler(alarmEvent(name, 'ALARM', 'Threshold Crossed', world.clock.now(), TARGET));
    expect(world.lambda.routing('orders-api-prod', 'live').version).toBe('2');
  });

  it('WHEN it names a function ARN of the tooling account as its alarm THEN nothing moves', async () => {
    const { world, handler } = await bakingRemoteRelease();
    await world.runJob('job-home', { functionName: 'orders-api-prod', alias: 'live', targetAlias: 'candidate', strategy: 'AllAtOnce', bakeMinutes: 10 });
    const homeArnAlarm = 'arn:aws:cloudwatch:us-east-1:123456789012:alarm:lrp/orders-api-prod/live/errors';
    const actions = await handler(alarmEvent(homeArnAlarm, 'ALARM', 'Threshold Crossed', world.clock.now(), TARGET));
    expect(actions.map((a) => a.action)).not.toContain('ROLLED_BACK');
    expect(world.lambda.routing('orders-api-prod', 'live').version).toBe('2');
  });
});

describe('GIVEN a target environment removed from the config while a rollout there is in flight', () => {
  /** Lambda as the deployment functions see it once LRP_TARGET_ENVS no longer has the environment. */
  function withoutTarget(world: World): LambdaPort {
    const refuse = (fn: string) => {
      if (fn === PROD_FN) throw new DeployerRoleError(ErrorCode.INVALID_PARAMETERS, `210987654321/eu-west-1 is not a target environment of this installation (LRP_TARGET_ENVS: none)`);
    };
    return new Proxy(world.lambda, {
      get(target, key, receiver) {
        const value = Reflect.get(target, key, receiver) as unknown;
        if (typeof value !== 'function') return value;
        return (fn: string, ...rest: unknown[]) => {
          refuse(fn);
          return (value as (...a: unknown[]) => unknown).call(target, fn, ...rest);
        };
      },
    });
  }

  it('WHEN the sweep runs THEN it still puts back the other orphaned rollouts and reports the unreachable one by name', async () => {
    const world = standardWorld();
    world.lambda.addFunction(PROD_FN, { '1': 'commit a', '2': 'commit b' }, { live: '1', candidate: '2' });
    // Both rollouts stop half-way (their executions abandoned, no state-change event), the remote one first.
    await world.clock.drive(world.startJob('job-remote', { functionName: PROD_FN, alias: 'live', targetAlias: 'candidate', strategy: 'Canary10Percent30Minutes' }, { stopAfter: 1 }));
    await world.clock.drive(world.startJob('job-home', { functionName: 'orders-api-prod', alias: 'live', targetAlias: 'candidate', strategy: 'Canary10Percent30Minutes' }, { stopAfter: 1 }));
    expect(Object.keys(world.lambda.routing('orders-api-prod', 'live').weights)).toEqual(['2']);
    await world.clock.advance(20 * 60_000);
    const handler = rollbackHandler(world, withoutTarget(world));
    const swept = await world.clock.drive(handler(scheduledEvent(world.clock.now())).then((a) => ({ actions: a }), (error: Error) => ({ error })));
    // The home rollout is put back whatever happens to the remote one.
    expect(world.lambda.routing('orders-api-prod', 'live')).toEqual(expect.objectContaining({ version: '1', weights: {} }));
    // The unreachable one is named, so the operator knows which alias is left split and why.
    const text = 'error' in swept ? swept.error.message : JSON.stringify(swept.actions);
    expect(text).toContain('orders-api-prod');
    expect(text).toContain('not a target environment');
  });
});
