// The Python tools the local run and the tests use — moto (the AWS emulator), cfn-lint with the AWS SAM translator,
// and the AWS CLI (`aws cloudformation package`) — from the machine when it has them, else from a project-local
// virtual environment created once, with pinned versions. Either way they are then found on PATH as `python3`,
// `cfn-lint` and `aws`, so every caller keeps spawning them by name.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';

/** What is installed into the project's environment: the versions tried together on this project's machines. */
export const PINNED_PYTHON_PACKAGES = ['moto[server]==5.2.1', 'cfn-lint==1.51.0', 'awscli==1.45.11'] as const;
/** The project-local environment, relative to the project root (git-ignored). */
export const PROJECT_VENV = join('.lrp', 'python');
/** Imports that prove the Python tools are there (cfn-lint brings the SAM translator). */
const PROBE = 'import moto.server, flask, cfnlint, samtranslator';
/** In the project environment, the AWS CLI is the pinned awscli package. */
const PROJECT_PROBE = `${PROBE}, awscli`;
/**
 * Where the tools were found, once a run has found them: `system`, or the project environment's `bin` (then on PATH).
 * Set in the environment it was given, so the processes started from it (vitest's workers, a child `npm run`, the
 * vitest a script runs) take the tools as found instead of starting Python again (each probe costs 0.5–2 s).
 */
export const PYTHON_TOOLS_FOUND = 'LRP_PYTHON_TOOLS_FOUND';

/** Where the tools came from. */
export const PythonToolsSource = {
  /** The machine's own `python3` has them: nothing was downloaded. */
  SYSTEM: 'system',
  /** The project's environment, created by an earlier run. */
  PROJECT: 'project',
  /** The project's environment, created and filled by this run. */
  CREATED: 'created',
  /** Bootstrapping is off (`LRP_PYTHON_BOOTSTRAP=0`) and the machine lacks them: callers skip or fail as before. */
  MISSING: 'missing',
} as const;
export type PythonToolsSource = (typeof PythonToolsSource)[keyof typeof PythonToolsSource];

/** How a command ran. */
export interface CommandResult {
  readonly status: number | null;
  readonly output: string;
}
/** Runs a command to its end; `shown` lets its output through to the terminal (pip's progress). */
export type CommandRunner = (command: string, args: readonly string[], options?: { readonly shown?: boolean }) => CommandResult;

const spawnRunner: CommandRunner = (command, args, options = {}) => {
  const run = spawnSync(command, args, { encoding: 'utf8', stdio: options.shown ? ['ignore', 'inherit', 'inherit'] : 'pipe' });
  return { status: run.error ? null : run.status, output: `${run.stdout ?? ''}${run.stderr ?? ''}${run.error ? run.error.message : ''}` };
};

export interface PythonToolsOptions {
  /** The project root. */
  readonly root: string;
  /** The environment whose PATH gains the project environment's `bin` when it is used. @default process.env */
  readonly env?: NodeJS.ProcessEnv;
  /** Says what happens (creating, installing). @default console.log */
  readonly log?: (line: string) => void;
  readonly run?: CommandRunner;
}

export interface PythonTools {
  readonly source: PythonToolsSource;
  /** The environment's `bin` folder, when the project environment is used. */
  readonly bin?: string;
}

/**
 * Whether an earlier ensurePythonTools, in this process or one that started it, found moto (with flask), cfn-lint and
 * the SAM translator: callers that would start Python only to ask the same need not.
 */
export function pythonToolsFound(env: NodeJS.ProcessEnv = process.env): boolean {
  const found = env[PYTHON_TOOLS_FOUND];
  return found === PythonToolsSource.SYSTEM || (!!found && (env.PATH ?? '').split(delimiter).includes(found));
}

/** Thrown when the environment cannot be created or filled; the message says how to install the tools by hand. */
export class PythonToolsError extends Error {
  override readonly name = 'PythonToolsError';
}

/**
 * Makes moto, cfn-lint and the AWS CLI available. Where the machine has them, nothing is downloaded. Otherwise the
 * project's environment (`.lrp/python`) is used, created with `python3 -m venv` and filled with the pinned versions
 * the first time, saying so; its `bin` is put first on `env.PATH`.
 */
export function ensurePythonTools(options: PythonToolsOptions): PythonTools {
  const env = options.env ?? process.env;
  const log = options.log ?? ((line: string) => console.log(line));
  const run = options.run ?? spawnRunner;
  const bin = join(options.root, PROJECT_VENV, 'bin');
  const python = join(bin, 'python');
  const useProject = () => {
    const path = env.PATH ?? '';
    if (!path.split(delimiter).includes(bin)) env.PATH = path ? `${bin}${delimiter}${path}` : bin;
    env[PYTHON_TOOLS_FOUND] = bin;
  };

  // Found by the process that started this one, with the PATH this one inherited.
  if (pythonToolsFound(env)) {
    const found = env[PYTHON_TOOLS_FOUND]!;
    return found === PythonToolsSource.SYSTEM ? { source: PythonToolsSource.SYSTEM } : { source: PythonToolsSource.PROJECT, bin: found };
  }

  // The machine's AWS CLI may be v2 (not a Python package) or the SAM CLI may package instead: either will do.
  const packager = run('aws', ['--version']).status === 0 || run('sam', ['--version']).status === 0;
  if (packager && run('python3', ['-c', PROBE]).status === 0) {
    env[PYTHON_TOOLS_FOUND] = PythonToolsSource.SYSTEM;
    return { source: PythonToolsSource.SYSTEM };
  }
  if (existsSync(python) && run(python, ['-c', PROJECT_PROBE]).status === 0) {
    useProject();
    return { source: PythonToolsSource.PROJECT, bin };
  }
  if (env.LRP_PYTHON_BOOTSTRAP === '0') return { source: PythonToolsSource.MISSING };

  const byHand = `install them yourself (pip install ${PINNED_PYTHON_PACKAGES.map((p) => `"${p}"`).join(' ')}), or set LRP_PYTHON_BOOTSTRAP=0 to skip what needs them`;
  log(`moto, cfn-lint or the AWS CLI is missing from python3: creating a project-local Python environment in ${PROJECT_VENV} (once)`);
  if (!existsSync(python)) {
    const created = run('python3', ['-m', 'venv', join(options.root, PROJECT_VENV)]);
    if (created.status !== 0) throw new PythonToolsError(`python3 -m venv ${PROJECT_VENV} failed (on Debian: apt install python3-venv): ${created.output.trim()}; or ${byHand}`);
  }
  log(`installing ${PINNED_PYTHON_PACKAGES.join(', ')} into ${PROJECT_VENV} (pip's progress follows)`);
  const installed = run(python, ['-m', 'pip', 'install', '--disable-pip-version-check', '--progress-bar', 'on', ...PINNED_PYTHON_PACKAGES], { shown: true });
  if (installed.status !== 0) throw new PythonToolsError(`pip could not install ${PINNED_PYTHON_PACKAGES.join(', ')} into ${PROJECT_VENV} (is PyPI reachable?): ${installed.output.trim() || `exit ${installed.status}`}; ${byHand}`);
  if (run(python, ['-c', PROJECT_PROBE]).status !== 0) throw new PythonToolsError(`${PROJECT_VENV} still lacks moto, cfn-lint or the AWS CLI after installing them; remove ${PROJECT_VENV} and run again, or ${byHand}`);
  log(`${PROJECT_VENV} is ready: later runs use it without downloading anything`);
  useProject();
  return { source: PythonToolsSource.CREATED, bin };
}
