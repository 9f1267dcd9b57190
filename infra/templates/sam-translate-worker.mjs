// The thread that keeps one `sam-translate.py --serve` process for its Node process (see sam-translate.ts): Python and
// the SAM translator start once, not once per template. Each request carries a port for its answer and a flag the
// caller waits on, so the caller's translateSam stays synchronous. A process that died (a crash, the OOM killer) is
// replaced at the next request, and a request it took down unanswered is tried once more on the new one, so a dead
// translator never fails a template that is fine.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { parentPort } from 'node:worker_threads';

/** How many processes one request is written to before its failure is the answer. */
const ATTEMPTS = 2;
let python;

const answer = ({ port, flag }, text) => {
  port.postMessage(text);
  port.close();
  Atomics.store(flag, 0, 1);
  Atomics.notify(flag, 0);
};

function start(script) {
  let stderr = '';
  const child = spawn('python3', [script, '--serve'], { stdio: ['pipe', 'pipe', 'pipe'] });
  // Each process answers its own requests in order: a replacement's queue is never blamed for the old one's death.
  const waiting = [];
  let ended = false;
  const fail = (message) => {
    if (ended) return;
    ended = true;
    if (python?.child === child) python = undefined;
    for (const caller of waiting.splice(0)) {
      if (caller.attempts < ATTEMPTS) send(caller);
      else answer(caller, JSON.stringify({ failure: message }));
    }
  };
  child.on('error', (error) => fail(`python3 is needed to translate SAM templates: ${error.message}`));
  child.on('close', () => fail(stderr.trim().split('\n').at(-1) || 'the SAM translator exited'));
  child.stdin.on('error', () => undefined); // a dead child is reported by 'close'
  child.stderr.on('data', (chunk) => (stderr = (stderr + chunk).slice(-4000)));
  createInterface({ input: child.stdout }).on('line', (line) => {
    const caller = waiting.shift();
    if (caller) answer(caller, line);
  });
  return { child, waiting, alive: () => !ended && child.exitCode === null && child.signalCode === null };
}

function send(caller) {
  if (!python?.alive()) python = start(caller.script);
  caller.attempts++;
  python.waiting.push(caller);
  python.child.stdin.write(`${JSON.stringify(caller.request)}\n`);
}

parentPort.on('message', ({ script, request, port, flag }) => send({ script, request, port, flag, attempts: 0 }));
