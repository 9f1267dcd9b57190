import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FieldIssue } from '../../deploy-functions/core/issues';
import type { ReleaseConfig } from '../config';
import { PredefinedStrategy } from '../../deploy-functions/core/strategies';
import { parseCfnYaml } from './cfn-yaml';
import { deploymentPreferenceOf, takenOverAlarmNames } from './deployment-preference';
import { ApplicationTemplateError, prepareApplication, type TemplateIssue } from './prepare-application';

/** A CloudFormation or SAM template as parsed from YAML or JSON. */
export interface CfnTemplate {
  readonly Transform?: string | readonly string[];
  readonly Parameters?: Record<string, CfnParameter>;
  readonly Globals?: Record<string, unknown>;
  readonly Resources: Record<string, CfnResource>;
  readonly [key: string]: unknown;
}
export interface CfnParameter {
  readonly Type?: string;
  readonly Description?: string;
  readonly Default?: unknown;
  readonly AllowedPattern?: string;
  readonly AllowedValues?: readonly unknown[];
  readonly MinLength?: number | string;
  readonly MaxLength?: number | string;
}
export interface CfnResource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
  readonly [key: string]: unknown;
}

/** SAM's default function timeout, in seconds. */
export const SAM_DEFAULT_TIMEOUT_SECONDS = 3;

/** The function a template releases: the one with `AutoPublishAlias`, else its only `AWS::Serverless::Function`. */
export function managedFunctionOf(template: CfnTemplate): { readonly logicalId: string; readonly properties: Record<string, unknown> } | undefined {
  const functions = Object.entries(template.Resources).filter(([, r]) => r.Type === 'AWS::Serverless::Function');
  const published = functions.filter(([, r]) => r.Properties?.AutoPublishAlias !== undefined);
  const [chosen] = published.length > 0 ? published : functions.length === 1 ? functions : [];
  return chosen ? { logicalId: chosen[0], properties: chosen[1].Properties ?? {} } : undefined;
}

/** The released function's timeout: its `Timeout`, else `Globals.Function.Timeout`, else SAM's default. */
export function templateTimeoutSeconds(template: CfnTemplate): number {
  const own = managedFunctionOf(template)?.properties.Timeout;
  const global = (template.Globals as { Function?: { Timeout?: unknown } } | undefined)?.Function?.Timeout;
  const value = Number(own ?? global ?? SAM_DEFAULT_TIMEOUT_SECONDS);
  return Number.isFinite(value) && value > 0 ? value : SAM_DEFAULT_TIMEOUT_SECONDS;
}

/** Where a function's template lives, relative to the project root. */
export function applicationTemplatePath(functionName: string): string {
  return join('functions', functionName, 'template.yaml');
}

/** Reads and parses a function's `template.yaml`; undefined when there is none. */
export function readApplicationTemplate(root: string, functionName: string): CfnTemplate | undefined {
  const path = join(root, applicationTemplatePath(functionName));
  if (!existsSync(path)) return undefined;
  return parseCfnYaml(readFileSync(path, 'utf8')) as unknown as CfnTemplate;
}

/**
 * Why CloudFormation would refuse `value` for a template parameter (its AllowedPattern, AllowedValues, MinLength,
 * MaxLength), or undefined when it accepts it.
 */
export function parameterRefusal(parameter: CfnParameter, value: string): string | undefined {
  if (parameter.AllowedPattern !== undefined && !new RegExp(`^(?:${parameter.AllowedPattern})$`).test(value)) return `does not match its AllowedPattern ${parameter.AllowedPattern}`;
  if (parameter.AllowedValues !== undefined && !parameter.AllowedValues.map(String).includes(value)) return `is not one of its AllowedValues (${parameter.AllowedValues.join(', ')})`;
  if (parameter.MaxLength !== undefined && value.length > Number(parameter.MaxLength)) return `is longer than its MaxLength ${parameter.MaxLength}`;
  if (parameter.MinLength !== undefined && value.length < Number(parameter.MinLength)) return `is shorter than its MinLength ${parameter.MinLength}`;
  return undefined;
}

/** What a function's template settles about its release: its timeout, and what its `DeploymentPreference` hands over. */
export interface TemplateReleaseSettings {
  readonly timeoutSeconds: number;
  /** The preference's `Type`, a CodeDeploy predefined configuration. @default - none */
  readonly strategy?: PredefinedStrategy;
  /** The preference's alarms, by name (`${Stage}` for the stage). */
  readonly alarms: readonly string[];
  readonly issues: readonly TemplateIssue[];
}

const PREDEFINED = new Set<string>(Object.values(PredefinedStrategy));
const DEPLOYMENT_TYPE = 'DeploymentPreference.Type';

/** Reads the released function's timeout and its `DeploymentPreference` (strategy, alarms) from its template. */
export function templateReleaseSettings(template: CfnTemplate): TemplateReleaseSettings {
  const fn = managedFunctionOf(template);
  const preference = fn ? deploymentPreferenceOf(template, fn.logicalId) : undefined;
  const issues: TemplateIssue[] = [];
  const type = preference?.Type;
  if (type !== undefined && (typeof type !== 'string' || !PREDEFINED.has(type))) {
    issues.push({ resource: DEPLOYMENT_TYPE, message: `${JSON.stringify(type)} is not a CodeDeploy predefined configuration the pipeline knows (${[...PREDEFINED].join(', ')}); name the function's strategy in release.config.ts (steps may be explicit)` });
  }
  const alarms = takenOverAlarmNames(template, Array.isArray(preference?.Alarms) ? preference.Alarms : []);
  return {
    timeoutSeconds: templateTimeoutSeconds(template),
    ...(typeof type === 'string' && PREDEFINED.has(type) ? { strategy: type as PredefinedStrategy } : {}),
    alarms: alarms.names,
    issues: [...issues, ...alarms.issues],
  };
}

/**
 * The configuration with what each function's template settles filled in: its timeout, its strategy unless the
 * configuration names one, and its `DeploymentPreference` alarms besides the configured ones. Functions without a
 * template are left as they are (`applicationTemplateIssues` reports them).
 */
export function withTemplateSettings(config: ReleaseConfig, read: (functionName: string) => CfnTemplate | undefined): ReleaseConfig {
  return {
    ...config,
    functions: config.functions.map((fn) => {
      const template = read(fn.name);
      if (!template) return fn;
      const settings = templateReleaseSettings(template);
      return {
        ...fn,
        timeoutSeconds: fn.timeoutSeconds ?? settings.timeoutSeconds,
        ...(fn.strategy === undefined && settings.strategy !== undefined ? { strategy: settings.strategy } : {}),
        alarms: [...new Set([...fn.alarms, ...settings.alarms])],
      };
    }),
  };
}

/**
 * What each pipeline's deploy needs of its function's template, checked at synth: the template exists and can be
 * released as it is (see `prepareApplication`); its `Stage` parameter, if it declares one, accepts every stage name
 * (every change set passes `Stage=<stage name>`); every other parameter but `CommitSha` has a default; a configured
 * timeout agrees with the template's; a `DeploymentPreference` names a known strategy and alarms known by name.
 */
export function applicationTemplateIssues(config: ReleaseConfig, read: (functionName: string) => CfnTemplate | undefined): FieldIssue[] {
  const issues: FieldIssue[] = [];
  config.functions.forEach((fn, index) => {
    const path = applicationTemplatePath(fn.name);
    const source = read(fn.name);
    if (!source) {
      issues.push({ path: ['functions', index, 'name'], message: `no template at ${path}: every configured function needs functions/<name>/template.yaml (see the README, "Adding a function")` });
      return;
    }
    let template: CfnTemplate;
    try {
      template = prepareApplication(source, { functionName: fn.name, codeUri: `s3://synth-check/${fn.name}.zip` }).template;
    } catch (error) {
      if (!(error instanceof ApplicationTemplateError)) throw error;
      for (const issue of error.issues) issues.push({ path: ['functions', index, 'name'], message: `${path}: ${issue.resource}: ${issue.message}` });
      return;
    }
    const stage = template.Parameters!.Stage!;
    config.stages.forEach((s, stageIndex) => {
      const refusal = parameterRefusal(stage, s.name);
      if (refusal) issues.push({ path: ['stages', stageIndex, 'name'], message: `stage name "${s.name}" ${refusal} in ${path}'s Stage parameter, so CloudFormation would refuse the change set; rename the stage or widen the parameter` });
    });
    const settings = templateReleaseSettings(source);
    if (fn.timeoutSeconds !== undefined && fn.timeoutSeconds !== settings.timeoutSeconds) {
      issues.push({ path: ['functions', index, 'timeoutSeconds'], message: `${fn.timeoutSeconds} s disagrees with ${path}, whose function times out after ${settings.timeoutSeconds} s; remove timeoutSeconds (the template's is used) or make them agree` });
    }
    // A custom CodeDeploy Type is no issue once the configuration names the strategy itself.
    const settled = settings.issues.filter((issue) => !(issue.resource === DEPLOYMENT_TYPE && fn.strategy !== undefined));
    for (const issue of settled) issues.push({ path: ['functions', index, 'name'], message: `${path}: ${issue.resource}: ${issue.message}` });
    for (const [name, parameter] of Object.entries(template.Parameters ?? {})) {
      if (name === 'Stage' || name === 'CommitSha' || parameter.Default !== undefined) continue;
      issues.push({ path: ['functions', index, 'name'], message: `${path}'s parameter ${name} has no Default; the pipeline passes only Stage and CommitSha, so CloudFormation would refuse the change set. Give it a Default (derive per-stage values from Stage with Mappings or Conditions)` });
    }
  });
  return issues;
}
