import { AwsCallError, DeploymentError, ErrorCode } from '../core/errors';

const THROTTLING = new Set(['ThrottlingException', 'Throttling', 'TooManyRequestsException', 'ProvisionedThroughputExceededException', 'RequestLimitExceeded', 'SlowDown', 'LimitExceededException']);
const ACCESS = new Set(['AccessDeniedException', 'AccessDenied', 'UnauthorizedOperation', 'UnrecognizedClientException', 'ExpiredTokenException', 'ExpiredToken', 'InvalidSignatureException', 'CredentialsProviderError']);
const NETWORK = new Set(['TimeoutError', 'RequestTimeout', 'ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EPIPE', 'ETIMEDOUT', 'ServiceUnavailable', 'ServiceUnavailableException', 'InternalFailure', 'InternalServerError', 'ServiceException']);

/** Translates an SDK error into a DeploymentError whose code says what kind of failure it was. */
export function translateAwsError(error: unknown, operation: string): DeploymentError {
  if (error instanceof DeploymentError) return error;
  const e = error as { name?: string; code?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  const name = e?.name ?? 'Error';
  const status = e?.$metadata?.httpStatusCode;
  const detail = `${operation} failed: ${name}${e?.message && e.message !== name ? `: ${e.message}` : ''}`;
  if (THROTTLING.has(name) || status === 429) return new AwsCallError(ErrorCode.AWS_THROTTLED, `${detail} (throttled)`, { cause: error });
  if (ACCESS.has(name) || status === 403) return new AwsCallError(ErrorCode.AWS_ACCESS_DENIED, `${detail} (check the function's IAM role)`, { cause: error });
  if (NETWORK.has(name) || NETWORK.has(e?.code ?? '') || (status !== undefined && status >= 500)) {
    return new AwsCallError(ErrorCode.AWS_UNAVAILABLE, `${detail} (service unavailable or unreachable)`, { cause: error });
  }
  return new AwsCallError(ErrorCode.AWS_ERROR, detail, { cause: error });
}
