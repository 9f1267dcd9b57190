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
