import { beforeAll, describe, expect, it } from 'vitest';
import { resolveReleaseConfig, type ReleaseConfigInput } from '../../infra/config';
import { InstallationNames } from '../../infra/lib/installation-names';
import { evaluate, type AccessRequest, type IamStatement } from '../../infra/iam/policy';
import { rolesOf, toolingAttribute, type SynthesizedStack } from '../../infra/iam/release-check';
import { RESOURCE_MODELS } from '../../infra/iam/resource-models';
import { TemplateValues } from '../../infra/iam/template-values';
import type { CfnTemplate } from '../../infra/templates/application-template';
import { BOUNDED_ROLE_ACTIONS, ROLE_PASSED_TO_SERVICES } from '../../infra/lib/deployment-role';
import { sampleConfig, synthRelease, templatesOf } from './support';

const env = { partition: 'aws', region: 'eu-central-1', account: '123456789012' };
const functionArn = (name: string) => `arn:aws:lambda:${env.region}:${env.account}:function:${name}`;
const roleArn = (name: string) => `arn:aws:iam::${env.account}:role/${name}`;

/** Two functions whose names share a prefix, the case where `<function>-*` patterns used to reach each other. */
const neighbours: ReleaseConfigInput = {
  ...sampleConfig,
  functions: [
    { name: 'orders', deployPermissions: [] },
    { name: 'orders2', deployPermissions: [] },
  ],
};

function synthesized(input: ReleaseConfigInput) {
  const { tooling, pipelines } = templatesOf(synthRelease(input));
  const toolingStack: SynthesizedStack = { stackName: 'lrp-tooling', template: tooling.toJSON() as CfnTemplate };
  const pipeline = (fn: string): SynthesizedStack => ({ stackName: `lrp-pipeline-${fn}`, template: pipelines[`lrp-pipeline-${fn}`]!.toJSON() as CfnTemplate });
  return { config: resolveReleaseConfig(input), tooling: toolingStack, pipeline, toolingTemplate: tooling, pipelines };
}

/** Every statement of every policy of every stack, as written (unresolved). */
function allStatements(templates: CfnTemplate[]): IamStatement[] {
  return templates.flatMap((template) =>
    Object.values(template.Resources).flatMap((resource) => {
      const inline = ((resource.Properties?.Policies as { PolicyDocument: { Statement: IamStatement[] } }[] | undefined) ?? []).flatMap((p) => p.PolicyDocument.Statement);
      const document = resource.Properties?.PolicyDocument as { Statement: IamStatement[] } | undefined;
      return resource.Type === 'AWS::IAM::Policy' || resource.Type === 'AWS::IAM::ManagedPolicy' ? [...(document?.Statement ?? []), ...inline] : inline;
    }),
  );
}
const actionsOf = (statement: IamStatement) => [statement.Action ?? []].flat();
/** The CloudFormation role a pipeline deploys one stage with: the one whose statements reach that stage's function. */
const stageRole = (roles: Map<string, IamStatement[]>, fn: string, stage: string) =>
  [...roles].find(([id, statements]) => id.startsWith('CloudFormationRole') && evaluate(statements, { action: 'lambda:UpdateFunctionCode', resource: functionArn(`${fn}-${stage}`) }) === 'ALLOWED')![1];

describe('GIVEN two functions whose names share a prefix (orders, orders2)', () => {
  let release: ReturnType<typeof synthesized>;
  beforeAll(() => {
    release = synthesized(neighbours);
  }, 60_000);

  it('THEN no statement of one function\'s pipeline allows anything on the other\'s functions, roles or stacks, nor on functions outside the release that share its prefix', () => {
    const stages = release.config.stages.map((s) => s.name);
    for (const [own, other] of [['orders', 'orders2'], ['orders2', 'orders']] as const) {
      const roles = rolesOf(release.pipeline(own), release.tooling, env);
      const targets: AccessRequest[] = stages.flatMap((stage): AccessRequest[] => [
        { action: 'lambda:UpdateFunctionCode', resource: functionArn(`${other}-${stage}`) },
        { action: 'lambda:UpdateAlias', resource: `${functionArn(`${other}-${stage}`)}:live` },
        { action: 'iam:PutRolePolicy', resource: roleArn(`lrp-app-${other}-${stage}-FunctionRole-ABC`), context: { 'iam:PermissionsBoundary': `arn:aws:iam::${env.account}:policy/lrp-app-boundary` } },
        ...ROLE_PASSED_TO_SERVICES.map((service) => ({ action: 'iam:PassRole', resource: roleArn(`lrp-app-${other}-${stage}-FunctionRole-ABC`), context: { 'iam:PassedToService': service } })),
        { action: 'cloudformation:ExecuteChangeSet', resource: `arn:aws:cloudformation:${env.region}:${env.account}:stack/lrp-app-${other}-${stage}/abc` },
      ]).concat([
        // `orders-legacy`, a function the release does not manage: a `<function>-*` pattern would reach it.
        { action: 'lambda:UpdateFunctionCode', resource: functionArn(`${own}-legacy`) },
        { action: 'iam:DeleteRole', resource: roleArn(`lrp-app-${own}-legacy-FunctionRole-ABC`) },
      ]);
      for (const [role, statements] of roles) {
        for (const request of targets) expect(evaluate(statements, request), `${own} ${role} ${request.action} ${request.resource}`).not.toBe('ALLOWED');
      }
    }
  });

  it('THEN each stage\'s CloudFormation role reaches its own stage\'s function and roles, and no other stage\'s', () => {
    const roles = rolesOf(release.pipeline('orders'), release.tooling, env);
    const prod = stageRole(roles, 'orders', 'prod');
    expect(evaluate(prod, { action: 'iam:DeleteRole', resource: roleArn('lrp-app-orders-prod-FunctionRole-ABC') })).toBe('ALLOWED');
    // Each stage's role reaches that stage only: staging deploys before the production gates.
    const staging = stageRole(roles, 'orders', 'staging');
    expect(evaluate(staging, { action: 'lambda:UpdateFunctionCode', resource: functionArn('orders-prod') })).toBe('NOT_ALLOWED');
    expect(evaluate(staging, { action: 'iam:DeleteRole', resource: roleArn('lrp-app-orders-prod-FunctionRole-ABC') })).toBe('NOT_ALLOWED');
  });

  it('THEN a configuration where one name followed by "-" begins another is refused, naming both', () => {
    expect(() => resolveReleaseConfig({ ...neighbours, functions: [{ name: 'orders' }, { name: 'orders-api' }] })).toThrow(/functions\.0\.name: "orders-" is a prefix of function "orders-api"/);
  });

  it('THEN a configuration whose pipelines would share CodePipeline\'s 20-character artifact folder is refused, naming both', () => {
    expect(new InstallationNames('lrp').pipelineArtifactFolder('payments-refunds-api')).toBe(new InstallationNames('lrp').pipelineArtifactFolder('payments-refunds-worker'));
    expect(() => resolveReleaseConfig({ ...neighbours, functions: [{ name: 'payments-refunds-api' }, { name: 'payments-refunds-worker' }] })).toThrow(
      /functions\.1\.name: the pipelines of "payments-refunds-api" and "payments-refunds-worker" would share the artifact folder "lrp-payments-refunds\/"/,
    );
  });
});

describe('GIVEN the repository release configuration', () => {
  let release: ReturnType<typeof synthesized>;
  let statements: IamStatement[];
  beforeAll(() => {
    release = synthesized(sampleConfig);
    statements = allStatements([release.tooling.template, ...release.config.functions.map((fn) => release.pipeline(fn.name).template)]);
  }, 60_000);

  it('THEN no action that can create a role or add to its permissions is allowed without the application boundary condition', () => {
    const bounded = statements.filter((st) => st.Effect === 'Allow' && actionsOf(st).some((a) => BOUNDED_ROLE_ACTIONS.includes(a) || a === 'iam:*' || a === '*'));
    expect(bounded.length).toBeGreaterThan(0);
    for (const st of bounded) {
      expect(actionsOf(st).some((a) => a.includes('*')), JSON.stringify(st)).toBe(false);
      expect(st.Condition?.StringEquals?.['iam:PermissionsBoundary'], JSON.stringify(st)).toBe('arn:aws:iam::123456789012:policy/lrp-app-boundary');
    }
  });

  it('THEN every pipeline denies removing or rewriting the boundary', () => {
    for (const fn of release.config.functions) {
      const cfn = stageRole(rolesOf(release.pipeline(fn.name), release.tooling, env), fn.name, 'prod');
      const role = roleArn(`lrp-app-${fn.name}-prod-FunctionRole-ABC`);
      expect(evaluate(cfn, { action: 'iam:DeleteRolePermissionsBoundary', resource: role })).toBe('DENIED');
      expect(evaluate(cfn, { action: 'iam:CreatePolicyVersion', resource: `arn:aws:iam::${env.account}:policy/lrp-app-boundary` })).toBe('DENIED');
      expect(evaluate(cfn, { action: 'iam:CreateRole', resource: role, context: { 'iam:PermissionsBoundary': `arn:aws:iam::${env.account}:policy/lrp-app-boundary` } })).toBe('ALLOWED');
      expect(evaluate(cfn, { action: 'iam:CreateRole', resource: role, context: { 'iam:PermissionsBoundary': `arn:aws:iam::${env.account}:policy/AdministratorAccess` } })).toBe('NOT_ALLOWED');
      expect(evaluate(cfn, { action: 'iam:CreateRole', resource: role })).toBe('NOT_ALLOWED');
    }
  });

  it('THEN no iam:PassRole on a wildcard resource lacks an iam:PassedToService condition', () => {
    const passRoles = statements.filter((st) => st.Effect === 'Allow' && actionsOf(st).includes('iam:PassRole') && JSON.stringify(st.Resource).includes('*'));
    expect(passRoles.length).toBeGreaterThan(0);
    for (const st of passRoles) expect(st.Condition?.StringEquals?.['iam:PassedToService'], JSON.stringify(st)).toEqual(ROLE_PASSED_TO_SERVICES);
  });

  it('THEN no build role reads or writes an object outside its own pipeline\'s artifacts, code and cache', () => {
    const bucketLogicalId = Object.keys(release.toolingTemplate.findResources('AWS::S3::Bucket')).find((id) => id.startsWith('Artifacts'))!;
    const bucket = toolingAttribute(release.tooling, env, bucketLogicalId, 'Arn');
    for (const fn of release.config.functions) {
      const build = [...rolesOf(release.pipeline(fn.name), release.tooling, env)].find(([id]) => id.startsWith('BuildRole'))![1];
      const other = release.config.functions.find((f) => f.name !== fn.name)!.name;
      const own = [`${new InstallationNames('lrp').pipelineArtifactFolder(fn.name)}/BuildOutpu/abc`, `functions/${fn.name}/0123abcd`, `cache/${fn.name}/x`];
      const foreign = [`${new InstallationNames('lrp').pipelineArtifactFolder(other)}/BuildOutpu/abc`, `functions/${other}/0123abcd`, `cache/${other}/x`, 'some-other-prefix/x'];
      for (const key of own) expect(evaluate(build, { action: 's3:PutObject', resource: `${bucket}/${key}` }), `${fn.name} ${key}`).toBe('ALLOWED');
      for (const key of foreign) {
        for (const action of ['s3:PutObject', 's3:DeleteObject', 's3:GetObject']) expect(evaluate(build, { action, resource: `${bucket}/${key}` }), `${fn.name} ${action} ${key}`).toBe('DENIED');
      }
    }
  });

  it('THEN the boundary allows no IAM or STS call, and denies the release pipeline\'s own bucket, ledger and functions', () => {
    const [boundary] = Object.values(release.toolingTemplate.findResources('AWS::IAM::ManagedPolicy', { Properties: { ManagedPolicyName: 'lrp-app-boundary' } }));
    const document = (boundary!.Properties as { PolicyDocument: { Statement: IamStatement[] } }).PolicyDocument;
    expect(document.Statement.filter((st) => st.Effect === 'Allow').flatMap(actionsOf).filter((a) => /^(iam|sts):/.test(a))).toEqual([]);
    const deny = document.Statement.find((st) => st.Effect === 'Deny')!;
    expect(JSON.stringify(deny.Resource)).toContain('Artifacts');
    expect(JSON.stringify(deny.Resource)).toContain('Ledger');
    expect(JSON.stringify(deny.Resource)).toContain(':function:lrp-*');
  });
});

describe('GIVEN the deployment functions\' roles', () => {
  const { tooling } = templatesOf(synthRelease(sampleConfig));
  /** The ledger statements of one deployment function's role, with the partitions each may touch. */
  const ledgerStatements = (fn: string) => {
    const roleId = Object.keys(tooling.findResources('AWS::IAM::Role')).find((id) => id.startsWith(fn.replace(/-/g, '')) || id.startsWith(`${fn}role`))!;
    const policies = Object.values(tooling.findResources('AWS::IAM::Policy')).filter((p) => JSON.stringify((p.Properties as { Roles: unknown }).Roles).includes(roleId));
    return policies.flatMap((p) => (p.Properties as { PolicyDocument: { Statement: IamStatement[] } }).PolicyDocument.Statement).filter((st) => actionsOf(st).some((a) => a.startsWith('dynamodb:')));
  };
  const partitions = (st: IamStatement) => (st.Condition as Record<string, Record<string, string[]>> | undefined)?.['ForAllValues:StringLike']?.['dynamodb:LeadingKeys'];

  it('THEN every ledger call is limited to the partitions the function owns', () => {
    expect(ledgerStatements('deploywindow').map((st) => [actionsOf(st), partitions(st)])).toEqual([[['dynamodb:PutItem'], ['OVERRIDE#*']]]);
    const rollbackWrites = ledgerStatements('rollback').filter((st) => actionsOf(st).includes('dynamodb:PutItem'));
    expect(rollbackWrites.map(partitions)).toEqual([['ALIAS#*', 'INFLIGHT']]);
    for (const fn of ['shifttraffic', 'rollback', 'deploywindow']) {
      const statements = ledgerStatements(fn);
      expect(statements.length, fn).toBeGreaterThan(0);
      for (const st of statements) expect(partitions(st), `${fn} ${JSON.stringify(st.Action)}`).toBeDefined();
    }
    expect(ledgerStatements('shifttraffic').flatMap((st) => partitions(st) ?? [])).not.toContain('OVERRIDE#*');
    expect(ledgerStatements('integrationtest')).toEqual([]);
  });
});

describe('GIVEN a malicious push to the release branch, against the synthesized roles', () => {
  let release: ReturnType<typeof synthesized>;
  beforeAll(() => {
    release = synthesized(sampleConfig);
  }, 60_000);
  const resolved = (type: string, prefix: string) => toolingAttribute(release.tooling, env, Object.keys(release.toolingTemplate.findResources(type)).find((id) => id.startsWith(prefix))!, 'Arn');

  it('THEN a template may let AWS services invoke its function, never an account or everyone', () => {
    const prod = stageRole(rolesOf(release.pipeline('orders-api'), release.tooling, env), 'orders-api', 'prod');
    const addPermission = (principal: string) => evaluate(prod, { action: 'lambda:AddPermission', resource: functionArn('orders-api-prod'), context: { 'lambda:Principal': principal } });
    expect(addPermission('apigateway.amazonaws.com')).toBe('ALLOWED');
    expect(addPermission('210987654321')).toBe('NOT_ALLOWED');
    expect(addPermission('*')).toBe('NOT_ALLOWED');
  });

  it('THEN no CloudFormation role may change who can assume an application role', () => {
    for (const fn of release.config.functions) {
      for (const [id, statements] of rolesOf(release.pipeline(fn.name), release.tooling, env)) {
        if (!id.startsWith('CloudFormationRole')) continue;
        expect(evaluate(statements, { action: 'iam:UpdateAssumeRolePolicy', resource: roleArn(`lrp-app-${fn.name}-prod-FunctionRole-ABC`) }), id).not.toBe('ALLOWED');
      }
    }
  });

  it('THEN every action role trusts only its pipeline\'s role, not the account', () => {
    for (const fn of release.config.functions) {
      const template = release.pipeline(fn.name).template;
      const [pipelineRoleId] = Object.keys(template.Resources).filter((id) => id.startsWith('PipelineRole') && template.Resources[id]!.Type === 'AWS::IAM::Role');
      const actionRoles = Object.entries(template.Resources).filter(([id, r]) => r.Type === 'AWS::IAM::Role' && /ActionRole/.test(id));
      expect(actionRoles.length, fn.name).toBeGreaterThan(4);
      for (const [id, role] of actionRoles) {
        const trust = (role.Properties as { AssumeRolePolicyDocument: { Statement: { Principal: unknown }[] } }).AssumeRolePolicyDocument.Statement;
        expect(trust.map((st) => st.Principal), id).toEqual([{ AWS: { 'Fn::GetAtt': [pipelineRoleId, 'Arn'] } }]);
      }
    }
  });

  it('THEN whatever the deploy permissions grant, the CloudFormation roles cannot touch the release pipeline\'s bucket, keys, ledger, queue or functions', () => {
    const cfn = stageRole(rolesOf(release.pipeline('invoice-worker'), release.tooling, env), 'invoice-worker', 'prod');
    const bucket = resolved('AWS::S3::Bucket', 'Artifacts');
    expect(evaluate(cfn, { action: 's3:PutBucketPolicy', resource: bucket })).toBe('DENIED');
    expect(evaluate(cfn, { action: 's3:PutObject', resource: `${bucket}/functions/invoice-worker/x` })).toBe('DENIED');
    expect(evaluate(cfn, { action: 's3:GetObject', resource: `${bucket}/functions/invoice-worker/x` })).toBe('ALLOWED');
    expect(evaluate(cfn, { action: 'sqs:PurgeQueue', resource: resolved('AWS::SQS::Queue', 'RollbackDeadLetters') })).toBe('DENIED');
    expect(evaluate(cfn, { action: 'dynamodb:DeleteTable', resource: resolved('AWS::DynamoDB::Table', 'Ledger') })).toBe('DENIED');
    expect(evaluate(cfn, { action: 'kms:PutKeyPolicy', resource: resolved('AWS::KMS::Key', 'ArtifactKey') })).toBe('DENIED');
    expect(evaluate(cfn, { action: 'kms:Decrypt', resource: resolved('AWS::KMS::Key', 'ArtifactKey') })).toBe('ALLOWED');
    expect(evaluate(cfn, { action: 'lambda:AddPermission', resource: functionArn('lrp-rollback'), context: { 'lambda:Principal': 'apigateway.amazonaws.com' } })).toBe('DENIED');
  });

  it('THEN an application role cannot touch the dead-letter queue, the access logs or the CDK assets, and is usable only from a Lambda function\'s code', () => {
    const [boundaryPolicy] = Object.values(release.toolingTemplate.findResources('AWS::IAM::ManagedPolicy', { Properties: { ManagedPolicyName: 'lrp-app-boundary' } }));
    const values = new TemplateValues(release.tooling.template, { stackName: 'lrp-tooling', ...env, unresolved: 'symbol' }, (type) => RESOURCE_MODELS[type]);
    const boundary = (values.value((boundaryPolicy!.Properties as { PolicyDocument: unknown }).PolicyDocument) as { Statement: IamStatement[] }).Statement;
    const fromCode = { 'lambda:SourceFunctionArn': functionArn('orders-api-prod'), 's3:ResourceAccount': env.account };
    const logs = resolved('AWS::S3::Bucket', 'AccessLogs');
    expect(evaluate(boundary, { action: 'sqs:ReceiveMessage', resource: resolved('AWS::SQS::Queue', 'RollbackDeadLetters'), context: fromCode })).toBe('DENIED');
    expect(evaluate(boundary, { action: 's3:DeleteObject', resource: `${logs}/artifacts/x`, context: fromCode })).toBe('DENIED');
    expect(evaluate(boundary, { action: 's3:PutObject', resource: `arn:aws:s3:::cdk-hnb659fds-assets-${env.account}-${env.region}/abc.zip`, context: fromCode })).toBe('DENIED');
    // From the function's code: allowed; from anyone a rewritten trust policy lets in: denied (event sources excepted).
    const table = `arn:aws:dynamodb:${env.region}:${env.account}:table/orders`;
    expect(evaluate(boundary, { action: 'dynamodb:GetItem', resource: table, context: fromCode })).toBe('ALLOWED');
    expect(evaluate(boundary, { action: 'dynamodb:GetItem', resource: table })).toBe('DENIED');
    expect(evaluate(boundary, { action: 'sqs:ReceiveMessage', resource: `arn:aws:sqs:${env.region}:${env.account}:invoices-prod` })).toBe('ALLOWED');
  });
});
