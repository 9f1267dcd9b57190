import { GetAliasCommand, GetFunctionConfigurationCommand, InvokeCommand, LambdaClient, UpdateAliasCommand } from '@aws-sdk/client-lambda';
import { DeploymentError, ErrorCode, ResourceNotFoundError } from '../core/errors';
import type { InvocationResult, InvokePort, LambdaPort } from '../core/ports';
import type { AliasRouting } from '../core/types';
import { parseFunctionArn } from '../core/names';
import { clientConfig } from './client-config';
import { translateAwsError } from './errors';
import type { TargetClients } from './target-clients';

/** Created once per container and reused by warm invocations. */
export const lambdaClient = new LambdaClient(clientConfig());

/**
 * For invoking the functions under test: their own run time bounds the request (INVOKE_TIMEOUT_SECONDS, default 60),
 * and the SDK does not retry an invocation that may already have run.
 */
const invokeTimeouts = () => clientConfig({ requestTimeoutMs: Number(process.env.INVOKE_TIMEOUT_SECONDS || 60) * 1000, maxAttempts: 1 });
export const invokeClient = new LambdaClient(invokeTimeouts());

/**
 * Runs `call` with the client that may act on `functionName`: the given one, or for a function ARN in another account
 * or region, that environment's (through its deployer role). The ARN itself is passed on, so a client of the wrong
 * account could never act on a function of the same name there.
 */
async function onFunction<T>(targets: TargetClients | undefined, kind: 'lambda' | 'invoke', home: LambdaClient, functionName: string, call: (client: LambdaClient) => Promise<T>): Promise<T> {
  const remote = parseFunctionArn(functionName);
  if (!targets || !remote) return call(home);
  await targets.refuseOwnFunctionArn(functionName, remote.env, remote.name);
  const timeouts = kind === 'invoke' ? invokeTimeouts : clientConfig;
  return targets.use(remote.env, kind, home, (config) => new LambdaClient({ ...timeouts(), ...config }), call);
}

const notFound = (error: unknown) => (error as { name?: string })?.name === 'ResourceNotFoundException';

/** Lambda aliases and versions through the SDK. */
export class LambdaAdapter implements LambdaPort {
  /** `targets` serves function ARNs of other accounts and regions. @default - every call through `client` */
  constructor(
    private readonly client: LambdaClient = lambdaClient,
    private readonly targets?: TargetClients,
  ) {}

  private send<T>(functionName: string, call: (client: LambdaClient) => Promise<T>): Promise<T> {
    return onFunction(this.targets, 'lambda', this.client, functionName, call);
  }

  async getAlias(functionName: string, alias: string): Promise<AliasRouting> {
    try {
      const output = await this.send(functionName, (client) => client.send(new GetAliasCommand({ FunctionName: functionName, Name: alias })));
      return { version: output.FunctionVersion ?? '$LATEST', weights: output.RoutingConfig?.AdditionalVersionWeights ?? {}, revisionId: output.RevisionId };
    } catch (error) {
      if (notFound(error)) {
        const missingFunction = /function not found/i.test((error as Error).message ?? '');
        throw new ResourceNotFoundError(
          missingFunction ? ErrorCode.FUNCTION_NOT_FOUND : ErrorCode.ALIAS_NOT_FOUND,
          missingFunction ? `function ${functionName} does not exist` : `alias ${alias} of function ${functionName} does not exist`,
          { cause: error },
        );
      }
      throw translateAwsError(error, `GetAlias ${functionName}:${alias}`);
    }
  }

  async updateAlias(functionName: string, alias: string, routing: AliasRouting, options: { readonly expectedRevisionId?: string; readonly description?: string } = {}): Promise<AliasRouting> {
    try {
      const output = await this.send(functionName, (client) =>
        client.send(new UpdateAliasCommand({
          FunctionName: functionName,
          Name: alias,
          FunctionVersion: routing.version,
          RoutingConfig: { AdditionalVersionWeights: { ...routing.weights } },
          ...(options.expectedRevisionId ? { RevisionId: options.expectedRevisionId } : {}),
          // Who moved it, readable in the console and `aws lambda get-alias` (the limit is 256 characters).
          ...(options.description ? { Description: options.description.slice(0, 256) } : {}),
        })),
      );
      return { version: output.FunctionVersion ?? routing.version, weights: output.RoutingConfig?.AdditionalVersionWeights ?? {}, revisionId: output.RevisionId };
    } catch (error) {
      if ((error as { name?: string })?.name === 'PreconditionFailedException') {
        throw new DeploymentError(ErrorCode.ALIAS_CHANGED_EXTERNALLY, `alias ${functionName}:${alias} was changed by someone else meanwhile`, { cause: error });
      }
      if (notFound(error)) throw new ResourceNotFoundError(ErrorCode.ALIAS_NOT_FOUND, `alias ${functionName}:${alias} or version ${routing.version} does not exist`, { cause: error });
      throw translateAwsError(error, `UpdateAlias ${functionName}:${alias}`);
    }
  }

  async getVersion(functionName: string, version: string): Promise<{ version: string; description: string }> {
    try {
      const output = await this.send(functionName, (client) => client.send(new GetFunctionConfigurationCommand({ FunctionName: functionName, Qualifier: version })));
      return { version: output.Version ?? version, description: output.Description ?? '' };
    } catch (error) {
      if (notFound(error)) throw new ResourceNotFoundError(ErrorCode.VERSION_NOT_FOUND, `version ${version} of function ${functionName} does not exist`, { cause: error });
      throw translateAwsError(error, `GetFunctionConfiguration ${functionName}:${version}`);
    }
  }
}

/** Synchronous invocations of a qualified function through the SDK; an aborted `signal` cancels the HTTP request. */
export class LambdaInvoker implements InvokePort {
  /** `targets` serves function ARNs of other accounts and regions. @default - every call through `client` */
  constructor(
    private readonly client: LambdaClient = invokeClient,
    private readonly targets?: TargetClients,
  ) {}

  async invoke(functionName: string, qualifier: string, payload: string, options: { readonly signal?: AbortSignal } = {}): Promise<InvocationResult> {
    try {
      const command = new InvokeCommand({ FunctionName: functionName, Qualifier: qualifier, InvocationType: 'RequestResponse', Payload: new TextEncoder().encode(payload) });
      const output = await onFunction(this.targets, 'invoke', this.client, functionName, (client) => client.send(command, { abortSignal: options.signal }));
      return {
        ...(output.FunctionError ? { functionError: output.FunctionError } : {}),
        payload: output.Payload ? new TextDecoder().decode(output.Payload) : '',
        ...(output.ExecutedVersion ? { executedVersion: output.ExecutedVersion } : {}),
      };
    } catch (error) {
      if (options.signal?.aborted) throw new DeploymentError(ErrorCode.TIMED_OUT, `Invoke ${functionName}:${qualifier} abandoned: the caller's deadline arrived first`, { cause: error });
      if (notFound(error)) throw new ResourceNotFoundError(ErrorCode.FUNCTION_NOT_FOUND, `function ${functionName}:${qualifier} does not exist`, { cause: error });
      throw translateAwsError(error, `Invoke ${functionName}:${qualifier}`);
    }
  }
}
