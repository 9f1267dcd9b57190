// The operator CLI's real dependencies: SDK adapters whose clients honour AWS_REGION, AWS_PROFILE, credentials and
// AWS_ENDPOINT_URL. Imported only when a command talks to AWS, so `lrp --help` and `--version` load no SDK.
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { systemClock } from '../deploy-functions/core/ports';
import { CloudWatchAdapter, cloudWatchClient } from '../deploy-functions/aws/cloudwatch';
import { clientConfig } from '../deploy-functions/aws/client-config';
import { LambdaAdapter, lambdaClient } from '../deploy-functions/aws/lambda';
import { DynamoDbLedger } from '../deploy-functions/aws/ledger';
import { TargetClients } from '../deploy-functions/aws/target-clients';
import { partitionOfRegion, parseFunctionArn } from '../deploy-functions/core/names';
import { operatorIdentity } from './identity';
import type { OperatorDeps } from './operations';

/**
 * Adapters for `table`; the operator is the caller's AWS identity when the command records who acted. A function of
 * a stage in another account or region (named by ARN) is reached through that environment's deployer role, assumed
 * with the operator's own credentials; the operator's own account and region are asked of STS the first time.
 */
export async function awsDeps(table: string, needs: { readonly operator: boolean; readonly installation?: string } = { operator: false }): Promise<OperatorDeps> {
  const operator = needs.operator ? (await operatorIdentity()).operator : (process.env.USER ?? process.env.USERNAME ?? 'operator');
  const ledger = new DynamoDbLedger(table);
  const sts = new STSClient(clientConfig());
  const targets = new TargetClients({
    sts,
    sessionName: `lrp-cli-${operator.split('/').at(-1) ?? 'operator'}`,
    ...(needs.installation ? { installation: needs.installation } : {}),
    resolveHome: async () => {
      const [identity, region] = await Promise.all([sts.send(new GetCallerIdentityCommand({})), sts.config.region()]);
      return { account: identity.Account, region, partition: identity.Arn?.split(':')[1] ?? partitionOfRegion(region) };
    },
  });
  // How the ledger knows a function: its plain name in the operator's own account and region, its ARN elsewhere.
  const refOf = async (functionName: string) => {
    const remote = parseFunctionArn(functionName);
    return remote && (await targets.isOwn(remote.env)) ? remote.name : functionName;
  };
  return {
    lambda: new LambdaAdapter(lambdaClient, targets),
    cloudwatch: new CloudWatchAdapter(cloudWatchClient, targets),
    ledger,
    clock: systemClock,
    operator,
    knownAliases: () => ledger.knownAliases(),
    refOf,
    homeEnv: () => targets.homeEnv(),
  };
}
