// Vitest global setup: runs once, before any test file, in the main process (workers inherit its environment).
import { join } from 'node:path';
import { ensurePythonTools } from '../../harness/python-tools';

/**
 * moto, cfn-lint and the AWS CLI: the machine's, else the project's pinned environment (.lrp/python, created once),
 * whose bin then leads PATH for every test.
 */
export default function setup(): void {
  ensurePythonTools({ root: join(import.meta.dirname, '..', '..'), log: (line) => console.log(`[python tools] ${line}`) });
}
