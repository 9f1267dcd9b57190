// Stands in for `@aws-sdk/client-sns` in the deployment functions' bundles (the alias is in scripts/lib/bundle.ts,
// DEPLOYMENT_ALIASES): their one SNS call is Publish of a notice (sns.ts), and the SNS client with the query protocol
// and XML codec it alone needs is about 9 KB of each zip for it. This is that call alone, signed with SigV4, behind the
// same `new SNSClient(config).send(new PublishCommand(input))`, traced by xray.ts like any client. Tests and tools run
// the sources unbundled, with the SDK's client; test/deploy-functions/aws/signed-clients.test.ts publishes through
// SnsNotifier with this one against moto. Any other SNS command fails the bundle's build: it is not exported here.
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { SignedClient, xmlText, type ResponseMetadata, type SignedClientConfig } from './signed-request';

/** Publish's input, as far as the deployment functions use it. */
export interface PublishCommandInput {
  readonly TopicArn: string;
  readonly Message: string;
  readonly Subject?: string;
}

/** Publish's output, as the SDK shapes it. */
export interface PublishCommandOutput {
  readonly MessageId?: string;
  readonly $metadata: ResponseMetadata;
}

/** The one SNS command of the bundles. */
export class PublishCommand {
  constructor(readonly input: PublishCommandInput) {}
}

/** SNS for Publish only, at SNS's regional endpoint in the region's partition (or AWS_ENDPOINT_URL_SNS / AWS_ENDPOINT_URL). */
export class SNSClient extends SignedClient {
  constructor(config: SignedClientConfig) {
    super('SNSClient', config, defaultProvider);
  }

  /** Sends Publish; a refusal is thrown as the SDK throws it. */
  send(command: PublishCommand, options: { abortSignal?: AbortSignal } = {}): Promise<PublishCommandOutput> {
    return this.run('PublishCommand', command.input, async (headers) => {
      const { xml, $metadata } = await this.query('sns', { Action: 'Publish', Version: '2010-03-31' }, command.input, headers, options.abortSignal);
      const messageId = xmlText(xml, 'MessageId');
      return { ...(messageId ? { MessageId: messageId } : {}), $metadata };
    });
  }
}
