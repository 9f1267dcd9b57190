import { Lazy, type IAspect } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { IConstruct } from 'constructs';

/**
 * Explicit lists for the wildcard actions CDK's own grants write (bucket, key and pipeline grants). Each list is what
 * the wildcard matches today; the policy then says exactly what it allows.
 */
export const WILDCARD_EXPANSIONS: Readonly<Record<string, readonly string[]>> = {
  's3:GetObject*': ['s3:GetObject', 's3:GetObjectVersion', 's3:GetObjectTagging', 's3:GetObjectVersionTagging', 's3:GetObjectAcl', 's3:GetObjectVersionAcl', 's3:GetObjectAttributes', 's3:GetObjectVersionAttributes', 's3:GetObjectLegalHold', 's3:GetObjectRetention'],
  's3:GetBucket*': ['s3:GetBucketLocation', 's3:GetBucketVersioning', 's3:GetBucketAcl', 's3:GetBucketPolicy', 's3:GetBucketPolicyStatus', 's3:GetBucketTagging', 's3:GetBucketObjectLockConfiguration', 's3:GetBucketOwnershipControls', 's3:GetBucketPublicAccessBlock', 's3:GetBucketLogging', 's3:GetBucketNotification', 's3:GetBucketCORS', 's3:GetBucketWebsite', 's3:GetBucketRequestPayment'],
  's3:List*': ['s3:ListBucket', 's3:ListBucketVersions', 's3:ListBucketMultipartUploads', 's3:ListMultipartUploadParts'],
  's3:DeleteObject*': ['s3:DeleteObject', 's3:DeleteObjectVersion', 's3:DeleteObjectTagging', 's3:DeleteObjectVersionTagging'],
  's3:Abort*': ['s3:AbortMultipartUpload'],
  'kms:GenerateDataKey*': ['kms:GenerateDataKey', 'kms:GenerateDataKeyWithoutPlaintext', 'kms:GenerateDataKeyPair', 'kms:GenerateDataKeyPairWithoutPlaintext'],
  'kms:ReEncrypt*': ['kms:ReEncryptFrom', 'kms:ReEncryptTo'],
};

/** Thrown at synth when a policy would allow a wildcard action no expansion is known for. */
export class WildcardActionError extends Error {
  override readonly name = 'WildcardActionError';
}

type Statement = { Effect?: string; Action?: string | string[]; [key: string]: unknown };

/** Rewrites a resolved policy document so no Allow statement names a wildcard action. */
export function expandWildcardActions(document: { Statement?: Statement[] } | undefined, where: string): unknown {
  if (!document || !Array.isArray(document.Statement)) return document;
  return {
    ...document,
    Statement: document.Statement.map((statement) => {
      if (statement.Effect !== 'Allow' || statement.Action === undefined) return statement;
      const actions = Array.isArray(statement.Action) ? statement.Action : [statement.Action];
      const expanded = actions.flatMap((action) => {
        if (!action.includes('*')) return [action];
        const explicit = WILDCARD_EXPANSIONS[action];
        if (!explicit) throw new WildcardActionError(`${where}: wildcard action ${action} has no explicit expansion; name the actions or add it to WILDCARD_EXPANSIONS`);
        return explicit;
      });
      return { ...statement, Action: [...new Set(expanded)].sort() };
    }),
  };
}

/**
 * Applies the rewrite to every identity policy in the app (policies, managed policies, role inline policies), after
 * every grant has been made: no Allow statement names a wildcard action.
 */
export class ExplicitIamActions implements IAspect {
  visit(node: IConstruct): void {
    const where = node.node.path;
    const wrap = (document: unknown) => Lazy.uncachedAny({ produce: (context) => expandWildcardActions(context.resolve(document) as never, where) });
    if (node instanceof iam.CfnPolicy || node instanceof iam.CfnManagedPolicy) {
      node.policyDocument = wrap(node.policyDocument);
    } else if (node instanceof iam.CfnRole && node.policies !== undefined) {
      const policies = node.policies;
      node.policies = Lazy.uncachedAny({
        produce: (context) => (context.resolve(policies) as { PolicyName: string; PolicyDocument: never }[]).map((p) => ({ ...p, PolicyDocument: expandWildcardActions(p.PolicyDocument, where) })),
      }) as never;
    }
  }
}
