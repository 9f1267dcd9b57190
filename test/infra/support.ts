import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import releaseConfig from '../../release.config';
import { resolveReleaseConfig, type ReleaseConfigInput } from '../../infra/config';
import { buildReleaseApp } from '../../infra/lib/release-app';

const root = join(import.meta.dirname, '..', '..');
/** cdk.json's context: a test App does not read it by itself. */
export const cdkContext = (JSON.parse(readFileSync(join(root, 'cdk.json'), 'utf8')) as { context: Record<string, unknown> }).context;

/** The repository's own release configuration, as users would write it. */
export const sampleConfig: ReleaseConfigInput = releaseConfig;

/**
 * Builds the release app for a configuration. Bundling is skipped (the `npm run synth` test bundles for real) and
 * the built-in template validation is off: cfn-lint checks the templates instead.
 */
export function synthRelease(input: ReleaseConfigInput = sampleConfig, options: { outdir?: string } = {}) {
  const app = new App({
    context: { ...cdkContext, 'aws:cdk:bundling-stacks': [] },
    builtinCloudFormationValidation: false,
    ...(options.outdir ? { outdir: options.outdir } : {}),
  });
  const stacks = buildReleaseApp(app, resolveReleaseConfig(input), { account: '123456789012', region: 'eu-central-1' });
  return { app, ...stacks };
}

/** Templates of a synthesized release app, by stack name. */
export function templatesOf(stacks: ReturnType<typeof synthRelease>) {
  return {
    tooling: Template.fromStack(stacks.tooling),
    pipelines: Object.fromEntries(stacks.pipelines.map((p) => [p.stackName, Template.fromStack(p)])),
  };
}
