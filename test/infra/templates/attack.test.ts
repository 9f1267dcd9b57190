/**
 * Adversarial review of the SAM packager (prepareApplication → translateSam → pointInvokersAtLive → packagedYaml):
 * templates as careless authors, teams migrating real SAM applications and a retrying CloudFormation would give it.
 *
 * Each test names the behaviour it pins. The review's defects (once titled `DEFECT:`) are all fixed: their tests now
 * state the behaviour that replaced them.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { templateReleaseSettings, type CfnTemplate } from '../../../infra/templates/application-template';
import { parseCfnYaml } from '../../../infra/templates/cfn-yaml';
import { prepareApplication } from '../../../infra/templates/prepare-application';
import { referencesIn } from '../../../infra/templates/references';
import { packagedYaml, type ReleaseTemplate } from '../../../infra/templates/release-template';
import { requireSamTranslator } from '../../support/sam';
import { outcome, sam, type Outcome } from '../../support/packager-cases';

type Resource = { Type: string; Properties?: Record<string, unknown>; DependsOn?: unknown };

const resourceOf = (released: ReleaseTemplate, id: string) => released.template.Resources[id] as Resource;
/** What the test reports when a template was accepted that should not have been. */
const accepted = (o: Outcome, id: string) => `accepted; ${id} packaged as ${JSON.stringify(o.released?.template.Resources[id])}`;

/** The function with a `Get` event on the SAM API `Api`, whose properties (beyond `StageName`) are `definition`. */
const withApi = (definition: string) => ({
  fn: `      Events:
        Get:
          Type: Api
          Properties: {RestApiId: !Ref Api, Path: /x, Method: get}`,
  resources: `  Api:
    Type: AWS::Serverless::Api
    Properties:
      StageName: v1
${definition}`,
});
/** An inline OpenAPI body (as `DefinitionBody` lines) with one `aws_proxy` integration per path, `uri` as written. */
const openApiBody = (uris: Record<string, string>) => `      DefinitionBody:
        openapi: 3.0.1
        info: {title: x, version: '1'}
        paths:
${Object.entries(uris)
  .map(([path, uri]) => `          ${path}:
            get:
              x-amazon-apigateway-integration:
                type: aws_proxy
                httpMethod: POST
                uri: ${uri}`)
  .join('\n')}`;

/** An SNS `Permission` resource (YAML lines) to invoke `functionName` (a YAML value). */
const snsPermission = (functionName: string) => `  Permission:
    Type: AWS::Lambda::Permission
    Properties:
      Action: lambda:InvokeFunction
      Principal: sns.amazonaws.com
      FunctionName: ${functionName}`;

/** The function-family logical ids of a packaged template: the function, its versions, candidate, live. */
function family(released: ReleaseTemplate) {
  const entries = Object.entries(released.template.Resources as Record<string, Resource>);
  const ofFunction = (r: Resource) => referencesIn(r.Properties?.FunctionName).some((ref) => ref.logicalId === released.functionLogicalId);
  const versions = entries.filter(([, r]) => r.Type === 'AWS::Lambda::Version' && ofFunction(r)).map(([id]) => id);
  const aliases = entries.filter(([, r]) => r.Type === 'AWS::Lambda::Alias' && ofFunction(r));
  const live = aliases.find(([, r]) => r.Properties?.Name === 'live')?.[0];
  const candidate = aliases.find(([, r]) => r.Properties?.Name === 'candidate')?.[0];
  return { versions, live: live!, candidate: candidate!, own: new Set([released.functionLogicalId, ...versions, ...aliases.map(([id]) => id)]) };
}

/** Every resource outside the function family that reaches the function, a version or candidate (not live). */
function nonLiveInvokers(released: ReleaseTemplate): string[] {
  const f = family(released);
  const bad = new Set([released.functionLogicalId, ...f.versions, f.candidate]);
  return Object.entries(released.template.Resources as Record<string, Resource>)
    .filter(([id, r]) => !f.own.has(id) && !['AWS::Logs::LogGroup'].includes(r.Type))
    .filter(([, r]) => referencesIn(r).some((ref) => bad.has(ref.logicalId)))
    .map(([id, r]) => `${id} (${r.Type})`);
}

describe.runIf(requireSamTranslator('packager attack tests'))('packager attack: what still reaches new code outside live', () => {
  // ───────────────────────── Severity 1: traffic reaches $LATEST / a bad version, bypassing the gradual shift ──

  it('an event source mapping naming the function by its literal name (!Sub hello-${Stage}) invokes live, or is refused naming it', () => {
    // Given a team that wires its own SQS mapping by the function's deployed name (the name the packager itself sets)
    const template = sam({
      resources: `  Jobs:
    Type: AWS::SQS::Queue
  JobsMapping:
    Type: AWS::Lambda::EventSourceMapping
    Properties:
      EventSourceArn: !GetAtt Jobs.Arn
      FunctionName: !Sub hello-\${Stage}`,
    });
    // When it is packaged
    const o = outcome(template);
    // Then it is refused naming the mapping (or rewritten to the live alias). Today it is accepted untouched: the
    // unqualified name is $LATEST, so every message goes to the newest code the moment CloudFormation deploys it —
    // no canary, no alarms, no rollback.
    if (o.released) expect(referencesIn(resourceOf(o.released, 'JobsMapping').Properties).map((r) => r.logicalId), accepted(o, 'JobsMapping')).toContain('LiveAlias');
    else expect(o.error).toMatch(/- JobsMapping\b.*live/);
  });

  it('an OpenAPI integration URI built from the literal function ARN (no reference) invokes live, or is refused naming the API', () => {
    // Given an API whose OpenAPI body names the function ARN by its deployed name, as teams that set FunctionName do
    const template = sam(withApi(openApiBody({ '/x': '!Sub arn:aws:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/arn:aws:lambda:${AWS::Region}:${AWS::AccountId}:function:hello-${Stage}/invocations' })));
    const o = outcome(template);
    // Then it is refused naming Api (the fix: ${Handler.Arn} or !Ref LiveAlias), or pointed at live. Today the
    // integration invokes the unqualified ARN, i.e. $LATEST: every request hits new code before any traffic shift.
    if (o.released) expect(JSON.stringify(resourceOf(o.released, 'Api').Properties), accepted(o, 'Api')).toMatch(/LiveAlias|:live\//);
    else expect(o.error).toMatch(/- Api\b/);
  });

  it('an OpenAPI body included with Fn::Transform AWS::Include is refused, naming the API and the include', () => {
    // Given the AWS-documented way of using intrinsics in an external OpenAPI file
    const template = sam(withApi('      DefinitionBody:\n        Fn::Transform:\n          Name: AWS::Include\n          Parameters:\n            Location: ./openapi.yaml'));
    const o = outcome(template);
    // Then it is refused naming Api: the included file (expanded by CloudFormation at deploy, after the packager ran)
    // typically says ${Handler.Arn}, i.e. $LATEST, and the packager can neither see nor rewrite it. Inline the body
    // (DefinitionBody) so the packager can point it at live. Today it passes through silently.
    expect(o.error ?? accepted(o, 'Api')).toMatch(/- Api\b.*(Include|DefinitionBody)/s);
  });

  it('an API whose body is an opaque S3 document (DefinitionUri) is refused, naming the API', () => {
    // Given an API defined by an uploaded OpenAPI document the packager never reads
    const template = sam(withApi('      DefinitionUri: s3://team-bucket/openapi.yaml'));
    const o = outcome(template);
    // Then it is refused naming Api (move the document inline as DefinitionBody), because its integration URIs may
    // name the unqualified function ($LATEST). Today: accepted, BodyS3Location passed through.
    expect(o.error ?? accepted(o, 'Api')).toMatch(/- Api\b/);
  });

  it('Outputs never export the candidate alias or a version to other stacks: the alias output exports live, or is refused', () => {
    // Given a migrating template that exports its published alias for other stacks (a shared API, a consumer)
    const template = sam({
      tail: `Outputs:
  HandlerAlias:
    Value: !Ref Handler.Alias
    Export:
      Name: !Sub hello-\${AWS::StackName}-alias
  HandlerVersion:
    Value: !Ref Handler.Version`,
    });
    const o = outcome(template);
    // Then no output hands out the candidate alias or a version (point them at live, or refuse naming the output):
    // whoever imports them invokes new code at every deploy, outside the traffic shift. Today they reference
    // HandlerAliascandidate and the version, and prepareApplication only looks at Resources.
    // (Either output may be the one refused: the version has no live counterpart, the alias has, so a packager may
    // point the alias at live and refuse the version.)
    if (o.error !== undefined) expect(o.error).toMatch(/Outputs\.(HandlerAlias|HandlerVersion)\b/);
    else {
      const f = family(o.released);
      const outputRefs = referencesIn(o.released.template.Outputs).map((r) => r.logicalId);
      expect(outputRefs.filter((id) => id === f.candidate || f.versions.includes(id)), JSON.stringify(o.released.template.Outputs)).toEqual([]);
    }
    // And the published alias alone is handed out as the alias that takes traffic, or refused naming its output.
    const aliasOnly = outcome(sam({ tail: 'Outputs:\n  HandlerAlias:\n    Value: !Ref Handler.Alias' }));
    if (aliasOnly.error !== undefined) return expect(aliasOnly.error).toMatch(/Outputs\.HandlerAlias\b/);
    const f = family(aliasOnly.released);
    expect(referencesIn(aliasOnly.released.template.Outputs).map((r) => r.logicalId)).toEqual([f.live]);
  });

  it('a CloudWatch alarm whose action invokes the function invokes live, or is refused naming the alarm', () => {
    // Given an alarm with a Lambda alarm action (supported by CloudWatch since 2023) on the released function
    const template = sam({
      resources: `  Throttled:
    Type: AWS::CloudWatch::Alarm
    Properties:
      ComparisonOperator: GreaterThanThreshold
      EvaluationPeriods: 1
      MetricName: Throttles
      Namespace: AWS/Lambda
      Period: 60
      Statistic: Sum
      Threshold: 0
      AlarmActions: [!GetAtt Handler.Arn]`,
    });
    const o = outcome(template);
    // Then the action invokes live (or the template is refused naming Throttled). Today AlarmActions keeps the
    // unqualified ARN: OBSERVER_TYPES exempts the whole alarm, not only its Dimensions.
    if (o.released) expect(nonLiveInvokers(o.released)).toEqual([]);
    else expect(o.error).toMatch(/- Throttled\b/);
  });

  it('a config-only change (Timeout, Layers) publishes a new version, so it reaches live traffic through a release', () => {
    // Given the same code deployed twice, the second time with a new timeout and a new layer version
    const before = outcome(sam({ fn: '      Timeout: 3\n      Layers: [arn:aws:lambda:eu-central-1:123456789012:layer:deps:1]' }));
    const after = outcome(sam({ fn: '      Timeout: 30\n      Layers: [arn:aws:lambda:eu-central-1:123456789012:layer:deps:2]' }));
    // Then candidate moves to a new version (the promise: candidate is moved by every deploy). SAM's default version
    // hash covers code, Environment and MemorySize only, so the version's logical id is unchanged: no version is
    // published, candidate and live stay on the old configuration, and the change silently waits for the next code
    // change (then ships bundled with it). Fix: set AutoPublishAliasAllProperties: true in prepareApplication.
    expect(family(after.released!).versions).not.toEqual(family(before.released!).versions);
  });

  it('a DeploymentPreference alarm watching the renamed alias (AutoPublishAlias: prod) no longer watches :prod, or is refused naming it', () => {
    // Given a team that published `prod` and gates its canary on an alarm for `${Handler}:prod`
    const template = sam({
      alias: 'prod',
      fn: `      DeploymentPreference:
        Type: Canary10Percent5Minutes
        Alarms: [!Ref Errors]`,
      resources: `  Errors:
    Type: AWS::CloudWatch::Alarm
    Properties:
      AlarmName: !Sub hello-\${Stage}-errors
      ComparisonOperator: GreaterThanThreshold
      EvaluationPeriods: 1
      MetricName: Errors
      Namespace: AWS/Lambda
      Period: 60
      Statistic: Sum
      Threshold: 0
      Dimensions:
        - {Name: Resource, Value: !Sub '\${Handler}:prod'}
        - {Name: FunctionName, Value: !Ref Handler}`,
    });
    const o = outcome(template);
    // Then the watched alarm measures the alias that takes traffic (live), or the template is refused naming Errors.
    // Today `prod` no longer exists after packaging: the alarm never leaves INSUFFICIENT_DATA, and the pipeline
    // watches it during every canary — a bad version is promoted with its only safety net disconnected.
    if (o.error !== undefined) return expect(o.error).toMatch(/- Errors\b/);
    expect(JSON.stringify(resourceOf(o.released, 'Errors').Properties)).not.toMatch(/:prod\b/);
  });

  // ───────────────────────── Severity 2: the packaged template is wrong and CloudFormation fails or runs it broken ──

  it('an invoker already qualified with the alias (!Sub ${Handler.Arn}:live) is accepted and stays a valid ARN', () => {
    // Given the most common hand-wiring in SAM templates that publish `live`
    const template = sam({
      resources: `  Topic:
    Type: AWS::SNS::Topic
  Subscription:
    Type: AWS::SNS::Subscription
    Properties:
      Protocol: lambda
      TopicArn: !Ref Topic
      Endpoint: !Sub \${Handler.Arn}:live
  Permission:
    Type: AWS::Lambda::Permission
    Properties:
      Action: lambda:InvokeFunction
      Principal: sns.amazonaws.com
      SourceArn: !Ref Topic
      FunctionName: !Join [':', [!GetAtt Handler.Arn, live]]`,
    });
    const o = outcome(template);
    // Then both target the live alias ARN (they already meant live). Today they become `${LiveAlias}:live` and
    // `Join(LiveAlias, live)` = arn:…:function:hello-dev:live:live, which SNS and Lambda reject at deploy.
    // Fix: rewrite `${Fn.Arn}:<alias>` / Join(Fn.Arn, <alias>) as a whole, not the inner reference alone.
    if (o.error !== undefined) return expect.fail(`refused a template that already invokes live: ${o.error}`);
    expect(JSON.stringify(resourceOf(o.released, 'Subscription').Properties)).not.toMatch(/LiveAlias\}:/);
    expect(resourceOf(o.released, 'Permission').Properties!.FunctionName).not.toEqual({ 'Fn::Join': [':', [{ Ref: 'LiveAlias' }, 'live']] });
  });

  it('an invoker pinned to $LATEST (!Sub ${Handler.Arn}:$LATEST) is refused, naming the permission and $LATEST', () => {
    const template = sam({ resources: snsPermission('!Sub ${Handler.Arn}:$LATEST') });
    const o = outcome(template);
    // Then it is refused naming Permission and saying $LATEST bypasses the traffic shift (as candidate and fixed
    // versions are). Today: `${LiveAlias}:$LATEST`, an ARN Lambda rejects, with no explanation.
    expect(o.error ?? accepted(o, 'Permission')).toMatch(/- Permission\b.*\$LATEST/);
  });

  it('an invoker of the old alias name (AutoPublishAlias: prod, !Sub ${Handler.Arn}:prod) invokes live, or is refused naming it', () => {
    const template = sam({
      alias: 'prod',
      resources: snsPermission('!Sub ${Handler.Arn}:prod'),
    });
    const o = outcome(template);
    // Then it targets live (the alias it meant: the one that takes traffic) or is refused naming Permission. Today
    // `${LiveAlias}:prod`, rejected at deploy.
    if (o.error !== undefined) return expect(o.error).toMatch(/- Permission\b/);
    expect(resourceOf(o.released, 'Permission').Properties!.FunctionName).toEqual({ Ref: 'LiveAlias' });
  });

  it('!Ref Handler (a name) inside an ARN built with Fn::Sub variables or Fn::Join stays a name, never an ARN inside an ARN', () => {
    // Given integration URIs built from the function's name, the way the AWS docs build them
    const template = sam(
      withApi(
        openApiBody({
          '/x': "!Sub ['arn:aws:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/arn:aws:lambda:${AWS::Region}:${AWS::AccountId}:function:${Name}/invocations', {Name: !Ref Handler}]",
          '/y': "!Join ['', ['arn:aws:apigateway:', !Ref AWS::Region, ':lambda:path/2015-03-31/functions/arn:aws:lambda:', !Ref AWS::Region, ':', !Ref AWS::AccountId, ':function:', !Ref Handler, '/invocations']]",
        }),
      ),
    );
    const o = outcome(template);
    // Then the name becomes the qualified name `<name>:live` (e.g. Fn::Sub ${Handler}:live), so both URIs end in
    // function:hello-dev:live/invocations. Today `Ref Handler` (a name) is swapped for `Ref LiveAlias` (an ARN):
    // …function:arn:aws:lambda:…:function:hello-dev:live/invocations, which API Gateway rejects.
    if (o.error !== undefined) return expect.fail(`refused: ${o.error}`);
    const body = JSON.stringify(resourceOf(o.released, 'Api').Properties);
    expect(body).not.toMatch(/"Name":\{"Ref":"LiveAlias"\}/);
    expect(body).not.toMatch(/":function:",\{"Ref":"LiveAlias"\}/);
  });

  it('a second function\'s LambdaInvokePolicy on Handler keeps a grant that works (no alias ARN as a function name)', () => {
    // Given a second function (code in S3, so allowed) calling ours through live, with SAM's policy template
    const template = sam({
      resources: `  Caller:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: s3://team-bucket/caller.zip
      Handler: index.handler
      Runtime: nodejs22.x
      Environment:
        Variables:
          TARGET: !Ref LiveAlias
      Policies:
        - LambdaInvokePolicy:
            FunctionName: !Ref Handler`,
    });
    const o = outcome(template);
    // Then the policy's resource is arn:…:function:<hello-stage>… (covering the live alias). Today functionName is
    // replaced with the alias ARN: arn:…:function:arn:aws:lambda:…:live*, so Caller gets AccessDenied at runtime.
    if (o.error !== undefined) return expect.fail(`refused: ${o.error}`);
    expect(JSON.stringify(resourceOf(o.released, 'CallerRole').Properties)).not.toMatch(/"functionName":\{"Ref":"LiveAlias"\}/);
  });

  it('a permission naming the function with !Sub ${Handler} is accepted, rewritten to ${Handler}:live', () => {
    const template = sam({ resources: snsPermission('!Sub ${Handler}') });
    const o = outcome(template);
    // Then it is accepted with FunctionName `${Handler}:live` (the rewrite live-invokers.ts implements for `${Fn}` in
    // strings). Today the rewritten Sub still names Handler, so the leftover check refuses it — telling the author
    // to use !Ref LiveAlias for a reference the packager itself had already fixed. The `byName` path is dead code.
    expect(o.error).toBeUndefined();
    expect(resourceOf(o.released!, 'Permission').Properties!.FunctionName).toEqual({ 'Fn::Sub': '${Handler}:live' });
  });

  it('a log subscription on the function\'s own log group is accepted, its log group name left as written', () => {
    // Given log shipping from the function's log group (its name is the function's name, not an alias)
    const template = sam({
      resources: `  Shipping:
    Type: AWS::Logs::SubscriptionFilter
    Properties:
      LogGroupName: !Sub /aws/lambda/\${Handler}
      FilterPattern: ''
      DestinationArn: arn:aws:firehose:eu-central-1:123456789012:deliverystream/logs
      RoleArn: arn:aws:iam::123456789012:role/cwl-to-firehose`,
    });
    const o = outcome(template);
    // Then it is accepted with its LogGroupName unchanged: the filter observes the function, it does not invoke it.
    // Today the rewrite makes the group /aws/lambda/${Handler}:live (a group that never exists), and the leftover
    // check refuses it advising !Ref LiveAlias — an alias ARN is no log group name. References must be rewritten
    // by property (DestinationArn invokes; LogGroupName does not).
    expect(o.error).toBeUndefined();
    expect(resourceOf(o.released!, 'Shipping').Properties!.LogGroupName).toEqual({ 'Fn::Sub': '/aws/lambda/${Handler}' });
  });

  it('a hand-wired EventInvokeConfig on Qualifier: live is accepted', () => {
    const template = sam({
      resources: `  Async:
    Type: AWS::Lambda::EventInvokeConfig
    Properties:
      FunctionName: !Ref Handler
      Qualifier: live
      MaximumRetryAttempts: 0`,
    });
    const o = outcome(template);
    // Then it is accepted as it is: it already configures live (the same resource SAM's EventInvokeConfig becomes
    // after the rewrite). Today "references Handler … reference !Ref LiveAlias instead" — wrong for FunctionName
    // plus Qualifier. Settings resources with Qualifier: live are the function's own.
    expect(o.error).toBeUndefined();
  });

  it('removing a DeploymentPreference hook function leaves nothing referencing it, or is refused naming what does', () => {
    const template = sam({
      fn: `      DeploymentPreference:
        Type: Canary10Percent5Minutes
        Hooks:
          PreTraffic: !Ref PreTrafficHook`,
      resources: `  PreTrafficHook:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: hooks/
      Handler: pre.handler
      Runtime: nodejs22.x
  PreTrafficHookLogs:
    Type: AWS::Logs::LogGroup
    Properties:
      LogGroupName: !Sub /aws/lambda/\${PreTrafficHook}
      RetentionInDays: 7`,
    });
    const o = outcome(template);
    // Then the packaged template references only resources it has (remove the hook's dependants too, or refuse naming
    // PreTrafficHookLogs). Today CloudFormation rejects the change set: "Unresolved resource dependencies
    // [PreTrafficHook]" — found at deploy, not at packaging or synth.
    if (o.error !== undefined) return expect(o.error).toMatch(/PreTrafficHookLogs/);
    const ids = new Set(Object.keys(o.released.template.Resources));
    const pseudo = (id: string) => id.startsWith('AWS::') || id in (o.released!.template.Parameters ?? {});
    const dangling = Object.entries(o.released.template.Resources).flatMap(([id, r]) => referencesIn(r).filter((ref) => !ids.has(ref.logicalId) && !pseudo(ref.logicalId)).map((ref) => `${id} → ${ref.logicalId}`));
    expect(dangling).toEqual([]);
  });

  it('a team resource whose logical id is LiveAlias is kept or refused naming it, never silently replaced', () => {
    const template = sam({
      resources: `  LiveAlias:
    Type: AWS::Route53::RecordSet
    Properties:
      HostedZoneName: example.com.
      Name: live.example.com.
      Type: CNAME
      TTL: '60'
      ResourceRecords: [origin.example.com]`,
    });
    const o = outcome(template);
    // Then the template is refused naming LiveAlias (the id is the packager's), or the team's record is kept. Today
    // the DNS record vanishes from the stack (CloudFormation deletes it) without a word.
    if (o.error !== undefined) return expect(o.error).toMatch(/- LiveAlias\b/);
    expect(resourceOf(o.released, 'LiveAlias').Type).toBe('AWS::Route53::RecordSet');
  });

  it('a FunctionName whose Fn::Sub variables override Stage (!Sub [hello-${Stage}, {Stage: prod}]) is refused, naming it', () => {
    const template = sam({ fn: "      FunctionName: !Sub ['hello-${Stage}', {Stage: prod}]" });
    // Then it is refused like any other FunctionName than <name>-${Stage}: every stage's stack would name its function
    // hello-prod (the second stage's deploy fails on the name, or worse, dev and prod collide). Today accepted.
    expect(() => prepareApplication(template, { functionName: 'hello', codeUri: 's3://b/k' })).toThrow(/- Handler: FunctionName/);
  });

  it('a layer built by `sam build` (Metadata BuildMethod, local ContentUri) is refused: it would ship unbuilt', () => {
    const template = sam({
      fn: '      Layers: [!Ref Deps]',
      resources: `  Deps:
    Type: AWS::Serverless::LayerVersion
    Properties:
      ContentUri: layers/deps/
      CompatibleRuntimes: [nodejs22.x]
    Metadata:
      BuildMethod: nodejs22.x`,
    });
    // Then prepareApplication refuses naming Deps (the pipeline does not run `sam build`; `sam package` would upload
    // the source folder without node_modules, and the function fails at runtime), as it does for a second function's
    // local code. Today it is accepted; offline, translation then fails with a cryptic "Depsff41f70441 … ContentUri
    // is not a valid S3 Uri".
    expect(() => prepareApplication(template, { functionName: 'hello', codeUri: 's3://b/k' })).toThrow(/- Deps\b/);
  });

  // ───────────────────────── Severity 3: messages and output format ──

  it('AutoPublishAlias in Globals with a second (inline) function: the refusal names Globals', () => {
    const template = parseCfnYaml(`Transform: AWS::Serverless-2016-10-31
Globals:
  Function:
    AutoPublishAlias: live
    Runtime: nodejs22.x
Resources:
  Handler:
    Type: AWS::Serverless::Function
    Properties: {CodeUri: hello/, Handler: app.handler}
  Helper:
    Type: AWS::Serverless::Function
    Properties: {InlineCode: 'exports.handler = async () => 1', Handler: index.handler}`) as unknown as CfnTemplate;
    // Then the message says both publish an alias (through Globals.Function.AutoPublishAlias) and how to fix it.
    // Today: "2 functions and none with AutoPublishAlias", which contradicts the template the author is looking at.
    expect(() => prepareApplication(template, { functionName: 'hello', codeUri: 's3://b/k' })).toThrow(/Globals/);
  });

  it('a plain CloudFormation template (or an already-packaged one) is refused, naming the Lambda function and the fix', () => {
    const plain = parseCfnYaml(`Resources:
  Fn:
    Type: AWS::Lambda::Function
    Properties: {Handler: index.handler, Runtime: nodejs22.x, Role: arn:aws:iam::123456789012:role/r, Code: {ZipFile: x}}`) as unknown as CfnTemplate;
    // Then the message names Fn (AWS::Lambda::Function) and the fix (declare it as AWS::Serverless::Function with the
    // SAM transform; or: this is a packaged template, package the source). Today: "no AWS::Serverless::Function to
    // release" — a team converting a plain CloudFormation stack learns nothing from it.
    expect(() => prepareApplication(plain, { functionName: 'hello', codeUri: 's3://b/k' })).toThrow(/Fn.*AWS::Lambda::Function/s);
  });

  it('packagedYaml quotes YAML 1.1 merge (<<) and value (=) scalars, so 1.1 readers read the template back unchanged', () => {
    const template = { Resources: { P: { Type: 'AWS::SSM::Parameter', Properties: { Type: 'String', Value: '<<', Description: '=' } } } } as unknown as CfnTemplate;
    // Then a YAML 1.1 reader gets the same strings back. Today PyYAML (cfn-lint's reader) fails with
    // "could not determine a constructor for the tag 'tag:yaml.org,2002:merge'"; SnakeYAML resolves the same tags.
    expect(readWithYaml11(packagedYaml(template))).toEqual(template);
  });
});

/** Reads YAML with PyYAML (YAML 1.1, like cfn-lint; CloudFormation's reader resolves the same 1.1 types). */
function readWithYaml11(text: string): unknown {
  const run = spawnSync('python3', ['-c', 'import sys, yaml, json; print(json.dumps(yaml.safe_load(sys.stdin.read()), default=str))'], { input: text, encoding: 'utf8' });
  if (run.status !== 0) throw new Error(run.stderr.trim().split('\n').at(-1));
  return JSON.parse(run.stdout);
}

describe.runIf(requireSamTranslator('packager attack tests (passing)'))('packager attack: behaviour that holds (passing)', () => {
  const EVENTS: Record<string, { events: string; resources?: string; tail?: string }> = {
    Cognito: { events: 'Type: Cognito\n          Properties: {UserPool: !Ref Pool, Trigger: PreSignUp}', resources: '  Pool:\n    Type: AWS::Cognito::UserPool\n    Properties: {}' },
    AlexaSkill: { events: 'Type: AlexaSkill\n          Properties: {SkillId: amzn1.ask.skill.1}' },
    IoTRule: { events: "Type: IoTRule\n          Properties: {Sql: \"SELECT * FROM 'x'\"}" },
    CloudWatchLogs: { events: "Type: CloudWatchLogs\n          Properties: {LogGroupName: other, FilterPattern: ''}" },
    MSK: { events: 'Type: MSK\n          Properties: {Stream: arn:aws:kafka:eu-central-1:123456789012:cluster/c/1, StartingPosition: LATEST, Topics: [t]}' },
    MQ: { events: 'Type: MQ\n          Properties: {Broker: arn:aws:mq:eu-central-1:123456789012:broker:b:1, Queues: [q], SourceAccessConfigurations: [{Type: BASIC_AUTH, URI: arn:aws:secretsmanager:eu-central-1:123456789012:secret:s}]}' },
    DocumentDB: { events: 'Type: DocumentDB\n          Properties: {Cluster: arn:aws:rds:eu-central-1:123456789012:cluster:c, DatabaseName: d, SourceAccessConfigurations: [{Type: BASIC_AUTH, URI: arn:aws:secretsmanager:eu-central-1:123456789012:secret:s}]}' },
    SelfManagedKafka: { events: "Type: SelfManagedKafka\n          Properties: {KafkaBootstrapServers: ['b:9092'], Topics: [t], SourceAccessConfigurations: [{Type: SASL_SCRAM_512_AUTH, URI: arn:aws:secretsmanager:eu-central-1:123456789012:secret:s}]}" },
    CloudWatchEvent: { events: 'Type: CloudWatchEvent\n          Properties: {Pattern: {source: [x]}}' },
    SnsToSqs: { events: 'Type: SNS\n          Properties: {Topic: !Ref T, SqsSubscription: true}', resources: '  T: {Type: AWS::SNS::Topic}' },
    ApiWithAuth: { events: 'Type: Api\n          Properties: {Path: /x, Method: get, Auth: {ApiKeyRequired: true}}' },
    ScheduleWithDlq: { events: 'Type: Schedule\n          Properties: {Schedule: rate(1 hour), DeadLetterConfig: {Type: SQS}}' },
    HttpApiAuthorizedBySelf: {
      events: 'Type: HttpApi\n          Properties: {Path: /x, Method: get}',
      tail: "Globals:\n  HttpApi:\n    Auth:\n      Authorizers:\n        A: {FunctionArn: !GetAtt Handler.Arn, AuthorizerPayloadFormatVersion: '2.0', EnableSimpleResponses: true}\n      DefaultAuthorizer: A",
    },
  };
  it.each(Object.entries(EVENTS))('a %s event reaches the function only through live', (_, { events, resources, tail }) => {
    const o = outcome(sam({ fn: `      Events:\n        E:\n          ${events}`, resources, tail }));
    expect(o.error).toBeUndefined();
    expect(nonLiveInvokers(o.released!)).toEqual([]);
    const f = family(o.released!);
    expect(Object.entries(o.released!.template.Resources).filter(([id, r]) => !f.own.has(id) && referencesIn(r).some((ref) => ref.logicalId === f.live)).length).toBeGreaterThan(0);
  });

  it('an API integration built with !Join and !GetAtt Handler.Arn targets live', () => {
    const o = outcome(
      sam({
        resources: `  Api:
    Type: AWS::ApiGateway::RestApi
    Properties:
      Body:
        openapi: 3.0.1
        info: {title: x, version: '1'}
        paths:
          /x:
            get:
              x-amazon-apigateway-integration:
                type: aws_proxy
                httpMethod: POST
                uri: !Join ['', ['arn:aws:apigateway:', !Ref AWS::Region, ':lambda:path/2015-03-31/functions/', !GetAtt Handler.Arn, '/invocations']]`,
      }),
    );
    expect(JSON.stringify(resourceOf(o.released!, 'Api').Properties)).toContain('functions/",{"Ref":"LiveAlias"},"/invocations"');
  });

  it('a Serverless::Connector from a state machine grants invoke on live only', () => {
    const o = outcome(
      sam({
        resources: `  Flow:
    Type: AWS::Serverless::StateMachine
    Properties:
      Definition: {StartAt: A, States: {A: {Type: Task, Resource: !Ref LiveAlias, End: true}}}
  Conn:
    Type: AWS::Serverless::Connector
    Properties:
      Source: {Id: Flow}
      Destination: {Id: Handler}
      Permissions: [Write]`,
      }),
    );
    expect(nonLiveInvokers(o.released!)).toEqual([]);
    expect(JSON.stringify(resourceOf(o.released!, 'ConnPolicy').Properties)).toContain('"Resource":[{"Ref":"LiveAlias"}]');
  });

  it('a state machine invoking the function through DefinitionSubstitutions is refused, naming it and the fix', () => {
    const o = outcome(
      sam({
        resources: `  Flow:
    Type: AWS::Serverless::StateMachine
    Properties:
      Definition: {StartAt: A, States: {A: {Type: Task, Resource: 'arn:aws:states:::lambda:invoke', Parameters: {FunctionName: '\${F}'}, End: true}}}
      DefinitionSubstitutions: {F: !GetAtt Handler.Arn}`,
      }),
    );
    expect(o.error).toMatch(/- Flow \(AWS::StepFunctions::StateMachine\): references Handler\.Arn.*!Ref LiveAlias/);
  });

  it('AutoPublishAlias: !Ref Param and a DeploymentPreference only in Globals: candidate published, preference taken over', () => {
    const template = parseCfnYaml(`Transform: AWS::Serverless-2016-10-31
Parameters:
  AliasName: {Type: String, Default: live}
Globals:
  Function:
    DeploymentPreference: {Type: AllAtOnce, Alarms: [!GetAtt Al.Arn]}
Resources:
  Handler:
    Type: AWS::Serverless::Function
    Properties: {CodeUri: hello/, Handler: app.handler, Runtime: nodejs22.x, AutoPublishAlias: !Ref AliasName}
  Al:
    Type: AWS::CloudWatch::Alarm
    Properties: {ComparisonOperator: GreaterThanThreshold, EvaluationPeriods: 1, MetricName: Errors, Namespace: AWS/Lambda, Period: 60, Statistic: Sum, Threshold: 0}`) as unknown as CfnTemplate;
    const o = outcome(template);
    expect(family(o.released!).candidate).toBe('HandlerAliascandidate');
    expect(o.released!.takeover?.strategy).toBe('AllAtOnce');
    expect(JSON.stringify(o.released!.template)).not.toMatch(/CodeDeploy|DeploymentPreference/);
    // The alarm named by ARN cannot be watched by name: reported by the synth check.
    expect(templateReleaseSettings(template).issues.map((i) => i.resource)).toEqual(['DeploymentPreference.Alarms {"Fn::GetAtt":["Al","Arn"]}']);
  });

  it('the live alias never depends on the build: same logical id and properties whatever the code, handler or commit', () => {
    const base = () => sam({ fn: "      Events:\n        Q: {Type: SQS, Properties: {Queue: !GetAtt Q.Arn}}\n      VersionDescription: !Sub 'build ${CommitSha}'", resources: '  Q: {Type: AWS::SQS::Queue}' });
    const one = outcome(base(), { codeUri: 's3://bucket/functions/hello/aaaa.zip' }).released!;
    const two = outcome(base(), { codeUri: 's3://other-bucket/functions/hello/bbbb.zip' }).released!;
    expect(family(one).live).toBe('LiveAlias');
    expect(resourceOf(two, 'LiveAlias')).toEqual(resourceOf(one, 'LiveAlias'));
    expect(resourceOf(one, 'LiveAlias')).toEqual({ Type: 'AWS::Lambda::Alias', Properties: { FunctionName: { Ref: 'Handler' }, Name: 'live', FunctionVersion: '$LATEST', Description: expect.any(String) } });
    // …while every code change publishes a new version and moves candidate.
    expect(family(two).versions).not.toEqual(family(one).versions);
  });

  it('packagedYaml keeps YAML 1.1 look-alikes strings for a YAML 1.1 reader', () => {
    const tricky = ['0123', '08', 'on', 'OFF', 'yes', 'No', 'y', 'n', '1e3', '1_000', '0x1F', '0b101', '12:30', '1:20:00', '2024-01-01', '~', 'null', '.inf', '.NaN', '+1', '123456789012', '6.8523015e+5', '- x', 'a: b', '#c'];
    const template = { Resources: { P: { Type: 'AWS::SSM::Parameter', Properties: Object.fromEntries(tricky.map((v, i) => [`P${i}`, v])) } }, Mappings: { M: Object.fromEntries(tricky.map((v) => [v, { k: v }])) } } as unknown as CfnTemplate;
    expect(readWithYaml11(packagedYaml(template))).toEqual(template);
  });

  it('a large template (80 events) is packaged with every invoker on live, within seconds', () => {
    const events = Array.from({ length: 80 }, (_, i) => `        S${i}:\n          Type: Schedule\n          Properties: {Schedule: 'rate(${i + 1} hours)'}`).join('\n');
    const started = Date.now();
    const o = outcome(sam({ fn: `      Events:\n${events}` }));
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(nonLiveInvokers(o.released!)).toEqual([]);
    expect(Object.values(o.released!.template.Resources).filter((r) => r.Type === 'AWS::Events::Rule')).toHaveLength(80);
  });
});
