/**
 * Actions IAM authorises on `*` only (the Service Authorization Reference names no resource type for them) that a
 * deploy permission may grant on `*` although several functions share the account. A `*` grant otherwise reaches every
 * other function's resources; for these it reaches nothing more than naming a resource could, because each either only
 * reads or lists, or changes only what the stack's own create returned.
 */
export const STAR_ONLY_ACTIONS = {
  'cloudwatch:DescribeAlarms': 'reads',
  'kms:ListAliases': 'reads',
  'logs:DescribeLogGroups': 'reads',
  'logs:DescribeResourcePolicies': 'reads',
  'sns:GetSubscriptionAttributes': 'reads',
  // CloudFormation calls these with the subscription ARN its Subscribe returned: the stack's own subscription only.
  'sns:SetSubscriptionAttributes': 'changes its own',
  'sns:Unsubscribe': 'changes its own',
} as const;

/** Why an action may be granted on `*`: it only reads, or changes only what the stack created. */
export type StarOnlyKind = (typeof STAR_ONLY_ACTIONS)[keyof typeof STAR_ONLY_ACTIONS];

/** Whether a deploy permission may grant the action on `*` (IAM action names are case-insensitive). */
export function isStarOnlyAction(action: string): boolean {
  return Object.keys(STAR_ONLY_ACTIONS).some((known) => known.toLowerCase() === action.toLowerCase());
}
