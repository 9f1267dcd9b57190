/**
 * Function code for a stage in another region than the tooling stack's. Lambda reads code only from a bucket in the
 * function's own region, so such a stage cannot use the copy the packager uploaded to the tooling region's artifact
 * bucket. Instead the build's `Code` output artifact (the function's code at its root: CodePipeline's zip of it is a
 * Lambda deployment package) is an input of the stage's change-set action; CDK's cross-region support replicates it
 * into that region's replication bucket, and the action passes its location there to the template's code parameters.
 */
import { ArnFormat, Stack } from 'aws-cdk-lib';
import type * as codepipeline from 'aws-cdk-lib/aws-codepipeline';
import * as iam from 'aws-cdk-lib/aws-iam';
import { CodeParameter } from '../templates/release-template';

/** The build's output artifact holding the function's code, unpacked (see `buildspecs/build.yml`). */
export const CODE_ARTIFACT = 'Code';

/** Whether a stage's function must take its code from the `Code` artifact: it deploys to another region. */
export const needsRegionalCode = (stageRegion: string, toolingRegion: string): boolean => stageRegion !== toolingRegion;

/**
 * A change-set action's ParameterOverrides pointing the function at the `Code` artifact as CodePipeline stores it for
 * the action (`Fn::GetArtifactAtt`, resolved at run time to the copy in the action's region).
 */
export function regionalCodeOverrides(code: codepipeline.Artifact): Record<string, string> {
  return { [CodeParameter.BUCKET]: code.bucketName, [CodeParameter.KEY]: code.objectKey };
}

/** What one stage in another region needs to read its code there. */
export interface RegionalCodeGrant {
  readonly region: string;
  /** The stage's CloudFormation execution role (Lambda reads the code object with its credentials). */
  readonly cfnRole: iam.IRole;
}

/**
 * Lets each stage's CloudFormation role read the pipeline's replicated artifacts in its region: `s3:GetObject` on the
 * pipeline's folder of CDK's replication bucket (its policy too, since the role may be in a target account) and
 * `kms:Decrypt` with the replication key (its key policy names the role). Call after the pipeline's stages are added:
 * CDK creates the replication resources as the actions bind.
 */
export function grantRegionalCode(pipeline: codepipeline.Pipeline, artifactFolder: string, grants: readonly RegionalCodeGrant[]): void {
  const tooling = Stack.of(pipeline);
  for (const { region, cfnRole } of grants) {
    const support = pipeline.crossRegionSupport[region];
    if (!support) throw new Error(`no cross-region support for ${region}: a change-set action in ${region} should have created it`);
    const bucket = support.replicationBucket;
    const objects = bucket.arnForObjects(`${artifactFolder}/*`);
    const read = ['s3:GetObject', 's3:GetObjectVersion'];
    cfnRole.addToPrincipalPolicy(new iam.PolicyStatement({ actions: read, resources: [objects] }));
    // A role of the support stack's own account (a stage in the tooling account's other region) needs no resource
    // policy: its own policy is enough there, and its stack already refers to the bucket (CDK's grants to the action
    // role), so naming the role in the bucket's and key's policies would make the two stacks refer to each other.
    if (Stack.of(cfnRole).account === Stack.of(bucket).account) continue;
    bucket.addToResourcePolicy(new iam.PolicyStatement({ principals: [cfnRole], actions: read, resources: [objects] }));
    // The replication key has no name a target stack could write before it exists: any key of the tooling account in
    // that region, and only the replication key's policy admits the role.
    const keys = tooling.formatArn({ service: 'kms', region, resource: 'key', resourceName: '*', arnFormat: ArnFormat.SLASH_RESOURCE_NAME });
    cfnRole.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['kms:Decrypt'], resources: [keys] }));
    bucket.encryptionKey?.addToResourcePolicy(new iam.PolicyStatement({ principals: [cfnRole], actions: ['kms:Decrypt'], resources: ['*'] }));
  }
}
