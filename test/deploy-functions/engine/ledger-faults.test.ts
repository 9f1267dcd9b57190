// Ledger answers lost or refused at the moments that decide a release.
import { describe, expect, it } from 'vitest';
import { requestAction } from '../../../cli/operations';
import { AwsCallError, ErrorCode } from '../../../deploy-functions/core/errors';
import { pipelineEvent } from '../../support/fake-aws';
import { REF, history, live, loseNextAnswer, operator, params } from '../../support/operations';
import { standardWorld } from '../../support/simulation';

// The ledger applies shift-traffic's start, but the answer is lost. The retry finds the lock already this
// deployment's, taken by this invocation, and carries on: the job gets its one result.
describe('a lost answer from the ledger when a deployment starts', () => {
  it('the invocation still runs the deployment it started (or at least reports a result for its job)', async () => {
    const world = standardWorld();
    loseNextAnswer(world.ledger, 'startDeployment');
    const report = await world.invoke(pipelineEvent('job-1', params({ strategy: 'AllAtOnce' })), 'job-1');
    // CodePipeline must hear exactly one result from this job; the release is healthy, so it should succeed.
    expect(report.outcome).not.toBe('ignored');
    expect(world.pipeline.finalResults('job-1')).toHaveLength(1);
    expect(world.pipeline.finalResults('job-1')[0]).toMatchObject({ kind: 'success' });
    expect(live(world)).toMatchObject({ version: '2', weights: {} });
    expect((await history(world))[0]).toMatchObject({ status: 'SUCCEEDED' });
  });
});

// `lrp abort` is recorded, then the rollout's next read of its record is throttled. Without the record it cannot see
// the abort, so it holds the step rather than move forward; and the ledger refuses a success over a recorded abort.
describe('an abort and a throttled read of the deployment record', () => {
  it('never moves traffic forward past a recorded abort', async () => {
    const world = standardWorld();
    const get = world.ledger.getDeployment.bind(world.ledger);
    let failReads = 0;
    world.ledger.getDeployment = async (...args) => {
      if (failReads > 0) {
        failReads -= 1;
        throw new AwsCallError(ErrorCode.AWS_THROTTLED, 'GetItem failed: ProvisionedThroughputExceededException (throttled)');
      }
      return get(...args);
    };
    const start = world.clock.now();
    world.clock.schedule(start + 295_000, async () => {
      await requestAction(operator(world), REF, 'ABORT');
      failReads = 3; // the rollout's next readRecord (3 attempts) is throttled
    });
    await world.runJob('job-1', params({ strategy: 'Canary10Percent5Minutes' }));
    const [record] = await history(world);
    expect(world.pipeline.finalResults('job-1')[0]).toMatchObject({ kind: 'failure', message: expect.stringMatching(/ABORTED/) });
    expect(record).toMatchObject({ status: 'ROLLED_BACK' });
    expect(world.lambda.changes.some((c) => c.routing.version === '2' && c.at > start + 295_000)).toBe(false);
    expect(live(world)).toMatchObject({ version: '1', weights: {} });
  });
});

// `lrp abort` is recorded while an all-at-once move is under way; then the ledger stops answering, writes and reads:
// the success cannot be recorded, and the record (with the abort on it) cannot be read. A success reported now would be
// undone by the next copy of the job that reads the abort — after the pipeline moved on with the new version.
describe('an abort recorded during the last move, then a ledger that neither records nor answers', () => {
  it('does not report the success it cannot confirm: it continues, and the next invocation applies the abort', async () => {
    const world = standardWorld();
    const get = world.ledger.getDeployment.bind(world.ledger);
    let readsDown = false;
    world.ledger.getDeployment = async (...args) => {
      if (readsDown) throw new AwsCallError(ErrorCode.AWS_UNAVAILABLE, 'GetItem failed: ServiceUnavailable');
      return get(...args);
    };
    const update = world.lambda.updateAlias.bind(world.lambda);
    world.lambda.updateAlias = async (fn, alias, routing, options) => {
      if (!/ complete$/.test(options?.description ?? '') || readsDown) return update(fn, alias, routing, options);
      await requestAction(operator(world), REF, 'ABORT');
      const moved = await update(fn, alias, routing, options);
      world.ledger.writesDown = readsDown = true;
      world.clock.schedule(world.clock.now() + 2 * 60_000, () => (world.ledger.writesDown = readsDown = false));
      return moved;
    };
    await world.runJob('job-1', params({ strategy: 'AllAtOnce' }));
    const results = world.pipeline.results.filter((r) => r.jobId === 'job-1');
    // Expected: never a final success; the job fails ABORTED and the alias is back where it was.
    expect(results.filter((r) => r.kind === 'success' && !r.continuationToken)).toEqual([]);
    expect(world.pipeline.finalResults('job-1')).toEqual([expect.objectContaining({ kind: 'failure', message: expect.stringMatching(/ABORTED/) })]);
    expect(results[0]).toMatchObject({ kind: 'success', continuationToken: expect.any(String), summary: expect.stringMatching(/could not confirm/) });
    expect((await history(world))[0]).toMatchObject({ status: 'ROLLED_BACK', rolledBackBy: 'shift-traffic' });
    expect(live(world)).toMatchObject({ version: '1', weights: {} });
  });
});
