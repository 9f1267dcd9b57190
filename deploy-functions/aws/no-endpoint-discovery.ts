// Stands in for `@aws-sdk/middleware-endpoint-discovery` in the deployment functions' bundles (the alias is in
// scripts/lib/bundle.ts, DEPLOYMENT_ALIASES). The DynamoDB client resolves endpoint-discovery settings and makes an
// endpoint cache (with an LRU library) at construction, yet none of its commands consults them: no DynamoDB operation
// uses endpoint discovery in this SDK. That is about 8.5 KB minified (2.7 KB zipped) of every bundle holding the
// ledger. Should a command start to use it, its bundle fails to build: the plugin it would import is not exported here.

/** The setting the SDK reads from AWS_ENABLE_ENDPOINT_DISCOVERY, which nothing consults. */
export const NODE_ENDPOINT_DISCOVERY_CONFIG_OPTIONS = {
  environmentVariableSelector: () => undefined,
  configFileSelector: () => undefined,
  default: undefined,
};

/** The SDK's makes the endpoint cache; no command reads it, so the client's configuration is kept as given. */
export const resolveEndpointDiscoveryConfig = <T>(input: T): T => input;
