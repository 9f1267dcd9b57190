import { CodePipelineClient, GetJobDetailsCommand, GetPipelineExecutionCommand, PutJobFailureResultCommand, PutJobSuccessResultCommand } from '@aws-sdk/client-codepipeline';
import type { JobFailure, JobSuccess, PipelineJob, PipelinePort } from '../core/ports';
import { DeploymentError, ErrorCode } from '../core/errors';
import { clientConfig } from './client-config';
import { translateAwsError } from './errors';

/** Created once per container and reused by warm invocations. */
export const codePipelineClient = new CodePipelineClient(clientConfig());

/** CodePipeline's job result API through the SDK. */
export class CodePipelineAdapter implements PipelinePort {
  constructor(private readonly client: CodePipelineClient = codePipelineClient) {}

  async succeed(jobId: string, result: JobSuccess): Promise<void> {
    try {
      await this.client.send(
        new PutJobSuccessResultCommand({
          jobId,
          ...(result.continuationToken ? { continuationToken: result.continuationToken } : {}),
          // Output variables are only accepted on the final result.
          ...(result.outputVariables && !result.continuationToken ? { outputVariables: result.outputVariables } : {}),
          executionDetails: {
            summary: result.summary,
            ...(result.externalExecutionId ? { externalExecutionId: result.externalExecutionId } : {}),
            ...(result.percentComplete !== undefined ? { percentComplete: Math.round(result.percentComplete) } : {}),
          },
        }),
      );
    } catch (error) {
      throw translateResultError(error, `PutJobSuccessResult ${jobId}`);
    }
  }

  async jobDetails(jobId: string): Promise<PipelineJob | undefined> {
    try {
      const output = await this.client.send(new GetJobDetailsCommand({ jobId }));
      const data = output.jobDetails?.data;
      return {
        id: jobId,
        userParameters: data?.actionConfiguration?.configuration?.UserParameters,
        continuationToken: data?.continuationToken,
        ...(data?.pipelineContext?.pipelineName ? { pipelineName: data.pipelineContext.pipelineName } : {}),
        ...(data?.pipelineContext?.stage?.name ? { stage: data.pipelineContext.stage.name } : {}),
        inputArtifacts: (data?.inputArtifacts ?? []).flatMap((a) => (a.name && a.location?.s3Location?.bucketName && a.location.s3Location.objectKey ? [{ name: a.name, bucketName: a.location.s3Location.bucketName, objectKey: a.location.s3Location.objectKey }] : [])),
        ...(data?.artifactCredentials?.accessKeyId && data.artifactCredentials.secretAccessKey && data.artifactCredentials.sessionToken
          ? { artifactCredentials: { accessKeyId: data.artifactCredentials.accessKeyId, secretAccessKey: data.artifactCredentials.secretAccessKey, sessionToken: data.artifactCredentials.sessionToken } }
          : {}),
      };
    } catch (error) {
      if ((error as { name?: string })?.name === 'JobNotFoundException') return undefined;
      throw translateAwsError(error, `GetJobDetails ${jobId}`);
    }
  }

  async executionStatus(pipelineName: string, executionId: string): Promise<string | undefined> {
    try {
      const output = await this.client.send(new GetPipelineExecutionCommand({ pipelineName, pipelineExecutionId: executionId }));
      return output.pipelineExecution?.status;
    } catch (error) {
      const name = (error as { name?: string })?.name;
      if (name === 'PipelineExecutionNotFoundException' || name === 'PipelineNotFoundException') return undefined;
      throw translateAwsError(error, `GetPipelineExecution ${pipelineName} ${executionId}`);
    }
  }

  async fail(jobId: string, failure: JobFailure): Promise<void> {
    try {
      await this.client.send(
        new PutJobFailureResultCommand({
          jobId,
          failureDetails: { type: failure.type, message: failure.message, ...(failure.externalExecutionId ? { externalExecutionId: failure.externalExecutionId } : {}) },
        }),
      );
    } catch (error) {
      throw translateResultError(error, `PutJobFailureResult ${jobId}`);
    }
  }
}

/** A job that already has its final result (a re-delivered or duplicate invocation) is not an error to retry. */
function translateResultError(error: unknown, operation: string): DeploymentError {
  if ((error as { name?: string })?.name === 'InvalidJobStateException') {
    return new DeploymentError(ErrorCode.JOB_ALREADY_ENDED, `${operation}: the job already ended`, { cause: error });
  }
  return translateAwsError(error, operation);
}
