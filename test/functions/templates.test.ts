import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cfnLint } from '../support/cfn-lint';
import { requireSamTranslator } from '../support/sam';
import { APPLICATION_CHECKS, PROJECT_ROOT, functionsUnderTest } from '../support/application-checks';

const SAM_INIT_ROOT = join(PROJECT_ROOT, 'test', 'fixtures', 'sam-init-project');

// Every application function the build discovers, or only LRP_FUNCTION's (the per-function build check sets it).
const functions = functionsUnderTest(PROJECT_ROOT);

// The checks judge the template the packager makes, which the SAM translator (shipped with cfn-lint) produces.
describe.runIf(requireSamTranslator('application template checks'))('application functions', () => {
  it(process.env.LRP_FUNCTION ? `checks ${process.env.LRP_FUNCTION} alone (LRP_FUNCTION)` : 'finds every function folder under functions/', () => {
    expect(functions.length).toBeGreaterThan(0);
  });

  for (const fn of functions) {
    describe(`${fn.name} template`, () => {
      for (const check of APPLICATION_CHECKS) it(check.title, () => check.run(PROJECT_ROOT, fn));
    });
  }

  it('pass cfn-lint', () => {
    const lint = cfnLint(functions.map((fn) => join(PROJECT_ROOT, 'functions', fn.name, 'template.yaml')));
    if (lint) expect(lint).toEqual({ output: '', status: 0 });
  });
});

describe('the case check of a folder without integration cases', () => {
  const caseCheck = APPLICATION_CHECKS.find((check) => check.title.startsWith('ships valid integration cases'))!;
  const bare = mkdtempSync(join(tmpdir(), 'lrp-no-cases-'));
  afterAll(() => rmSync(bare, { recursive: true, force: true }));

  it('runs the events of a folder as `sam init` writes it as smoke cases against its handler', async () => {
    const [hello] = functionsUnderTest(SAM_INIT_ROOT, 'hello');
    await expect(caseCheck.run(SAM_INIT_ROOT, hello!)).resolves.toBeUndefined();
  });

  it('fails a folder with neither integration cases nor events, naming what to add', async () => {
    cpSync(join(SAM_INIT_ROOT, 'functions', 'hello'), join(bare, 'functions', 'hello'), { recursive: true, filter: (path) => !path.includes(`${join('hello', 'events')}`) });
    const [hello] = functionsUnderTest(bare, 'hello');
    await expect(caseCheck.run(bare, hello!)).rejects.toThrow(/functions\/hello has no integration case \(integration\/\*\.json\) and no event \(events\/\*\.json\).*functions\/hello\/integration\/<case>\.json/);
  });
});
