// The thread that keeps one `sam-translate.py --serve` process for its Node process (see sam-translate.ts): Python and
// the SAM translator start once, not once per template. Each request carries a port for its answer and a flag the
// caller waits on, so the caller's translateSam stays synchronous.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { parentPort } from 'node:worker_threads';

let python;
let stderr = '';
const waiting = [];

const answer = ({ port, flag }, text) => {
  port.postMessage(text);
  port.close();
  Atomics.store(flag, 0, 1);
  Atomics.notify(flag, 0);
};

function start(script) {
  stderr = '';
  const child = spawn('python3', [script, '--serve'], { stdio: ['pipe', 'pipe', 'pipe'] });
  const fail = (message) => {
    if (python === child) python = undefined;
    for (const caller of waiting.splice(0)) answer(caller, JSON.stringify({ failure: message }));
  };
  child.on('error', (error) => fail(`python3 is needed to translate SAM templates: ${error.message}`));
  child.on('close', () => fail(stderr.trim().split('\n').at(-1) || 'the SAM translator exited'));
  child.stdin.on('error', () => undefined); // a dead child is reported by 'exit'
  child.stderr.on('data', (chunk) => (stderr = (stderr + chunk).slice(-4000)));
  createInterface({ input: child.stdout }).on('line', (line) => {
    const caller = waiting.shift();
    if (caller) answer(caller, line);
  });
  return child;
}

parentPort.on('message', ({ script, request, port, flag }) => {
  python ??= start(script);
  waiting.push({ port, flag });
  python.stdin.write(`${JSON.stringify(request)}\n`);
});
