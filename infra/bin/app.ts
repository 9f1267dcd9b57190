// The CDK app users deploy: `npm run synth` (offline) or `npx cdk deploy --all`.
// Account and region: context `account` / `region`, else CDK_DEFAULT_ACCOUNT / AWS_REGION / CDK_DEFAULT_REGION,
// else an environment-agnostic account and us-east-1. Context `connectionArn` overrides the configured connection.
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import releaseConfig from '../../release.config';
import { ReleaseConfigError, invalidConfiguration, resolveReleaseConfig } from '../config';
import { buildReleaseApp } from '../lib/release-app';
import { applicationTemplateIssues, readApplicationTemplate } from '../templates/application-template';

const ROOT = join(import.meta.dirname, '..', '..');
const app = new App();
const context = (key: string): string | undefined => app.node.tryGetContext(key) as string | undefined;
try {
  const connectionArn = context('connectionArn');
  const config = resolveReleaseConfig(connectionArn ? { ...releaseConfig, repository: { ...releaseConfig.repository, connectionArn } } : releaseConfig);
  const templateIssues = applicationTemplateIssues(config, (name) => readApplicationTemplate(ROOT, name));
  if (templateIssues.length > 0) throw invalidConfiguration(templateIssues);
  buildReleaseApp(app, config, {
    account: context('account') ?? process.env.CDK_DEFAULT_ACCOUNT,
    region: context('region') ?? process.env.AWS_REGION ?? process.env.CDK_DEFAULT_REGION ?? 'us-east-1',
  });
  app.synth();
} catch (error) {
  if (error instanceof ReleaseConfigError) {
    console.error(error.message);
    process.exit(1);
  }
  throw error;
}
