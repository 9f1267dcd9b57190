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
import { parseCfnYaml } from '../../../infra/templates/cfn-yaml';
import { ApplicationTemplateError } from '../../../infra/templates/prepare-application';
import { packagedYaml, releaseTemplateOf, type ReleaseTemplate } from '../../../infra/templates/release-template';
import { SamTranslationError, translateSam } from '../../../infra/templates/sam-translate';
import { cfnLint } from '../../support/cfn-lint';
import { requireSamTranslator } from '../../support/sam';

const region = 'eu-central-1';
type Resource = { Type: string; Properties?: Record<string, unknown>; DependsOn?: unknown; Condition?: unknown };

/** A SAM template with the released function `Handler` (AutoPublishAlias `alias`), its extra properties, and more resources. */
function sam({ fn = '', resources = '', alias = 'live', tail = '', code = 'hello/' }: { fn?: string; resources?: string; alias?: string; tail?: string; code?: string } = {}): CfnTemplate {
  return parseCfnYaml(`AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::Serverless-2016-10-31
Resources:
  Handler:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: ${code}
      Handler: app.handler
      Runtime: nodejs22.x
      AutoPublishAlias: ${alias}
${fn}
${resources}
${tail}`) as unknown as CfnTemplate;
}

type Outcome = { released: ReleaseTemplate; error?: undefined } | { released?: undefined; error: string };
/** Packages the template as `hello` (offline, nothing uploaded); a refusal is returned as its message. */
function outcome(template: CfnTemplate, options: { codeUri?: string } = {}): Outcome {
  try {
    return { released: releaseTemplateOf(template, { functionName: 'hello', region, ...options }) };
  } catch (error) {
    if (error instanceof ApplicationTemplateError) return { error: error.message };
    throw error;
  }
}
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

  // ───────────────────────── S2: templates that fail to deploy (or that cfn-lint rejects) ─────────────────────────

  // ───────────────────────── S3: non-invocations rewritten, or refused with a fix that does not apply ─────────────────────────

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
