import { describe, expect, it } from 'vitest';
import { normaliseAction } from '../../../infra/iam/handler-permissions';
import { UNKNOWN, evaluate, globMatches, globMightMatch, type IamStatement } from '../../../infra/iam/policy';

const allow = (Action: string | string[], Resource: string | string[], Condition?: IamStatement['Condition']): IamStatement => ({ Effect: 'Allow', Action, Resource, ...(Condition ? { Condition } : {}) });

describe('globMatches', () => {
  it.each([
    ['arn:aws:sqs:*:*:invoices-*', 'arn:aws:sqs:eu-central-1:123456789012:invoices-prod', true],
    ['arn:aws:sqs:*:*:invoices-?', 'arn:aws:sqs:eu-central-1:123456789012:invoices-1', true],
    ['arn:aws:sqs:*:*:orders', 'arn:aws:sqs:eu-central-1:123456789012:orders-api', false],
    ['*', '', true],
  ])('%s matches %s: %s', (pattern, value, expected) => {
    expect(globMatches(pattern, value)).toBe(expected);
  });

  it('lets only `*` cover a part that is unknown before deploy', () => {
    const role = `arn:aws:iam::123456789012:role/lrp-app-orders-api-prod-FunctionRole-${UNKNOWN}`;
    expect(globMatches('arn:aws:iam::123456789012:role/lrp-app-orders-api-*', role)).toBe(true);
    expect(globMatches('arn:aws:iam::123456789012:role/lrp-app-orders-api-prod-FunctionRole-?', role)).toBe(false);
    expect(globMatches('arn:aws:iam::123456789012:role/lrp-app-orders-api-prod-FunctionRole-ABC', role)).toBe(false);
  });
});

describe('globMightMatch', () => {
  it.each([
    ['arn:aws:sqs:*:*:orders', `arn:aws:sqs:eu-central-1:1:${UNKNOWN}`, true],
    ['arn:aws:sqs:*:*:orders', `arn:aws:sqs:eu-central-1:1:inv${UNKNOWN}-dlq`, false],
    ['arn:aws:sqs:*:*:orders-?', `arn:aws:sqs:eu-central-1:1:orders${UNKNOWN}`, true],
    ['a?c', `${UNKNOWN}c`, true],
    ['abc', `${UNKNOWN}d`, false],
    ['*x*', `${UNKNOWN}`, true],
    ['arn:aws:sqs:*:*:invoices-*', 'arn:aws:sqs:eu-central-1:1:invoices-prod', true],
    ['arn:aws:sqs:*:*:orders', 'arn:aws:sqs:eu-central-1:1:orders-api', false],
  ])('%s could match %s: %s', (pattern, value, expected) => {
    expect(globMightMatch(pattern, value)).toBe(expected);
  });
});

describe('evaluate', () => {
  const request = { action: 'sqs:GetQueueUrl', resource: 'arn:aws:sqs:eu-central-1:123456789012:invoices-prod' };

  it('allows what an Allow statement names, actions case-insensitively', () => {
    expect(evaluate([allow('SQS:getqueueurl', 'arn:aws:sqs:*:*:invoices-*')], request)).toBe('ALLOWED');
  });

  it('matches the registry\'s upper-case service prefixes in Allow, NotAction and Deny alike', () => {
    const website = { action: 'S3:GetBucketWebsite', resource: 'arn:aws:s3:::b' };
    expect(evaluate([allow('s3:GetBucketWebsite', 'arn:aws:s3:::b')], website)).toBe('ALLOWED');
    expect(evaluate([{ Effect: 'Allow', NotAction: 's3:getbucketwebsite', Resource: '*' }], website)).toBe('NOT_ALLOWED');
    expect(evaluate([allow('s3:*', '*'), { Effect: 'Deny', Action: 's3:GetBucketWebsite', Resource: '*' }], website)).toBe('DENIED');
  });

  it('does not allow an action no statement names', () => {
    expect(evaluate([allow(['sqs:CreateQueue', 'sqs:GetQueueAttributes'], '*')], request)).toBe('NOT_ALLOWED');
  });

  it('lets an explicit Deny win over any Allow', () => {
    expect(evaluate([allow('sqs:*', '*'), { Effect: 'Deny', Action: 'sqs:GetQueueUrl', Resource: '*' }], request)).toBe('DENIED');
  });

  it('applies conditions to the request context, a missing key failing all but negated and IfExists operators', () => {
    const esm = { action: 'lambda:CreateEventSourceMapping', resource: '*' };
    const narrowed = allow('lambda:CreateEventSourceMapping', '*', { ArnLike: { 'lambda:FunctionArn': 'arn:aws:lambda:*:*:function:invoice-worker-*' } });
    expect(evaluate([narrowed], { ...esm, context: { 'lambda:FunctionArn': 'arn:aws:lambda:eu-central-1:1:function:invoice-worker-prod:live' } })).toBe('ALLOWED');
    expect(evaluate([narrowed], { ...esm, context: { 'lambda:FunctionArn': 'arn:aws:lambda:eu-central-1:1:function:orders-api-prod' } })).toBe('NOT_ALLOWED');
    expect(evaluate([narrowed], esm)).toBe('NOT_ALLOWED');
    const ifExists = allow('lambda:CreateEventSourceMapping', '*', { ArnLikeIfExists: { 'lambda:FunctionArn': 'arn:aws:lambda:*:*:function:x' } });
    expect(evaluate([ifExists], esm)).toBe('ALLOWED');
    const passedTo = allow('iam:PassRole', '*', { StringEquals: { 'iam:PassedToService': 'lambda.amazonaws.com' } });
    expect(evaluate([passedTo], { action: 'iam:PassRole', resource: 'r', context: { 'iam:PassedToService': 'lambda.amazonaws.com' } })).toBe('ALLOWED');
    expect(evaluate([passedTo], { action: 'iam:PassRole', resource: 'r', context: { 'iam:PassedToService': 'ec2.amazonaws.com' } })).toBe('NOT_ALLOWED');
  });

  it('never allows through a condition operator it cannot read, and lets such a Deny deny', () => {
    const odd = { ForAnyValue: { 'aws:TagKeys': 'x' } } as unknown as IamStatement['Condition'];
    expect(evaluate([allow('sqs:GetQueueUrl', '*', odd)], request)).toBe('NOT_ALLOWED');
    expect(evaluate([allow('sqs:GetQueueUrl', '*'), { Effect: 'Deny', Action: '*', Resource: '*', Condition: odd }], request)).toBe('DENIED');
  });

  it('lets a Deny deny when a value only known after deploy could turn out to be what it names', () => {
    const queue = { action: 'sqs:GetQueueUrl', resource: `arn:aws:sqs:eu-central-1:123456789012:${UNKNOWN}` };
    const denyOrders: IamStatement = { Effect: 'Deny', Action: 'sqs:*', Resource: 'arn:aws:sqs:*:*:orders' };
    expect(evaluate([allow('sqs:*', '*'), denyOrders], queue)).toBe('DENIED');
    expect(evaluate([allow('sqs:*', '*'), denyOrders], { ...queue, resource: 'arn:aws:sqs:eu-central-1:123456789012:invoices' })).toBe('ALLOWED');
  });

  it('allows through NotResource only when an unknown value cannot turn out to be excluded', () => {
    const queue = { action: 'sqs:GetQueueUrl', resource: `arn:aws:sqs:eu-central-1:123456789012:${UNKNOWN}` };
    expect(evaluate([{ Effect: 'Allow', Action: 'sqs:*', NotResource: 'arn:aws:sqs:*:*:secret' }], queue)).toBe('NOT_ALLOWED');
    expect(evaluate([{ Effect: 'Allow', Action: 'sqs:*', NotResource: 'arn:aws:sns:*:*:secret' }], queue)).toBe('ALLOWED');
  });

  it('reads negated operators against an unknown value in the caller\'s disfavour', () => {
    const request = { action: 'iam:PassRole', resource: 'r', context: { 'iam:PassedToService': `${UNKNOWN}.amazonaws.com` } };
    const notEc2: IamStatement['Condition'] = { StringNotEquals: { 'iam:PassedToService': 'ec2.amazonaws.com' } };
    expect(evaluate([allow('iam:PassRole', '*', notEc2)], request)).toBe('NOT_ALLOWED');
    expect(evaluate([allow('iam:PassRole', '*'), { Effect: 'Deny', Action: '*', Resource: '*', Condition: notEc2 }], request)).toBe('DENIED');
    expect(evaluate([allow('iam:PassRole', '*'), { Effect: 'Deny', Action: '*', Resource: '*', Condition: { StringEquals: { 'iam:PassedToService': 'ec2.amazon.com' } } }], request)).toBe('ALLOWED');
  });

  it('lets a statement without Action or Resource allow nothing', () => {
    expect(evaluate([{ Effect: 'Allow', Resource: '*' }], request)).toBe('NOT_ALLOWED');
    expect(evaluate([{ Effect: 'Allow', Action: '*' }], request)).toBe('NOT_ALLOWED');
  });

  it('reads NotAction and NotResource', () => {
    expect(evaluate([{ Effect: 'Allow', NotAction: 'iam:*', Resource: '*' }], request)).toBe('ALLOWED');
    expect(evaluate([{ Effect: 'Allow', Action: '*', NotResource: 'arn:aws:sqs:*:*:invoices-*' }], request)).toBe('NOT_ALLOWED');
  });
});

describe('normaliseAction', () => {
  it.each([
    ['S3:GetBucketWebsite', 's3:GetBucketWebsite'],
    ['s3:GetBucketWebsite', 's3:GetBucketWebsite'],
    ['Lambda:TagResource', 'lambda:TagResource'],
    ['*', '*'],
  ])('writes %s as %s: the service prefix in lower case, the action as the registry spells it', (action, expected) => {
    expect(normaliseAction(action)).toBe(expected);
  });
});
