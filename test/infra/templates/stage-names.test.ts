import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { applicationTemplateIssues, type CfnTemplate } from '../../../infra/templates/application-template';
import { parseCfnYaml } from '../../../infra/templates/cfn-yaml';
import { ApplicationTemplateError, prepareApplication } from '../../../infra/templates/prepare-application';
import { releaseTemplateOf } from '../../../infra/templates/release-template';
import { ReleaseConfigSchema } from '../../../infra/config';
import { requireSamTranslator } from '../../support/sam';

const fixtures = join(import.meta.dirname, '..', '..', 'fixtures', 'sam-events');
const region = 'eu-central-1';
const scheduleV2 = () => parseCfnYaml(readFileSync(join(fixtures, 'schedule-v2.yaml'), 'utf8')) as unknown as CfnTemplate;

/** A template of one function, `Handler`, and the resources `extra` declares (YAML, indented under Resources). */
const templateWith = (extra: string): CfnTemplate => ({
  Transform: 'AWS::Serverless-2016-10-31',
  Resources: {
    Handler: { Type: 'AWS::Serverless::Function', Properties: { CodeUri: 'hello/', Handler: 'app.handler', Runtime: 'nodejs24.x' } },
    ...(parseCfnYaml(extra) as unknown as CfnTemplate['Resources']),
  },
});

/** The issues preparing `template` raises (none: []). */
function issuesOf(template: CfnTemplate) {
  try {
    prepareApplication(template, { functionName: 'hello', codeUri: 's3://b/k.zip' });
    return [];
  } catch (error) {
    if (!(error instanceof ApplicationTemplateError)) throw error;
    return error.issues;
  }
}

describe('names SAM generates: given the stage', () => {
  it('names a ScheduleV2 schedule <Function><Event>-${Stage} where SAM would name it <Function><Event> in every stage', () => {
    // Act
    const prepared = prepareApplication(scheduleV2(), { functionName: 'hello', codeUri: 's3://b/k.zip' });
    // Assert
    const events = prepared.template.Resources.Handler!.Properties!.Events as Record<string, { Properties: Record<string, unknown> }>;
    expect(events.Hourly!.Properties.Name).toEqual({ 'Fn::Sub': 'HandlerHourly-${Stage}' });
    expect(prepared.notes).toContain("Handler Events.Hourly: schedule Name set to HandlerHourly-${Stage} (SAM's HandlerHourly would be the same in every stage)");
  });

  it('keeps a generated schedule name within 64 characters with the longest stage name, distinct by a hash', () => {
    // Arrange
    const template = scheduleV2();
    const handler = template.Resources.Handler!.Properties as { Events: Record<string, unknown> };
    const long = 'NightlyReconciliationOfEveryInvoiceAndPayment';
    handler.Events = { [long]: structuredClone(handler.Events.Hourly), [`${long}2`]: structuredClone(handler.Events.Hourly) };
    // Act
    const events = prepareApplication(template, { functionName: 'hello', codeUri: 's3://b/k.zip' }).template.Resources.Handler!.Properties!.Events as Record<string, { Properties: { Name: { 'Fn::Sub': string } } }>;
    // Assert
    const names = Object.values(events).map((e) => e.Properties.Name['Fn::Sub'].replace('${Stage}', 'x'.repeat(31)));
    for (const name of names) expect(name.length).toBeLessThanOrEqual(64);
    expect(new Set(names).size).toBe(2);
  });

  it('leaves a ScheduleV2 with OmitName (CloudFormation generates a unique name) or a per-stage Name as it is', () => {
    const template = scheduleV2();
    const hourly = (template.Resources.Handler!.Properties as { Events: { Hourly: { Properties: Record<string, unknown> } } }).Events.Hourly;
    hourly.Properties.OmitName = true;
    const prepared = prepareApplication(template, { functionName: 'hello', codeUri: 's3://b/k.zip' });
    expect(JSON.stringify(prepared.template)).not.toContain('HandlerHourly');
  });

  it.runIf(requireSamTranslator('stage name tests'))('deploys the schedule under its per-stage name', () => {
    const released = releaseTemplateOf(scheduleV2(), { functionName: 'hello', region });
    expect(released.template.Resources.HandlerHourly!.Properties!.Name).toEqual({ 'Fn::Sub': 'HandlerHourly-${Stage}' });
  });
});

describe('names the team wrote: refused when the same in every stage', () => {
  it.each([
    ['a queue', '  Queue:\n    Type: AWS::SQS::Queue\n    Properties:\n      QueueName: invoices', 'Queue (AWS::SQS::Queue)', 'QueueName', '!Sub invoices-${Stage}'],
    ['a table', '  Table:\n    Type: AWS::DynamoDB::Table\n    Properties:\n      TableName: !Sub orders-${AWS::Region}', 'Table (AWS::DynamoDB::Table)', 'TableName', '!Sub orders-${AWS::Region}-${Stage}'],
    ['a topic', '  Topic:\n    Type: AWS::SNS::Topic\n    Properties:\n      TopicName: !Join ["-", [orders, !Ref AWS::Region]]', 'Topic (AWS::SNS::Topic)', 'TopicName', 'a name with ${Stage} in it (!Sub <name>-${Stage})'],
    ['a bucket', '  Bucket:\n    Type: AWS::S3::Bucket\n    Properties:\n      BucketName: my-uploads', 'Bucket (AWS::S3::Bucket)', 'BucketName', '!Sub my-uploads-${Stage}'],
    ['an alarm', '  Alarm:\n    Type: AWS::CloudWatch::Alarm\n    Properties:\n      AlarmName: hello-errors', 'Alarm (AWS::CloudWatch::Alarm)', 'AlarmName', '!Sub hello-errors-${Stage}'],
    ['a log group', '  Logs:\n    Type: AWS::Logs::LogGroup\n    Properties:\n      LogGroupName: /app/hello', 'Logs (AWS::Logs::LogGroup)', 'LogGroupName', '!Sub /app/hello-${Stage}'],
    ['a rule', '  Rule:\n    Type: AWS::Events::Rule\n    Properties:\n      Name: nightly\n      ScheduleExpression: rate(1 day)', 'Rule (AWS::Events::Rule)', 'Name', '!Sub nightly-${Stage}'],
    ['a Sub whose variables set Stage', '  Queue:\n    Type: AWS::SQS::Queue\n    Properties:\n      QueueName: !Sub ["q-${Stage}", {Stage: prod}]', 'Queue (AWS::SQS::Queue)', 'QueueName', 'a name with ${Stage} in it'],
  ])('%s', (_, extra, resource, property, fix) => {
    const issues = issuesOf(templateWith(extra));
    expect(issues).toEqual([{ resource, message: expect.stringContaining(`${property} `) }]);
    expect(issues[0]!.message).toContain('the second stage\'s stack fails ("already exists")');
    expect(issues[0]!.message).toContain(`write ${property}: ${fix}`);
  });

  it('refuses a fixed name on a ScheduleV2, Schedule or EventBridgeRule event', () => {
    const template = scheduleV2();
    const events = (template.Resources.Handler!.Properties as { Events: Record<string, { Type: string; Properties: Record<string, unknown> }> }).Events;
    events.Hourly!.Properties.Name = 'hourly';
    events.Daily = { Type: 'Schedule', Properties: { Schedule: 'rate(1 day)', Name: 'daily' } };
    events.Orders = { Type: 'EventBridgeRule', Properties: { Pattern: { source: ['orders'] }, RuleName: 'orders' } };
    expect(issuesOf(template).map((i) => i.resource)).toEqual(['Handler Events.Hourly (ScheduleV2)', 'Handler Events.Daily (Schedule)', 'Handler Events.Orders (EventBridgeRule)']);
  });

  it.each([
    ['the stage', 'QueueName: !Sub invoices-${Stage}'],
    ['the stage through Join', 'QueueName: !Join ["-", [invoices, !Ref Stage]]'],
    ['the stack', 'QueueName: !Sub ${AWS::StackName}-invoices'],
    ['another resource', 'QueueName: !Sub ${Handler}-dlq'],
    ['a condition', 'QueueName: !If [IsProd, invoices, invoices-test]'],
  ])('accepts a name that varies with %s', (_, line) => {
    expect(issuesOf(templateWith(`  Queue:\n    Type: AWS::SQS::Queue\n    Properties:\n      ${line}`))).toEqual([]);
  });

  it('accepts names that need not be unique (an API\'s Name) and names left out', () => {
    expect(issuesOf(templateWith('  Api:\n    Type: AWS::Serverless::Api\n    Properties:\n      Name: hello\n      StageName: v1\n  Queue:\n    Type: AWS::SQS::Queue'))).toEqual([]);
  });

  it('fails synth, naming the template, the resource, the property and the fix', () => {
    const config = ReleaseConfigSchema.parse({ repository: { connectionArn: 'arn:aws:codeconnections:eu-central-1:111111111111:connection/x', owner: 'o', name: 'r' }, functions: [{ name: 'hello' }] });
    const issues = applicationTemplateIssues(config, () => templateWith('  Queue:\n    Type: AWS::SQS::Queue\n    Properties:\n      QueueName: invoices'));
    expect(issues).toEqual([{ path: ['functions', 0, 'name'], message: expect.stringMatching(/^functions\/hello\/template\.yaml: Queue \(AWS::SQS::Queue\): QueueName "invoices" is the same in every stage.*write QueueName: !Sub invoices-\$\{Stage\}/) }]);
  });
});
