// What `npm run pipeline:local` releases, derived from a project's release configuration and its function folders,
// so that adding or removing a function changes the local release (and its test) without editing either.
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { resolveReleaseConfig, type ReleaseConfig, type ReleaseConfigInput } from '../infra/config';
import { FunctionKind, discoverFunctions } from '../scripts/lib/functions';

/** The release configuration of the project at `root` (its `release.config.ts`), resolved with its defaults. */
export async function loadReleaseConfig(root: string): Promise<ReleaseConfig> {
  const module = (await import(pathToFileURL(join(root, 'release.config.ts')).href)) as { default: ReleaseConfigInput };
  return resolveReleaseConfig(module.default);
}

/** The local release: which functions, to which stage, and whose alarm fires during the second release. */
export interface LocalReleasePlan {
  /** Every configured function that has a folder under `functions/`, in configuration order. */
  readonly functions: readonly string[];
  /** The stage deployed to: the last one that shifts traffic (the last stage when none does). */
  readonly stage: string;
  /** The function released a second time with its error alarm going off mid-rollout: the first of `functions`. */
  readonly alarmTarget: string;
}

/** Plans the local release of the project at `root`; fails naming the configured functions when none has a folder. */
export function planLocalRelease(root: string, config: ReleaseConfig): LocalReleasePlan {
  const folders = new Set(discoverFunctions(root).filter((fn) => fn.kind === FunctionKind.APPLICATION).map((fn) => fn.name));
  const functions = config.functions.map((fn) => fn.name).filter((name) => folders.has(name));
  const [alarmTarget] = functions;
  if (alarmTarget === undefined) {
    throw new Error(`nothing to release: none of the configured functions (${config.functions.map((fn) => fn.name).join(', ')}) has a folder under functions/`);
  }
  const stage = (config.stages.findLast((s) => s.shiftTraffic) ?? config.stages.at(-1)!).name;
  return { functions, stage, alarmTarget };
}
