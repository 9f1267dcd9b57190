import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/** A throw-away project folder that tests write files into. */
export interface TempProject {
  readonly root: string;
  /** Writes `text` at `path` (relative to the root), creating folders. */
  write(path: string, text: string): void;
  /** Copies a file or folder into the project at `path`. */
  copy(from: string, path: string): void;
  /** Links this repository's node_modules into the project, so that its files resolve our dependencies from anywhere. */
  linkNodeModules(): void;
  remove(): void;
}

/**
 * A new empty project under the system temp folder, or under `parent` (pick one inside this repository when the
 * project's files must resolve this repository's node_modules).
 */
export function tempProject(prefix: string, parent = tmpdir()): TempProject {
  mkdirSync(parent, { recursive: true });
  const root = mkdtempSync(join(parent, `${prefix}-`));
  return {
    root,
    write: (path, text) => {
      mkdirSync(dirname(join(root, path)), { recursive: true });
      writeFileSync(join(root, path), text);
    },
    copy: (from, path) => cpSync(from, join(root, path), { recursive: true }),
    linkNodeModules: () => symlinkSync(join(import.meta.dirname, '..', '..', 'node_modules'), join(root, 'node_modules'), 'dir'),
    remove: () => rmSync(root, { recursive: true, force: true }),
  };
}
