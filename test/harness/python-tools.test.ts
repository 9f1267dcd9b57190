import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PINNED_PYTHON_PACKAGES, PROJECT_VENV, PYTHON_TOOLS_FOUND, PythonToolsError, PythonToolsSource, ensurePythonTools, pythonToolsFound, type CommandRunner } from '../../harness/python-tools';

/** A machine as scripted: which commands succeed; every call is recorded. */
function machine(answers: (command: string, args: readonly string[]) => number) {
  const calls: string[] = [];
  const run: CommandRunner = (command, args) => {
    calls.push([command, ...args].join(' '));
    return { status: answers(command, args), output: '' };
  };
  return { calls, run };
}
const emptyRoot = () => mkdtempSync(join(tmpdir(), 'lrp-python-'));
/** A project whose environment exists (its python is a file). */
function rootWithVenv() {
  const root = emptyRoot();
  mkdirSync(join(root, PROJECT_VENV, 'bin'), { recursive: true });
  writeFileSync(join(root, PROJECT_VENV, 'bin', 'python'), '');
  return root;
}

describe('the Python tools of the local run and the tests', () => {
  it('come from the machine when it has them: nothing is created or downloaded', () => {
    const root = emptyRoot();
    const { calls, run } = machine(() => 0);
    const env = { PATH: '/usr/bin' };
    expect(ensurePythonTools({ root, env, run, log: () => undefined })).toEqual({ source: PythonToolsSource.SYSTEM });
    expect(calls.filter((c) => c.includes('venv') || c.includes('pip'))).toEqual([]);
    expect(existsSync(join(root, '.lrp'))).toBe(false);
    expect(env.PATH).toBe('/usr/bin');
  });

  it('are installed once, pinned, into the project environment when the machine lacks them, saying so', () => {
    const root = emptyRoot();
    const venvPython = join(root, PROJECT_VENV, 'bin', 'python');
    let installed = false;
    const { calls, run } = machine((command, args) => {
      if (command === 'python3' && args[0] === '-c') return 1;
      if (command === 'python3' && args[1] === 'venv') return 0;
      if (command === venvPython && args.includes('pip')) {
        installed = true;
        return 0;
      }
      if (command === venvPython && args[0] === '-c') return installed ? 0 : 1;
      return 0;
    });
    const log: string[] = [];
    const env = { PATH: '/usr/bin' };
    expect(ensurePythonTools({ root, env, run, log: (line) => log.push(line) })).toEqual({ source: PythonToolsSource.CREATED, bin: join(root, PROJECT_VENV, 'bin') });
    expect(calls).toContain(`python3 -m venv ${join(root, PROJECT_VENV)}`);
    expect(calls).toContain(`${venvPython} -m pip install --disable-pip-version-check --progress-bar on ${PINNED_PYTHON_PACKAGES.join(' ')}`);
    expect(log.join('\n')).toMatch(/creating a project-local Python environment in \.lrp\/python[\s\S]*installing moto\[server\]==5\.2\.1, cfn-lint==1\.51\.0, awscli==1\.45\.11/);
    expect(env.PATH).toBe(`${join(root, PROJECT_VENV, 'bin')}:/usr/bin`);
  });

  it('are taken from an environment an earlier run created, without downloading again', () => {
    const root = rootWithVenv();
    const { calls, run } = machine((command, args) => (command === 'python3' && args[0] === '-c' ? 1 : 0));
    const env = { PATH: '/usr/bin' };
    expect(ensurePythonTools({ root, env, run, log: () => undefined }).source).toBe(PythonToolsSource.PROJECT);
    expect(calls.filter((c) => c.includes('pip') || c.includes('venv'))).toEqual([]);
    expect(env.PATH.split(':')[0]).toBe(join(root, PROJECT_VENV, 'bin'));
  });

  it('fail with what to do by hand when pip cannot install them (no PyPI), and can be switched off', () => {
    const root = rootWithVenv();
    const { run } = machine((command, args) => (args[0] === '-c' || args.includes('pip') ? 1 : 0));
    expect(() => ensurePythonTools({ root, env: {}, run, log: () => undefined })).toThrow(PythonToolsError);
    expect(() => ensurePythonTools({ root, env: {}, run, log: () => undefined })).toThrow(/pip could not install .* \(is PyPI reachable\?\).*install them yourself \(pip install "moto\[server\]==5\.2\.1"/);
    expect(ensurePythonTools({ root, env: { LRP_PYTHON_BOOTSTRAP: '0' }, run, log: () => undefined })).toEqual({ source: PythonToolsSource.MISSING });
  });

  it('are taken as found by the process that started this one, without starting Python again', () => {
    const { calls, run } = machine(() => 0);
    const parent = { PATH: '/usr/bin' };
    expect(ensurePythonTools({ root: emptyRoot(), env: parent, run, log: () => undefined }).source).toBe(PythonToolsSource.SYSTEM);
    const probes = calls.length;
    expect(probes).toBeGreaterThan(0);
    // A child (a vitest worker, `npm run …` in a copy of the project) inherits the parent's environment.
    const child = { ...parent };
    expect(pythonToolsFound(child)).toBe(true);
    expect(ensurePythonTools({ root: emptyRoot(), env: child, run, log: () => undefined })).toEqual({ source: PythonToolsSource.SYSTEM });
    expect(calls).toHaveLength(probes);
  });

  it("are taken from the parent's project environment only while its bin is on the inherited PATH", () => {
    const root = rootWithVenv();
    const bin = join(root, PROJECT_VENV, 'bin');
    const { calls, run } = machine((command, args) => (command === 'python3' && args[0] === '-c' ? 1 : 0));
    const parent = { PATH: '/usr/bin' };
    ensurePythonTools({ root, env: parent, run, log: () => undefined });
    const probes = calls.length;
    expect(ensurePythonTools({ root: emptyRoot(), env: { ...parent }, run, log: () => undefined })).toEqual({ source: PythonToolsSource.PROJECT, bin });
    expect(calls).toHaveLength(probes);
    // A PATH without that bin (the variable alone, set by hand or left over) is no evidence: the tools are looked for.
    const stray = { PATH: '/usr/bin', [PYTHON_TOOLS_FOUND]: bin };
    expect(pythonToolsFound(stray)).toBe(false);
    const asked = machine(() => 0);
    expect(ensurePythonTools({ root: emptyRoot(), env: stray, run: asked.run, log: () => undefined })).toEqual({ source: PythonToolsSource.SYSTEM });
    expect(asked.calls).toContain(`python3 -c import moto.server, flask, cfnlint, samtranslator`);
  });

  it('on this machine, come from the system', () => {
    const root = emptyRoot();
    // Asked for real: not as the global setup found them (its finding would answer without starting Python).
    const { [PYTHON_TOOLS_FOUND]: _found, ...env } = process.env;
    expect(ensurePythonTools({ root, env, log: () => undefined }).source).toBe(PythonToolsSource.SYSTEM);
    expect(existsSync(join(root, '.lrp'))).toBe(false);
  });
});
