/** What a validation problem must tell: where and what (zod's issues have this shape). */
export interface FieldIssue {
  readonly path: readonly PropertyKey[];
  readonly message: string;
}

/** One line per problem, `field.path: message` (`(root)` for the value itself): how every input error names its field. */
export function describeIssues(issues: readonly FieldIssue[]): string[] {
  return issues.map((issue) => `${issue.path.map(String).join('.') || '(root)'}: ${issue.message}`);
}
