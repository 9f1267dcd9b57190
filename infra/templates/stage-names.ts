/**
 * Every stage deploys the same packaged template into one account and region, so a physical name that is the same in
 * every stage exists twice, and the second stage's stack fails ("already exists"). Names SAM generates without the
 * team writing them (a `ScheduleV2` event's schedule) are given the stage; names the team wrote as constants are
 * refused, naming the resource, the property and the fix.
 */
import { createHash } from 'node:crypto';
import type { TemplateIssue } from './prepare-application';
import { referencesIn } from './references';

/** The name properties that must be unique in an account and region (buckets: everywhere), by resource type. */
export const UNIQUE_NAME_PROPERTIES: Readonly<Record<string, string>> = {
  'AWS::SQS::Queue': 'QueueName',
  'AWS::SNS::Topic': 'TopicName',
  'AWS::DynamoDB::Table': 'TableName',
  'AWS::Serverless::SimpleTable': 'TableName',
  'AWS::S3::Bucket': 'BucketName',
  'AWS::Kinesis::Stream': 'Name',
  'AWS::CloudWatch::Alarm': 'AlarmName',
  'AWS::CloudWatch::CompositeAlarm': 'AlarmName',
  'AWS::Events::Rule': 'Name',
  'AWS::Scheduler::Schedule': 'Name',
  'AWS::Logs::LogGroup': 'LogGroupName',
  'AWS::StepFunctions::StateMachine': 'StateMachineName',
  'AWS::Serverless::StateMachine': 'Name',
  'AWS::SSM::Parameter': 'Name',
  'AWS::SecretsManager::Secret': 'Name',
  'AWS::IAM::Role': 'RoleName',
  'AWS::Lambda::Function': 'FunctionName',
  'AWS::Serverless::Function': 'FunctionName',
};

/** The same, for what an `Events:` entry of a function makes (by event type). */
const UNIQUE_EVENT_NAME_PROPERTIES: Readonly<Record<string, string>> = { Schedule: 'Name', ScheduleV2: 'Name', EventBridgeRule: 'RuleName' };

/** What may tell stages apart in a name: the stage, and the stack (one per stage). */
const PER_STAGE = new Set(['Stage', 'AWS::StackName', 'AWS::StackId']);
/** EventBridge Scheduler's limit on a schedule's name. */
const SCHEDULE_NAME_MAX = 64;
/** The longest stage name the configuration accepts (`infra/config.ts`), when the template's `Stage` sets no `MaxLength`. */
const STAGE_NAME_MAX = 31;

type Resource = { Type: string; Properties?: Record<string, unknown> };
type Event = { Type?: unknown; Properties?: Record<string, unknown> };

const hasCondition = (value: unknown): boolean =>
  Array.isArray(value) ? value.some(hasCondition) : value !== null && typeof value === 'object' && Object.entries(value).some(([k, v]) => k === 'Fn::If' || hasCondition(v));

/**
 * Whether a name is the same in every stage: it names neither the stage, the stack, nor another resource of the
 * template (whose own name may vary), and picks nothing by a condition. Other parameters are the same in every stage
 * (the pipeline passes only `Stage` and `CommitSha`, and one commit goes through every stage).
 */
function fixedInEveryStage(value: unknown, resources: Record<string, unknown>): boolean {
  if (hasCondition(value)) return false;
  return !referencesIn(value).some((r) => PER_STAGE.has(r.logicalId) || r.logicalId in resources);
}

/** The fix for a fixed name: the same text with the stage after it. */
function withStage(value: unknown): string {
  const text = typeof value === 'string' ? value : typeof (value as { 'Fn::Sub'?: unknown } | null)?.['Fn::Sub'] === 'string' ? (value as { 'Fn::Sub': string })['Fn::Sub'] : undefined;
  return text === undefined ? 'a name with ${Stage} in it (!Sub <name>-${Stage})' : `!Sub ${text}-\${Stage}`;
}

const issueOf = (resource: string, property: string, value: unknown): TemplateIssue => ({
  resource,
  message: `${property} ${JSON.stringify(value)} is the same in every stage, and every stage deploys to one account and region, so the second stage's stack fails ("already exists"): write ${property}: ${withStage(value)}, or leave ${property} out (CloudFormation then generates a unique name)`,
});

/** One issue per name, written by the team, that every stage would share; the released function is checked elsewhere. */
export function fixedNameIssues(resources: Record<string, Resource>, releasedFunction: string): TemplateIssue[] {
  const issues: TemplateIssue[] = [];
  for (const [id, resource] of Object.entries(resources)) {
    const property = UNIQUE_NAME_PROPERTIES[resource.Type];
    const value = property === undefined ? undefined : resource.Properties?.[property];
    if (id !== releasedFunction && value !== undefined && fixedInEveryStage(value, resources)) issues.push(issueOf(`${id} (${resource.Type})`, property!, value));
    if (resource.Type !== 'AWS::Serverless::Function') continue;
    for (const [name, event] of Object.entries((resource.Properties?.Events ?? {}) as Record<string, Event>)) {
      const eventProperty = UNIQUE_EVENT_NAME_PROPERTIES[String(event.Type)];
      const eventValue = eventProperty === undefined ? undefined : event.Properties?.[eventProperty];
      if (eventValue !== undefined && fixedInEveryStage(eventValue, resources)) issues.push(issueOf(`${id} Events.${name} (${String(event.Type)})`, eventProperty!, eventValue));
    }
  }
  return issues;
}

/**
 * Gives each `ScheduleV2` event without a `Name` (SAM would name its schedule `<Function><Event>` in every stage) the
 * name `<Function><Event>-${Stage}` (in place), shortened with a hash to fit Scheduler's 64 characters with the longest
 * stage name. One note per schedule named.
 */
export function nameSchedulesByStage(resources: Record<string, Resource>, stageParameter: { readonly MaxLength?: unknown } | undefined): string[] {
  const notes: string[] = [];
  const declared = Number(stageParameter?.MaxLength ?? STAGE_NAME_MAX);
  const room = SCHEDULE_NAME_MAX - 1 - (Number.isFinite(declared) ? Math.min(declared, STAGE_NAME_MAX) : STAGE_NAME_MAX);
  for (const [id, resource] of Object.entries(resources)) {
    if (resource.Type !== 'AWS::Serverless::Function') continue;
    for (const [name, event] of Object.entries((resource.Properties?.Events ?? {}) as Record<string, Event>)) {
      if (event.Type !== 'ScheduleV2' || event.Properties?.Name !== undefined || event.Properties?.OmitName === true) continue;
      const samName = `${id}${name}`;
      const base = samName.length <= room ? samName : `${samName.slice(0, room - 8)}${createHash('sha1').update(samName).digest('hex').slice(0, 8)}`;
      (event.Properties ??= {}).Name = { 'Fn::Sub': `${base}-\${Stage}` };
      notes.push(`${id} Events.${name}: schedule Name set to ${base}-\${Stage} (SAM's ${samName} would be the same in every stage)`);
    }
  }
  return notes;
}
