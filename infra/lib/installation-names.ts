import { applicationStackName, deployerRoleName, generatedAlarmName, generatedAlarmPrefix, generatedAlarmRoot, ledgerTableName, targetStackName } from '../../deploy-functions/core/names';
import type { DeploymentFunction } from './release-plan';

/** CodePipeline keeps a pipeline's artifacts in the bucket under the first this many characters of its name. */
export const PIPELINE_ARTIFACT_FOLDER_CHARS = 20;

/**
 * Every name an installation gives what it creates, in one place: each starts with the installation (`lrp` unless the
 * configuration names another), so two installations in one account and region share none.
 */
export class InstallationNames {
  constructor(readonly installation: string) {}

  /** The shared stack: `<installation>-tooling`. */
  get toolingStack(): string {
    return `${this.installation}-tooling`;
  }

  /** One function's pipeline stack: `<installation>-pipeline-<function>`. */
  pipelineStack(functionName: string): string {
    return `${this.installation}-pipeline-${functionName}`;
  }

  /** Every pipeline's name starts with this. */
  get pipelinePrefix(): string {
    return `${this.installation}-`;
  }

  /** One function's pipeline: `<installation>-<function>`. */
  pipeline(functionName: string): string {
    return `${this.pipelinePrefix}${functionName}`;
  }

  /** Where CodePipeline keeps a pipeline's artifacts in the bucket: the first 20 characters of the pipeline's name. */
  pipelineArtifactFolder(functionName: string): string {
    return this.pipeline(functionName).slice(0, PIPELINE_ARTIFACT_FOLDER_CHARS);
  }

  /** One function's CodeBuild project: `<installation>-<function>-build` (its report group adds `-unit-tests`). */
  buildProject(functionName: string): string {
    return `${this.pipeline(functionName)}-build`;
  }

  /** One function's dashboard: `<installation>-<function>`. */
  dashboard(functionName: string): string {
    return this.pipeline(functionName);
  }

  /** One pipeline's CodeStar notification rule: `<installation>-<function>-notices`. */
  notificationRule(functionName: string): string {
    return `${this.pipeline(functionName)}-notices`;
  }

  /** The change set each stage creates and executes: `<installation>-release`. */
  get changeSet(): string {
    return `${this.installation}-release`;
  }

  /** A deployment function: `<installation>-<name>`; pipelines refer to it by name, in their own account and region. */
  deploymentFunction(name: DeploymentFunction | '*'): string {
    return `${this.installation}-${name}`;
  }

  /** The ledger table: `<installation>-ledger`. */
  get ledgerTable(): string {
    return ledgerTableName(this.installation);
  }

  /** The permissions boundary of every application role: `<installation>-app-boundary`. */
  get applicationBoundary(): string {
    return applicationBoundaryName(this.installation);
  }

  /** The managed policy every CloudFormation role carries: `<installation>-deploy-guard`. */
  get deploymentGuard(): string {
    return `${this.installation}-deploy-guard`;
  }

  /** The two alarms on the pipeline's own health; not `<installation>/…`, which the rollback rule reserves. */
  get noticeAlarms(): { readonly deadLetters: string; readonly functionErrors: string } {
    return { deadLetters: `${this.installation}-rollback-dead-letters`, functionErrors: `${this.installation}-deployment-function-errors` };
  }

  /** The stack a stage deploys a function with: `<installation>-app-<function>-<stage>`. */
  applicationStack(functionName: string, stage: string): string {
    return applicationStackName(this.installation, functionName, stage);
  }

  /** The stack of one target environment: `<installation>-target-<region>`, deployed in the target account. */
  targetStack(region: string): string {
    return targetStackName(this.installation, region);
  }

  /**
   * Every role a target stack creates for the pipelines starts with this (`<installation>-target-`): CDK generates
   * their names from the stack's name, so the tooling account's bucket and key policies can name them before they exist.
   */
  get targetRolePrefix(): string {
    return `${this.installation}-target-`;
  }

  /** The role the deployment functions assume in a target environment: `<installation>-deployer-<region>`. */
  deployerRole(region: string): string {
    return deployerRoleName(this.installation, region);
  }

  /** Every generated alarm starts with this: `<installation>/`. */
  get alarmRoot(): string {
    return generatedAlarmRoot(this.installation);
  }

  /** An alarm generated for a function alias: `<installation>/<function>/<alias>/<metric>`. */
  generatedAlarm(functionName: string, alias: string, metric: string): string {
    return generatedAlarmName(this.installation, functionName, alias, metric);
  }

  /** Every generated alarm of a function alias starts with this. */
  generatedAlarmPrefix(functionName: string, alias: string): string {
    return generatedAlarmPrefix(this.installation, functionName, alias);
  }
}

/** The permissions boundary of an installation's application roles: `<installation>-app-boundary`. */
export function applicationBoundaryName(installation: string): string {
  return `${installation}-app-boundary`;
}
