import { describe, expect, it } from 'vitest';
import { resolveReleaseConfig, type ReleaseConfigInput } from '../../../infra/config';
import { STAR_ONLY_ACTIONS } from '../../../infra/iam/star-only-actions';

const repository = { connectionArn: 'arn:aws:codestar-connections:eu-central-1:123456789012:connection/abc-123', owner: 'o', name: 'r' };
/** Two functions sharing the account: `billing` carries the permission, `orders` is the neighbour a `*` would reach. */
const twoFunctions = (actions: string[], resources = ['*']): ReleaseConfigInput => ({
  repository,
  functions: [{ name: 'orders' }, { name: 'billing', deployPermissions: [{ actions, resources, reason: 'The template needs it.' }] }],
});
const problems = (input: ReleaseConfigInput) => {
  try {
    resolveReleaseConfig(input);
    return '';
  } catch (error) {
    return (error as Error).message;
  }
};

describe('GIVEN a release of two functions, one of which asks for a deploy permission on "*"', () => {
  it.each([
    [['sns:GetSubscriptionAttributes', 'sns:SetSubscriptionAttributes', 'sns:Unsubscribe']],
    [['cloudwatch:DescribeAlarms']],
    [['logs:DescribeLogGroups', 'logs:DescribeResourcePolicies']],
    [['kms:ListAliases']],
  ])('THEN %j, which IAM authorises on nothing narrower and which only read or change what the stack created, are accepted', (actions) => {
    expect(problems(twoFunctions(actions))).toBe('');
  });

  it('THEN every action of the accepted list is accepted together', () => {
    expect(problems(twoFunctions(Object.keys(STAR_ONLY_ACTIONS)))).toBe('');
  });

  it.each([
    ['a write that could name the stack\'s own resource', ['sqs:DeleteQueue'], 'sqs:DeleteQueue'],
    ['a read that could name the stack\'s own resource', ['dynamodb:DescribeTable'], 'dynamodb:DescribeTable'],
    ['a write among accepted reads', ['sns:Unsubscribe', 'sns:Subscribe', 'cloudwatch:DescribeAlarms'], 'sns:Subscribe'],
    ['a call on the other function', ['lambda:UpdateFunctionCode'], 'lambda:UpdateFunctionCode'],
  ])('THEN %s is refused, naming the rule and the actions it does not cover', (_, actions, named) => {
    const message = problems(twoFunctions(actions));
    expect(message).toContain('functions.1.deployPermissions.0.resources.0: "*" reaches another function\'s resources (lambda:function:orders-staging)');
    expect(message).toContain(`"*" alone is accepted only for actions IAM authorises on nothing narrower that read or list, or change only what the stack created (${Object.keys(STAR_ONLY_ACTIONS).join(', ')}), not for ${named}:`);
  });

  it('THEN a pattern other than "*" that reaches the other function is refused whatever its actions', () => {
    const message = problems(twoFunctions(['cloudwatch:DescribeAlarms'], ['arn:aws:lambda:${Region}:${Account}:function:*']));
    expect(message).not.toContain('alone is accepted');
    expect(message).toContain('reaches another function\'s resources (lambda:function:orders-staging): name billing\'s own (use ${Stage}), or narrow it with a condition');
  });

  it('THEN a release of one function may grant anything on "*", as no other function is there to reach', () => {
    expect(problems({ repository, functions: [{ name: 'billing', deployPermissions: [{ actions: ['sqs:DeleteQueue'], resources: ['*'], reason: 'The template needs it.' }] }] })).toBe('');
  });
});
