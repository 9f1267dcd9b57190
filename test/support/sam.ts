import { pythonToolsFound } from '../../harness/python-tools';
import { samTranslatorAvailable } from '../../infra/templates/sam-translate';

/**
 * Decides whether a suite that translates SAM templates runs. In CI a missing translator (it ships with cfn-lint)
 * fails the run; elsewhere the suite is skipped with a loud message saying how to install it.
 */
export function requireSamTranslator(suite: string): boolean {
  // The global setup's check (test/support/global-setup.ts) imported the translator already, with the same python3.
  if (pythonToolsFound() || samTranslatorAvailable()) return true;
  const hint = `the AWS SAM translator is not installed: ${suite} needs it (pip install cfn-lint)`;
  if (process.env.CI === 'true') throw new Error(hint);
  console.warn(`\n!!! SKIPPING ${suite}: ${hint}\n`);
  return false;
}
