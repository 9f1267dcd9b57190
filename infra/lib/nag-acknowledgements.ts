import type { PolicyValidationPluginReport, PolicyViolation } from 'aws-cdk-lib';
import type { ReleaseConfig } from '../config';

/** A class of cdk-nag findings accepted on purpose, and why. */
export interface NagAcknowledgement {
  readonly rule: string;
  /** Matches the finding, e.g. `Resource::arn:aws:lambda:…:function:orders-api-prod:*`. */
  readonly finding: RegExp;
  readonly reason: string;
}

/**
 * Wildcard resources the release app needs (cdk-nag AwsSolutions-IAM5). Wildcard actions need no entry: the
 * ExplicitIamActions aspect leaves none. Every other finding fails the cdk-nag test.
 */
export const IAM5_ACKNOWLEDGEMENTS: readonly NagAcknowledgement[] = [
  {
    rule: 'AwsSolutions-IAM5',
    finding: /^Resource::\*$/,
    reason:
      'Only for APIs without resource-level permissions: CodePipeline GetJobDetails/PutJobSuccessResult/PutJobFailureResult, CloudWatch DescribeAlarms/GetMetricData/PutMetricData, X-Ray PutTraceSegments/PutTelemetryRecords, lambda:ListFunctions (CodePipeline Lambda actions), VPC network interfaces (in the application boundary, a ceiling rather than a grant), event source mappings, which are narrowed by a lambda:FunctionArn condition, and kms:Decrypt/DescribeKey of a target account\'s change-set action roles (CDK\'s cross-account grant on the artifact key, whose policy admits only the installation\'s target roles).',
  },
  { rule: 'AwsSolutions-IAM5', finding: /^Resource::arn:[\w-]+:lambda:[^:]*:[^:]*:function:[\w-]+:\*$/, reason: 'Versions and aliases (the `:*` qualifiers) of one named function.' },
  { rule: 'AwsSolutions-IAM5', finding: /^Resource::arn:[\w-]+:lambda:[^:]*:[^:]*:function:[\w-]+-\*(:\*)?$/, reason: 'The stage functions `<function>-<stage>` of one configured function, deployed by that function\'s own CloudFormation role.' },
  { rule: 'AwsSolutions-IAM5', finding: /^Resource::arn:[\w-]+:cloudwatch:[^:]*:[^:]*:alarm:[a-z][a-z0-9-]*\/[\w-]+\/live\/\*$/, reason: 'The alarms generated for one managed alias (<installation>/<function>-<stage>/live/<metric>), whose tags the rollback function reads to trust them.' },
  { rule: 'AwsSolutions-IAM5', finding: /^Resource::arn:[\w-]+:cloudwatch:[^:]*:[^:]*:alarm:[a-z][a-z0-9]*\/\*$/, reason: 'The alarms an installation generates in a target account (<installation>/…), whose tags the deployer role reads for the rollback function to trust them.' },
  {
    rule: 'AwsSolutions-IAM5',
    finding: /^Resource::arn:[\w-]+:s3:::[a-z0-9-]+artifacts[0-9a-f]{12,}\/(functions\/[\w-]+\/)?\*$/,
    reason: 'The pipeline artifact bucket, by the name CDK gives it once a target account\'s roles name it: all objects for the change-set actions (CDK\'s read grant), only the function\'s code prefix for its CloudFormation role.',
  },
  { rule: 'AwsSolutions-IAM5', finding: /^Resource::arn:[\w-]+:s3:::[a-z0-9-]*eplicationbucket[0-9a-f]{12,}\/([a-z][a-z0-9-]{0,19}\/)?\*$/, reason: 'Objects of CDK\'s cross-region replication bucket (one per region, holding copies of pipeline artifacts only): CDK\'s grants to the pipeline roles and to the change-set action roles of that region, and one pipeline\'s folder for the CloudFormation roles of its stages there (Lambda reads the replicated Code artifact).' },
  { rule: 'AwsSolutions-IAM5', finding: /^Resource::[\w-]+-support-[a-z0-9-]+:ExportsOutputFnGetAttCrossRegionCodePipelineReplicationBucket[0-9A-F]+Arn[0-9A-F]+\/([a-z][a-z0-9-]{0,19}\/)?\*$/, reason: 'The same, for a target in the tooling account (another region), where CDK refers to the bucket through its support stack\'s export: objects of CDK\'s cross-region replication bucket (one per region, holding copies of pipeline artifacts only): CDK\'s grants to the pipeline roles and to the change-set action roles of that region, and one pipeline\'s folder for the CloudFormation roles of its stages there (Lambda reads the replicated Code artifact).' },
  { rule: 'AwsSolutions-IAM5', finding: /^Resource::arn:[\w-]+:kms:[^:]*:\d{12}:key\/\*$/, reason: 'A target account\'s CloudFormation role decrypting function code: the tooling account\'s artifact key has no name a target stack could write; only that key\'s policy admits the installation\'s target roles.' },
  { rule: 'AwsSolutions-IAM5', finding: /^Resource::arn:[\w-]+:iam::[^:]*:role\/[a-z][a-z0-9-]*-app-[\w-]+-\*$/, reason: 'Execution roles SAM names after one function\'s application stacks (<installation>-app-<function>-<stage>-…).' },
  { rule: 'AwsSolutions-IAM5', finding: /^Resource::arn:[\w-]+:cloudformation:[^:]*:[^:]*:stack\/[a-z][a-z0-9-]*-app-[\w-]+\/\*$/, reason: 'The stack id suffix of one named application stack (CDK\'s CloudFormation pipeline actions).' },
  { rule: 'AwsSolutions-IAM5', finding: /^Resource::.*Artifacts[0-9A-F]{8}.*\/(functions\/[\w-]+\/)?\*$/, reason: 'Objects in the pipeline artifact bucket: all of them for the pipeline, only the function\'s code prefix for its build and deploy roles.' },
  { rule: 'AwsSolutions-IAM5', finding: /^Resource::arn:[\w-]+:(logs|codebuild):[^:]*:[^:]*:(log-group:\/aws\/codebuild\/|report-group\/)<(Build|Synth|SelfUpdate|Deploy)[0-9A-F]{8}>.*\*$/, reason: 'The CodeBuild project\'s own log streams and report groups (a function\'s build, the control pipeline\'s synth, self-update and deploy).' },
];

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * A finding pattern for a configured resource: its `*` stands for itself (cdk-nag shows the resource as written),
 * its placeholders for whatever they are filled with.
 */
function configuredResource(resource: string): RegExp {
  const pattern = escape(resource)
    .replaceAll('\\$\\{Partition\\}', '[\\w-]+')
    .replaceAll('\\$\\{Region\\}', '[^:]*')
    .replaceAll('\\$\\{Account\\}', '[^:]*')
    .replaceAll('\\$\\{Stage\\}', '[a-z0-9-]+');
  return new RegExp(`^Resource::${pattern}$`);
}

/**
 * Acknowledgements for each function's declared deploy permissions and for the application boundary's statements,
 * with the reason written in the configuration.
 */
export function configuredAcknowledgements(config: ReleaseConfig): NagAcknowledgement[] {
  const acknowledge = (resources: readonly string[], reason: string) =>
    resources.filter((resource) => resource.includes('*')).map((resource) => ({ rule: 'AwsSolutions-IAM5', finding: configuredResource(resource), reason }));
  return [
    ...config.functions.flatMap((fn) => fn.deployPermissions.flatMap((permission) => acknowledge(permission.resources, `${fn.name}: ${permission.reason}`))),
    ...config.applicationBoundary.allow.flatMap((statement) => acknowledge(statement.resources, `application boundary, a ceiling rather than a grant: ${statement.reason}`)),
  ];
}

/** The findings of a cdk-nag report that no acknowledgement covers. */
export function unacknowledged(report: PolicyValidationPluginReport, acknowledgements: readonly NagAcknowledgement[]): PolicyViolation[] {
  return report.violations.filter((violation) => {
    const match = /^([\w-]+)\[(.*)\]$/.exec(violation.ruleName);
    if (!match) return true;
    return !acknowledgements.some((a) => a.rule === match[1] && a.finding.test(match[2]!));
  });
}
