// Attack tests of issue 10's multi-account change, operator side: `lrp` on a stage in another account when the
// operator's credentials cannot assume its deployer role, and a remote stage named by its plain name.
import { GetAliasCommand, LambdaClient, UpdateAliasCommand } from '@aws-sdk/client-lambda';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { CloudWatchAdapter } from '../../deploy-functions/aws/cloudwatch';
import { LambdaAdapter } from '../../deploy-functions/aws/lambda';
import { TargetClients } from '../../deploy-functions/aws/target-clients';
import { ExitCode, run } from '../../cli/main';
import type { OperatorDeps } from '../../cli/operations';
import { standardWorld } from '../support/simulation';

const PROD_FN = 'arn:aws:lambda:eu-west-1:210987654321:function:orders-api-prod-eu';
const ROLE = 'arn:aws:iam::210987654321:role/lrp-deployer-eu-west-1';

const sts = mockClient(STSClient);
const lambda = mockClient(LambdaClient);

/** A rollout of the remote stage stopped half-way: in flight in the ledger, the alias split in the target account. */
async function remoteRolloutInFlight() {
  const world = standardWorld();
  world.lambda.addFunction(PROD_FN, { '1': 'commit a', '2': 'commit b' }, { live: '1', candidate: '2' });
  await world.clock.drive(world.startJob('job-1', { functionName: PROD_FN, alias: 'live', targetAlias: 'candidate', strategy: 'Canary10Percent30Minutes' }, { stopAfter: 1 }));
  return world;
}

async function lrp(deps: OperatorDeps, ...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await run(argv, () => deps, (t) => out.push(t), (t) => err.push(t));
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('GIVEN an operator whose credentials cannot assume the deployer role of a remote stage', () => {
  afterEach(() => {
    sts.reset();
    lambda.reset();
  });

  it('WHEN they run lrp rollback on it THEN it fails with exit code 4 naming the role, and neither the ledger nor the alias changed', async () => {
    const world = await remoteRolloutInFlight();
    sts.on(AssumeRoleCommand).rejects(Object.assign(new Error('User: arn:aws:sts::123456789012:assumed-role/Dev/alice is not authorized to perform: sts:AssumeRole'), { name: 'AccessDenied', $metadata: { httpStatusCode: 403 } }));
    const targets = new TargetClients({ home: { partition: 'aws', account: '123456789012', region: 'us-east-1' }, sts: new STSClient({ region: 'us-east-1' }), sessionName: 'lrp-cli-alice' });
    const home = new LambdaClient({ region: 'us-east-1', credentials: { accessKeyId: 'OPERATOR', secretAccessKey: 'o' } });
    const deps: OperatorDeps = { lambda: new LambdaAdapter(home, targets), cloudwatch: new CloudWatchAdapter(undefined, targets), ledger: world.ledger, clock: world.clock, operator: 'alice' };
    const before = JSON.stringify(await world.ledger.getState({ functionName: PROD_FN, alias: 'live' }));

    const { code, err } = await world.clock.drive(lrp(deps, 'rollback', PROD_FN));

    expect(code).toBe(ExitCode.CREDENTIALS);
    expect(err).toContain(ROLE);
    expect(JSON.stringify(await world.ledger.getState({ functionName: PROD_FN, alias: 'live' }))).toBe(before);
    expect(lambda.commandCalls(GetAliasCommand)).toHaveLength(0);
    expect(lambda.commandCalls(UpdateAliasCommand)).toHaveLength(0);
    expect(world.lambda.routing(PROD_FN, 'live').weights).toEqual({ '2': 0.1 });
  });
});

describe('GIVEN a remote stage the ledger knows by its ARN', () => {
  const depsOf = (world: Awaited<ReturnType<typeof remoteRolloutInFlight>>): OperatorDeps => ({
    lambda: world.lambda,
    cloudwatch: world.cloudwatch,
    ledger: world.ledger,
    clock: world.clock,
    operator: 'alice',
    // What a Scan of the ledger finds: the tooling account's orders-api-prod by name, the remote stage by ARN.
    knownAliases: () => Promise.resolve([{ functionName: 'orders-api-prod', alias: 'live' }, { functionName: PROD_FN, alias: 'live' }]),
  });

  it.each(['promote', 'abort', 'rollback', 'history'])('WHEN the operator runs lrp %s by its plain name THEN it refuses, naming the ARN to use, and records nothing', async (command) => {
    const world = await remoteRolloutInFlight();
    const before = JSON.stringify(await world.ledger.getState({ functionName: PROD_FN, alias: 'live' }));

    const { code, err } = await world.clock.drive(lrp(depsOf(world), command, 'orders-api-prod-eu'));

    expect(code).toBe(ExitCode.USAGE);
    expect(err).toContain(PROD_FN);
    expect(JSON.stringify(await world.ledger.getState({ functionName: PROD_FN, alias: 'live' }))).toBe(before);
    expect(world.lambda.routing(PROD_FN, 'live').weights).toEqual({ '2': 0.1 });
  });

  it('WHEN the operator names it by ARN THEN promote reaches the deployment in flight', async () => {
    const world = await remoteRolloutInFlight();
    const { code, out } = await world.clock.drive(lrp(depsOf(world), 'promote', PROD_FN));
    expect(code).toBe(ExitCode.OK);
    expect(out).toContain('promote requested');
  });
});
