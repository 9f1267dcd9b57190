import { describe, expect, it } from 'vitest';
import { UNKNOWN } from '../../../infra/iam/policy';
import { formatPermission, suggestedPermission, type StageRequest } from '../../../infra/iam/suggestion';

const env = { partition: 'aws', region: 'eu-central-1', account: '123456789012' };
const STAGES = ['staging', 'prod'];
/** The same request in every stage, `${s}` standing for the stage's name. */
const inEveryStage = (request: (stage: string) => StageRequest) => new Map(STAGES.map((stage) => [stage, [request(stage)]]));

describe('suggestedPermission', () => {
  it('writes the stage\'s name as ${Stage} and the environment as placeholders when every stage needs the same call for its own name', () => {
    const queue = (stage: string): StageRequest => ({ logicalId: 'Queue', action: 'sqs:CreateQueue', resource: `arn:aws:sqs:eu-central-1:123456789012:lrp-app-orders-${stage}-Queue-${UNKNOWN}` });
    expect(suggestedPermission(queue('prod'), 'prod', inEveryStage(queue), env)).toEqual({ actions: ['sqs:CreateQueue'], resources: ['arn:${Partition}:sqs:${Region}:${Account}:lrp-app-orders-${Stage}-Queue-*'] });
  });

  it('keeps the request\'s context as the condition: ArnLike for an ARN key, StringEquals or StringLike for the others', () => {
    const mapping = (stage: string): StageRequest => ({
      logicalId: 'Mapping',
      action: 'lambda:CreateEventSourceMapping',
      resource: '*',
      context: { 'lambda:FunctionArn': `arn:aws:lambda:eu-central-1:123456789012:function:orders-${stage}:live`, 'x:Kind': 'fifo', 'x:Name': `q-${UNKNOWN}` },
    });
    expect(suggestedPermission(mapping('staging'), 'staging', inEveryStage(mapping), env).conditions).toEqual({
      ArnLike: { 'lambda:FunctionArn': 'arn:${Partition}:lambda:${Region}:${Account}:function:orders-${Stage}:live' },
      StringEquals: { 'x:Kind': 'fifo' },
      StringLike: { 'x:Name': 'q-*' },
    });
  });

  it('writes this stage\'s values only when another stage needs something else, or nothing', () => {
    const bucket = (name: string): StageRequest => ({ logicalId: 'Bucket', action: 's3:CreateBucket', resource: `arn:aws:s3:::${name}` });
    // Named `prod-data` in every stage: `${Stage}-data` would name staging-data in staging.
    expect(suggestedPermission(bucket('prod-data'), 'prod', inEveryStage(() => bucket('prod-data')), env).resources).toEqual(['arn:${Partition}:s3:::prod-data']);
    expect(suggestedPermission(bucket('orders-prod'), 'prod', new Map([['staging', []], ['prod', [bucket('orders-prod')]]]), env).resources).toEqual(['arn:${Partition}:s3:::orders-prod']);
  });

  it('replaces the stage\'s name only where it stands as a word of its own', () => {
    const topic = (stage: string): StageRequest => ({ logicalId: 'Topic', action: 'sns:CreateTopic', resource: `arn:aws:sns:eu-central-1:123456789012:products-${stage}` });
    const stages = new Map([['prod', [topic('prod')]]]);
    expect(suggestedPermission(topic('prod'), 'prod', stages, env).resources).toEqual(['arn:${Partition}:sns:${Region}:${Account}:products-${Stage}']);
  });
});

describe('formatPermission', () => {
  it('writes the permission as a line of release.config.ts, conditions included, its reason left to fill in', () => {
    const line = formatPermission({ actions: ['lambda:GetEventSourceMapping'], resources: ['*'], conditions: { ArnLike: { 'lambda:FunctionArn': "arn:x:it's" } } });
    expect(line).toBe("{ actions: ['lambda:GetEventSourceMapping'], resources: ['*'], conditions: { ArnLike: { 'lambda:FunctionArn': 'arn:x:it\\'s' } }, reason: '…' }");
  });
});
