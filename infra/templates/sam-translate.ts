import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import type { CfnTemplate } from './application-template';

/** Thrown when Python or the AWS SAM translator (it ships with cfn-lint) is missing, or the translation fails. */
export class SamTranslationError extends Error {
  override readonly name = 'SamTranslationError';
}

/**
 * Translates a SAM template into the plain CloudFormation that CloudFormation's SAM transform would deploy, offline,
 * with the AWS SAM translator (`pip install cfn-lint` brings it).
 */
export function translateSam(template: CfnTemplate, options: { readonly region: string; readonly parameters?: Readonly<Record<string, string>> }): CfnTemplate {
  const args = [join(import.meta.dirname, 'sam-translate.py'), options.region, ...Object.entries(options.parameters ?? {}).map(([k, v]) => `${k}=${v}`)];
  const run = spawnSync('python3', args, { input: JSON.stringify(template), encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (run.error) throw new SamTranslationError(`python3 is needed to translate SAM templates: ${run.error.message}`);
  if (run.status !== 0) {
    const detail = run.stderr.trim().split('\n').at(-1) ?? '';
    if (/ModuleNotFoundError/.test(detail)) throw new SamTranslationError(`the AWS SAM translator is missing (pip install cfn-lint): ${detail}`);
    throw new SamTranslationError(`SAM translation failed: ${detail}`);
  }
  return JSON.parse(run.stdout) as CfnTemplate;
}

/** Whether SAM templates can be translated here. */
export function samTranslatorAvailable(): boolean {
  return spawnSync('python3', ['-c', 'import samtranslator, cfnlint'], { stdio: 'ignore' }).status === 0;
}
