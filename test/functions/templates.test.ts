import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cfnLint } from '../support/cfn-lint';
import { requireSamTranslator } from '../support/sam';
import { APPLICATION_CHECKS, PROJECT_ROOT, functionsUnderTest } from '../support/application-checks';

// Every application function the build discovers, or only LRP_FUNCTION's (the per-function build check sets it).
const functions = functionsUnderTest(PROJECT_ROOT);

// The checks judge the template the packager makes, which the SAM translator (shipped with cfn-lint) produces.
describe.runIf(requireSamTranslator('application template checks'))('application functions', () => {
  it(process.env.LRP_FUNCTION ? `checks ${process.env.LRP_FUNCTION} alone (LRP_FUNCTION)` : 'finds every function folder under functions/', () => {
    expect(functions.length).toBeGreaterThan(0);
  });

  for (const fn of functions) {
    describe(`${fn.name} template`, () => {
      for (const check of APPLICATION_CHECKS) {
        const skipped = check.skipReason?.(PROJECT_ROOT, fn);
        it.skipIf(skipped !== undefined)(skipped ? `${check.title} (skipped: ${skipped})` : check.title, () => check.run(PROJECT_ROOT, fn));
      }
    });
  }

  it('pass cfn-lint', () => {
    const lint = cfnLint(functions.map((fn) => join(PROJECT_ROOT, 'functions', fn.name, 'template.yaml')));
    if (lint) expect(lint).toEqual({ output: '', status: 0 });
  });
});
