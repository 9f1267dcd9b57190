// `lrp`: see and steer releases from a terminal. Works against AWS or any endpoint in AWS_ENDPOINT_URL.
import { Command, CommanderError, Option } from 'commander';
import { DeploymentError, ErrorCode, InvalidParametersError, asDeploymentError } from '../deploy-functions/core/errors';
import { DEFAULT_LEDGER_TABLE } from '../deploy-functions/core/ledger';
import { systemClock, type AliasRef } from '../deploy-functions/core/ports';
import { CloudWatchAdapter } from '../deploy-functions/aws/cloudwatch';
import { LambdaAdapter } from '../deploy-functions/aws/lambda';
import { DynamoDbLedger } from '../deploy-functions/aws/ledger';
import { historyTable, statusTable } from './format';
import { aliasStatus, history, requestAction, rollback, type OperatorDeps } from './operations';
import { stageFunctionName } from '../deploy-functions/core/names';

/** Exit codes scripts can rely on. */
export const ExitCode = { OK: 0, FAILED: 1, USAGE: 2, NOT_FOUND: 3, CREDENTIALS: 4, UNREACHABLE: 5 } as const;

const NOT_FOUND: ReadonlySet<string> = new Set([ErrorCode.FUNCTION_NOT_FOUND, ErrorCode.ALIAS_NOT_FOUND, ErrorCode.VERSION_NOT_FOUND]);

/** Maps a failure to an exit code and a message that says what to do. */
export function explain(error: unknown): { code: number; message: string } {
  const failure = asDeploymentError(error);
  const cause = failure.cause as { name?: string } | undefined;
  if (cause?.name === 'CredentialsProviderError' || /Could not load credentials/i.test(failure.message)) {
    return { code: ExitCode.CREDENTIALS, message: 'no AWS credentials found: set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY' };
  }
  if (NOT_FOUND.has(failure.code)) return { code: ExitCode.NOT_FOUND, message: failure.message };
  if (failure.code === ErrorCode.AWS_ACCESS_DENIED) return { code: ExitCode.CREDENTIALS, message: failure.message };
  if (failure.code === ErrorCode.AWS_UNAVAILABLE) {
    const endpoint = process.env.AWS_ENDPOINT_URL ? ` (AWS_ENDPOINT_URL=${process.env.AWS_ENDPOINT_URL})` : '';
    return { code: ExitCode.UNREACHABLE, message: `cannot reach AWS${endpoint}: ${failure.message}` };
  }
  if (failure.code === ErrorCode.INVALID_PARAMETERS) return { code: ExitCode.USAGE, message: failure.message };
  return { code: ExitCode.FAILED, message: failure.message };
}

const FUNCTION_ARN = /^arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:([A-Za-z0-9-_]+)(?::([A-Za-z0-9-_$]+))?$/;

/** A function named by name or ARN, as its name (a qualifier in the ARN is dropped: the alias is `--alias`). */
export function functionName(value: string): string {
  return FUNCTION_ARN.exec(value)?.[1] ?? value;
}

/**
 * What `--to` names: a version number as it is; an alias (by name or ARN) resolved to the version it routes to, and
 * shown; anything else refused, naming why.
 */
export async function resolveVersion(deps: OperatorDeps, fn: string, value: string): Promise<{ version: string; resolvedFrom?: string }> {
  if (/^\d+$/.test(value)) return { version: value };
  let qualifier = value;
  const arn = FUNCTION_ARN.exec(value);
  if (arn) {
    if (arn[1] !== fn) throw new InvalidParametersError(`--to: ${value} is a version of ${arn[1]}, not of ${fn}`);
    if (!arn[2]) throw new InvalidParametersError(`--to: ${value} names no version or alias`);
    if (/^\d+$/.test(arn[2])) return { version: arn[2], resolvedFrom: value };
    qualifier = arn[2];
  }
  if (qualifier === '$LATEST') throw new InvalidParametersError('--to: $LATEST cannot be rolled back to; name a published version');
  if (!/^[A-Za-z0-9-_]+$/.test(qualifier)) throw new InvalidParametersError(`--to: "${value}" is neither a version number nor an alias`);
  const alias = await deps.lambda.getAlias(fn, qualifier);
  if (Object.values(alias.weights).some((w) => w > 0)) throw new InvalidParametersError(`--to: alias ${qualifier} routes to more than one version; name the version`);
  if (alias.version === '$LATEST') throw new InvalidParametersError(`--to: alias ${qualifier} points to $LATEST; name a published version`);
  return { version: alias.version, resolvedFrom: value };
}

/** The default functions of `lrp status`: every `<function>-<stage>` of the release configuration. */
async function configuredFunctions(): Promise<string[]> {
  const { default: config } = await import('../release.config');
  const stages = config.stages?.map((s) => s.name) ?? ['staging', 'prod'];
  return config.functions.flatMap((fn) => stages.map((stage) => stageFunctionName(fn.name, stage)));
}

/** Builds the CLI; `deps` is injectable so tests can point it anywhere. */
export function createProgram(makeDeps: (table: string) => OperatorDeps, out: (text: string) => void = (t) => process.stdout.write(`${t}\n`)): Command {
  const program = new Command('lrp')
    .description('See and steer Lambda releases: status, history, rollback, promote, abort')
    .addOption(new Option('--table <name>', 'ledger table').env('LEDGER_TABLE').default(DEFAULT_LEDGER_TABLE))
    .option('--alias <name>', 'alias the pipeline moves', 'live')
    .option('--json', 'print JSON for scripts', false)
    .showHelpAfterError()
    .exitOverride();
  const context = () => {
    const options = program.opts<{ table: string; alias: string; json: boolean }>();
    return { deps: makeDeps(options.table), alias: options.alias, json: options.json };
  };
  const print = (json: boolean, data: unknown, text: string) => out(json ? JSON.stringify(data, null, 2) : text);

  program
    .command('status [function]')
    .description('live alias version and weights, candidate, deployment in flight with step and time left, alarm states')
    .action(async (named: string | undefined) => {
      const { deps, alias, json } = context();
      const fn = named === undefined ? undefined : functionName(named);
      const names = fn ? [fn] : await configuredFunctions();
      const statuses = [];
      for (const name of names) {
        try {
          statuses.push(await aliasStatus(deps, { functionName: name, alias }));
        } catch (error) {
          // With no function named, a stage not deployed yet is not an error: say so and go on.
          if (fn || !NOT_FOUND.has(asDeploymentError(error).code)) throw error;
        }
      }
      print(json, statuses, statuses.length ? statusTable(statuses) : 'no configured function is deployed yet');
    });

  program
    .command('history <function>')
    .description('deployments of the function from the ledger, newest first')
    .option('-n, --limit <count>', 'how many', (v) => Number.parseInt(v, 10), 20)
    .action(async (name: string, options: { limit: number }) => {
      const { deps, alias, json } = context();
      const fn = functionName(name);
      await deps.lambda.getAlias(fn, alias);
      const records = await history(deps, { functionName: fn, alias }, options.limit);
      print(json, records, records.length ? historyTable(records) : `no deployments of ${fn}:${alias} recorded`);
    });

  program
    .command('rollback <function>')
    .description('put the alias fully on a version now (default: the last known-good one), stopping a deployment in flight')
    .option('--to <version>', 'version to go back to')
    .action(async (name: string, options: { to?: string }) => {
      const { deps, alias, json } = context();
      const fn = functionName(name);
      const to = options.to === undefined ? undefined : await resolveVersion(deps, fn, options.to);
      const result = await rollback(deps, { functionName: fn, alias }, to?.version);
      const resolved = to?.resolvedFrom ? `${to.resolvedFrom} is version ${to.version}; ` : '';
      print(json, { ...result, ...(to?.resolvedFrom ? { resolvedFrom: to.resolvedFrom } : {}) }, `${resolved}${fn}:${alias} now on version ${result.toVersion} (was ${result.fromVersion})${result.stoppedDeployment ? `; deployment ${result.stoppedDeployment} rolled back` : ''}`);
    });

  for (const [name, request, description] of [
    ['promote', 'PROMOTE', 'skip the remaining steps of the deployment in flight'],
    ['abort', 'ABORT', 'roll back the deployment in flight'],
  ] as const) {
    program
      .command(`${name} <function>`)
      .description(description)
      .action(async (fn: string) => {
        const { deps, alias, json } = context();
        const ref: AliasRef = { functionName: functionName(fn), alias };
        const result = await requestAction(deps, ref, request);
        print(json, result, `${name} requested for deployment ${result.deploymentId}; its shift-traffic function acts on it within 10 s`);
      });
  }
  return program;
}

/** Runs the CLI and returns the exit code. */
export async function run(argv: readonly string[], makeDeps: (table: string) => OperatorDeps, out?: (text: string) => void, err: (text: string) => void = (t) => process.stderr.write(`${t}\n`)): Promise<number> {
  const program = createProgram(makeDeps, out);
  program.configureOutput({ writeErr: (text) => err(text.trimEnd()) });
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return ExitCode.OK;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? ExitCode.OK : ExitCode.USAGE;
    const { code, message } = explain(error instanceof DeploymentError ? error : asDeploymentError(error));
    err(`lrp: ${message}`);
    return code;
  }
}

/** The real dependencies: SDK adapters whose clients honour AWS_REGION, credentials and AWS_ENDPOINT_URL. */
export function awsDeps(table: string): OperatorDeps {
  return { lambda: new LambdaAdapter(), cloudwatch: new CloudWatchAdapter(), ledger: new DynamoDbLedger(table), clock: systemClock, operator: process.env.USER ?? process.env.USERNAME ?? 'operator' };
}
