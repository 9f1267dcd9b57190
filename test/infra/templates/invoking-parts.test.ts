import { describe, expect, it } from 'vitest';
import { inLogGroupName, invokingParts, unknownTargetProblem } from '../../../infra/templates/invoking-parts';
import { referencesIn } from '../../../infra/templates/references';

const statement = (Action: unknown) => ({ Effect: 'Allow', Action, Resource: { 'Fn::GetAtt': ['Fn', 'Arn'] } });

describe('invokingParts', () => {
  it.each([['lambda:InvokeFunction'], ['lambda:invoke*'], ['lambda:*'], ['*'], [['s3:GetObject', 'lambda:InvokeAsync']], ['lambda:InvokeFunctionUrl'], ['lambda:?nvokeFunction'], [{ Ref: 'Action' }]])('keeps a statement allowing %j as invoking', (action) => {
    expect(invokingParts(statement(action))).toEqual(statement(action));
  });

  it.each([['lambda:GetFunctionConfiguration'], [['lambda:UpdateFunctionConfiguration', 'lambda:Get*']], ['logs:*'], ['lambda:List*']])('leaves out a statement allowing only %j', (action) => {
    expect(invokingParts(statement(action))).toBeNull();
  });

  it('takes a NotAction statement for invoking (it may allow invoke)', () => {
    const notAction = { Effect: 'Allow', NotAction: 's3:*', Resource: '*' };
    expect(invokingParts(notAction)).toEqual(notAction);
  });

  it('leaves out names, descriptions and tags, at any depth', () => {
    expect(invokingParts({ RoleName: { Ref: 'Fn' }, Policies: [{ PolicyName: { Ref: 'Fn' }, PolicyDocument: { Statement: [] } }], Tags: [{ Key: 'k', Value: { Ref: 'Fn' } }], Target: { Arn: { Ref: 'Fn' }, Id: 'x' } })).toEqual({
      RoleName: null,
      Policies: [{ PolicyName: null, PolicyDocument: { Statement: [] } }],
      Tags: null,
      Target: { Arn: { Ref: 'Fn' }, Id: null },
    });
  });
});

describe('inLogGroupName', () => {
  it('tells the function named in its log group from the function invoked', () => {
    const [group, arn] = referencesIn([{ 'Fn::Sub': 'arn:aws:logs:r:a:log-group:/aws/lambda/${Fn}:*' }, { 'Fn::Sub': 'arn:aws:lambda:r:a:function:${Fn}' }]);
    expect(inLogGroupName(group!)).toBe(true);
    expect(inLogGroupName(arn!)).toBe(false);
  });
});

describe('unknownTargetProblem', () => {
  it('refuses a mapping whose FunctionName is looked up, and accepts texts, references and conditions', () => {
    const mapping = (FunctionName: unknown) => ({ Type: 'AWS::Lambda::EventSourceMapping', Properties: { FunctionName } });
    expect(unknownTargetProblem(mapping({ 'Fn::Sub': ['${N}-${Stage}', { N: { 'Fn::FindInMap': ['M', 'a', 'b'] } }] }), 'LiveAlias')).toMatch(/built with Fn::FindInMap/);
    expect(unknownTargetProblem(mapping({ 'Fn::Select': [0, ['a']] }), 'LiveAlias')).toMatch(/built with Fn::Select/);
    for (const ok of ['other-fn', { Ref: 'LiveAlias' }, { 'Fn::Join': ['-', ['hello', { Ref: 'Stage' }]] }, { 'Fn::If': ['C', { Ref: 'LiveAlias' }, { Ref: 'AWS::NoValue' }] }]) {
      expect(unknownTargetProblem(mapping(ok), 'LiveAlias')).toBeUndefined();
    }
    expect(unknownTargetProblem({ Type: 'AWS::SQS::Queue', Properties: { FunctionName: { 'Fn::Select': [0, ['a']] } } }, 'LiveAlias')).toBeUndefined();
  });
});
