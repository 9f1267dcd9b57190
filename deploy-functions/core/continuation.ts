import { InvalidEventError } from './errors';
import type { RolloutCursor } from './rollout';

/** What a continuation token carries between invocations of one CodePipeline job. */
export interface ContinuationState {
  readonly deploymentId: string;
  readonly fromVersion: string;
  readonly toVersion: string;
  readonly cursor: RolloutCursor;
}

/** CodePipeline's limit on a continuation token's length. */
export const MAX_TOKEN_LENGTH = 2048;
const TOKEN_VERSION = 1;

/** Encodes the state as a compact base64url token; throws if it would exceed CodePipeline's limit. */
export function encodeContinuation(state: ContinuationState): string {
  const { cursor } = state;
  const compact = [TOKEN_VERSION, state.deploymentId, state.fromVersion, state.toVersion, cursor.stepIndex, cursor.stepStartedAt, cursor.startedAt, cursor.inconclusiveSince ?? null];
  const token = Buffer.from(JSON.stringify(compact)).toString('base64url');
  if (token.length > MAX_TOKEN_LENGTH) throw new Error(`continuation token of ${token.length} characters exceeds ${MAX_TOKEN_LENGTH}`);
  return token;
}

/** Decodes a token produced by `encodeContinuation`; anything else is an invalid event. */
export function decodeContinuation(token: string): ContinuationState {
  try {
    const value = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as unknown[];
    const [version, deploymentId, fromVersion, toVersion, stepIndex, stepStartedAt, startedAt, inconclusiveSince] = value;
    const isNumber = (n: unknown): n is number => typeof n === 'number' && Number.isFinite(n);
    if (
      version !== TOKEN_VERSION ||
      typeof deploymentId !== 'string' ||
      typeof fromVersion !== 'string' ||
      typeof toVersion !== 'string' ||
      !isNumber(stepIndex) ||
      !isNumber(stepStartedAt) ||
      !isNumber(startedAt) ||
      !(inconclusiveSince === null || isNumber(inconclusiveSince))
    ) {
      throw new Error('unexpected shape');
    }
    const cursor: RolloutCursor = { stepIndex, stepStartedAt, startedAt, ...(inconclusiveSince === null ? {} : { inconclusiveSince }) };
    return { deploymentId, fromVersion, toVersion, cursor };
  } catch (error) {
    throw new InvalidEventError(`continuationToken: not a token this function issued (${(error as Error).message})`, { cause: error });
  }
}
