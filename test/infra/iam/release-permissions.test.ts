import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { resolveReleaseConfig, type ReleaseConfigInput } from '../../../infra/config';
import { checkActionRoles, packagedTemplate, checkCloudFormationRole, type SynthesizedStack } from '../../../infra/iam/release-check';
import { readApplicationTemplate, type CfnTemplate } from '../../../infra/templates/application-template';
import { requireSamTranslator } from '../../support/sam';
import { sampleConfig, synthRelease, templatesOf } from '../support';

const root = join(import.meta.dirname, '..', '..', '..');
const env = { partition: 'aws', region: 'eu-central-1', account: '123456789012' };
type Json = Record<string, unknown> & { Resources: Record<string, { Type: string; Properties: Json }> };

/** The synthesized release of a configuration, as stacks the check reads. */
function release(input: ReleaseConfigInput) {
  const { tooling, pipelines } = templatesOf(synthRelease(input));
  return {
    config: resolveReleaseConfig(input),
    tooling: { stackName: 'lrp-tooling', template: tooling.toJSON() as CfnTemplate },
    pipeline: (fn: string): SynthesizedStack => ({ stackName: `lrp-pipeline-${fn}`, template: pipelines[`lrp-pipeline-${fn}`]!.toJSON() as CfnTemplate }),
  };
}

// One packaging per function, as `npm run package` writes it (the same for every stage and every configuration here).
const translations = new Map<string, CfnTemplate>();
const translated = (fn: string) => () => {
  if (!translations.has(fn)) translations.set(fn, packagedTemplate(readApplicationTemplate(root, fn)!, fn, env.region));
  return translations.get(fn)!;
};

function cloudFormationFindings(input: ReleaseConfigInput, fnName: string) {
  const r = release(input);
  const fnIndex = r.config.functions.findIndex((f) => f.name === fnName);
  return checkCloudFormationRole({ env, tooling: r.tooling, pipeline: r.pipeline(fnName), fn: r.config.functions[fnIndex]!, fnIndex, stages: r.config.stages.map((s) => s.name), translated: translated(fnName) });
}

/** The sample configuration with one action taken out of one function's deploy permissions. */
function without(fnName: string, action: string): ReleaseConfigInput {
  return {
    ...sampleConfig,
    functions: sampleConfig.functions.map((fn) =>
      fn.name !== fnName ? fn : { ...fn, deployPermissions: (fn.deployPermissions ?? []).map((p) => ({ ...p, actions: p.actions.filter((a) => a !== action) })).filter((p) => p.actions.length > 0) },
    ),
  };
}

describe.runIf(requireSamTranslator('the permission sufficiency check'))('GIVEN the synthesized release and its packaged, SAM-translated templates', () => {
  let sample: ReturnType<typeof release>;
  beforeAll(() => {
    sample = release(sampleConfig);
  }, 60_000);

  describe('WHEN each pipeline\'s CloudFormation role is checked against every stage of its template', () => {
    // That every call is allowed for each function's own template is checked by its build: test/functions/release-readiness.test.ts.
    it('THEN it covers every resource type of every sample and of the SAM translation: the function\'s own, and each one a deploy permission claims', () => {
      const judged = new Set(sample.config.functions.flatMap((fn, fnIndex) => [...checkCloudFormationRole({ env, tooling: sample.tooling, pipeline: sample.pipeline(fn.name), fn, fnIndex, stages: ['prod'], translated: translated(fn.name) }).judgedTypes]));
      const present = new Set(sample.config.functions.flatMap((fn) => Object.values(translated(fn.name)().Resources).map((r) => r.Type)));
      expect([...present].sort()).toEqual([...judged].sort());
      // What the pipeline stack grants for every function by itself, and what the samples' deploy permissions are for.
      const ownTypes = ['AWS::IAM::Role', 'AWS::Lambda::Alias', 'AWS::Lambda::Function', 'AWS::Lambda::Permission', 'AWS::Lambda::Version'];
      const claimed = sample.config.functions.flatMap((fn) => fn.deployPermissions.flatMap((p) => p.resourceTypes));
      expect([...judged].sort()).toEqual([...new Set([...ownTypes, ...claimed])].sort());
    }, 60_000);
  });

  describe('WHEN a permission the handlers need is taken out of a function\'s deploy permissions', () => {
    it.each([
      ['lambda:TagResource', 'QueueEventSource (AWS::Lambda::EventSourceMapping)', 'arn:aws:lambda:${Region}:${Account}:event-source-mapping:*', 'arn:${Partition}:lambda:${Region}:${Account}:event-source-mapping:*'],
      // The queue is named after the stage: one line, naming ${Stage}, serves every stage.
      ['sqs:GetQueueUrl', 'Queue (AWS::SQS::Queue)', 'arn:aws:sqs:${Region}:${Account}:invoices-prod', 'arn:${Partition}:sqs:${Region}:${Account}:invoices-${Stage}'],
    ])('THEN the check names the resource, %s and the configuration line to add', (action, resource, arn, suggested) => {
      const { findings } = cloudFormationFindings(without('invoice-worker', action), 'invoice-worker');
      const messages = findings.map((f) => f.message);
      expect(messages).toContainEqual(expect.stringContaining(`lrp-app-invoice-worker-prod: ${resource} needs ${action} on ${arn}`));
      expect(messages).toContainEqual(expect.stringContaining(`add to functions.1.deployPermissions (invoice-worker) in release.config.ts: { actions: ['${action}'], resources: ['${suggested}']`));
    }, 60_000);
  });

  describe('WHEN a permission the configuration narrows with a condition is taken out', () => {
    it('THEN the line to add carries the condition the finding shows, written for every stage', () => {
      const messages = cloudFormationFindings(without('invoice-worker', 'lambda:CreateEventSourceMapping'), 'invoice-worker').findings.map((f) => f.message);
      const line = "{ actions: ['lambda:CreateEventSourceMapping'], resources: ['*'], conditions: { ArnLike: { 'lambda:FunctionArn': 'arn:${Partition}:lambda:${Region}:${Account}:function:invoice-worker-${Stage}:live' } }, reason: '…' }";
      expect(messages).toContainEqual(expect.stringMatching(/^lrp-app-invoice-worker-prod: QueueEventSource \(AWS::Lambda::EventSourceMapping\) needs lambda:CreateEventSourceMapping on \* with \{"lambda:FunctionArn":"arn:aws:lambda:\$\{Region\}:\$\{Account\}:function:invoice-worker-prod:live"\}/));
      expect(messages).toContainEqual(expect.stringContaining(`add to functions.1.deployPermissions (invoice-worker) in release.config.ts: ${line}`));
    }, 60_000);
  });

  describe('WHEN an API Gateway permission is taken out of the REST API sample\'s deploy permissions', () => {
    const fnIndex = sampleConfig.functions.findIndex((fn) => fn.name === 'catalog-api');
    it.each([
      ['apigateway:POST', 'CatalogApi (AWS::ApiGateway::RestApi)', 'arn:aws:apigateway:${Region}::/restapis'],
      ['apigateway:PATCH', 'CatalogApiv1Stage (AWS::ApiGateway::Stage)', 'arn:aws:apigateway:${Region}::/restapis/*/stages/v1'],
      ['apigateway:PUT', 'CatalogApiDeployment', 'arn:aws:apigateway:${Region}::/restapis/*/deployments/*'],
    ])('THEN without %s the check names %s, the ARN and the configuration line to add', (action, resource, arn) => {
      const messages = cloudFormationFindings(without('catalog-api', action), 'catalog-api').findings.map((f) => f.message);
      const named = messages.filter((m) => m.startsWith(`lrp-app-catalog-api-prod: ${resource}`) && m.includes(` needs ${action} on ${arn} `));
      expect(named, messages.join('\n')).toHaveLength(1);
      expect(named[0]).toContain(`add to functions.${fnIndex}.deployPermissions (catalog-api) in release.config.ts: { actions: ['${action}'], resources: ['${arn.replace('arn:aws:', 'arn:${Partition}:')}']`);
    }, 60_000);
  });

  describe('WHEN a deploy permission claims a resource type', () => {
    const claiming = (resourceTypes: string[]): ReleaseConfigInput => ({
      ...sampleConfig,
      functions: sampleConfig.functions.map((fn) => (fn.name !== 'invoice-worker' ? fn : { ...fn, deployPermissions: (fn.deployPermissions ?? []).map((p, i) => (i === 0 ? { ...p, resourceTypes } : p)) })),
    });

    it('THEN a type the template no longer has is named as a permission nobody needs', () => {
      const { findings } = cloudFormationFindings(claiming(['AWS::SQS::Queue', 'AWS::SNS::Topic']), 'invoice-worker');
      expect(findings.map((f) => f.message)).toEqual(["functions.1.deployPermissions.0.resourceTypes: invoice-worker's template has no AWS::SNS::Topic any more; remove the permission (or the claim)"]);
    }, 60_000);

    it('THEN a type nothing is recorded about is named with how to add it', () => {
      const { findings } = cloudFormationFindings(claiming(['AWS::Kinesis::Stream']), 'invoice-worker');
      expect(findings.map((f) => f.message)).toEqual([expect.stringMatching(/^functions\.1\.deployPermissions\.0\.resourceTypes: the check knows nothing of AWS::Kinesis::Stream's handlers \(add it with npm run refresh:handler-permissions -- --add AWS::Kinesis::Stream/)]);
    }, 60_000);

    it('THEN a type whose handlers are recorded but not modelled asks for the model, not for a refresh that would not help', () => {
      const { findings } = cloudFormationFindings(claiming(['AWS::CodeDeploy::Application']), 'invoice-worker');
      expect(findings.map((f) => f.message)).toEqual([
        "functions.1.deployPermissions.0.resourceTypes: AWS::CodeDeploy::Application's handlers are recorded, but the check cannot place their calls: add a model of where each is aimed in infra/iam/resource-models.ts",
      ]);
    }, 60_000);
  });

  describe('WHEN a packaged template\'s role has no permissions boundary (the packager sets one; here it is edited away)', () => {
    it('THEN the check names the role, the call the boundary condition refuses, and the property to set', () => {
      const unbounded = structuredClone(translated('orders-api')()) as unknown as { Resources: Record<string, { Properties: Record<string, unknown> }> } & CfnTemplate;
      delete unbounded.Resources.FunctionRole!.Properties.PermissionsBoundary;
      const { findings } = checkCloudFormationRole({ env, tooling: sample.tooling, pipeline: sample.pipeline('orders-api'), fn: sample.config.functions[0]!, fnIndex: 0, stages: ['prod'], translated: () => unbounded });
      expect(findings.map((f) => f.message)).toContainEqual(
        expect.stringMatching(/FunctionRole \(AWS::IAM::Role\) needs iam:CreateRole on arn:aws:iam::\$\{Account\}:role\/lrp-app-orders-api-prod-FunctionRole-\*.*must carry the application permissions boundary: set `PermissionsBoundary: !Sub arn:\$\{AWS::Partition\}:iam::\$\{AWS::AccountId\}:policy\/lrp-app-boundary`/),
      );
    }, 60_000);
  });

  describe('WHEN the CloudFormation role the pipeline stack builds lacks a permission the SAM function role needs to be deleted', () => {
    it('THEN the check names it as the pipeline stack\'s to grant', () => {
      const pipeline = sample.pipeline('orders-api');
      const template = structuredClone(pipeline.template) as unknown as Json;
      for (const resource of Object.values(template.Resources)) {
        const document = resource.Properties.PolicyDocument as { Statement: { Action: string | string[] }[] } | undefined;
        if (resource.Type === 'AWS::IAM::Policy' && document) for (const st of document.Statement) if (st.Action !== undefined) st.Action = [st.Action].flat().filter((a) => a !== 'iam:ListAttachedRolePolicies');
      }
      const { findings } = checkCloudFormationRole({ env, tooling: sample.tooling, pipeline: { ...pipeline, template: template as unknown as CfnTemplate }, fn: sample.config.functions[0]!, fnIndex: 0, stages: ['prod'], translated: translated('orders-api') });
      expect(findings.map((f) => f.message)).toContainEqual(
        expect.stringMatching(/FunctionRole \(AWS::IAM::Role\) needs iam:ListAttachedRolePolicies on arn:aws:iam::\$\{Account\}:role\/lrp-app-orders-api-prod-FunctionRole-\* for its read\/delete handlers.*infra\/lib\/deployment-role\.ts/),
      );
    }, 60_000);
  });

  describe('WHEN each action role is checked against what CodePipeline needs', () => {
    it('THEN every action may do what it does: change sets (of plain CloudFormation), encrypted approval notices, invokes, builds, the source', () => {
      for (const fn of sample.config.functions) expect(checkActionRoles({ env, tooling: sample.tooling, pipeline: sample.pipeline(fn.name) }).map((f) => f.message)).toEqual([]);
    });

    it.each([
      ['cloudformation:CreateChangeSet', /:stack\/lrp-app-orders-api-prod\//, /Deploy-prod\/PrepareChanges: role ChangeSetActionRole\w+ needs cloudformation:CreateChangeSet on arn:aws:cloudformation:\$\{Region\}:\$\{Account\}:stack\/lrp-app-orders-api-prod\//],
      ['kms:GenerateDataKey', /TopicKey/, /Approve-prod\/Approve: role \w+ needs kms:GenerateDataKey on arn:aws:kms:\$\{Region\}:\$\{Account\}:key\//],
    ])('THEN without %s it names the action, its role and the resource', (action, resourceMatch, message) => {
      const pipeline = sample.pipeline('orders-api');
      const template = structuredClone(pipeline.template) as unknown as Json;
      for (const resource of Object.values(template.Resources)) {
        const document = resource.Properties.PolicyDocument as { Statement: { Action: string | string[]; Resource: unknown }[] } | undefined;
        if (resource.Type !== 'AWS::IAM::Policy' || !document) continue;
        for (const st of document.Statement) if (st.Action !== undefined && resourceMatch.test(JSON.stringify(st.Resource))) st.Action = [st.Action].flat().filter((a) => a !== action);
      }
      const findings = checkActionRoles({ env, tooling: sample.tooling, pipeline: { ...pipeline, template: template as unknown as CfnTemplate } });
      expect(findings.map((f) => f.message)).toContainEqual(expect.stringMatching(message));
    });

    it('THEN a connection created since the rename (arn:aws:codeconnections:…) is usable: IAM matches the ARN\'s own service prefix', () => {
      const connectionArn = 'arn:aws:codeconnections:eu-central-1:123456789012:connection/abc-123';
      const renamed = release({ ...sampleConfig, functions: sampleConfig.functions.slice(0, 1), repository: { ...sampleConfig.repository, connectionArn } });
      const fn = renamed.config.functions[0]!.name;
      const pipeline = renamed.pipeline(fn);
      expect(checkActionRoles({ env, tooling: renamed.tooling, pipeline }).map((f) => f.message)).toEqual([]);

      const template = structuredClone(pipeline.template) as unknown as Json;
      for (const resource of Object.values(template.Resources)) {
        const document = resource.Properties.PolicyDocument as { Statement: { Action: string | string[] }[] } | undefined;
        if (resource.Type !== 'AWS::IAM::Policy' || !document) continue;
        for (const st of document.Statement) if (st.Action !== undefined) st.Action = [st.Action].flat().filter((a) => a !== 'codeconnections:UseConnection');
      }
      const findings = checkActionRoles({ env, tooling: renamed.tooling, pipeline: { ...pipeline, template: template as unknown as CfnTemplate } });
      expect(findings.map((f) => f.message)).toContainEqual(expect.stringContaining(`Source/Source: role SourceActionRole`));
      expect(findings.map((f) => f.message)).toContainEqual(expect.stringContaining('needs codeconnections:UseConnection on arn:aws:codeconnections:${Region}:${Account}:connection/abc-123'));
    }, 60_000);
  });
});
