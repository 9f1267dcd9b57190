import { Lazy, type IAspect } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { IConstruct } from 'constructs';

/**
 * Explicit lists for the wildcard actions CDK's own grants write (bucket, key and pipeline grants): what the services
 * that use these grants call, per their documentation — CodePipeline's service role and CodeBuild's project role
 * (GetObject, GetObjectVersion, GetBucketVersioning, GetBucketAcl, GetBucketLocation, PutObject, PutObjectAcl), S3's
 * multipart uploads and SSE-KMS (GenerateDataKey, Decrypt). Narrower than what the wildcards match: a read grant does
 * not need a bucket's policy, tags, CORS or website, nor an object's legal hold.
 */
export const WILDCARD_EXPANSIONS: Readonly<Record<string, readonly string[]>> = {
  's3:GetObject*': ['s3:GetObject', 's3:GetObjectVersion'],
  's3:GetBucket*': ['s3:GetBucketLocation', 's3:GetBucketVersioning', 's3:GetBucketAcl'],
  's3:List*': ['s3:ListBucket'],
  's3:DeleteObject*': ['s3:DeleteObject'],
  's3:Abort*': ['s3:AbortMultipartUpload'],
  'kms:GenerateDataKey*': ['kms:GenerateDataKey'],
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
