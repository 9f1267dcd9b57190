import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { rehashApiDeployments } from '../../../infra/templates/api-deployments';
import type { CfnTemplate } from '../../../infra/templates/application-template';
import { parseCfnYaml } from '../../../infra/templates/cfn-yaml';
import { prepareApplication } from '../../../infra/templates/prepare-application';
import { releaseTemplateOf } from '../../../infra/templates/release-template';
import { translateSam } from '../../../infra/templates/sam-translate';
import { requireSamTranslator } from '../../support/sam';

const fixtures = join(import.meta.dirname, '..', '..', 'fixtures', 'sam-events');
const region = 'eu-central-1';
const read = (name: string) => parseCfnYaml(readFileSync(join(fixtures, `${name}.yaml`), 'utf8')) as unknown as CfnTemplate;
const idsOfType = (template: CfnTemplate, type: string) => Object.entries(template.Resources).filter(([, r]) => r.Type === type).map(([id]) => id);
const deploymentOf = (template: CfnTemplate) => {
  const [id, ...more] = idsOfType(template, 'AWS::ApiGateway::Deployment');
  expect(more).toEqual([]);
  return id!;
};

describe.runIf(requireSamTranslator('API deployment tests'))('rehashApiDeployments', () => {
  /** The fixture as SAM translates it, before the packager points anything at live. */
  const translated = (name: string) => translateSam(prepareApplication(read(name), { functionName: 'hello', codeUri: 's3://b/k.zip' }).template, { region });

  it.each(['api', 'api-openapi-body'])('%s: gives the deployment an id of the body as deployed, and points the stage at it', (fixture) => {
    // Arrange
    const samId = deploymentOf(translated(fixture));
    // Act
    const released = releaseTemplateOf(read(fixture), { functionName: 'hello', region }).template;
    // Assert
    const id = deploymentOf(released);
    expect(id).toMatch(/Deployment[0-9a-f]{10}$/);
    expect(id).not.toBe(samId);
    expect(JSON.stringify(released)).not.toContain(samId);
    const [stage] = idsOfType(released, 'AWS::ApiGateway::Stage');
    expect(released.Resources[stage!]!.Properties!.DeploymentId).toEqual({ Ref: id });
    expect(String(released.Resources[id]!.Properties!.Description)).toMatch(new RegExp(`^RestApi deployment id: ${id.slice(-10)}[0-9a-f]{30}$`));
  });

  it('gives different ids to bodies SAM hashed alike that differ only by what the packager rewrote', () => {
    // Arrange: the same SAM translation, its integration URI once as SAM wrote it and once pointed at live
    const asSamWrote = translated('api');
    const rewritten = releaseTemplateOf(read('api'), { functionName: 'hello', region }).template;
    // Act
    rehashApiDeployments(asSamWrote);
    // Assert
    expect(deploymentOf(asSamWrote)).not.toBe(deploymentOf(rewritten));
  });

  it('keeps the same ids for the same template (deterministic)', () => {
    const first = releaseTemplateOf(read('api-openapi-body'), { functionName: 'hello', region }).template;
    const second = releaseTemplateOf(read('api-openapi-body'), { functionName: 'hello', region }).template;
    expect(deploymentOf(second)).toBe(deploymentOf(first));
    expect(second).toEqual(first);
  });

  it('HTTP APIs need no new deployment: SAM deploys every change through the stage\'s AutoDeploy', () => {
    const released = releaseTemplateOf(read('http-api'), { functionName: 'hello', region }).template;
    expect(idsOfType(released, 'AWS::ApiGatewayV2::Deployment')).toEqual([]);
    for (const id of idsOfType(released, 'AWS::ApiGatewayV2::Stage')) expect(released.Resources[id]!.Properties!.AutoDeploy, id).toBe(true);
  });
});

describe('rehashApiDeployments on plain CloudFormation', () => {
  const body = { paths: { '/': { get: { 'x-amazon-apigateway-integration': { uri: { 'Fn::Sub': '${LiveAlias}' } } } } } };
  const template = (deploymentId: string, description: string): CfnTemplate =>
    ({
      Resources: {
        Api: { Type: 'AWS::ApiGateway::RestApi', Properties: { Body: structuredClone(body) } },
        [deploymentId]: { Type: 'AWS::ApiGateway::Deployment', Properties: { RestApiId: { Ref: 'Api' }, Description: description } },
        Stage: { Type: 'AWS::ApiGateway::Stage', Properties: { RestApiId: { Ref: 'Api' }, DeploymentId: { Ref: deploymentId } } },
        Mapping: { Type: 'AWS::ApiGateway::BasePathMapping', DependsOn: [deploymentId, 'Stage'], Properties: { Note: { 'Fn::Sub': `\${${deploymentId}.DeploymentId}` } } },
      },
      Outputs: { Deployment: { Value: { 'Fn::GetAtt': [deploymentId, 'DeploymentId'] } } },
    }) as CfnTemplate;

  it('renames every reference: Ref, Fn::GetAtt, Fn::Sub, DependsOn and outputs', () => {
    // Arrange
    const t = template('ApiDeployment0123456789', `RestApi deployment id: ${'a'.repeat(40)}`);
    // Act
    const notes = rehashApiDeployments(t);
    // Assert
    const id = deploymentOf(t);
    expect(id).not.toBe('ApiDeployment0123456789');
    expect(notes).toEqual([expect.stringMatching(new RegExp(`^ApiDeployment0123456789: renamed ${id}`))]);
    expect(t.Resources.Stage!.Properties!.DeploymentId).toEqual({ Ref: id });
    expect(t.Resources.Mapping).toEqual({ Type: 'AWS::ApiGateway::BasePathMapping', DependsOn: [id, 'Stage'], Properties: { Note: { 'Fn::Sub': `\${${id}.DeploymentId}` } } });
    expect(t.Outputs).toEqual({ Deployment: { Value: { 'Fn::GetAtt': [id, 'DeploymentId'] } } });
  });

  it('leaves a deployment the team named itself as it is', () => {
    const t = template('ApiDeployment', 'v1');
    expect(rehashApiDeployments(t)).toEqual([]);
    expect(t).toEqual(template('ApiDeployment', 'v1'));
  });
});
