// Builders the packager's review suites share: a SAM template around the released function `Handler`, and what the
// packager makes of it (the template it releases, or its refusal).
import type { CfnTemplate } from '../../infra/templates/application-template';
import { parseCfnYaml } from '../../infra/templates/cfn-yaml';
import { ApplicationTemplateError } from '../../infra/templates/prepare-application';
import { releaseTemplateOf, type ReleaseTemplate } from '../../infra/templates/release-template';

/** The region the review suites translate for. */
export const REVIEW_REGION = 'eu-central-1';

/** A SAM template with the released function `Handler` (AutoPublishAlias `alias`), its extra properties, and more resources. */
export function sam({ fn = '', resources = '', alias = 'live', tail = '', code = 'hello/' }: { fn?: string; resources?: string; alias?: string; tail?: string; code?: string } = {}): CfnTemplate {
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

export type Outcome = { released: ReleaseTemplate; error?: undefined } | { released?: undefined; error: string };

/** Packages the template as `hello` (offline, nothing uploaded); a refusal is returned as its message. */
export function outcome(template: CfnTemplate, options: { codeUri?: string } = {}): Outcome {
  try {
    return { released: releaseTemplateOf(template, { functionName: 'hello', region: REVIEW_REGION, ...options }) };
  } catch (error) {
    if (error instanceof ApplicationTemplateError) return { error: error.message };
    throw error;
  }
}
