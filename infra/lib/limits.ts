import type { FieldIssue } from '../../deploy-functions/core/issues';

/**
 * Documented service quotas the generated pipelines could cross. Neither cdk-nag nor cfn-lint checks them, and AWS
 * only rejects them at deploy time, so synth checks each one and names the configuration field to change.
 */
export const SERVICE_LIMITS = {
  /** CodePipeline ActionDeclaration: each configuration value (UserParameters, CustomData, …) is at most 1,000 characters. */
  actionConfigurationValueChars: 1000,
  /** CodePipeline V2 trigger: at most 8 file-path includes per push filter. */
  triggerFilePathIncludes: 8,
  /** CodePipeline V2 trigger: each branch or file-path pattern is 1–255 characters. */
  triggerPatternChars: 255,
  /** CodePipeline: at most 50 stages per pipeline. */
  stagesPerPipeline: 50,
  /** CodePipeline: at most 50 actions per stage. */
  actionsPerStage: 50,
  /** EventBridge: an event pattern is at most 2,048 characters (the default quota). */
  eventPatternChars: 2048,
} as const;

/** Checks one action configuration value against CodePipeline's 1,000 characters; `field` is the configuration field to change. */
export function checkActionConfigurationValue(value: string, field: string, what: string, hint: string): FieldIssue | undefined {
  const limit = SERVICE_LIMITS.actionConfigurationValueChars;
  if (value.length <= limit) return undefined;
  return { path: field.split('.'), message: `${what} would be ${value.length.toLocaleString('en-US')} characters; CodePipeline allows at most ${limit.toLocaleString('en-US')} per action configuration value. ${hint}` };
}
