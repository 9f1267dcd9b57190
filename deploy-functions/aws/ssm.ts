import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import type { ParameterPort } from '../core/ports';
import { clientConfig } from './client-config';
import { translateAwsError } from './errors';

/** Created once per container and reused by warm invocations. */
export const ssmClient = new SSMClient(clientConfig());

/** SSM Parameter Store through the SDK (SecureString values are decrypted). */
export class SsmParameters implements ParameterPort {
  constructor(private readonly client: SSMClient = ssmClient) {}

  async get(name: string): Promise<string | undefined> {
    try {
      const output = await this.client.send(new GetParameterCommand({ Name: name, WithDecryption: true }));
      return output.Parameter?.Value;
    } catch (error) {
      if ((error as { name?: string })?.name === 'ParameterNotFound') return undefined;
      throw translateAwsError(error, `GetParameter ${name}`);
    }
  }
}
