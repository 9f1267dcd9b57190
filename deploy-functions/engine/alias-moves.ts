import { DeploymentError, ErrorCode } from '../core/errors';
import type { AliasRef, Clock, LambdaPort } from '../core/ports';
import type { AliasRouting } from '../core/types';
import { withRetries } from './retry';

/** Whether two routings send the same traffic to the same versions. */
export function sameRouting(a: AliasRouting, b: AliasRouting): boolean {
  const versions = new Set([...Object.keys(a.weights), ...Object.keys(b.weights)]);
  return a.version === b.version && [...versions].every((v) => Math.abs((a.weights[v] ?? 0) - (b.weights[v] ?? 0)) < 1e-9);
}

/** Whether the alias routes only to these versions (and to at least one of them). */
export function routesOnly(routing: AliasRouting, versions: readonly string[]): boolean {
  return versions.includes(routing.version) && Object.entries(routing.weights).every(([version, weight]) => weight === 0 || versions.includes(version));
}

/** A routing as people read it: `version 1 with 10 % on 2`. */
export function describeRouting(routing: AliasRouting): string {
  const weights = Object.entries(routing.weights).filter(([, w]) => w > 0).map(([version, weight]) => `${Math.round(weight * 1000) / 10} % on ${version}`);
  return `version ${routing.version}${weights.length ? ` with ${weights.join(', ')}` : ''}`;
}

/**
 * One alias update, conditional on the revision the caller last saw, retried on throttling. A conflict caused by the
 * caller's own earlier attempt (applied, but its answer lost) is recognised: the alias already routes as asked.
 */
export async function moveAlias(
  deps: { readonly lambda: LambdaPort; readonly clock: Clock },
  ref: AliasRef,
  routing: AliasRouting,
  options: {
    readonly expectedRevision?: string;
    readonly description: string;
    readonly attempts?: number;
    /** Runs before every attempt, retries included; throws to stop (e.g. the caller's lock is gone). */
    readonly beforeEachAttempt?: () => Promise<void>;
  },
): Promise<AliasRouting> {
  const { lambda, clock } = deps;
  const attempt = async () => {
    await options.beforeEachAttempt?.();
    return lambda.updateAlias(ref.functionName, ref.alias, routing, { expectedRevisionId: options.expectedRevision, description: options.description });
  };
  try {
    return await withRetries(clock, attempt, { attempts: options.attempts ?? 5 });
  } catch (error) {
    if (!(error instanceof DeploymentError) || error.code !== ErrorCode.ALIAS_CHANGED_EXTERNALLY) throw error;
    const current = await withRetries(clock, () => lambda.getAlias(ref.functionName, ref.alias));
    if (!sameRouting(current, routing)) throw error;
    return current;
  }
}
