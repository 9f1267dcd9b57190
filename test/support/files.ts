import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';

/** Turns a CodeBuild/CodePipeline-style glob (`*` within a folder, `**` across folders, one level of `{a,b}`) into an anchored RegExp. */
export function globToRegExp(glob: string): RegExp {
  const source = glob
    .split('**')
    .map((part) =>
      part
        .replace(/[.+^$()|[\]\\]/g, '\\$&')
        .replace(/\*/g, '[^/]*')
        .replace(/\?/g, '[^/]')
        .replace(/\{([^{}]*)\}/g, (_, choices: string) => `(?:${choices.split(',').join('|')})`),
    )
    .join('.*');
  return new RegExp(`^${source}$`);
}

/** Every file below root except dependencies and outputs, as project-relative paths. */
export function gitTrackedOrPresentFiles(root: string): string[] {
  const skip = new Set(['node_modules', '.git', 'dist', 'cdk.out', 'reports', 'coverage']);
  const walk = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
      if (skip.has(entry.name)) return [];
      const path = join(dir, entry.name);
      return entry.isDirectory() ? walk(path) : [relative(root, path)];
    });
  return walk(root);
}
