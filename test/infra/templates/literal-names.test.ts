import { describe, expect, it } from 'vitest';
import type { CfnTemplate } from '../../../infra/templates/application-template';
import { parseCfnYaml } from '../../../infra/templates/cfn-yaml';
import { LiteralNameMode, rewriteLiteralNames } from '../../../infra/templates/literal-names';
import { ApplicationTemplateError } from '../../../infra/templates/prepare-application';
import { releaseTemplateOf } from '../../../infra/templates/release-template';
import { requireSamTranslator } from '../../support/sam';

const options = { functionName: 'hello', live: 'LiveAlias' };
const yaml = (text: string) => parseCfnYaml(`v: ${text}`).v;
/** The value as an invoker's property comes out, and the problems found. */
function invoked(text: string) {
  const problems: string[] = [];
  return { value: rewriteLiteralNames(yaml(text), LiteralNameMode.Invoke, options, problems), problems };
}

describe('rewriteLiteralNames: the deployed name written with Fn::Join or Fn::Sub variables', () => {
  it.each([
    ['a Join with no delimiter', `!Join ['', [hello-, !Ref Stage]]`],
    ['a Join with a - delimiter', `!Join ['-', [hello, !Ref Stage]]`],
    ['nested Joins', `!Join ['', [!Join ['', [hel, lo]], '-', !Ref Stage]]`],
    ['a Sub whose variable holds the stage', `!Sub ['hello-\${S}', {S: !Ref Stage}]`],
    ['a Sub whose variable holds the name', `!Sub ['\${N}-\${Stage}', {N: hello}]`],
  ])('points the whole name, %s, at the live alias', (_, text) => {
    expect(invoked(text)).toEqual({ value: { Ref: 'LiveAlias' }, problems: [] });
  });

  it('qualifies the name inside a Join building an ARN with live, as a Fn::Sub', () => {
    expect(invoked(`!Join ['', ['arn:aws:lambda:', !Ref AWS::Region, ':', !Ref AWS::AccountId, ':function:hello-', !Ref Stage]]`).value).toEqual({
      'Fn::Sub': 'arn:aws:lambda:${AWS::Region}:${AWS::AccountId}:function:hello-${Stage}:live',
    });
    // The name as one element of the Join is part of the ARN, never the alias ARN inside an ARN.
    expect(invoked(`!Join [':', ['arn:aws:lambda', !Ref AWS::Region, !Ref AWS::AccountId, function, !Sub 'hello-\${Stage}']]`).value).toEqual({
      'Fn::Sub': 'arn:aws:lambda:${AWS::Region}:${AWS::AccountId}:function:hello-${Stage}:live',
    });
  });

  it('qualifies the whole name with live where it is an element of a Join it cannot read (a condition beside it)', () => {
    expect(invoked(`!Join [':', [!If [C, a, b], !Sub 'hello-\${Stage}']]`).value).toEqual({ 'Fn::Join': [':', [{ 'Fn::If': ['C', 'a', 'b'] }, { 'Fn::Sub': 'hello-${Stage}:live' }]] });
  });

  it.each([
    ['another function', `!Join ['-', [hello2, !Ref Stage]]`],
    ['a name already on live', `!Join ['', [hello-, !Ref Stage, ':live']]`],
    ['a literal ${ in a Join', `!Join ['', ['\${hello-', !Ref Stage, '}']]`],
  ])('leaves %s as written', (_, text) => {
    expect(invoked(text)).toEqual({ value: yaml(text), problems: [] });
  });

  it('refuses one stage\'s function written out, however it is built (a variables map setting Stage included)', () => {
    // `hello-prod` unqualified is prod's $LATEST: an invoker on it reaches new code in that stage before any canary.
    for (const text of ['hello-prod', `!Sub ['hello-\${Stage}', {Stage: prod}]`, 'arn:aws:lambda:eu-west-1:123456789012:function:hello-prod']) {
      expect(invoked(text).problems, text).toEqual([expect.stringContaining('names hello-prod, one stage\'s deployed function')]);
    }
    expect(invoked('arn:aws:lambda:eu-west-1:123456789012:function:hello-prod:live').problems).toEqual([]);
  });

  it('refuses the candidate alias named through a Join', () => {
    expect(invoked(`!Join [':', [!Join ['-', [hello, !Ref Stage]], candidate]]`).problems).toEqual([expect.stringContaining('invokes hello-${Stage}:candidate')]);
  });

  it('reports a Join naming the function where the packager does not know an invoker', () => {
    const problems: string[] = [];
    rewriteLiteralNames(yaml(`{DefinitionSubstitutions: {Fn: !Join ['-', [hello, !Ref Stage]]}}`), LiteralNameMode.Check, options, problems);
    expect(problems).toEqual([expect.stringContaining('names the function by its deployed name hello-${Stage} without a qualifier')]);
  });
});

describe.runIf(requireSamTranslator('literal name tests'))('packaging an invoker that names the function through Fn::Join', () => {
  const template = (functionName: string) =>
    parseCfnYaml(`Transform: AWS::Serverless-2016-10-31
Resources:
  Handler:
    Type: AWS::Serverless::Function
    Properties: {CodeUri: hello/, Handler: app.handler, Runtime: nodejs24.x}
  Mapping:
    Type: AWS::Lambda::EventSourceMapping
    Properties:
      EventSourceArn: !Sub arn:aws:sqs:\${AWS::Region}:\${AWS::AccountId}:q
      FunctionName: ${functionName}
  Machine:
    Type: AWS::StepFunctions::StateMachine
    Properties:
      RoleArn: arn:aws:iam::111111111111:role/r
      DefinitionString: '{}'
      DefinitionSubstitutions: {Fn: !Join ['-', [hello, !Ref Stage]]}`) as unknown as CfnTemplate;

  it('points the mapping at live, and refuses the state machine naming $LATEST, naming it', () => {
    const error = (() => {
      try {
        releaseTemplateOf(template(`!Join ['', [hello-, !Ref Stage]]`), { functionName: 'hello', region: 'eu-central-1' });
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(ApplicationTemplateError);
    expect((error as ApplicationTemplateError).issues).toEqual([{ resource: 'Machine (AWS::StepFunctions::StateMachine)', message: expect.stringContaining('without a qualifier, i.e. $LATEST') }]);
  });

  it('deploys the mapping on the live alias', () => {
    const source = template(`!Join ['-', [hello, !Ref Stage]]`);
    delete (source.Resources as Record<string, unknown>).Machine;
    const released = releaseTemplateOf(source, { functionName: 'hello', region: 'eu-central-1' });
    expect(released.template.Resources.Mapping!.Properties!.FunctionName).toEqual({ Ref: 'LiveAlias' });
  });
});
