// Stands in for `@aws-sdk/credential-provider-node` in the deployment functions' bundles (the alias is in
// infra/lib/deployment-function-bundling.ts): Lambda hands a function its execution role's credentials in environment
// variables, so the Node chain's other sources (shared ini files, SSO, processes, web identity, container and instance
// metadata) are dead weight there: about 110 KB of each bundle. Tests and tools run the sources unbundled, with the
// full chain. Credentials assumed for another account are passed to their clients explicitly and never come here.
import { fromEnv } from '@aws-sdk/credential-provider-env';

/** The SDK clients' default credential provider inside a deployment function: the environment's credentials only. */
export const defaultProvider = (init: Parameters<typeof fromEnv>[0] = {}) => {
  const provider = fromEnv(init);
  return async () => {
    try {
      return await provider();
    } catch (error) {
      const message = 'no AWS credentials in the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY): a deployment function bundle reads its credentials only from there, as Lambda sets them';
      throw Object.assign(new Error(message, { cause: error }), { name: 'CredentialsProviderError', tryNextLink: false });
    }
  };
};
