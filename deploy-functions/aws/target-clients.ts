// Stages in other accounts and regions (issue 10): their functions and alarms are named by ARN, and each is served by
// an SDK client for its region holding credentials of that environment's deployer role, assumed through STS.
import { randomBytes } from 'node:crypto';
// The SDK's STS client here; in the deployment functions' bundles, ./sts-assume-role.ts (AssumeRole alone, about 4.5 KB
// of zip less) stands in for it through an alias (DEPLOYMENT_ALIASES in scripts/lib/bundle.ts).
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { DeploymentError, ErrorCode } from '../core/errors';
import { DEFAULT_INSTALLATION, deployerRoleArn, envKey, type AwsEnv } from '../core/names';
import { clientConfig } from './client-config';
import { translateAwsError } from './errors';

/** How services refuse a call whose session expired: JSON and REST services, and query services (CloudWatch, STS, SNS). */
const EXPIRED_TOKEN: ReadonlySet<string> = new Set(['ExpiredTokenException', 'ExpiredToken']);

/** Credentials of an assumed deployer role, as the SDK takes them. */
export interface AssumedCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken: string;
  readonly expiration: Date;
}

/** What a client for a target environment is built from: its region and the deployer role's credentials. */
export interface TargetClientConfig {
  readonly region: string;
  readonly credentials: () => Promise<AssumedCredentials>;
}

/** The deployer role of a target environment could not be assumed: the message names the role and says what to check. */
export class DeployerRoleError extends DeploymentError {
  override readonly name = 'DeployerRoleError';
}

/** Options of `TargetClients`. */
export interface TargetClientsProps {
  /** The installation whose deployer roles are assumed (`<installation>-deployer-<region>`). @default 'lrp' */
  readonly installation?: string;
  /** Who assumes the roles, shown in CloudTrail of the target account (a short random id is appended). @default AWS_LAMBDA_FUNCTION_NAME, else 'lrp' */
  readonly sessionName?: string;
  /** The environment the caller's own credentials belong to: its resources are reached without a role. @default - set with `setHome` */
  readonly home?: Partial<AwsEnv>;
  /**
   * Finds the caller's own environment, once, the first time a resource is named by ARN (the CLI asks STS who the
   * operator is). @default - only `home` and `setHome`
   */
  readonly resolveHome?: () => Promise<Partial<AwsEnv>>;
  /**
   * The only environments that may be reached (the deployment functions': LRP_TARGET_ENVS); an ARN of any other is
   * refused, naming it, before STS is asked. @default - any (the CLI: the operator's credentials decide)
   */
  readonly targets?: readonly { readonly account: string; readonly region: string }[];
  /** STS, called with the caller's own credentials. @default - a client with short timeouts in the caller's region */
  readonly sts?: Pick<STSClient, 'send'>;
  /** Lifetime asked for the role sessions, in seconds (900 to the role's maximum). @default 900 */
  readonly durationSeconds?: number;
  /**
   * How long one AssumeRole may take in all, retries included, before it fails as unavailable (retryable): a caller
   * never waits on STS past its own timeouts (an answer dripping slowly defeats the socket's idle timeout).
   * @default 8_000 (the STS client's two attempts of 1 s to connect and 3 s to answer)
   */
  readonly assumeTimeoutMs?: number;
  /** Credentials are renewed this long before they expire. @default 360_000 (beyond the SDK's own 5-minute margin) */
  readonly refreshBeforeMs?: number;
  /** Called once with each client created for a target (to trace it, for example). @default - nothing */
  readonly onClient?: (client: object) => void;
  /** @default Date.now */
  readonly now?: () => number;
}

/**
 * Routes a resource to the client that may act on it: the caller's own client in its own environment, else a client
 * for the resource's region with the deployer role's credentials. Clients and credentials are made once per target
 * environment and kept by the warm container; credentials are renewed before they expire, and after a call is refused
 * for an expired token. Endpoints come only from the SDK's AWS_ENDPOINT_URL* variables.
 */
export class TargetClients {
  private home: Partial<AwsEnv>;
  private readonly installation: string;
  private readonly sessionName: string;
  private readonly sts: Pick<STSClient, 'send'>;
  private readonly now: () => number;
  private readonly credentials = new Map<string, { value: Promise<AssumedCredentials>; renewAt: number }>();
  /** The last credentials STS gave per environment: used while a renewal fails and they still hold. */
  private readonly lastGood = new Map<string, AssumedCredentials>();
  private readonly clients = new Map<string, object>();
  private homeResolved?: Promise<void>;

  constructor(private readonly props: TargetClientsProps = {}) {
    this.home = props.home ?? {};
    this.installation = props.installation ?? DEFAULT_INSTALLATION;
    this.sessionName = `${props.sessionName ?? process.env.AWS_LAMBDA_FUNCTION_NAME ?? 'lrp'}`.replace(/[^\w+=,.@-]/g, '-').slice(0, 47);
    this.sts = props.sts ?? new STSClient(clientConfig({ connectionTimeoutMs: 1_000, requestTimeoutMs: 3_000, maxAttempts: 2 }));
    this.now = props.now ?? Date.now;
  }

  /** Tells where the caller's own credentials act (from the Lambda context's function ARN, or the operator's identity). */
  setHome(home: Partial<AwsEnv>): void {
    this.home = { ...this.home, ...Object.fromEntries(Object.entries(home).filter(([, v]) => v)) };
  }

  /** Whether `env` is the caller's own environment (its own credentials reach it). An unknown home account is not. */
  isHome(env: AwsEnv): boolean {
    const region = this.home.region ?? process.env.AWS_REGION;
    return this.home.account === env.account && region === env.region;
  }

  /** Whether `env` is the caller's own environment, asking `resolveHome` first if it was given and not yet asked. */
  async isOwn(env: AwsEnv): Promise<boolean> {
    await this.homeEnv();
    return this.isHome(env);
  }

  /** The caller's own environment, as far as it is known (`resolveHome` is asked once). */
  async homeEnv(): Promise<Partial<AwsEnv>> {
    if (this.props.resolveHome) {
      this.homeResolved ??= this.props.resolveHome().then(
        (found) => this.setHome({ ...found, ...this.home }),
        () => undefined, // unknown: every ARN goes through its deployer role
      );
      await this.homeResolved;
    }
    return { ...this.home };
  }

  /**
   * Refuses a function ARN of the caller's own environment where only target environments are expected (the deployment
   * functions, given `targets`): the ledger knows such a function by its plain name, and one function under two names
   * would hold two locks.
   */
  async refuseOwnFunctionArn(functionArn: string, env: AwsEnv, name: string): Promise<void> {
    if (this.props.targets && (await this.isOwn(env))) {
      throw new DeployerRoleError(ErrorCode.INVALID_PARAMETERS, `functionName: ${functionArn} is in this account and region: name it ${name} (a function of the tooling environment is known by its name, a stage elsewhere by its ARN)`);
    }
  }

  /** The deployer role assumed for `env`. */
  roleOf(env: AwsEnv): string {
    return deployerRoleArn(env.partition, this.installation, env.account, env.region);
  }

  /**
   * The client of kind `kind` for `env` (undefined: the caller's own, `home`), made once with `make`; `call` runs with
   * it. A call refused for an expired token is made once more with renewed credentials.
   */
  async use<C extends object, T>(env: AwsEnv | undefined, kind: string, home: C, make: (config: TargetClientConfig) => C, call: (client: C) => Promise<T>): Promise<T> {
    if (!env || (await this.isOwn(env))) return call(home);
    const client = this.clientFor(env, kind, make);
    // Assumed first (or taken from the cache), so a role that cannot be assumed fails here, by name, before any call.
    await this.credentialsOf(env);
    try {
      return await call(client);
    } catch (error) {
      if (!EXPIRED_TOKEN.has((error as { name?: string })?.name ?? '')) throw error;
      this.forget(env);
      const renewed = this.clientFor(env, kind, make);
      await this.credentialsOf(env);
      return call(renewed);
    }
  }

  private clientFor<C extends object>(env: AwsEnv, kind: string, make: (config: TargetClientConfig) => C): C {
    if (this.home.partition && env.partition !== this.home.partition) {
      throw new DeployerRoleError(ErrorCode.INVALID_PARAMETERS, `${envKey(env)} is in partition ${env.partition}, but the deployment functions run in ${this.home.partition}: a role cannot be assumed across partitions`);
    }
    const { targets } = this.props;
    if (targets && !targets.some((t) => t.account === env.account && t.region === env.region)) {
      const known = targets.length ? targets.map(envKey).join(', ') : 'none';
      throw new DeployerRoleError(
        ErrorCode.INVALID_PARAMETERS,
        `${envKey(env)} is not a target environment of this installation (LRP_TARGET_ENVS: ${known}): give the stage that account and region in release.config.ts and deploy its target stack, or correct the ARN`,
      );
    }
    const key = `${kind}@${env.partition}/${envKey(env)}`;
    let client = this.clients.get(key) as C | undefined;
    if (!client) {
      client = make({ region: env.region, credentials: () => this.credentialsOf(env) });
      this.clients.set(key, client);
      this.props.onClient?.(client);
    }
    return client;
  }

  /** Forgets the credentials and clients of `env`: the next call assumes the role again. */
  forget(env: AwsEnv): void {
    const suffix = `@${env.partition}/${envKey(env)}`;
    this.credentials.delete(suffix);
    this.lastGood.delete(suffix);
    for (const key of [...this.clients.keys()]) if (key.endsWith(suffix)) this.clients.delete(key);
  }

  /**
   * The deployer role's credentials for `env`, assumed once and renewed `refreshBeforeMs` before they expire. A renewal
   * that fails while the last credentials hold for 30 s more keeps them, and STS is asked again 10 s later; otherwise
   * the failure is thrown and not kept (the next call asks again).
   */
  credentialsOf(env: AwsEnv): Promise<AssumedCredentials> {
    const key = `@${env.partition}/${envKey(env)}`;
    const cached = this.credentials.get(key);
    if (cached && this.now() < cached.renewAt) return cached.value;
    const previous = this.lastGood.get(key);
    const refreshBeforeMs = this.props.refreshBeforeMs ?? 360_000;
    const entry = { value: Promise.resolve(undefined as unknown as AssumedCredentials), renewAt: Number.POSITIVE_INFINITY };
    entry.value = this.assume(env).then(
      (credentials) => {
        this.lastGood.set(key, credentials);
        entry.renewAt = credentials.expiration.getTime() - refreshBeforeMs;
        return credentials;
      },
      (error: unknown) => {
        if (previous && previous.expiration.getTime() - this.now() > 30_000) {
          entry.renewAt = this.now() + 10_000;
          return previous;
        }
        if (this.credentials.get(key) === entry) this.credentials.delete(key);
        throw error;
      },
    );
    this.credentials.set(key, entry);
    return entry.value;
  }

  private async assume(env: AwsEnv): Promise<AssumedCredentials> {
    const role = this.roleOf(env);
    let output;
    const timeoutMs = this.props.assumeTimeoutMs ?? 8_000;
    const abort = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        abort.abort();
        reject(Object.assign(new Error(`no answer within ${timeoutMs} ms`), { name: 'TimeoutError' }));
      }, timeoutMs);
    });
    try {
      const command = new AssumeRoleCommand({ RoleArn: role, RoleSessionName: `${this.sessionName}-${randomBytes(4).toString('hex')}`, DurationSeconds: this.props.durationSeconds ?? 900 });
      output = await Promise.race([this.sts.send(command, { abortSignal: abort.signal }), deadline]);
    } catch (error) {
      const translated = translateAwsError(error, `AssumeRole ${role}`);
      const hint =
        translated.code === ErrorCode.AWS_ACCESS_DENIED
          ? `deploy the target stack in ${envKey(env)} (it creates the role and trusts the tooling account), and check this function's role may sts:AssumeRole it`
          : translated.code === ErrorCode.AWS_THROTTLED
            ? 'STS throttled the call; it is retried'
            : 'STS did not answer; the call is retried';
      throw new DeployerRoleError(translated.code, `cannot act in ${envKey(env)}: assuming the deployer role ${role} failed (${translated.message}); ${hint}`, { cause: error, context: { role, account: env.account, region: env.region } });
    } finally {
      clearTimeout(timer);
    }
    const c = output.Credentials;
    if (!c?.AccessKeyId || !c.SecretAccessKey || !c.SessionToken || !c.Expiration) {
      throw new DeployerRoleError(ErrorCode.AWS_ERROR, `cannot act in ${envKey(env)}: AssumeRole ${role} returned no credentials`, { context: { role } });
    }
    return { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.SessionToken, expiration: new Date(c.Expiration) };
  }
}

/** The environment of a Lambda function's own ARN (its context's `invokedFunctionArn`): where its own credentials act. */
export function envOfFunctionArn(invokedFunctionArn: string | undefined): Partial<AwsEnv> {
  const [, partition, , region, account] = (invokedFunctionArn ?? '').split(':');
  return { ...(partition ? { partition } : {}), ...(region ? { region } : {}), ...(account ? { account } : {}) };
}

/** A handler that first tells `targets` where it runs, from the invocation's context. */
export function runsAtHome<E, C extends { readonly invokedFunctionArn?: string } | undefined, R>(targets: TargetClients, handler: (event: E, context: C) => R): (event: E, context: C) => R {
  return (event, context) => {
    targets.setHome(envOfFunctionArn(context?.invokedFunctionArn));
    return handler(event, context);
  };
}
