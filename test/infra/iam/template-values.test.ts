import { describe, expect, it } from 'vitest';
import { UNKNOWN } from '../../../infra/iam/policy';
import { TemplateValues, type StackContext } from '../../../infra/iam/template-values';
import type { CfnTemplate } from '../../../infra/templates/application-template';

const stack: StackContext = { stackName: 'app', partition: 'aws', region: 'eu-central-1', account: '123456789012', parameters: { Stage: 'prod' } };

/** A template with a Stage parameter, conditions on it and on a value only known after deploy. */
const template = {
  Parameters: { Stage: { Type: 'String' }, Tier: { Type: 'String', Default: 'gold' }, Unset: { Type: 'String' } },
  Mappings: { Sizes: { prod: { Memory: '1024' } } },
  Conditions: {
    IsProd: { 'Fn::Equals': [{ Ref: 'Stage' }, 'prod'] },
    IsStaging: { 'Fn::Equals': [{ Ref: 'Stage' }, 'staging'] },
    NotProd: { 'Fn::Not': [{ Condition: 'IsProd' }] },
    ProdAndGold: { 'Fn::And': [{ Condition: 'IsProd' }, { 'Fn::Equals': [{ Ref: 'Tier' }, 'gold'] }] },
    StagingOrUnset: { 'Fn::Or': [{ Condition: 'IsStaging' }, { 'Fn::Equals': [{ Ref: 'Unset' }, 'x'] }] },
    DependsOnUnset: { 'Fn::Equals': [{ Ref: 'Unset' }, 'x'] },
  },
  Resources: {},
} as unknown as CfnTemplate;

const values = new TemplateValues(template, stack, () => undefined);

describe('TemplateValues: conditions', () => {
  it('evaluates Fn::Equals, Fn::Not, Fn::And, Fn::Or and Condition with the stack\'s parameters and defaults', () => {
    expect(values.condition('IsProd')).toBe(true);
    expect(values.condition('NotProd')).toBe(false);
    expect(values.condition('ProdAndGold')).toBe(true);
  });

  it('answers undefined when a condition depends on a value only known after deploy, unless the rest decides it', () => {
    expect(values.condition('DependsOnUnset')).toBeUndefined();
    expect(values.condition('StagingOrUnset')).toBeUndefined();
    expect(new TemplateValues(template, { ...stack, parameters: { Stage: 'staging' } }, () => undefined).condition('StagingOrUnset')).toBe(true);
  });

  it('refuses a condition the template does not declare', () => {
    expect(() => values.condition('Nope')).toThrow('app: no condition Nope');
  });
});

describe('TemplateValues: Fn::If and AWS::NoValue', () => {
  it('takes the branch the condition picks, the false branch included', () => {
    expect(values.value({ 'Fn::If': ['IsProd', 'big', 'small'] })).toBe('big');
    expect(values.value({ 'Fn::If': ['NotProd', 'big', 'small'] })).toBe('small');
  });

  it('leaves out a property or list item that resolves to AWS::NoValue', () => {
    expect(values.value({ A: { 'Fn::If': ['NotProd', 'x', { Ref: 'AWS::NoValue' }] }, B: ['a', { 'Fn::If': ['IsProd', { Ref: 'AWS::NoValue' }, 'b'] }, 'c'] })).toEqual({ B: ['a', 'c'] });
  });

  it('takes the branch that sets something when the condition cannot be decided before deploy', () => {
    expect(values.value({ P: { 'Fn::If': ['DependsOnUnset', { Ref: 'AWS::NoValue' }, 'set'] } })).toEqual({ P: 'set' });
    expect(values.value({ P: { 'Fn::If': ['DependsOnUnset', 'first', 'second'] } })).toEqual({ P: 'first' });
  });

  it('reads Fn::FindInMap, and a key the mapping lacks as unknown', () => {
    expect(values.value({ 'Fn::FindInMap': ['Sizes', { Ref: 'Stage' }, 'Memory'] })).toBe('1024');
    expect(values.value({ 'Fn::FindInMap': ['Sizes', 'staging', 'Memory'] })).toBe(UNKNOWN);
  });
});
