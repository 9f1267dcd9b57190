/**
 * Second adversarial review of the SAM packager (prepareApplication → translateSam → pointInvokersAtLive → packagedYaml),
 * after the 23 fixes pinned in attack.test.ts.
 *
 * Tests named `DEFECT:` FAIL against the packager as shipped: each states the expected behaviour and why it matters,
 * ordered by severity (S1: traffic reaches $LATEST or a version outside the gradual shift; S2: a deploy that fails or a
 * template cfn-lint rejects; S3: a rewrite that silently changes what is not an invocation, or a wrong refusal).
 * Tests named `KEEP:` pass and pin behaviour worth keeping.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { CfnTemplate } from '../../../infra/templates/application-template';
import { packagedYaml, type ReleaseTemplate } from '../../../infra/templates/release-template';
import { SamTranslationError, translateSam } from '../../../infra/templates/sam-translate';
import { cfnLint } from '../../support/cfn-lint';
import { requireSamTranslator } from '../../support/sam';
import { REVIEW_REGION, outcome, sam } from '../../support/packager-cases';

const region = REVIEW_REGION;
type Resource = { Type: string; Properties?: Record<string, unknown>; DependsOn?: unknown; Condition?: unknown };

const resourceOf = (released: ReleaseTemplate, id: string) => released.template.Resources[id] as Resource;
const json = (value: unknown) => JSON.stringify(value);

/** An SQS event source mapping (YAML lines) whose `FunctionName` is `functionName` (a YAML value). */
const mapping = (functionName: string) => `  Q:
    Type: AWS::SQS::Queue
  M:
    Type: AWS::Lambda::EventSourceMapping
    Properties:
      EventSourceArn: !GetAtt Q.Arn
      FunctionName: ${functionName}`;

/** A role (YAML lines) with one inline policy of `statements` (YAML list lines at 14 spaces), and `extra` properties. */
const role = (statements: string, extra = '') => `  Reader:
    Type: AWS::IAM::Role
    Properties:
${extra}      AssumeRolePolicyDocument: {Version: '2012-10-17', Statement: [{Effect: Allow, Principal: {Service: lambda.amazonaws.com}, Action: sts:AssumeRole}]}
      Policies:
        - PolicyName: read
          PolicyDocument:
            Version: '2012-10-17'
            Statement:
${statements}`;

const lintDir = mkdtempSync(join(tmpdir(), 'lrp-attack-2-'));
afterAll(() => rmSync(lintDir, { recursive: true, force: true }));
/** cfn-lint's findings on the packaged YAML (undefined when cfn-lint is not installed outside CI). */
function lint(released: ReleaseTemplate, name: string): string[] | undefined {
  const file = join(lintDir, `${name}.yaml`);
  writeFileSync(file, packagedYaml(released.template));
  return cfnLint([file], ['--regions', region, '--format', 'parseable'])?.output.split('\n').filter(Boolean);
}

describe.runIf(requireSamTranslator('packager attack tests (2)'))('packager attack 2', () => {
  // ───────────────────────── S1: traffic reaches $LATEST or a version outside the gradual shift ─────────────────────────

  it('DEFECT: an EventInvokeConfig destination back to the function (!GetAtt Handler.Arn) is left on $LATEST', () => {
    // SAM's EventInvokeConfig is a "qualified setting": its Qualifier is moved from candidate to live and the resource
    // is then added to the function family, so its DestinationConfig is never rewritten. A failed async event of live
    // is then re-delivered to $LATEST: new code, before any canary. Expected: Destination → !Ref LiveAlias (or refused).
    // Fix: in live-invokers.ts, after moving Qualifier to live, run the invoking rewrite over the other properties
    // (DestinationConfig) instead of adding the resource to `own` untouched.
    const o = outcome(
      sam({
        fn: `      EventInvokeConfig:
        MaximumRetryAttempts: 0
        DestinationConfig:
          OnFailure: {Type: Lambda, Destination: !GetAtt Handler.Arn}`,
      }),
    );
    if (o.error) return; // a refusal naming it would be fine too
    expect(json(resourceOf(o.released!, 'HandlerEventInvokeConfig').Properties?.DestinationConfig)).toBe(json({ OnFailure: { Destination: { Ref: 'LiveAlias' } } }));
  });

  it('DEFECT: a team alias of its own on $LATEST (Name: beta) is accepted, and so is everything invoking it', () => {
    // Every AWS::Lambda::Alias of the function joins the function family untouched, and references to it are not
    // targets: an event source mapping on `beta` (FunctionVersion $LATEST) runs every deploy's code at once, for all
    // traffic. Expected: refused, naming Beta (only candidate and live may exist; invokers must use live).
    // Fix: in prepareApplication refuse an AWS::Lambda::Alias of the released function other than the live one, or in
    // pointInvokersAtLive treat aliases other than live as targets (rewrite/refuse their invokers).
    const o = outcome(
      sam({
        resources: `  Beta:
    Type: AWS::Lambda::Alias
    Properties: {FunctionName: !Ref Handler, FunctionVersion: $LATEST, Name: beta}
${mapping('!Ref Beta')}`,
      }),
    );
    expect(o.error ?? `accepted; M packaged as ${json(resourceOf(o.released!, 'M'))}`).toMatch(/- Beta|- M \(AWS::Lambda::EventSourceMapping\)/);
  });

  it.each([
    ['!Join of the name', `!Join ['-', [hello, !Ref Stage]]`],
    ['!Sub with the stage as a variable', `!Sub ['hello-\${S}', {S: !Ref Stage}]`],
    ['!Sub with the name from a mapping', `!Sub ['\${N}-\${Stage}', {N: !FindInMap [Names, hello, fn]}]`],
    ['!Join of the ARN', `!Join ['', ['arn:aws:lambda:', !Ref AWS::Region, ':', !Ref AWS::AccountId, ':function:hello-', !Ref Stage]]`],
  ])('DEFECT: an invoker naming the function by its deployed name assembled another way (%s) is accepted, invoking $LATEST', (_, value) => {
    // Literal names are only recognised as the exact text `hello-${Stage}` inside one Fn::Sub string. Built any other
    // way, the unqualified name goes through unchanged: the mapping invokes $LATEST, outside the traffic shift.
    // Expected: pointed at live, or refused naming M. Fix: in literal-names.ts, normalise Fn::Join and Fn::Sub variable
    // maps (Ref Stage, literals, FindInMap of literals) into one text before matching; in an invoker type, refuse any
    // FunctionName/target ARN that is neither a reference the packager understands nor a literal it can resolve.
    const o = outcome(sam({ resources: mapping(value), tail: `Mappings:\n  Names: {hello: {fn: hello}}` }));
    expect(o.error ?? json(resourceOf(o.released!, 'M').Properties?.FunctionName), 'M must target live or be refused').toMatch(/LiveAlias|:live|- M \(AWS::Lambda::EventSourceMapping\)/);
  });

  it.each([
    ['the name', 'hello-prod'],
    ['the ARN', 'arn:aws:lambda:eu-central-1:123456789012:function:hello-prod'],
  ])('DEFECT: an invoker naming one stage\'s function literally (%s, no intrinsic) is accepted, invoking $LATEST in that stage', (_, value) => {
    // `hello-prod` is the prod stage's deployed function; unqualified it is $LATEST. Only qualified literals
    // (`hello-…:candidate`) and `!Sub hello-${Stage}` are looked for, so plain strings pass untouched and prod's queue
    // runs every deploy's code at once. Expected: refused, naming M and the fix (!Ref LiveAlias or an Events: entry).
    // Fix: in prepareApplication / literal-names, match `<name>-<stage>` in plain strings too (any stage the
    // configuration knows, or `<name>-[a-z0-9-]+` followed by end, `/` or `:`), and refuse it unless qualified `:live`.
    const o = outcome(sam({ resources: mapping(value) }));
    expect(o.error ?? `accepted; M packaged as ${json(resourceOf(o.released!, 'M'))}`).toMatch(/- M \(AWS::Lambda::EventSourceMapping\)|- M:/);
  });

  it('DEFECT: Outputs export the unqualified function ARN, an explicit $LATEST, and the renamed alias (:prod) untouched', () => {
    // Outputs are other stacks' inputs: an exported !GetAtt Handler.Arn used as another stack's event source or target
    // invokes $LATEST; `${Handler.Arn}:$LATEST` says so outright; and `${Handler.Arn}:prod` (the template's own alias,
    // which the packager renamed candidate) now names an alias that does not exist. Only `!Ref Handler.Alias` and
    // versions are handled. Expected: the ARN and :prod exported as !Ref LiveAlias (as resources get), :$LATEST refused.
    // Fix: run the same invoking rewrite (replaceReferences with toLive, literal names in Invoke mode) over Outputs'
    // values in outputIssues, and refuse $LATEST / candidate / version qualifiers there.
    const o = outcome(
      sam({
        alias: 'prod',
        tail: `Outputs:
  Arn:
    Value: !GetAtt Handler.Arn
    Export: {Name: !Sub '\${AWS::StackName}-arn'}
  Prod:
    Value: !Sub '\${Handler.Arn}:prod'
  Latest:
    Value: !Sub '\${Handler.Arn}:$LATEST'`,
      }),
    );
    expect(o.error ?? `accepted; Outputs packaged as ${json(o.released?.template.Outputs)}`).toMatch(/Outputs\.Latest/);
    const fixed = outcome(
      sam({
        alias: 'prod',
        tail: `Outputs:
  Arn: {Value: !GetAtt Handler.Arn, Export: {Name: !Sub '\${AWS::StackName}-arn'}}
  Prod: {Value: !Sub '\${Handler.Arn}:prod'}`,
      }),
    );
    const outputs = (fixed.released?.template.Outputs ?? {}) as Record<string, { Value?: unknown }>;
    expect(json(outputs.Arn?.Value)).toBe(json({ Ref: 'LiveAlias' }));
    expect(json(outputs.Prod?.Value)).toBe(json({ Ref: 'LiveAlias' }));
  });

  // ───────────────────────── S2: templates that fail to deploy (or that cfn-lint rejects) ─────────────────────────

  it('DEFECT: a name built from the function\'s name (rule, role) gets `:live` inserted, an invalid name CloudFormation rejects', () => {
    // Every `!Ref Handler` inside an invoker type is taken for an invocation: `!Join ['-', [!Ref Handler, nightly]]` as
    // a Schedule event's rule Name, or a role's RoleName, becomes `hello-dev:live-nightly` / `hello-dev:live-reader`.
    // EventBridge rule names and IAM role names allow no `:`: the deploy fails (cfn-lint does not see it). The same with
    // `!Sub '${Handler}-reader'` is refused with a misleading "cannot point at the live alias" message.
    // Expected: names left as written. Fix: only rewrite references in properties that carry an invocation target
    // (FunctionName, Arn, Endpoint, DestinationArn, Resource, uri…), never Name/RoleName/PolicyName/Tags; or append
    // `:live` only when the reference ends the value or is followed by `/`.
    const o = outcome(
      sam({
        fn: `      Events:
        Nightly:
          Type: Schedule
          Properties:
            Schedule: rate(1 day)
            Name: !Join ['-', [!Ref Handler, nightly]]`,
        resources: role(`              - {Effect: Allow, Action: s3:GetObject, Resource: '*'}`, `      RoleName: !Join ['-', [!Ref Handler, reader]]\n`),
      }),
    );
    expect(o.error).toBeUndefined();
    expect(json(resourceOf(o.released!, 'HandlerNightly').Properties?.Name)).toBe(json({ 'Fn::Join': ['-', [{ Ref: 'Handler' }, 'nightly']] }));
    expect(json(resourceOf(o.released!, 'Reader').Properties?.RoleName)).toBe(json({ 'Fn::Join': ['-', [{ Ref: 'Handler' }, 'reader']] }));
    const sub = outcome(sam({ resources: role(`              - {Effect: Allow, Action: s3:GetObject, Resource: '*'}`, `      RoleName: !Sub '\${Handler}-reader'\n`) }));
    expect(sub.error).toBeUndefined();
  });

  it('DEFECT: the literal name inside a Fn::Join ARN becomes the alias ARN inside an ARN (an invalid FunctionName)', () => {
    // `!Sub hello-${Stage}` as one element of a Join building the ARN is replaced by !Ref LiveAlias (a whole ARN), so
    // the mapping's FunctionName is `arn:aws:lambda:r:a:function:arn:aws:lambda:…:live`: the deploy fails.
    // Expected: the element becomes `hello-${Stage}:live` (`!Sub hello-${Stage}:live`), as an embedded `${Handler}` does.
    // Fix: in literal-names.ts, return `{ Ref: live }` for a whole-name text only when the Fn::Sub is not an element
    // of a Fn::Join (or a Sub variable); otherwise append `:live`.
    const o = outcome(sam({ resources: mapping(`!Join [':', ['arn:aws:lambda', !Ref AWS::Region, !Ref AWS::AccountId, 'function', !Sub 'hello-\${Stage}']]`) }));
    expect(o.error).toBeUndefined();
    expect(json(resourceOf(o.released!, 'M').Properties?.FunctionName)).not.toContain('{"Ref":"LiveAlias"}');
  });

  it('DEFECT: a released function with a Condition gets a LiveAlias without it: cfn-lint W1001, and the deploy fails when it is false', () => {
    // SAM puts the function's Condition on its version and candidate alias; the packager's LiveAlias has none, so with
    // the condition false CloudFormation creates an alias of a function that does not exist. The README promises a
    // cfn-lint-clean template (check:function lints it). Expected: LiveAlias carries the function's Condition (or the
    // template is refused, naming Handler). Fix: in pointInvokersAtLive, copy `fn.Condition` onto the added LiveAlias.
    const o = outcome(sam({ fn: '    Condition: IsProd', tail: `Conditions:\n  IsProd: !Equals [!Ref Stage, prod]` }));
    if (o.error) return expect(o.error).toMatch(/Handler/);
    expect(resourceOf(o.released!, 'LiveAlias').Condition).toBe('IsProd');
    const findings = lint(o.released!, 'condition');
    if (findings) expect(findings).toEqual([]);
  });

  // ───────────────────────── S3: non-invocations rewritten, or refused with a fix that does not apply ─────────────────────────

  it('DEFECT: a role that only reads/configures the function (GetFunctionConfiguration, UpdateFunctionConfiguration) is pointed at the alias', () => {
    // IAM roles are invoker types as a whole: every !GetAtt Handler.Arn becomes the live alias ARN, whatever the action.
    // An unqualified GetFunctionConfiguration is authorised against the unqualified ARN and UpdateFunctionConfiguration
    // takes no qualifier at all: both are now denied, silently (an ops role, a monitoring function).
    // Expected: statements without an invoke action (lambda:InvokeFunction, InvokeAsync, lambda:*, *) left as written.
    // Fix: in live-invokers.ts, rewrite a policy statement's Resource only when its Action can invoke.
    const o = outcome(sam({ resources: role(`              - {Effect: Allow, Action: ['lambda:GetFunctionConfiguration', 'lambda:UpdateFunctionConfiguration'], Resource: !GetAtt Handler.Arn}`) }));
    expect(o.error).toBeUndefined();
    expect(json(resourceOf(o.released!, 'Reader').Properties?.Policies)).toContain('"Resource":{"Fn::GetAtt":["Handler","Arn"]}');
  });

  it('DEFECT: a logs policy on the function\'s log group becomes /aws/lambda/<fn>:live (no such group), or is refused with :*', () => {
    // `log-group:/aws/lambda/${Handler}` is the function's log group, not an invocation: it becomes
    // `/aws/lambda/hello-dev:live`, which grants nothing. With the usual `:*` suffix (log streams) it is refused as
    // "reaches every qualifier of ${Handler}", a fix that makes no sense for a log group.
    // Expected: both left as written. Fix: in references/literal-names, do not treat `${Fn}` after `log-group:` (or
    // outside a `function:` ARN / name position) as the function's invocation name.
    const logs = (suffix: string) => role(`              - {Effect: Allow, Action: logs:FilterLogEvents, Resource: !Sub 'arn:\${AWS::Partition}:logs:\${AWS::Region}:\${AWS::AccountId}:log-group:/aws/lambda/\${Handler}${suffix}'}`);
    const plain = outcome(sam({ resources: logs('') }));
    expect(json(plain.released?.template.Resources.Reader)).toContain('log-group:/aws/lambda/${Handler}"');
    const streams = outcome(sam({ resources: logs(':*') }));
    expect(streams.error).toBeUndefined();
  });

  it('DEFECT: an EventBridge rule watching the function (EventPattern on its name) is rewritten to match the alias ARN', () => {
    // A rule on CloudTrail's `requestParameters.functionName` observes the function; the whole Events::Rule is treated
    // as an invoker, so the pattern now matches the live alias ARN, which CloudTrail never reports: the rule is dead.
    // Expected: EventPattern left as written (only Targets invoke). Fix: list AWS::Events::Rule under
    // INVOKING_PROPERTIES with ['Targets'] instead of INVOKER_TYPES.
    const o = outcome(
      sam({
        resources: `  Watch:
    Type: AWS::Events::Rule
    Properties:
      EventPattern: {source: [aws.lambda], detail: {requestParameters: {functionName: [!Ref Handler]}}}
      Targets: [{Arn: !Ref Topic, Id: t}]
  Topic:
    Type: AWS::SNS::Topic`,
      }),
    );
    expect(json(resourceOf(o.released!, 'Watch').Properties?.EventPattern)).toContain('[{"Ref":"Handler"}]');
  });

  it('DEFECT: a metric filter on the function\'s log group is refused as if it invoked the function', () => {
    // AWS::Logs::MetricFilter on `/aws/lambda/${Handler}` only reads logs; every unknown type referencing the function
    // is refused "cannot point at the live alias: reference !Ref LiveAlias", a fix that would name a log group that does
    // not exist. Expected: accepted unchanged. Fix: add AWS::Logs::MetricFilter (and other log/metric readers) to
    // OBSERVER_TYPES, or refuse only references in positions that invoke.
    const o = outcome(
      sam({
        resources: `  Errors:
    Type: AWS::Logs::MetricFilter
    Properties:
      LogGroupName: !Sub '/aws/lambda/\${Handler}'
      FilterPattern: ERROR
      MetricTransformations: [{MetricName: Errors, MetricNamespace: App, MetricValue: '1'}]`,
      }),
    );
    expect(o.error).toBeUndefined();
  });

  it('DEFECT: a Lambda@Edge association is refused with a fix CloudFront rejects (!Ref LiveAlias; edge needs a version)', () => {
    // Refusing is right (an edge function is pinned to a version, outside the gradual shift), but the message tells
    // the team to use an Events: entry or !Ref LiveAlias, and CloudFront accepts neither. Expected: the refusal says
    // Lambda@Edge is not supported by the release pipeline (replicated versions cannot be shifted by an alias).
    // Fix: in prepareApplication, recognise AWS::CloudFront::Distribution LambdaFunctionAssociations and say so.
    const o = outcome(
      sam({
        resources: `  Cdn:
    Type: AWS::CloudFront::Distribution
    Properties:
      DistributionConfig:
        Enabled: true
        DefaultCacheBehavior:
          TargetOriginId: o
          ViewerProtocolPolicy: allow-all
          ForwardedValues: {QueryString: false}
          LambdaFunctionAssociations: [{EventType: viewer-request, LambdaFunctionARN: !Ref Handler.Version}]
        Origins: [{Id: o, DomainName: example.com, CustomOriginConfig: {OriginProtocolPolicy: https-only}}]`,
      }),
    );
    expect(o.error).toMatch(/Cdn/);
    expect(o.error).toMatch(/Lambda@Edge|CloudFront/);
  });

  it('DEFECT: the translator process dying while idle fails the next, unrelated translation', () => {
    // The worker keeps one python process; if it dies between requests (OOM killer, a crash), the next request is
    // written to the dead process and answered "the SAM translator exited", blaming a template that is fine; a packaging
    // run fails on the wrong function. Expected: a request finding the process gone starts a new one.
    // Fix: in sam-translate-worker.mjs, check `python.exitCode === null && !python.killed` (and restart) before writing,
    // and retry the requests that were written to a process that exited before answering them once.
    const template = sam({ code: 's3://b/k.zip' });
    translateSam(template, { region });
    const pids = execFileSync('ps', ['-eo', 'pid=,ppid=,args='], { encoding: 'utf8' })
      .split('\n')
      .map((line) => line.trim().split(/\s+/))
      .filter(([, ppid, ...args]) => ppid === String(process.pid) && args.join(' ').includes('sam-translate.py --serve'))
      .map(([pid]) => Number(pid));
    expect(pids.length).toBe(1);
    process.kill(pids[0]!, 'SIGKILL');
    expect(() => translateSam(template, { region })).not.toThrow();
  });

  // ───────────────────────── KEEP: behaviour worth pinning ─────────────────────────

  it('KEEP: LiveAlias and every non-version logical id are identical across two builds with different code', () => {
    const events = `      Events:
        Queue: {Type: SQS, Properties: {Queue: !GetAtt Q.Arn}}
        Get: {Type: HttpApi}
      FunctionUrlConfig: {AuthType: AWS_IAM}`;
    const build = (code: string) => outcome(sam({ code, fn: events, resources: '  Q:\n    Type: AWS::SQS::Queue' }), { codeUri: code }).released!.template.Resources as Record<string, Resource>;
    const [one, two] = [build('s3://b/one.zip'), build('s3://b/two.zip')];
    const stable = (r: Record<string, Resource>) => Object.keys(r).filter((id) => !/^HandlerVersion/.test(id)).sort();
    expect(stable(one)).toEqual(stable(two));
    expect(json(one.LiveAlias)).toBe(json(two.LiveAlias));
    for (const id of stable(one).filter((id) => !['Handler', 'HandlerAliascandidate'].includes(id))) expect(json(one[id]), id).toBe(json(two[id]));
  });

  it('KEEP: Cognito triggers, AppSync Lambda data sources and API authorizers are pointed at live', () => {
    const o = outcome(
      sam({
        fn: `      Events:
        Pre: {Type: Cognito, Properties: {UserPool: !Ref Pool, Trigger: PreSignUp}}
        Get: {Type: Api, Properties: {RestApiId: !Ref Api, Path: /x, Method: get}}`,
        resources: `  Pool:
    Type: AWS::Cognito::UserPool
  Api:
    Type: AWS::Serverless::Api
    Properties:
      StageName: v1
      Auth: {DefaultAuthorizer: A, Authorizers: {A: {FunctionArn: !GetAtt Handler.Arn}}}
  Gql:
    Type: AWS::AppSync::GraphQLApi
    Properties: {Name: g, AuthenticationType: API_KEY}
  Ds:
    Type: AWS::AppSync::DataSource
    Properties:
      ApiId: !GetAtt Gql.ApiId
      Name: fn
      Type: AWS_LAMBDA
      LambdaConfig: {LambdaFunctionArn: !GetAtt Handler.Arn}`,
      }),
    );
    expect(o.error).toBeUndefined();
    expect(json(resourceOf(o.released!, 'Pool').Properties?.LambdaConfig)).toBe(json({ PreSignUp: { Ref: 'LiveAlias' } }));
    expect(json(resourceOf(o.released!, 'Ds').Properties?.LambdaConfig)).toBe(json({ LambdaFunctionArn: { Ref: 'LiveAlias' } }));
    expect(json(resourceOf(o.released!, 'Api').Properties?.Body)).toContain('"__FunctionArn__":{"Ref":"LiveAlias"}');
    expect(json(resourceOf(o.released!, 'Api').Properties?.Body)).not.toContain('Handler.Arn');
  });

  it.each([
    ['a custom resource (ServiceToken)', `  Seed:\n    Type: Custom::Seed\n    Properties:\n      ServiceToken: !GetAtt Handler.Arn`, 'Seed'],
    ['a nested application (parameter)', `  Child:\n    Type: AWS::Serverless::Application\n    Properties:\n      Location: https://s3.amazonaws.com/b/child.yaml\n      Parameters: {FnArn: !GetAtt Handler.Arn}`, 'Child'],
    ['a Firehose processor', `  Fh:\n    Type: AWS::KinesisFirehose::DeliveryStream\n    Properties:\n      ExtendedS3DestinationConfiguration:\n        BucketARN: arn:aws:s3:::b\n        RoleARN: arn:aws:iam::123456789012:role/r\n        ProcessingConfiguration: {Enabled: true, Processors: [{Type: Lambda, Parameters: [{ParameterName: LambdaArn, ParameterValue: !GetAtt Handler.Arn}]}]}`, 'Fh'],
    ['a function named by the stack (FunctionName)', '', 'Handler'],
  ])('KEEP: %s on the unqualified function is refused, naming it', (_, resources, id) => {
    const o = outcome(sam({ resources, fn: id === 'Handler' ? `      FunctionName: !Sub '\${AWS::StackName}-fn'` : '' }));
    expect(o.error).toMatch(new RegExp(`- ${id}[ :]`));
  });

  it('KEEP: a state machine on !Ref LiveAlias with LambdaInvokePolicy is accepted, invokes live only, and lints clean', () => {
    const o = outcome(
      sam({
        resources: `  Flow:
    Type: AWS::Serverless::StateMachine
    Properties:
      Definition: {StartAt: A, States: {A: {Type: Task, Resource: 'arn:aws:states:::lambda:invoke', Parameters: {FunctionName: '\${F}'}, End: true}}}
      DefinitionSubstitutions: {F: !Ref LiveAlias}
      Policies:
        - LambdaInvokePolicy: {FunctionName: !Ref Handler}`,
      }),
    );
    expect(o.error).toBeUndefined();
    expect(json(resourceOf(o.released!, 'FlowRole').Properties?.Policies)).toContain('"functionName":{"Fn::Sub":"${Handler}:live"}');
    const findings = lint(o.released!, 'state-machine');
    if (findings) expect(findings).toEqual([]);
  });

  it('KEEP: the long-running translator follows region switches (partition) and survives a failing and a crashing template', () => {
    const template = sam({ code: 's3://b/k.zip' });
    const policies = (r: string) => json((translateSam(template, { region: r }).Resources.HandlerRole as Resource).Properties?.ManagedPolicyArns);
    expect(policies('cn-north-1')).toContain('arn:aws-cn:iam::aws:policy');
    expect(policies('us-gov-west-1')).toContain('arn:aws-us-gov:iam::aws:policy');
    expect(policies(region)).toContain('arn:aws:iam::aws:policy');
    expect(() => translateSam({ Transform: 'AWS::Serverless-2016-10-31', Resources: { H: { Type: 'AWS::Serverless::Function', Properties: { Runtime: 5 } } } } as unknown as CfnTemplate, { region })).toThrow(SamTranslationError);
    // Nested past Python's recursion limit: json.loads raises outside the server's try, so the process dies.
    let deep: unknown = 'x';
    for (let i = 0; i < 3000; i++) deep = [deep];
    const crashing = structuredClone(template) as CfnTemplate & { Resources: Record<string, Record<string, unknown>> };
    crashing.Resources.Handler!.Metadata = { deep };
    expect(() => translateSam(crashing, { region })).toThrow(SamTranslationError);
    expect(translateSam(template, { region }).Resources.Handler).toBeDefined();
  });
});
