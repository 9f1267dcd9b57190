// Several AWS accounts inside one moto server: the default account's clients use the `test` keys; another account's
// use keys from STS AssumeRole of a role in that account, which moto binds to that account (see ../shared/MACHINE.md).
import { spawnSync } from 'node:child_process';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import type { AwsEnv } from '../deploy-functions/core/names';
import type { MotoServer } from './moto';

/** SDK clients acting in one account and region of a moto server, and the environment the AWS CLI needs for the same. */
export interface MotoAccount {
  readonly env: AwsEnv;
  readonly lambda: LambdaClient;
  readonly cloudwatch: CloudWatchClient;
  /** AWS_* variables that make the AWS CLI act in this account and region. */
  readonly cliEnv: Record<string, string>;
  /** Creates an IAM role in this account (the AWS CLI signs it); one that exists already is fine. */
  createRole(name: string, trustedPrincipal: Record<string, string>): void;
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
  const cliEnv = {
    ...moto.env,
    AWS_REGION: env.region,
    AWS_DEFAULT_REGION: env.region,
    AWS_ACCESS_KEY_ID: keys.accessKeyId,
    AWS_SECRET_ACCESS_KEY: keys.secretAccessKey,
    ...(keys.sessionToken ? { AWS_SESSION_TOKEN: keys.sessionToken } : {}),
  };
  return {
    env,
    lambda: new LambdaClient({ ...base, credentials }),
    cloudwatch: new CloudWatchClient({ ...base, credentials }),
    cliEnv,
    createRole(name, trustedPrincipal) {
      const trust = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: trustedPrincipal, Action: 'sts:AssumeRole' }] });
      const { AWS_SESSION_TOKEN: _none, ...withoutToken } = process.env;
      const role = spawnSync('aws', ['iam', 'create-role', '--role-name', name, '--assume-role-policy-document', trust], { env: { ...withoutToken, ...cliEnv }, encoding: 'utf8' });
      if (role.status !== 0 && !/EntityAlreadyExists/.test(role.stderr)) throw new Error(`could not create role ${name} in ${env.account}: ${role.stderr}`);
    },
  };
}
