// `lrp`: see and steer releases from a terminal. Works against AWS or any endpoint in AWS_ENDPOINT_URL.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Command, CommanderError, Option } from 'commander';
import { DeploymentError, ErrorCode, InvalidParametersError, asDeploymentError } from '../deploy-functions/core/errors';
import type { AliasRef } from '../deploy-functions/core/ports';
import { historyTable, statusTable } from './format';
import { aliasStatus, history, requestAction, rollback, type OperatorDeps } from './operations';
import { WatchOutput, onlyInFlight, watchDeployment } from './watch';
import { DEFAULT_INSTALLATION, aliasLabel, checkedInstallation, functionArn, ledgerTableName, parseFunctionArn, partitionOfRegion, plainFunctionName, stageFunctionName } from '../deploy-functions/core/names';

/** Exit codes scripts can rely on. */
export const ExitCode = { OK: 0, FAILED: 1, USAGE: 2, NOT_FOUND: 3, CREDENTIALS: 4, UNREACHABLE: 5 } as const;

/** The CLI's version: set by the build (`scripts/build-cli.mjs`), else read from package.json (running from source). */
declare const __LRP_VERSION__: string | undefined;
export const VERSION: string =
  typeof __LRP_VERSION__ === 'string' ? __LRP_VERSION__ : (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

/**
 * Builds what a command needs for a ledger table. `needs.operator`: the command records who acted (rollback, promote,
 * abort), so the caller's identity is worth asking for.
 */
export type MakeDeps = (table: string, needs: { readonly operator: boolean; readonly installation?: string }) => OperatorDeps | Promise<OperatorDeps>;

const NOT_FOUND: ReadonlySet<string> = new Set([ErrorCode.FUNCTION_NOT_FOUND, ErrorCode.ALIAS_NOT_FOUND, ErrorCode.VERSION_NOT_FOUND]);

/** A failure as the CLI reports it: exit code, a stable error code for scripts, and a message that says what to do. */
export interface Explained {
  readonly exitCode: number;
  /** `USAGE` for a bad command line, `NO_CREDENTIALS`, else the deployment functions' ErrorCode (`FUNCTION_NOT_FOUND`, `AWS_UNAVAILABLE`, …). */
  readonly code: string;
  readonly message: string;
}

/** Maps a failure to an exit code and a message that says what to do. */
export function explain(error: unknown): Explained {
  const failure = asDeploymentError(error);
  const cause = failure.cause as { name?: string } | undefined;
  if (cause?.name === 'CredentialsProviderError' || /Could not load credentials/i.test(failure.message)) {
    return { exitCode: ExitCode.CREDENTIALS, code: 'NO_CREDENTIALS', message: 'no AWS credentials found: set AWS_PROFILE (or pass --profile), or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY' };
  }
  const as = (exitCode: number, message = failure.message) => ({ exitCode, code: failure.code, message });
  if (NOT_FOUND.has(failure.code)) return as(ExitCode.NOT_FOUND);
  if (failure.code === ErrorCode.AWS_ACCESS_DENIED) return as(ExitCode.CREDENTIALS);
  if (failure.code === ErrorCode.AWS_UNAVAILABLE) {
    const endpoint = process.env.AWS_ENDPOINT_URL ? ` (AWS_ENDPOINT_URL=${process.env.AWS_ENDPOINT_URL})` : '';
    return as(ExitCode.UNREACHABLE, `cannot reach AWS${endpoint}: ${failure.message}`);
  }
  if (failure.code === ErrorCode.INVALID_PARAMETERS) return as(ExitCode.USAGE);
  return as(ExitCode.FAILED);
}

const FUNCTION_ARN = /^(arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:([A-Za-z0-9-_]+))(?::([A-Za-z0-9-_$]+))?$/;

/**
 * A function named by name or ARN: a name as it is, an ARN without its qualifier (the alias is `--alias`). A stage in
 * another account or region is known by its ARN; `refOf` turns an ARN of the operator's own environment into its name.
 */
export function functionName(value: string): string {
  return FUNCTION_ARN.exec(value)?.[1] ?? value;
}

/**
 * The function as the ledger knows it (see OperatorDeps.refOf). A plain name the ledger has no record of, while it
 * knows a stage of that name elsewhere by ARN, is refused naming the ARN: otherwise `promote` or `abort` would answer
 * "nothing in flight" about a rollout that is moving, and `rollback` would look for the function in the wrong account.
 */
async function refOf(deps: OperatorDeps, value: string, alias?: string): Promise<string> {
  const fn = (await deps.refOf?.(functionName(value))) ?? functionName(value);
  if (alias === undefined || !deps.knownAliases || parseFunctionArn(fn) || (await deps.ledger.getState({ functionName: fn, alias }))) return fn;
  const elsewhere = (await deps.knownAliases()).filter((ref) => ref.alias === alias && parseFunctionArn(ref.functionName)?.name === fn).map((ref) => ref.functionName);
  if (elsewhere.length === 0) return fn;
  throw new InvalidParametersError(`${fn} is a stage in another account or region, known by its ARN: name it ${elsewhere.join(' or ')}`);
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
    if (arn[1] !== fn && arn[2] !== fn) throw new InvalidParametersError(`--to: ${value} is a version of ${arn[2]}, not of ${plainFunctionName(fn)}`);
    if (!arn[3]) throw new InvalidParametersError(`--to: ${value} names no version or alias`);
    if (/^\d+$/.test(arn[3])) return { version: arn[3], resolvedFrom: value };
    qualifier = arn[3];
  }
  if (qualifier === '$LATEST') throw new InvalidParametersError('--to: $LATEST cannot be rolled back to; name a published version');
  if (!/^[A-Za-z0-9-_]+$/.test(qualifier)) throw new InvalidParametersError(`--to: "${value}" is neither a version number nor an alias`);
  const alias = await deps.lambda.getAlias(fn, qualifier);
  if (Object.values(alias.weights).some((w) => w > 0)) throw new InvalidParametersError(`--to: alias ${qualifier} routes to more than one version; name the version`);
  if (alias.version === '$LATEST') throw new InvalidParametersError(`--to: alias ${qualifier} points to $LATEST; name a published version`);
  return { version: alias.version, resolvedFrom: value };
}

/**
 * The functions of the release configuration in `cwd` (every `<function>-<stage>`), when there is one and TypeScript
 * can be loaded (tsx, in a checkout with its devDependencies); otherwise undefined.
 */
async function configuredFunctions(deps: OperatorDeps, cwd = process.cwd()): Promise<string[] | undefined> {
  const path = join(cwd, 'release.config.ts');
  if (!existsSync(path)) return undefined;
  let config: { stages?: { name: string; account?: string; region?: string }[]; functions: { name: string }[] };
  try {
    const { tsImport } = await import('tsx/esm/api');
    config = ((await tsImport(pathToFileURL(path).href, import.meta.url)) as { default: typeof config }).default;
  } catch {
    return undefined;
  }
  const stages = config.stages ?? [{ name: 'staging' }, { name: 'prod' }];
  // A stage in another account or region is known by its function's ARN there (the operator's own fill the gaps).
  const home = stages.some((s) => s.account ?? s.region) ? ((await deps.homeEnv?.()) ?? {}) : {};
  return config.functions.flatMap((fn) =>
    stages.map((stage) => {
      const name = stageFunctionName(fn.name, stage.name);
      const account = stage.account ?? home.account;
      const region = stage.region ?? home.region;
      const remote = (stage.account ?? stage.region) !== undefined && account && region && (account !== home.account || region !== home.region);
      return remote ? functionArn({ partition: partitionOfRegion(region), account, region }, name) : name;
    }),
  );
}

/** Builds the CLI; `deps` is injectable so tests can point it anywhere. */
/** How a run is wired to its terminal; commands that end with their own exit code set `exitCode`. */
export interface RunSettings {
  /** Whether output goes to a terminal (redrawn in place by `status --watch`). @default process.stdout.isTTY */
  isTty?: boolean;
  /** How `status --watch` waits between reads. @default setTimeout */
  sleep?: (ms: number) => Promise<void>;
  exitCode?: number;
}

export function createProgram(makeDeps: MakeDeps, out: (text: string) => void = (t) => process.stdout.write(`${t}\n`), settings: RunSettings = {}): Command {
  const program = new Command('lrp')
    .description('See and steer Lambda releases: status, history, rollback, promote, abort')
    .version(VERSION, '-V, --version', 'print the version')
    .addOption(new Option('--installation <name>', 'the release pipeline installation: its ledger (<name>-ledger) and generated alarms (<name>/…)').env('LRP_INSTALLATION').default(DEFAULT_INSTALLATION))
    .addOption(new Option('--table <name>', 'ledger table (default: <installation>-ledger)').env('LEDGER_TABLE'))
    .option('--alias <name>', 'alias the pipeline moves', 'live')
    .option('--region <region>', 'AWS region (else AWS_REGION, or the profile\'s)')
    .option('--profile <name>', 'named profile of the shared AWS config and credentials files (else AWS_PROFILE)')
    .option('--json', 'print JSON for scripts, errors included', false)
    .showHelpAfterError()
    .exitOverride()
    .hook('preAction', () => {
      // The SDK's standard chain reads these when the clients are made, which is after this point.
      const { region, profile } = program.opts<{ region?: string; profile?: string }>();
      if (region !== undefined) process.env.AWS_REGION = region;
      if (profile !== undefined) process.env.AWS_PROFILE = profile;
    });
  const context = async (needs = { operator: false }) => {
    const options = program.opts<{ installation: string; table?: string; alias: string; json: boolean }>();
    const installation = checkedInstallation(options.installation, '--installation');
    const deps = await makeDeps(options.table ?? ledgerTableName(installation), { ...needs, installation });
    return { deps: { ...deps, installation }, alias: options.alias, json: options.json };
  };
  const print = (json: boolean, data: unknown, text: string) => out(json ? JSON.stringify(data, null, 2) : text);

  program
    .command('status [function]')
    .description('live alias version and weights, candidate, deployment in flight with step and time left, alarm states')
    .option('-w, --watch', 'follow the deployment in flight (or the next one) until it ends: exit 0 on success, 1 on rollback', false)
    .option('--interval <seconds>', 'seconds between reads with --watch', (v) => Number.parseFloat(v), 2)
    .action(async (named: string | undefined, options: { watch: boolean; interval: number }) => {
      const { deps, alias, json } = await context();
      const fn = named === undefined ? undefined : await refOf(deps, named);
      if (options.watch) {
        if (!(options.interval > 0)) throw new InvalidParametersError('--interval: a number of seconds above 0');
        const ref = fn ? { functionName: fn, alias } : await onlyInFlight(deps, alias);
        // Make sure it exists before waiting for it.
        await deps.lambda.getAlias(ref.functionName, ref.alias);
        const output = json ? WatchOutput.JSON : (settings.isTty ?? process.stdout.isTTY === true) ? WatchOutput.TERMINAL : WatchOutput.LINES;
        settings.exitCode = await watchDeployment(deps, ref, { output, write: out, intervalMs: options.interval * 1000, ...(settings.sleep ? { sleep: settings.sleep } : {}) });
        return;
      }
      let names = fn ? [fn] : await configuredFunctions(deps);
      if (names === undefined) {
        // Outside a checkout: what the ledger has seen released.
        names = ((await deps.knownAliases?.()) ?? []).filter((ref) => ref.alias === alias).map((ref) => ref.functionName);
        if (!json) out(`no release.config.ts here: the ${names.length} function(s) whose ${alias} alias the ledger knows`);
      }
      const statuses = [];
      for (const name of names) {
        try {
          statuses.push(await aliasStatus(deps, { functionName: name, alias }));
        } catch (error) {
          // With no function named, a stage not deployed yet is not an error: say so and go on.
          if (fn || !NOT_FOUND.has(asDeploymentError(error).code)) throw error;
        }
      }
      print(json, statuses, statuses.length ? statusTable(statuses) : 'no function is deployed yet');
    });

  program
    .command('history <function>')
    .description('deployments of the function from the ledger, newest first')
    .option('-n, --limit <count>', 'how many', (v) => Number.parseInt(v, 10), 20)
    .action(async (name: string, options: { limit: number }) => {
      const { deps, alias, json } = await context();
      const fn = await refOf(deps, name, alias);
      await deps.lambda.getAlias(fn, alias);
      const records = await history(deps, { functionName: fn, alias }, options.limit);
      print(json, records, records.length ? historyTable(records) : `no deployments of ${fn}:${alias} recorded`);
    });

  program
    .command('rollback <function>')
    .description('put the alias fully on a version now (default: the last known-good one), stopping a deployment in flight')
    .option('--to <version>', 'version to go back to')
    .action(async (name: string, options: { to?: string }) => {
      const { deps, alias, json } = await context({ operator: true });
      const fn = await refOf(deps, name, alias);
      const to = options.to === undefined ? undefined : await resolveVersion(deps, fn, options.to);
      const result = await rollback(deps, { functionName: fn, alias }, to?.version);
      const resolved = to?.resolvedFrom ? `${to.resolvedFrom} is version ${to.version}; ` : '';
      print(json, { ...result, ...(to?.resolvedFrom ? { resolvedFrom: to.resolvedFrom } : {}) }, `${resolved}${aliasLabel({ functionName: fn, alias })} now on version ${result.toVersion} (was ${result.fromVersion})${result.stoppedDeployment ? `; deployment ${result.stoppedDeployment} rolled back` : ''}`);
    });

  for (const [name, request, description] of [
    ['promote', 'PROMOTE', 'skip the remaining steps of the deployment in flight'],
    ['abort', 'ABORT', 'roll back the deployment in flight'],
  ] as const) {
    program
      .command(`${name} <function>`)
      .description(description)
      .action(async (fn: string) => {
        const { deps, alias, json } = await context({ operator: true });
        const ref: AliasRef = { functionName: await refOf(deps, fn, alias), alias };
        const result = await requestAction(deps, ref, request);
        print(json, result, `${name} requested for deployment ${result.deploymentId}; its shift-traffic function acts on it within 10 s`);
      });
  }
  return program;
}

/** Runs the CLI and returns the exit code. Under `--json`, a failure is printed to `out` as `{"error":{"code","message"}}`. */
export async function run(
  argv: readonly string[],
  makeDeps: MakeDeps,
  out: (text: string) => void = (t) => process.stdout.write(`${t}\n`),
  err: (text: string) => void = (t) => process.stderr.write(`${t}\n`),
  settings: RunSettings = {},
): Promise<number> {
  const json = argv.includes('--json');
  const program = createProgram(makeDeps, out, settings);
  // Commander's own messages (usage errors) go to stderr, unless --json asked for a JSON error instead.
  program.configureOutput({ writeOut: (text) => out(text.trimEnd()), writeErr: (text) => (json ? undefined : err(text.trimEnd())) });
  const fail = (failure: Explained) => {
    if (json) out(JSON.stringify({ error: { code: failure.code, message: failure.message } }));
    else err(`lrp: ${failure.message}`);
    return failure.exitCode;
  };
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return settings.exitCode ?? ExitCode.OK;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.exitCode === 0) return ExitCode.OK;
      return json ? fail({ exitCode: ExitCode.USAGE, code: 'USAGE', message: error.message.replace(/^error: /, '') }) : ExitCode.USAGE;
    }
    return fail(explain(error instanceof DeploymentError ? error : asDeploymentError(error)));
  }
}
