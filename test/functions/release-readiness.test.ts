// What a function's own build must prove before its pipeline deploys it (npm run check:function runs this file with
// LRP_FUNCTION): its pipeline's CloudFormation role may make every call the packaged template needs, in every stage,
// and the packaged template, as CloudFormation will get it, is clean under cfn-lint.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { resolveReleaseConfig } from '../../infra/config';
import { checkCloudFormationRole, packagedTemplate, type SynthesizedStack } from '../../infra/iam/release-check';
import { readApplicationTemplate, type CfnTemplate } from '../../infra/templates/application-template';
import { cfnLint } from '../support/cfn-lint';
import { requireSamTranslator } from '../support/sam';
import { PROJECT_ROOT, functionsUnderTest } from '../support/application-checks';
import { sampleConfig, synthRelease, templatesOf } from '../infra/support';

const env = { partition: 'aws', region: 'eu-central-1', account: '123456789012' };
const config = resolveReleaseConfig(sampleConfig);
// The configured functions among those under test: a folder nobody configured has no pipeline to check against.
const functions = functionsUnderTest(PROJECT_ROOT).filter((fn) => config.functions.some((configured) => configured.name === fn.name));
/** SAM's own SQSPollerPolicy lists two batch "actions" IAM does not have; they grant nothing and deploy. */
const SAM_POLICY_TEMPLATE_NOISE = /:W3037:'(changemessagevisibilitybatch|deletemessagebatch)' is not one of/;

const packaged = new Map<string, CfnTemplate>();
/** The template `npm run package` writes for a function (translated once: the translator runs Python). */
const packagedOf = (name: string) => {
  if (!packaged.has(name)) packaged.set(name, packagedTemplate(readApplicationTemplate(PROJECT_ROOT, name)!, name, env.region));
  return packaged.get(name)!;
};

describe.runIf(requireSamTranslator('release readiness of each function'))('each configured function, packaged as its build packages it', () => {
  let tooling: SynthesizedStack;
  let pipelines: ReturnType<typeof templatesOf>['pipelines'];
  beforeAll(() => {
    const synthesized = templatesOf(synthRelease());
    tooling = { stackName: 'lrp-tooling', template: synthesized.tooling.toJSON() as CfnTemplate };
    pipelines = synthesized.pipelines;
  }, 60_000);

  it('has a function to check', () => {
    expect(functions.length, process.env.LRP_FUNCTION ? `${process.env.LRP_FUNCTION} is in release.config.ts` : 'release.config.ts configures a function with a folder').toBeGreaterThan(0);
  });

  it('packaged as CloudFormation will get them, are clean under cfn-lint', () => {
    // One cfn-lint run for all: each start costs seconds.
    const dir = mkdtempSync(join(tmpdir(), 'lrp-ready-'));
    const files = functions.map((fn) => {
      const file = join(dir, `${fn.name}.packaged.json`);
      writeFileSync(file, JSON.stringify(packagedOf(fn.name)));
      return file;
    });
    const result = cfnLint(files, ['--regions', env.region, '--format', 'parseable']);
    if (result) expect(result.output.split('\n').filter((line) => line && !SAM_POLICY_TEMPLATE_NOISE.test(line))).toEqual([]);
  }, 60_000);

  for (const fn of functions) {
    describe(fn.name, () => {
      const fnIndex = config.functions.findIndex((f) => f.name === fn.name);

      it('can be deployed by its pipeline\'s CloudFormation role in every stage: every handler call allowed, nothing unjudged', () => {
        const pipeline = { stackName: `lrp-pipeline-${fn.name}`, template: pipelines[`lrp-pipeline-${fn.name}`]!.toJSON() as CfnTemplate };
        const { findings } = checkCloudFormationRole({ env, tooling, pipeline, fn: config.functions[fnIndex]!, fnIndex, stages: config.stages.map((s) => s.name), translated: () => packagedOf(fn.name) });
        expect(findings.map((f) => f.message)).toEqual([]);
      }, 60_000);

    });
  }
});
