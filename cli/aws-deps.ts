// The operator CLI's real dependencies: SDK adapters whose clients honour AWS_REGION, AWS_PROFILE, credentials and
// AWS_ENDPOINT_URL. Imported only when a command talks to AWS, so `lrp --help` and `--version` load no SDK.
import { systemClock } from '../deploy-functions/core/ports';
import { CloudWatchAdapter } from '../deploy-functions/aws/cloudwatch';
import { LambdaAdapter } from '../deploy-functions/aws/lambda';
import { DynamoDbLedger } from '../deploy-functions/aws/ledger';
import { operatorIdentity } from './identity';
import type { OperatorDeps } from './operations';

/** Adapters for `table`; the operator is the caller's AWS identity when the command records who acted. */
export async function awsDeps(table: string, needs: { readonly operator: boolean } = { operator: false }): Promise<OperatorDeps> {
  const operator = needs.operator ? (await operatorIdentity()).operator : (process.env.USER ?? process.env.USERNAME ?? 'operator');
  const ledger = new DynamoDbLedger(table);
  return { lambda: new LambdaAdapter(), cloudwatch: new CloudWatchAdapter(), ledger, clock: systemClock, operator, knownAliases: () => ledger.knownAliases() };
}
