import { beforeAll, describe, expect, it } from 'vitest';
import { resolveReleaseConfig } from '../../../infra/config';
import { evaluate, type IamStatement } from '../../../infra/iam/policy';
import { rolesOf, type SynthesizedStack } from '../../../infra/iam/release-check';
import { ROLE_PASSED_TO_SERVICES } from '../../../infra/lib/deployment-role';
import type { CfnTemplate } from '../../../infra/templates/application-template';
import { sampleConfig, synthRelease, templatesOf } from '../support';

const env = { partition: 'aws', region: 'eu-central-1', account: '123456789012' };
const roleArn = (name: string) => `arn:aws:iam::${env.account}:role/${name}`;
const passTo = (role: string, service: string) => ({ action: 'iam:PassRole', resource: roleArn(role), context: { 'iam:PassedToService': service } });

describe('GIVEN the CloudFormation role a function\'s pipeline deploys its prod stack with', () => {
  let own: string;
  let other: string;
  let role: IamStatement[];
  beforeAll(() => {
    const config = resolveReleaseConfig(sampleConfig);
    [own, other] = config.functions.map((fn) => fn.name) as [string, string];
    const { tooling, pipelines } = templatesOf(synthRelease(sampleConfig));
    const stack = (name: string, template: { toJSON(): unknown }): SynthesizedStack => ({ stackName: name, template: template.toJSON() as CfnTemplate });
    const roles = rolesOf(stack(`lrp-pipeline-${own}`, pipelines[`lrp-pipeline-${own}`]!), stack('lrp-tooling', tooling), env);
    role = [...roles].find(([id, statements]) => id.startsWith('CloudFormationRole') && evaluate(statements, passTo(`lrp-app-${own}-prod-FunctionRole-ABC`, 'lambda.amazonaws.com')) === 'ALLOWED')![1];
  }, 60_000);

  it.each(ROLE_PASSED_TO_SERVICES)('THEN it may pass the stack\'s own roles to %s, as SAM\'s event sources and integrations do', (service) => {
    expect(evaluate(role, passTo(`lrp-app-${own}-prod-HandlerHourlyRole-ABC`, service))).toBe('ALLOWED');
  });

  it.each(['ec2.amazonaws.com', 'ecs-tasks.amazonaws.com', 'codebuild.amazonaws.com', 'glue.amazonaws.com', 'cloudformation.amazonaws.com'])('THEN it may not pass them to %s, a service that runs code of its own', (service) => {
    expect(evaluate(role, passTo(`lrp-app-${own}-prod-HandlerHourlyRole-ABC`, service))).toBe('NOT_ALLOWED');
  });

  it('THEN it passes no role but its own stack\'s: not another function\'s, not another stage\'s, not one a pass names no service for', () => {
    for (const service of ROLE_PASSED_TO_SERVICES) {
      expect(evaluate(role, passTo(`lrp-app-${other}-prod-HandlerHourlyRole-ABC`, service))).toBe('NOT_ALLOWED');
      expect(evaluate(role, passTo(`lrp-app-${own}-staging-HandlerHourlyRole-ABC`, service))).toBe('NOT_ALLOWED');
      expect(evaluate(role, passTo('lrp-deployment-role', service))).toBe('NOT_ALLOWED');
    }
    expect(evaluate(role, { action: 'iam:PassRole', resource: roleArn(`lrp-app-${own}-prod-HandlerHourlyRole-ABC`) })).toBe('NOT_ALLOWED');
  });
});
