// Several AWS accounts inside one moto server: the default account's clients use the `test` keys; another account's
// use keys from STS AssumeRole of a role in that account, which moto binds to that account (see ../shared/MACHINE.md).
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import type { AwsEnv } from '../deploy-functions/core/names';
import type { MotoServer } from './moto';
import { createMotoRole, trustPolicy } from './moto-iam';

/** SDK clients acting in one account and region of a moto server. */
export interface MotoAccount {
  readonly env: AwsEnv;
  readonly lambda: LambdaClient;
  readonly cloudwatch: CloudWatchClient;
  /** Creates an IAM role in this account; one that exists already is fine. */
  createRole(name: string, trustedPrincipal: Record<string, string>): Promise<void>;
}

/**
 * Clients for `env` on `moto`: with the default `test` keys when `env.account` is moto's default account, else with
 * keys of `roleName` in that account, assumed with the default keys (as a CDK deploy role would be in AWS).
 */
export async function motoAccount(moto: MotoServer, env: AwsEnv, options: { readonly defaultAccount: string; readonly roleName: string }): Promise<MotoAccount> {
  const base = { endpoint: moto.endpoint, region: env.region };
  let keys = { accessKeyId: 'test', secretAccessKey: 'test', sessionToken: undefined as string | undefined };
  if (env.account !== options.defaultAccount) {
    const sts = new STSClient({ ...base, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
    const { Credentials } = await sts.send(new AssumeRoleCommand({ RoleArn: `arn:${env.partition}:iam::${env.account}:role/${options.roleName}`, RoleSessionName: 'pipeline-local' }));
    keys = { accessKeyId: Credentials!.AccessKeyId!, secretAccessKey: Credentials!.SecretAccessKey!, sessionToken: Credentials!.SessionToken! };
  }
  const credentials = { accessKeyId: keys.accessKeyId, secretAccessKey: keys.secretAccessKey, ...(keys.sessionToken ? { sessionToken: keys.sessionToken } : {}) };
  return {
    env,
    lambda: new LambdaClient({ ...base, credentials }),
    cloudwatch: new CloudWatchClient({ ...base, credentials }),
    async createRole(name, trustedPrincipal) {
      await createMotoRole(moto.endpoint, credentials, name, trustPolicy(trustedPrincipal)).catch((error: unknown) => {
        throw new Error(`${env.account}: ${(error as Error).message}`, { cause: error });
      });
    },
  };
}
