import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { CaseFormat } from '../../deploy-functions/core/cases';

/** What a function's integration-test action runs: the `*.json` files of one folder of the build artifact, read as `format`. */
export interface CaseSource {
  /** The folder, relative to the project root (and to the build artifact's root). */
  readonly casesPath: string;
  readonly format: CaseFormat;
}

/** The folder of `functions/<name>/` holding each format's files. */
export const CASE_FOLDERS = { [CaseFormat.CASES]: 'integration', [CaseFormat.EVENTS]: 'events' } as const satisfies Record<CaseFormat, string>;

/** A function folder with nothing to test a deploy with, and what to add. */
export interface MissingCases {
  readonly missing: string;
}

/** The `*.json` files directly in `dir` (none when it is not a folder). */
function jsonFilesIn(dir: string): string[] {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) return [];
  return readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.json'))
    .map((entry) => entry.name)
    .sort();
}

/**
 * What a function folder gives its integration-test action: its integration cases (`integration/*.json`) when it has
 * any, else its events (`events/*.json`, as `sam init` writes them) as smoke cases, else what to add. Undefined when
 * `functions/<name>` does not exist (the template check reports that).
 */
export function caseSourceOf(root: string, name: string): CaseSource | MissingCases | undefined {
  const folder = join(root, 'functions', name);
  if (!existsSync(folder)) return undefined;
  for (const format of [CaseFormat.CASES, CaseFormat.EVENTS]) {
    if (jsonFilesIn(join(folder, CASE_FOLDERS[format])).length > 0) return { casesPath: `functions/${name}/${CASE_FOLDERS[format]}`, format };
  }
  return {
    missing:
      `functions/${name} has no integration case (integration/*.json) and no event (events/*.json), so a deploy has nothing to be tested with: ` +
      `add a case as functions/${name}/integration/<case>.json (see the README, "Integration test cases"), or at least an event the function is invoked with as functions/${name}/events/<event>.json (run as a smoke case)`,
  };
}

/** The `*.json` files of a case source, as paths relative to `root`. */
export const caseFilesOf = (root: string, source: CaseSource): string[] => jsonFilesIn(join(root, source.casesPath)).map((file) => `${source.casesPath}/${file}`);
