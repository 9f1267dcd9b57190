import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseCfnYaml } from '../../../infra/templates/cfn-yaml';
import { readApplicationTemplate, templateReleaseSettings, type CfnTemplate } from '../../../infra/templates/application-template';
import { ApplicationTemplateError, prepareApplication } from '../../../infra/templates/prepare-application';
import { referencesIn } from '../../../infra/templates/references';
import { packagedYaml, releaseTemplateOf, type ReleaseTemplate } from '../../../infra/templates/release-template';
import { FunctionKind, discoverFunctions } from '../../../scripts/lib/functions';
import { cfnLint } from '../../support/cfn-lint';
import { requireSamTranslator } from '../../support/sam';

const root = join(import.meta.dirname, '..', '..', '..');
const fixtures = join(root, 'test', 'fixtures');
const region = 'eu-central-1';
const read = (path: string) => parseCfnYaml(readFileSync(path, 'utf8')) as unknown as CfnTemplate;
type Resource = { Type: string; Properties?: Record<string, unknown>; DependsOn?: unknown; UpdatePolicy?: unknown };
const resourcesOf = (template: CfnTemplate) => Object.entries(template.Resources as Record<string, Resource>);

/**
 * Who can reach the released function in a packaged template: its versions, its aliases, and for every other resource
 * the function-family resources it references. Written from CloudFormation's semantics, not from the packager's code.
 */
function reach(released: ReleaseTemplate) {
  const resources = resourcesOf(released.template);
  const fnId = released.functionLogicalId;
  const ofFunction = (r: Resource) => referencesIn(r.Properties?.FunctionName).some((ref) => ref.logicalId === fnId);
  const versions = resources.filter(([, r]) => r.Type === 'AWS::Lambda::Version' && ofFunction(r)).map(([id]) => id);
  const aliases = resources.filter(([, r]) => r.Type === 'AWS::Lambda::Alias' && ofFunction(r));
  const aliasNamed = (name: string) => aliases.filter(([, r]) => r.Properties?.Name === name).map(([id]) => id);
  const own = new Set([fnId, ...versions, ...aliases.map(([id]) => id)]);
  const others = resources.filter(([id]) => !own.has(id));
  const referencing = (ids: readonly string[]) => others.filter(([, r]) => referencesIn(r).some((ref) => ids.includes(ref.logicalId)));
  return { fnId, versions, aliases, live: aliasNamed('live'), candidate: aliasNamed('candidate'), others, referencing };
}

/** Asserts what every packaged template must satisfy, and returns the types of the resources that invoke `live`. */
function expectOnlyLiveInvoked(name: string, released: ReleaseTemplate): string[] {
  const r = reach(released);
  expect(released.template.Transform, `${name}: still SAM`).toBeUndefined();
  expect(r.live, `${name}: one live alias`).toHaveLength(1);
  expect(r.candidate, `${name}: one candidate alias`).toHaveLength(1);
  const [live] = r.live;
  const [candidate] = r.candidate;
  const liveAlias = released.template.Resources[live!]!.Properties!;
  expect(liveAlias.FunctionVersion, `${name}: live is constant`).toBe('$LATEST');
  expect(referencesIn(released.template.Resources[candidate!]!.Properties?.FunctionVersion).map((ref) => ref.logicalId), `${name}: every deploy moves candidate to the new version`).toEqual(r.versions);
  expect(r.referencing([candidate!]).map(([id]) => id), `${name}: candidate has no invoker`).toEqual([]);
  expect(r.referencing(r.versions).map(([id]) => id), `${name}: no version has an invoker`).toEqual([]);
  // The function itself is reached only by what observes it, and by settings of the live qualifier.
  const direct = r.referencing([r.fnId]).filter(([, res]) => !['AWS::Logs::LogGroup', 'AWS::CloudWatch::Alarm'].includes(res.Type));
  for (const [id, res] of direct) {
    expect(['AWS::Lambda::EventInvokeConfig', 'AWS::Lambda::Url'], `${name}: ${id} reaches the function directly`).toContain(res.Type);
    expect(res.Properties?.Qualifier, `${name}: ${id} configures another qualifier`).toBe('live');
  }
  expect(JSON.stringify(released.template), `${name}: a literal candidate ARN`).not.toMatch(/:candidate\b/);
  return r.referencing([live!]).map(([, res]) => res.Type);
}

/** One fixture per SAM event type Node functions use, and the resources that must invoke `live` through it. */
const EVENT_FIXTURES: Record<string, readonly string[]> = {
  api: ['AWS::ApiGateway::RestApi', 'AWS::Lambda::Permission'],
  'api-openapi-body': ['AWS::ApiGateway::RestApi', 'AWS::Lambda::Permission'],
  'http-api': ['AWS::ApiGatewayV2::Api', 'AWS::Lambda::Permission'],
  sqs: ['AWS::Lambda::EventSourceMapping'],
  sns: ['AWS::Lambda::Permission', 'AWS::SNS::Subscription'],
  schedule: ['AWS::Events::Rule', 'AWS::Lambda::Permission'],
  'schedule-v2': ['AWS::IAM::Role', 'AWS::Scheduler::Schedule'],
  'eventbridge-rule': ['AWS::Events::Rule', 'AWS::Lambda::Permission'],
  s3: ['AWS::Lambda::Permission', 'AWS::S3::Bucket'],
  dynamodb: ['AWS::Lambda::EventSourceMapping'],
  kinesis: ['AWS::Lambda::EventSourceMapping'],
  // The destinations' settings follow traffic too: their Qualifier is live (checked for every template).
  'url-and-destinations': ['AWS::Events::Rule', 'AWS::Lambda::Permission', 'AWS::Lambda::Url'],
};

describe.runIf(requireSamTranslator('packaged template tests'))('packaged templates: SAM as teams write it, invoked only through live', () => {
  const lintDir = mkdtempSync(join(tmpdir(), 'lrp-packaged-lint-'));
  const lint = (name: string, released: ReleaseTemplate) => writeFileSync(join(lintDir, `${name}.packaged.yaml`), packagedYaml(released.template));

  it('has a fixture for every event type, and nothing untested in the fixture folder', () => {
    expect(readdirSync(join(fixtures, 'sam-events')).map((f) => basename(f, '.yaml')).sort()).toEqual(Object.keys(EVENT_FIXTURES).sort());
  });

  it.each(Object.entries(EVENT_FIXTURES))('%s: every invoker targets live, candidate has none', (fixture, invokers) => {
    const released = releaseTemplateOf(read(join(fixtures, 'sam-events', `${fixture}.yaml`)), { functionName: 'hello', region });
    expect([...new Set(expectOnlyLiveInvoked(fixture, released))].sort()).toEqual(invokers);
    expect(released.template.Resources.Handler!.Properties).toMatchObject({ FunctionName: { 'Fn::Sub': 'hello-${Stage}' }, Handler: 'index.handler', Code: { S3Bucket: { Ref: 'ReleaseCodeBucket' }, S3Key: { Ref: 'ReleaseCodeKey' } } });
    // The uploaded code is the default; only a stage in another region passes another location.
    expect(released.template.Parameters).toMatchObject({ ReleaseCodeBucket: { Type: 'String', Default: 'lrp-code-not-uploaded' }, ReleaseCodeKey: { Type: 'String', Default: 'functions/hello/code.zip' } });
    lint(fixture, released);
  });

  it.each(discoverFunctions(root).filter((fn) => fn.kind === FunctionKind.APPLICATION).map((fn) => fn.name))('the %s function: every invoker targets live, candidate has none', (name) => {
    const released = releaseTemplateOf(readApplicationTemplate(root, name)!, { functionName: name, region });
    expect(expectOnlyLiveInvoked(name, released).length, `${name}: nothing invokes it`).toBeGreaterThan(0);
    lint(name, released);
  });

  it('keeps the whole OpenAPI body, with the integration URI pointed at the live alias', () => {
    const released = releaseTemplateOf(read(join(fixtures, 'sam-events', 'api-openapi-body.yaml')), { functionName: 'hello', region });
    const body = released.template.Resources.Api!.Properties!.Body as { paths: Record<string, { get: { 'x-amazon-apigateway-integration': { uri: unknown } } }> };
    expect(body.paths['/hello']!.get['x-amazon-apigateway-integration'].uri).toEqual({ 'Fn::Sub': 'arn:${AWS::Partition}:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/${LiveAlias}/invocations' });
  });

  it('keeps a hand-wired live alias as it is, and adds the same constant one to a template that has none', () => {
    const handWired = releaseTemplateOf(readApplicationTemplate(root, 'invoice-worker')!, { functionName: 'invoice-worker', region });
    const added = releaseTemplateOf(read(join(fixtures, 'sam-events', 'sqs.yaml')), { functionName: 'hello', region });
    const { FunctionName: _a, ...handWiredLive } = handWired.template.Resources.LiveAlias!.Properties!;
    const { FunctionName: _b, ...addedLive } = added.template.Resources.LiveAlias!.Properties!;
    // Same properties: moving a template from one style to the other never updates (and so never moves) live.
    expect(addedLive).toEqual(handWiredLive);
    expect(added.notes).toContain('LiveAlias: the constant live alias added (the deployment functions move it)');
  });

  it('takes a CodeDeploy DeploymentPreference over: strategy, alarms and hooks reported, nothing of CodeDeploy deployed', () => {
    const source = read(join(fixtures, 'sam-deployment-preference.yaml'));
    const released = releaseTemplateOf(source, { functionName: 'orders', region });
    expect(released.takeover).toEqual({ strategy: 'Linear10PercentEvery1Minute', alarms: [{ Ref: 'AliasErrorMetricGreaterThanZeroAlarm' }, 'orders-latency-slo'], unsupportedHooks: ['PreTraffic (!Ref PreTrafficLambdaFunction)'] });
    expect(released.notes).toEqual(
      expect.arrayContaining([
        'OrdersFunction: DeploymentPreference taken over and removed (CodeDeploy will not shift this alias): strategy Linear10PercentEvery1Minute, 2 alarm(s) watched; hooks are not supported, move their checks to integration cases (functions/<name>/integration/): PreTraffic (!Ref PreTrafficLambdaFunction)',
        'PreTrafficLambdaFunction: hook function removed with the DeploymentPreference',
      ]),
    );
    const types = resourcesOf(released.template).map(([, r]) => r.Type);
    expect(types.filter((t) => t.startsWith('AWS::CodeDeploy::'))).toEqual([]);
    expect(resourcesOf(released.template).filter(([, r]) => r.UpdatePolicy !== undefined).map(([id]) => id)).toEqual([]);
    expect(Object.keys(released.template.Resources)).not.toContain('PreTrafficLambdaFunction');
    expect(JSON.stringify(released.template)).not.toMatch(/DeploymentPreference|AWS::CodeDeploy|codedeploy:|ServerlessDeploymentApplication/);
    expectOnlyLiveInvoked('deployment preference', released);
    // The alarm stays, watching the live alias; the pipeline watches it by name in each stage.
    expect(released.template.Resources.AliasErrorMetricGreaterThanZeroAlarm).toBeDefined();
    expect(templateReleaseSettings(source)).toEqual({ timeoutSeconds: 10, strategy: 'Linear10PercentEvery1Minute', alarms: ['orders-${Stage}-alias-errors', 'orders-latency-slo'], issues: [] });
    lint('deployment-preference', released);
  });

  it('publishes a new version for new code although the function reads its code location from parameters', () => {
    const source = () => read(join(fixtures, 'sam-events', 'sqs.yaml'));
    const versionsOf = (codeUri: string) => Object.entries(releaseTemplateOf(source(), { functionName: 'hello', region, codeUri }).template.Resources).filter(([, r]) => r.Type === 'AWS::Lambda::Version').map(([id]) => id);
    const [before] = versionsOf('s3://artifacts/functions/hello/aaaa');
    expect(versionsOf('s3://artifacts/functions/hello/aaaa')).toEqual([before]);
    expect(versionsOf('s3://artifacts/functions/hello/bbbb')).not.toContain(before);
  });

  it('refuses a template that declares a parameter the packager names the code with', () => {
    const source = read(join(fixtures, 'sam-events', 'sqs.yaml'));
    const template = { ...source, Parameters: { ...source.Parameters, ReleaseCodeKey: { Type: 'String', Default: 'x' } } } as CfnTemplate;
    expect(() => releaseTemplateOf(template, { functionName: 'hello', region })).toThrow(/- Parameters\.ReleaseCodeKey: the parameter name ReleaseCodeKey is the packager's \(it carries the function's code location to each stage\): rename this parameter/);
  });

  it('is clean under cfn-lint, every packaged template', () => {
    const files = readdirSync(lintDir).map((f) => join(lintDir, f));
    expect(files.length).toBe(Object.keys(EVENT_FIXTURES).length + discoverFunctions(root).filter((fn) => fn.kind === FunctionKind.APPLICATION).length + 1);
    const result = cfnLint(files, ['--regions', region, '--format', 'parseable']);
    // SAM's own SQSPollerPolicy lists two batch "actions" IAM does not have (batch calls are authorised by the single
    // ones); they grant nothing and CloudFormation deploys them. Everything else must be clean.
    const samPolicyTemplateNoise = /:W3037:'(changemessagevisibilitybatch|deletemessagebatch)' is not one of/;
    if (result) expect(result.output.split('\n').filter((line) => line && !samPolicyTemplateNoise.test(line))).toEqual([]);
  }, 60_000);
});

describe('templates the packager refuses, naming the resource and the fix', () => {
  const base = () => read(join(fixtures, 'sam-events', 'api-openapi-body.yaml')) as CfnTemplate & { Resources: Record<string, Resource> };
  const refusal = (template: CfnTemplate, functionName = 'hello') => {
    try {
      prepareApplication(template, { functionName, codeUri: 's3://b/k' });
    } catch (error) {
      expect(error).toBeInstanceOf(ApplicationTemplateError);
      return (error as Error).message;
    }
    throw new Error('the template was accepted');
  };
  const integration = (template: ReturnType<typeof base>) => (template.Resources.Api!.Properties!.DefinitionBody as { paths: Record<string, { get: { 'x-amazon-apigateway-integration': { uri: unknown } } }> }).paths['/hello']!.get['x-amazon-apigateway-integration'];

  it('an API whose OpenAPI body invokes the candidate alias', () => {
    const template = base();
    integration(template).uri = { 'Fn::Sub': 'arn:${AWS::Partition}:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/${Handler.Arn}:candidate/invocations' };
    expect(refusal(template)).toMatch(/- Api: invokes the candidate alias of Handler; new code must reach traffic through the live alias: use an Events: entry on the function \(it is pointed at live\), or !Ref LiveAlias/);
    integration(template).uri = { 'Fn::Sub': ['arn:aws:apigateway:eu-central-1:lambda:path/2015-03-31/functions/${Target}/invocations', { Target: { Ref: 'Handler.Alias' } }] };
    expect(refusal(template)).toMatch(/- Api: invokes the candidate alias of Handler/);
  });

  it('an API that invokes a fixed version', () => {
    const template = base();
    integration(template).uri = { 'Fn::Sub': 'arn:aws:apigateway:eu-central-1:lambda:path/2015-03-31/functions/${Handler.Arn}:12/invocations' };
    expect(refusal(template)).toMatch(/- Api: invokes the candidate alias of Handler/);
  });

  it('a FunctionName other than <name>-${Stage}', () => {
    const template = base();
    template.Resources.Handler!.Properties!.FunctionName = 'hello-world';
    expect(refusal(template)).toMatch(/- Handler: FunctionName "hello-world" does not match the pipeline's hello-\$\{Stage\}: set it to !Sub hello-\$\{Stage\}, or leave it out \(the packager sets it\)/);
  });

  it('more than one function publishing an alias', () => {
    const template = base();
    template.Resources.Other = { Type: 'AWS::Serverless::Function', Properties: { CodeUri: 'other/', Handler: 'app.handler', AutoPublishAlias: 'live' } };
    expect(refusal(template)).toMatch(/- Handler, Other: more than one function publishes an alias \(AutoPublishAlias\); one released function per template for now: move the others to folders of their own/);
  });

  it('a second function with local code, which would be uploaded unbuilt', () => {
    const template = base();
    template.Resources.Helper = { Type: 'AWS::Serverless::Function', Properties: { CodeUri: 'helper/', Handler: 'app.handler' } };
    expect(refusal(template)).toMatch(/- Helper: a second function with local code \("helper\/"\): only Handler is built and released from this folder; move Helper to a folder of its own/);
  });

  it('a live alias CloudFormation would move', () => {
    const template = base();
    template.Resources.Live = { Type: 'AWS::Lambda::Alias', Properties: { FunctionName: { Ref: 'Handler' }, Name: 'live', FunctionVersion: { 'Fn::GetAtt': ['HandlerVersion', 'Version'] } } };
    expect(refusal(template)).toMatch(/- Live: the live alias must keep FunctionVersion: \$LATEST \(constant\)/);
  });

  it('a transform other than SAM\'s, which nothing translates before deploy', () => {
    const template = { ...base(), Transform: ['AWS::LanguageExtensions', 'AWS::Serverless-2016-10-31'] };
    expect(refusal(template)).toMatch(/- Transform: AWS::LanguageExtensions: only AWS::Serverless-2016-10-31 is supported/);
  });

  it('provisioned concurrency, which CloudFormation cannot put on live', () => {
    const template = base();
    template.Resources.Handler!.Properties!.ProvisionedConcurrencyConfig = { ProvisionedConcurrentExecutions: 2 };
    expect(refusal(template)).toMatch(/- Handler: ProvisionedConcurrencyConfig is not supported yet: .*put-provisioned-concurrency-config --qualifier live/);
  });

  it.runIf(requireSamTranslator('packaged template refusals'))('anything else that reaches the function after translation, such as a state machine', () => {
    const template = base();
    template.Resources.Flow = { Type: 'AWS::StepFunctions::StateMachine', Properties: { RoleArn: 'arn:aws:iam::123456789012:role/flow', DefinitionString: { 'Fn::Sub': '{"StartAt":"A","States":{"A":{"Type":"Task","Resource":"${Handler.Arn}","End":true}}}' } } };
    expect(() => releaseTemplateOf(template, { functionName: 'hello', region })).toThrow(/- Flow \(AWS::StepFunctions::StateMachine\): references Handler\.Arn, which the release pipeline cannot point at the live alias: reference !Ref LiveAlias instead/);
  });

  it('a DeploymentPreference alarm whose name is not known before deploy', () => {
    const template = read(join(fixtures, 'sam-deployment-preference.yaml')) as CfnTemplate & { Resources: Record<string, Resource> };
    delete template.Resources.AliasErrorMetricGreaterThanZeroAlarm!.Properties!.AlarmName;
    expect(templateReleaseSettings(template).issues).toEqual([{ resource: 'DeploymentPreference.Alarms !Ref AliasErrorMetricGreaterThanZeroAlarm', message: expect.stringMatching(/give AliasErrorMetricGreaterThanZeroAlarm an AlarmName \(e\.g\. !Sub my-function-\$\{Stage\}-errors\)/) }]);
  });
});
