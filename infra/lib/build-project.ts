import { Duration, Validations } from 'aws-cdk-lib';
import * as codebuild from 'aws-cdk-lib/aws-codebuild';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import type { InstallationNames } from './installation-names';
import { BUILD_CACHE_PREFIX, FUNCTION_CODE_PREFIX } from './tooling-stack';

/** Object calls a build could make on the artifact bucket. */
const OBJECT_ACTIONS = [
  's3:GetObject', 's3:GetObjectVersion', 's3:PutObject', 's3:DeleteObject', 's3:DeleteObjectVersion', 's3:AbortMultipartUpload', 's3:PutObjectTagging',
  's3:PutObjectVersionTagging', 's3:DeleteObjectTagging', 's3:DeleteObjectVersionTagging', 's3:PutObjectAcl', 's3:PutObjectVersionAcl', 's3:PutObjectLegalHold', 's3:PutObjectRetention',
];

/** The key prefixes one function's build may read and write: its pipeline's artifacts, its code and its cache. */
export function buildPrefixes(names: InstallationNames, fnName: string): string[] {
  return [`${names.pipelineArtifactFolder(fnName)}/`, `${FUNCTION_CODE_PREFIX}${fnName}/`, `${BUILD_CACHE_PREFIX}${fnName}/`];
}

/**
 * One function's CodeBuild project (buildspecs/build.yml), its test report group, and a role that touches only that
 * function's objects. CDK's pipeline grants the project the whole artifact bucket; an explicit deny takes back every
 * object outside the function's prefixes, so one function's build can never replace what another pipeline deploys.
 */
export function createBuildProject(scope: Construct, names: InstallationNames, fnName: string, artifactBucket: s3.IBucket, artifactKey: kms.IKey): codebuild.PipelineProject {
  const projectName = names.buildProject(fnName);
  const project = new codebuild.PipelineProject(scope, 'Build', {
    projectName,
    description: `Lint, typecheck, unit-test, bundle and package ${fnName} (buildspecs/build.yml)`,
    buildSpec: codebuild.BuildSpec.fromSourceFilename('buildspecs/build.yml'),
    environment: { buildImage: codebuild.LinuxBuildImage.STANDARD_7_0, computeType: codebuild.ComputeType.SMALL },
    // LRP_INSTALLATION: the packager puts the installation's boundary on the template's roles.
    environmentVariables: { FUNCTION_NAME: { value: fnName }, LRP_INSTALLATION: { value: names.installation }, ARTIFACT_BUCKET: { value: artifactBucket.bucketName }, ARTIFACT_KEY_ARN: { value: artifactKey.keyArn } },
    cache: codebuild.Cache.bucket(artifactBucket, { prefix: `${BUILD_CACHE_PREFIX}${fnName}` }),
    encryptionKey: artifactKey,
    timeout: Duration.minutes(30),
  });
  // The buildspec's `unit-tests` report lands in this group (CodeBuild names it <project>-<report>).
  const reports = new codebuild.ReportGroup(scope, 'UnitTestReports', { reportGroupName: `${projectName}-unit-tests`, type: codebuild.ReportGroupType.TEST });
  reports.grantWrite(project);
  // `npm run package` uploads the function's code under functions/<name>/.
  artifactBucket.grantReadWrite(project, `${FUNCTION_CODE_PREFIX}${fnName}/*`);
  project.addToRolePolicy(
    new iam.PolicyStatement({
      sid: 'OnlyThisFunctionsObjects',
      effect: iam.Effect.DENY,
      actions: OBJECT_ACTIONS,
      notResources: [...buildPrefixes(names, fnName).map((prefix) => artifactBucket.arnForObjects(`${prefix}*`)), artifactBucket.arnForObjects(`${BUILD_CACHE_PREFIX}${fnName}`)],
    }),
  );
  Validations.of(project).acknowledge({ id: 'AwsSolutions-CB4', reason: 'The project encrypts with the pipeline artifact KMS key (encryptionKey is set).' });
  return project;
}
