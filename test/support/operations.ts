// The usual actors of the operations scenarios: one alias, a release's UserParameters, an operator, and shortcuts.
import type { OperatorDeps } from '../../cli/operations';
import { AwsCallError, ErrorCode } from '../../deploy-functions/core/errors';
import { USER_ALARM, type World } from './simulation';

export const REF = { functionName: 'orders-api-prod', alias: 'live' } as const;
export const MIN = 60_000;
/** A release of the candidate with a 30-minute bake window, watching the user alarm. */
export const params = (overrides: Record<string, unknown> = {}) => ({ ...REF, targetAlias: 'candidate', strategy: 'Canary10Percent5Minutes', alarms: [USER_ALARM], bakeMinutes: 30, ...overrides });
/** The CLI's dependencies, as the operator `name`. */
export const operator = (world: World, name = 'alice'): OperatorDeps => ({ lambda: world.lambda, cloudwatch: world.cloudwatch, ledger: world.ledger, clock: world.clock, operator: name });
export const live = (world: World) => world.lambda.routing(REF.functionName, REF.alias);
export const history = (world: World) => world.ledger.listDeployments(REF, 20);
export const addVersion = (world: World, version: string) => world.lambda.functions.get(REF.functionName)!.versions.set(version, `commit ${version.repeat(7)}`);
export const setCandidate = (world: World, version: string) => world.lambda.functions.get(REF.functionName)!.aliases.set('candidate', { version, weights: {}, revisionId: `cand-${version}` });

/** The next call of a ledger write is applied, but its answer is lost (a timeout after the commit). */
export function loseNextAnswer(ledger: World['ledger'], method: 'startDeployment'): void {
  const applied = ledger[method].bind(ledger);
  let lose = true;
  ledger[method] = async (...args) => {
    const result = await applied(...args);
    if (lose) {
      lose = false;
      throw new AwsCallError(ErrorCode.AWS_UNAVAILABLE, 'TransactWriteItems failed: TimeoutError (answer lost after the write was applied)');
    }
    return result;
  };
}
