import { describe, expect, it } from 'vitest';
import { alarmArnOf, alarmRefOf, foreignOrigin, targetEnvsFromEnv, untrustedGeneratedAlarm, type Home } from '../../../deploy-functions/core/event-trust';
import { aliasOfGeneratedAlarm, deployerRoleArn, generatedAlarmPrefix, parseFunctionArn, partitionOfRegion, plainFunctionName } from '../../../deploy-functions/core/names';
import { IntegrationTestParametersSchema, ShiftTrafficParametersSchema, parseUserParameters } from '../../../deploy-functions/core/user-parameters';
import { createRollbackHandler } from '../../../deploy-functions/engine/handlers';
import { alarmEvent } from '../../../harness/events';
import { standardWorld } from '../../support/simulation';

const PROD_FN = 'arn:aws:lambda:eu-west-1:210987654321:function:orders-api-prod';
const PROD_ALARM = 'arn:aws:cloudwatch:eu-west-1:210987654321:alarm:lrp/orders-api-prod/live/errors';
const shift = (extra: Record<string, unknown>) => JSON.stringify({ functionName: PROD_FN, targetAlias: 'candidate', strategy: 'AllAtOnce', ...extra });

describe('names of a stage in another environment', () => {
  it('gives a function ARN generated alarms in its own account and region, and reads the ARN back from them', () => {
    expect(generatedAlarmPrefix('lrp', PROD_FN, 'live')).toBe('arn:aws:cloudwatch:eu-west-1:210987654321:alarm:lrp/orders-api-prod/live/');
    expect(aliasOfGeneratedAlarm('lrp', PROD_ALARM)).toEqual({ functionName: PROD_FN, alias: 'live' });
    expect(aliasOfGeneratedAlarm('lrp', 'lrp/orders-api-staging/live/errors')).toEqual({ functionName: 'orders-api-staging', alias: 'live' });
    expect(aliasOfGeneratedAlarm('team', PROD_ALARM)).toBeUndefined();
  });

  it('names the deployer role per account and region, in the partition of the ARN', () => {
    expect(deployerRoleArn('aws-cn', 'lrp', '210987654321', 'cn-north-1')).toBe('arn:aws-cn:iam::210987654321:role/lrp-deployer-cn-north-1');
    expect(partitionOfRegion('us-gov-west-1')).toBe('aws-us-gov');
    expect(plainFunctionName(PROD_FN)).toBe('orders-api-prod');
    expect(parseFunctionArn(`${PROD_FN}:live`)).toBeUndefined();
  });
});

describe('UserParameters naming functions and alarms by ARN', () => {
  it('accepts a function ARN and alarm ARNs of its account and region', () => {
    const params = parseUserParameters(ShiftTrafficParametersSchema, shift({ alarms: [PROD_ALARM, 'tooling-synthetic-canary'] }));
    expect(params.functionName).toBe(PROD_FN);
    expect(params.alarms).toEqual([PROD_ALARM, 'tooling-synthetic-canary']);
  });

  it.each([
    ['an ARN whose partition is not its region\'s', { functionName: 'arn:aws:lambda:cn-north-1:210987654321:function:orders-api-prod' }, 'functionName: names partition aws, but region cn-north-1 is in partition aws-cn'],
    ['a qualified function ARN', { functionName: `${PROD_FN}:live` }, 'functionName: must be an unqualified Lambda function ARN'],
    ['an account that is not 12 digits', { functionName: 'arn:aws:lambda:eu-west-1:2109:function:orders-api-prod' }, 'functionName: must be a Lambda function ARN'],
    ['an alarm ARN of another account', { alarms: ['arn:aws:cloudwatch:eu-west-1:999999999999:alarm:x'] }, 'alarms.0: alarm ARN in 999999999999/eu-west-1: an alarm ARN must be in the account and region of the function ARN (210987654321/eu-west-1; an alarm of the tooling account is named by its name)'],
    ['an alarm ARN beside a plain function name', { functionName: 'orders-api-prod', alarms: [PROD_ALARM] }, 'functionName is a plain name'],
    ['a malformed alarm ARN', { alarms: ['arn:aws:cloudwatch:eu-west-1:210987654321:x'] }, 'alarms.0: must be a CloudWatch alarm ARN'],
  ])('refuses %s, naming the field', (_case, extra, message) => {
    expect(() => parseUserParameters(ShiftTrafficParametersSchema, shift(extra))).toThrow(message);
  });

  it('lets the integration tests name their function by ARN too', () => {
    expect(parseUserParameters(IntegrationTestParametersSchema, JSON.stringify({ functionName: PROD_FN, qualifier: 'candidate', casesPath: 'functions/orders-api/integration' })).functionName).toBe(PROD_FN);
  });
});

describe('event trust with target environments', () => {
  const home: Home = { partition: 'aws', account: '123456789012', region: 'us-east-1', targets: [{ account: '210987654321', region: 'eu-west-1' }] };
  const alarmEvent = (account: string, region: string, alarmName: string) => ({ source: 'aws.cloudwatch', account, region, detail: { alarmName } });

  it('accepts alarm events of home and of the targets, and knows a target\'s alarm by its ARN there', () => {
    expect(foreignOrigin(alarmEvent('210987654321', 'eu-west-1', 'x'), home)).toBeUndefined();
    expect(alarmRefOf(alarmEvent('210987654321', 'eu-west-1', 'lrp/orders-api-prod/live/errors'), home)).toBe(PROD_ALARM);
    expect(alarmRefOf(alarmEvent('123456789012', 'us-east-1', 'lrp/orders-api-staging/live/errors'), home)).toBe('lrp/orders-api-staging/live/errors');
    expect(alarmArnOf('lrp/orders-api-staging/live/errors', home, {})).toBe('arn:aws:cloudwatch:us-east-1:123456789012:alarm:lrp/orders-api-staging/live/errors');
  });

  it.each([
    ['an alarm event of an account that is not a target', alarmEvent('999999999999', 'eu-west-1', 'x'), 'event from account 999999999999, not 123456789012 nor an alarm event of a target (210987654321/eu-west-1)'],
    ['an alarm event of a target account in another region', alarmEvent('210987654321', 'us-west-2', 'x'), 'event from account 210987654321'],
    ['a pipeline event from a target account', { source: 'aws.codepipeline', account: '210987654321', region: 'eu-west-1' }, 'event from account 210987654321'],
    ['a schedule from a target account', { source: 'aws.events', account: '210987654321', region: 'eu-west-1' }, 'event from account 210987654321'],
  ])('refuses %s', (_case, event, reason) => {
    expect(foreignOrigin(event, home)).toContain(reason);
  });

  it('never lets a home alarm whose name looks like an ARN pass for a target\'s alarm', () => {
    const ref = alarmRefOf(alarmEvent('123456789012', 'us-east-1', PROD_ALARM), home);
    expect(ref).toBe(`arn:aws:cloudwatch:us-east-1:123456789012:alarm:${PROD_ALARM}`);
    expect(aliasOfGeneratedAlarm('lrp', ref)).toBeUndefined();
  });

  it('trusts a target\'s generated alarm only with the tags naming its function as that account knows it', () => {
    const ref = { functionName: PROD_FN, alias: 'live' };
    expect(untrustedGeneratedAlarm(PROD_ALARM, ref, { 'lrp:function': 'orders-api-prod', 'lrp:alias': 'live' })).toBeUndefined();
    expect(untrustedGeneratedAlarm(PROD_ALARM, ref, { 'lrp:function': 'orders-api-staging', 'lrp:alias': 'live' })).toContain('refused');
  });

  it('reads the target environments from LRP_TARGET_ENVS, failing by name on a bad value', () => {
    expect(targetEnvsFromEnv({})).toEqual([]);
    expect(targetEnvsFromEnv({ LRP_TARGET_ENVS: '[{"account":"210987654321","region":"eu-west-1"}]' })).toEqual([{ account: '210987654321', region: 'eu-west-1' }]);
    expect(() => targetEnvsFromEnv({ LRP_TARGET_ENVS: '[{"account":"21098","region":"eu-west-1"}]' })).toThrow('LRP_TARGET_ENVS: entry 0: account must be 12 digits');
    expect(() => targetEnvsFromEnv({ LRP_TARGET_ENVS: '{' })).toThrow('LRP_TARGET_ENVS:');
  });
});

describe('the rollback function and a stage in a target environment', () => {
  const GENERATED = 'lrp/orders-api-prod/live/errors';
  const fromTarget = { account: '210987654321', region: 'eu-west-1' };

  /** A release of the remote stage, baking, and a rollback handler that trusts the target environment. */
  async function bakingRemoteRelease(tags: Record<string, string>) {
    const world = standardWorld();
    world.lambda.addFunction(PROD_FN, { '1': 'commit a', '2': 'commit b' }, { live: '1', candidate: '2' });
    world.cloudwatch.setAlarm(PROD_ALARM, 'OK');
    world.cloudwatch.tags.set(GENERATED, tags);
    await world.runJob('job-1', { functionName: PROD_FN, alias: 'live', targetAlias: 'candidate', strategy: 'AllAtOnce', bakeMinutes: 10 });
    const handler = createRollbackHandler({
      lambda: world.lambda,
      ledger: world.ledger,
      clock: world.clock,
      logger: world.logger,
      alarms: world.cloudwatch,
      pipeline: world.pipeline,
      home: { partition: 'aws', account: '123456789012', region: 'us-east-1', targets: [fromTarget] },
    });
    world.cloudwatch.setAlarm(PROD_ALARM, 'ALARM');
    return { world, handler };
  }

  it('rolls the remote alias back on its generated alarm forwarded from the target account', async () => {
    const { world, handler } = await bakingRemoteRelease({ 'lrp:function': 'orders-api-prod', 'lrp:alias': 'live' });
    expect(world.lambda.routing(PROD_FN, 'live').version).toBe('2');
    const actions = await handler(alarmEvent(GENERATED, 'ALARM', 'Threshold Crossed', world.clock.now(), fromTarget));
    expect(actions).toEqual([expect.objectContaining({ functionName: PROD_FN, action: 'ROLLED_BACK', toVersion: '1' })]);
    expect(world.lambda.routing(PROD_FN, 'live')).toMatchObject({ version: '1', weights: {} });
  });

  it('refuses the same event forged from an account that is no target, and one from home naming the alarm', async () => {
    const { world, handler } = await bakingRemoteRelease({ 'lrp:function': 'orders-api-prod', 'lrp:alias': 'live' });
    const forged = await handler(alarmEvent(GENERATED, 'ALARM', 'Threshold Crossed', world.clock.now(), { account: '999999999999', region: 'eu-west-1' }));
    const fromHome = await handler(alarmEvent(GENERATED, 'ALARM', 'Threshold Crossed', world.clock.now()));
    expect(forged).toEqual([expect.objectContaining({ action: 'REFUSED' })]);
    // From home the name is a home alarm's: it guards orders-api-prod of the tooling account, which never deployed.
    expect(fromHome.map((a) => [a.functionName, a.action])).toEqual([['orders-api-prod', 'NOTHING']]);
    expect(world.lambda.routing(PROD_FN, 'live').version).toBe('2');
  });

  it('refuses a target\'s alarm named like a generated one whose tags name another function', async () => {
    const { world, handler } = await bakingRemoteRelease({ 'lrp:function': 'orders-api-staging', 'lrp:alias': 'live' });
    const actions = await handler(alarmEvent(GENERATED, 'ALARM', 'Threshold Crossed', world.clock.now(), fromTarget));
    expect(actions).toEqual([expect.objectContaining({ action: 'REFUSED', reason: expect.stringContaining('tagged lrp:function=orders-api-staging') as string })]);
    expect(world.lambda.routing(PROD_FN, 'live').version).toBe('2');
  });
});
