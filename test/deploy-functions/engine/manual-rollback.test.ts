// Manual rollbacks under real operations: interrupted, raced by another operator, finished by the sweep, and the
// first release that has nothing to go back to. A manual rollback is never undone: it is carried on to its version.
import { describe, expect, it } from 'vitest';
import { run } from '../../../cli/main';
import { rollback } from '../../../cli/operations';
import { AwsCallError, ErrorCode } from '../../../deploy-functions/core/errors';
import { MIN, REF, addVersion, history, live, loseNextAnswer, operator, params } from '../../support/operations';
import { GENERATED_ALARM, standardWorld } from '../../support/simulation';

// The first release (live was on $LATEST) is baking when the on-call engineer runs `lrp rollback`: there is nothing to
// go back to, so the command refuses (exit 2) and the ledger keeps the release as it was.
describe('lrp rollback of a first release', () => {
  it('refuses with "nothing to act on" and keeps the first release SUCCEEDED', async () => {
    const world = standardWorld();
    world.lambda.functions.get(REF.functionName)!.aliases.set('live', { version: '$LATEST', weights: {}, revisionId: 'first' });
    await world.runJob('job-1', params());
    expect(live(world)).toMatchObject({ version: '2', weights: {} });
    const [first] = await history(world);
    expect(first).toMatchObject({ kind: 'FIRST_RELEASE', status: 'SUCCEEDED' });
    await world.clock.advance(60_000); // inside the 30-minute bake window
    const errors: string[] = [];
    const code = await world.clock.drive(run(['rollback', REF.functionName], () => operator(world), () => undefined, (t) => errors.push(t)));
    // Nothing could be done: the first release has no previous version.
    expect(live(world)).toMatchObject({ version: '2', weights: {} });
    // The release that put version 2 live is still a success in the ledger.
    expect((await history(world))[0]).toMatchObject({ deploymentId: first!.deploymentId, status: 'SUCCEEDED' });
    expect(code).toBe(2);
  });
});

// `lrp rollback --to 1` with nothing in flight: its ledger write is applied but the answer is lost. The CLI retries the
// write (idempotent for its owner) and carries on; a rollback whose process stopped after the write is finished by
// running the command again, or by the sweep; a different --to is refused until then.
describe('an interrupted manual rollback', () => {
  const afterBake = async () => {
    const world = standardWorld();
    await world.runJob('job-1', params({ bakeMinutes: 10 })); // 1 → 2
    await world.clock.advance(15 * MIN); // the bake window is over: 2 is known-good now; then users report errors.
    return world;
  };

  it('a lost answer to its start is retried: the alias ends on the version asked for, and the version it left is replaced', async () => {
    const world = await afterBake();
    loseNextAnswer(world.ledger, 'startDeployment');
    await world.clock.drive(rollback(operator(world), REF, '1'));
    expect(live(world)).toMatchObject({ version: '1', weights: {} });
    const [manual] = await history(world);
    expect(manual).toMatchObject({ kind: 'MANUAL_ROLLBACK', status: 'SUCCEEDED', toVersion: '1' });
    expect((await world.ledger.getState(REF))?.replacedVersions).toEqual(['2']);
  });

  it('one whose process stopped after its start is finished by running it again; another --to is refused until then', async () => {
    const world = await afterBake();
    addVersion(world, '3');
    // The CLI recorded the start, then died before moving the alias.
    await world.ledger.startDeployment(
      { ...REF, deploymentId: 'manual-1', kind: 'MANUAL_ROLLBACK', fromVersion: '2', toVersion: '1', strategy: 'ManualRollback', status: 'IN_PROGRESS', startedAt: world.clock.now(), bakeMinutes: 0, watchedAlarms: [], reason: 'rolled back by alice to version 1' },
      { owner: 'operator:alice:0', now: world.clock.now(), leaseUntil: world.clock.now() + 5 * MIN, lockUntil: world.clock.now() + 5 * MIN },
    );
    await expect(world.clock.drive(rollback(operator(world, 'bob'), REF, '3'))).rejects.toThrow(/manual rollback manual-1 to version 1 is in progress.*run `lrp rollback` to finish it/);
    expect(live(world).version).toBe('2');
    const result = await world.clock.drive(rollback(operator(world, 'bob'), REF, '1'));
    expect(result).toMatchObject({ toVersion: '1', deploymentId: 'manual-1' });
    expect(live(world)).toMatchObject({ version: '1', weights: {} });
    const state = await world.ledger.getState(REF);
    expect(state?.replacedVersions).toEqual(['2']);
    expect(state?.knownGoodVersion).toBe('1');
  });

  it('one nobody runs again is finished by the sweep once its lock lapsed, never undone', async () => {
    const world = await afterBake();
    await world.ledger.startDeployment(
      { ...REF, deploymentId: 'manual-1', kind: 'MANUAL_ROLLBACK', fromVersion: '2', toVersion: '1', strategy: 'ManualRollback', status: 'IN_PROGRESS', startedAt: world.clock.now(), bakeMinutes: 0, watchedAlarms: [], reason: 'rolled back by alice to version 1' },
      { owner: 'operator:alice:0', now: world.clock.now(), leaseUntil: world.clock.now() + 5 * MIN, lockUntil: world.clock.now() + 5 * MIN },
    );
    world.scheduleSweeps(world.clock.now() + 11 * MIN);
    await world.clock.drain();
    expect(live(world)).toMatchObject({ version: '1', weights: {} });
    expect(world.rollbackActions).toContainEqual(expect.objectContaining({ action: 'COMPLETED', deploymentId: 'manual-1' }));
    expect((await world.ledger.getState(REF))?.replacedVersions).toEqual(['2']);
  });
});

// Two on-call engineers at once. Alice runs `lrp rollback --to 1` (nothing in flight; version 2 went bad after its
// bake) and her UpdateAlias is throttled once. Meanwhile Bob runs `lrp rollback`: he finds Alice's manual rollback in
// flight and finishes it rather than undoing it. Alice, having lost the lock, writes the alias no more.
describe('two operators roll back at the same time', () => {
  it('does not write the alias after losing the lock, and never records the version rolled back to as replaced', async () => {
    const world = standardWorld();
    await world.runJob('job-1', params({ strategy: 'AllAtOnce', bakeMinutes: 10 })); // 1 → 2
    await world.clock.advance(15 * MIN);
    const update = world.lambda.updateAlias.bind(world.lambda);
    let throttle = true;
    world.lambda.updateAlias = async (...args) => {
      if (throttle && /^lrp manual rollback/.test(args[3]?.description ?? '')) {
        throttle = false;
        throw new AwsCallError(ErrorCode.AWS_THROTTLED, 'UpdateAlias failed: TooManyRequestsException (throttled)');
      }
      return update(...args);
    };
    const alice = rollback(operator(world, 'alice'), REF, '1').then((r) => r, (e: Error) => e);
    world.clock.schedule(world.clock.now() + 50, () => rollback(operator(world, 'bob'), REF).then((r) => r, (e: Error) => e));
    await world.clock.drive(alice);
    await world.clock.drain();
    const state = await world.ledger.getState(REF);
    const [manual] = await history(world);
    // The live version is never the one recorded as "replaced by a rollback".
    expect(state?.replacedVersions ?? []).not.toContain(live(world).version);
    // Once Bob fenced Alice's manual rollback, Alice's process writes the alias no more.
    const fencedAt = manual!.rolledBackAt ?? Infinity;
    expect(world.lambda.changes.filter((c) => c.at >= fencedAt && /alice/.test(c.description ?? ''))).toEqual([]);
  });
});

// `lrp rollback --to 1` moves the alias, then the ledger is down for longer than the CLI's retries. The sweep later
// finishes the manual rollback, marking version 2 as replaced, so a re-run of the same pipeline while 2's alarm fires
// is a forward release (refused), never a revert.
describe('a manual rollback whose record is finished by the sweep', () => {
  it('still counts version 2 as replaced: re-releasing it while its alarm fires is a forward release, not a revert', async () => {
    const world = standardWorld();
    await world.runJob('job-1', params({ strategy: 'AllAtOnce', bakeMinutes: 10 })); // R1: 1 → 2
    await world.clock.advance(15 * MIN); // bake over
    world.cloudwatch.setAlarm(GENERATED_ALARM, 'ALARM'); // version 2 misbehaves after all
    const update = world.lambda.updateAlias.bind(world.lambda);
    world.lambda.updateAlias = async (...args) => {
      const moved = await update(...args);
      if (/^lrp manual rollback/.test(args[3]?.description ?? '')) {
        world.ledger.writesDown = true; // the ledger goes down right after the alias moved
        world.clock.schedule(world.clock.now() + 2 * MIN, () => (world.ledger.writesDown = false));
      }
      return moved;
    };
    await world.clock.drive(rollback(operator(world), REF, '1').catch(() => undefined));
    expect(live(world)).toMatchObject({ version: '1', weights: {} });
    world.scheduleSweeps(world.clock.now() + 40 * MIN);
    await world.clock.drain();
    const [manual] = await history(world);
    expect(manual).toMatchObject({ kind: 'MANUAL_ROLLBACK', status: 'SUCCEEDED' });
    // Version 2 was replaced by a rollback.
    expect((await world.ledger.getState(REF))?.replacedVersions ?? []).toContain('2');
    // The same pipeline is re-run (same commit, candidate still on 2) while 2's alarm is still firing.
    await world.runJob('job-2', params());
    const [again] = await history(world);
    expect(again?.kind).not.toBe('REVERT');
    expect(world.pipeline.finalResults('job-2')[0]).toMatchObject({ kind: 'failure', message: expect.stringMatching(/ALARM_BREACHED/) });
    expect(live(world).version).toBe('1');
  });
});
