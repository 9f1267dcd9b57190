// Stands in for `@aws-sdk/client-sts` in the deployment functions' bundles (the alias is in scripts/lib/bundle.ts,
// DEPLOYMENT_ALIASES): their one STS call is AssumeRole of a deployer role (target-clients.ts), and the STS client
// with its own signer is about 4.5 KB of each zip for it. This is that call alone, signed with SigV4, read from STS's
// XML answer, behind the same `new STSClient(config).send(new AssumeRoleCommand(input))`. Tests and tools run the
// sources unbundled, with the SDK's client; test/deploy-functions/aws/signed-clients.test.ts drives this one through
// TargetClients against moto. Any other STS command fails the bundle's build: it is not exported here.
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { SignedClient, xmlText, type ResponseMetadata, type SignedClientConfig } from './signed-request';

/** AssumeRole's input, as far as the deployment functions use it. */
export interface AssumeRoleCommandInput {
  readonly RoleArn: string;
  readonly RoleSessionName: string;
  readonly DurationSeconds?: number;
  readonly ExternalId?: string;
}

/** AssumeRole's output, as the SDK shapes it (`Credentials` absent if STS sent none). */
export interface AssumeRoleCommandOutput {
  readonly Credentials?: { readonly AccessKeyId: string; readonly SecretAccessKey: string; readonly SessionToken: string; readonly Expiration: Date };
  readonly $metadata: ResponseMetadata;
}

/** The one STS command of the bundles. */
export class AssumeRoleCommand {
  constructor(readonly input: AssumeRoleCommandInput) {}
}

/** STS for AssumeRole only, at STS's regional endpoint in the region's partition (or AWS_ENDPOINT_URL_STS / AWS_ENDPOINT_URL). */
export class STSClient extends SignedClient {
  constructor(config: SignedClientConfig) {
    super('STSClient', config, defaultProvider);
  }

  /** Sends AssumeRole; a refusal is thrown as the SDK throws it. */
  send(command: AssumeRoleCommand, options: { abortSignal?: AbortSignal } = {}): Promise<AssumeRoleCommandOutput> {
    return this.run('AssumeRoleCommand', command.input, async (headers) => {
      const { xml, $metadata } = await this.query('sts', { Action: 'AssumeRole', Version: '2011-06-15' }, command.input, headers, options.abortSignal);
      const [accessKeyId, secretAccessKey, sessionToken, expiration] = ['AccessKeyId', 'SecretAccessKey', 'SessionToken', 'Expiration'].map((tag) => xmlText(xml, tag));
      if (!accessKeyId || !secretAccessKey || !sessionToken || !expiration) return { $metadata };
      return { Credentials: { AccessKeyId: accessKeyId, SecretAccessKey: secretAccessKey, SessionToken: sessionToken, Expiration: new Date(expiration) }, $metadata };
    });
  }
}
