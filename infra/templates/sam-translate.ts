import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { MessageChannel, receiveMessageOnPort, Worker } from 'node:worker_threads';
import type { CfnTemplate } from './application-template';

/** Thrown when Python or the AWS SAM translator (it ships with cfn-lint) is missing, or the translation fails. */
export class SamTranslationError extends Error {
  override readonly name = 'SamTranslationError';
}

/** How long one translation may take before the translator is taken for stuck. */
const TRANSLATION_TIMEOUT_MS = 120_000;
const WORKER = Symbol.for('lrp.sam-translate.worker');
const SCRIPT = join(import.meta.dirname, 'sam-translate.py');

/** The process's translation thread (shared by every copy of this module, as test runners load one per file). */
function translationWorker(): Worker {
  const holder = globalThis as { [WORKER]?: Worker };
  if (!holder[WORKER]) {
    const worker = new Worker(new URL('./sam-translate-worker.mjs', import.meta.url));
    // Neither the thread nor its Python process keeps the process alive; Python ends when its stdin closes.
    worker.unref();
    worker.on('error', () => delete holder[WORKER]);
    holder[WORKER] = worker;
  }
  return holder[WORKER];
}

/**
 * Translates a SAM template into the plain CloudFormation that CloudFormation's SAM transform would deploy, offline,
 * with the AWS SAM translator (`pip install cfn-lint` brings it). One Python process serves every translation of this
 * process (a thread talks to it; this call waits for the answer), so the translator is imported once.
 */
export function translateSam(template: CfnTemplate, options: { readonly region: string; readonly parameters?: Readonly<Record<string, string>> }): CfnTemplate {
  const { port1, port2 } = new MessageChannel();
  const flag = new Int32Array(new SharedArrayBuffer(4));
  translationWorker().postMessage({ script: SCRIPT, request: { template, region: options.region, parameters: options.parameters ?? {} }, port: port2, flag }, [port2]);
  const waited = Atomics.wait(flag, 0, 0, TRANSLATION_TIMEOUT_MS);
  const received = receiveMessageOnPort(port1);
  port1.close();
  if (waited === 'timed-out' || !received) throw new SamTranslationError(`SAM translation gave no answer within ${TRANSLATION_TIMEOUT_MS / 1000} s`);
  const answer = JSON.parse(received.message as string) as { template?: CfnTemplate; error?: string; failure?: string };
  if (answer.template) return answer.template;
  const detail = answer.failure ?? answer.error ?? '';
  if (/ModuleNotFoundError/.test(detail)) throw new SamTranslationError(`the AWS SAM translator is missing (pip install cfn-lint): ${detail}`);
  if (answer.failure !== undefined && /python3 is needed/.test(detail)) throw new SamTranslationError(detail);
  throw new SamTranslationError(`SAM translation failed: ${detail}`);
}

/** Whether SAM templates can be translated here. */
export function samTranslatorAvailable(): boolean {
  return spawnSync('python3', ['-c', 'import samtranslator, cfnlint'], { stdio: 'ignore' }).status === 0;
}
