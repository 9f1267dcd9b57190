/**
 * Coming from CodeDeploy: a SAM `DeploymentPreference` is read, never deployed. Its `Type` becomes the function's
 * default strategy, its `Alarms` become watched alarms, and its `Hooks` are named as unsupported. The packager removes
 * it, so CodeDeploy never shifts the alias the deployment functions shift.
 */
import type { CfnTemplate } from './application-template';
import type { TemplateIssue } from './prepare-application';
import { referencesIn } from './references';

/** What a `DeploymentPreference` amounted to, and what the release pipeline takes over from it. */
export interface DeploymentPreferenceTakeover {
  /** Its `Type` (e.g. `Canary10Percent5Minutes`): the function's strategy unless the configuration names one. */
  readonly strategy?: string;
  /** Its `Alarms`, as written (names, or references to alarms of the template). */
  readonly alarms: readonly unknown[];
  /** Its `Hooks` (PreTraffic/PostTraffic functions): not supported, named so the team can move them to integration cases. */
  readonly unsupportedHooks: readonly string[];
}

type Globals = { Globals?: { Function?: Record<string, unknown> } };
type Resources = { Resources: Record<string, { Type: string; Properties?: Record<string, unknown> }> };

/** The function's `DeploymentPreference`, else the one in `Globals`. */
export function deploymentPreferenceOf(template: CfnTemplate, functionLogicalId: string): Record<string, unknown> | undefined {
  const own = template.Resources[functionLogicalId]?.Properties?.DeploymentPreference;
  const global = (template as Globals).Globals?.Function?.DeploymentPreference;
  return (own ?? global) as Record<string, unknown> | undefined;
}

/**
 * Reads the `DeploymentPreference` and removes it from the function and `Globals` (the template is changed in place),
 * with its hook functions and what exists only for them; anything else referencing a hook is an issue.
 */
export function takeOverDeploymentPreference(template: CfnTemplate, functionLogicalId: string, notes: string[], issues: TemplateIssue[] = []): DeploymentPreferenceTakeover | undefined {
  const preference = deploymentPreferenceOf(template, functionLogicalId);
  delete (template as Resources).Resources[functionLogicalId]?.Properties?.DeploymentPreference;
  delete (template as Globals).Globals?.Function?.DeploymentPreference;
  if (!preference) return undefined;
  const hookEntries = Object.entries((preference.Hooks as Record<string, unknown> | undefined) ?? {});
  const hooks = hookEntries.map(([hook, fn]) => `${hook} (${describe(fn)})`);
  // A hook function exists only for CodeDeploy (it invokes the new version, then reports to CodeDeploy): it goes too.
  for (const [, fn] of hookEntries) {
    const ref = (fn as { Ref?: unknown } | null)?.Ref;
    if (typeof ref === 'string' && ref !== functionLogicalId && template.Resources[ref]?.Type === 'AWS::Serverless::Function') {
      delete (template as Resources).Resources[ref];
      notes.push(`${ref}: hook function removed with the DeploymentPreference`);
      removeHookDependants(template, ref, notes, issues);
    }
  }
  const takeover: DeploymentPreferenceTakeover = {
    ...(typeof preference.Type === 'string' ? { strategy: preference.Type } : {}),
    alarms: Array.isArray(preference.Alarms) ? preference.Alarms : [],
    unsupportedHooks: hooks,
  };
  notes.push(
    `${functionLogicalId}: DeploymentPreference taken over and removed (CodeDeploy will not shift this alias): strategy ${takeover.strategy ?? '(none)'}, ${takeover.alarms.length} alarm(s) watched` +
      (hooks.length ? `; hooks are not supported, move their checks to integration cases (functions/<name>/integration/): ${hooks.join(', ')}` : ''),
  );
  return takeover;
}

/** Resource types that exist only for the function they name (its logs, alarms, permissions, settings). */
const HOOK_BELONGINGS = new Set(['AWS::Logs::LogGroup', 'AWS::Logs::SubscriptionFilter', 'AWS::CloudWatch::Alarm', 'AWS::Lambda::Permission', 'AWS::Lambda::EventInvokeConfig', 'AWS::Lambda::Url', 'AWS::Lambda::Version', 'AWS::Lambda::Alias']);

/** Removes what references a removed hook and exists only for it (and outputs naming it); the rest is an issue. */
function removeHookDependants(template: CfnTemplate, hook: string, notes: string[], issues: TemplateIssue[]): void {
  const resources = (template as Resources).Resources;
  const removed = new Set([hook]);
  const referencesRemoved = (value: unknown) => referencesIn(value).some((r) => removed.has(r.logicalId));
  for (let changed = true; changed; ) {
    changed = false;
    for (const [id, resource] of Object.entries(resources)) {
      if (!referencesRemoved(resource) || !HOOK_BELONGINGS.has(resource.Type)) continue;
      delete resources[id];
      removed.add(id);
      notes.push(`${id}: removed with the hook function ${hook}`);
      changed = true;
    }
  }
  for (const [id, resource] of Object.entries(resources)) {
    const dependsOn = (resource as { DependsOn?: unknown }).DependsOn;
    if (referencesRemoved(resource)) issues.push({ resource: id, message: `references the DeploymentPreference hook ${hook}, which is removed with the preference (hooks are not supported): remove ${id} too, or what it uses of ${hook}` });
    else if (dependsOn !== undefined && [dependsOn].flat().some((d) => removed.has(String(d)))) {
      (resource as { DependsOn?: unknown }).DependsOn = [dependsOn].flat().filter((d) => !removed.has(String(d)));
    }
  }
  const outputs = (template as { Outputs?: Record<string, unknown> }).Outputs ?? {};
  for (const [name, output] of Object.entries(outputs)) {
    if (!referencesRemoved(output)) continue;
    delete outputs[name];
    notes.push(`Outputs.${name}: removed with the hook function ${hook}`);
  }
}

const describe = (value: unknown): string => {
  const ref = (value as { Ref?: unknown } | null)?.Ref;
  return typeof ref === 'string' ? `!Ref ${ref}` : JSON.stringify(value);
};

/** The `!Sub` variables an alarm name may use: the stage, as the release configuration's `${Stage}`. */
const PLACEHOLDERS: Record<string, string> = { Stage: '${Stage}' };

/**
 * The names of a preference's alarms, `${Stage}` standing for the stage (as in the release configuration): a literal
 * name, `!Sub` of a name, or `!Ref` to an `AWS::CloudWatch::Alarm` of the template whose `AlarmName` is one of those.
 * Anything else (an alarm CloudFormation names, a name from another stack) cannot be known at synth: an issue says so.
 */
export function takenOverAlarmNames(template: CfnTemplate, alarms: readonly unknown[]): { names: string[]; issues: TemplateIssue[] } {
  const names: string[] = [];
  const issues: TemplateIssue[] = [];
  const nameOf = (value: unknown): string | undefined => {
    if (typeof value === 'string') return value;
    const sub = (value as { 'Fn::Sub'?: unknown } | null)?.['Fn::Sub'];
    if (typeof sub !== 'string') return undefined;
    const variables = [...sub.matchAll(/\$\{([^}]+)\}/g)].map((m) => m[1]!);
    if (!variables.every((v) => v in PLACEHOLDERS)) return undefined;
    return sub.replace(/\$\{([^}]+)\}/g, (_, v: string) => PLACEHOLDERS[v]!);
  };
  for (const alarm of alarms) {
    const ref = (alarm as { Ref?: unknown } | null)?.Ref;
    const resource = typeof ref === 'string' ? template.Resources[ref] : undefined;
    const name = resource ? (resource.Type === 'AWS::CloudWatch::Alarm' ? nameOf(resource.Properties?.AlarmName) : undefined) : nameOf(alarm);
    if (name === undefined) {
      issues.push({
        resource: `DeploymentPreference.Alarms ${describe(alarm)}`,
        message: resource && resource.Type === 'AWS::CloudWatch::Alarm'
          ? `the alarm's name is not known before deploy: give ${String(ref)} an AlarmName (e.g. !Sub my-function-\${Stage}-errors) so the pipeline can watch it`
          : 'is neither an alarm name nor !Ref to an AWS::CloudWatch::Alarm of this template with an AlarmName; name the alarm, or list it under alarms in release.config.ts',
      });
      continue;
    }
    names.push(name);
  }
  return { names, issues };
}
