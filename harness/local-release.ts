// What `npm run pipeline:local` releases, derived from a project's release configuration and its function folders,
// so that adding or removing a function changes the local release (and its test) without editing either.
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { resolveReleaseConfig, type ReleaseConfig, type ReleaseConfigInput } from '../infra/config';
import type { AwsEnv } from '../deploy-functions/core/names';
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
  /** The stages before `stage` (staging): each release is deployed and tested there first. */
  readonly earlierStages: readonly string[];
}

/** The tooling account and region of the local run: moto's default account, where the deployment functions run. */
export const LOCAL_TOOLING: AwsEnv = { partition: 'aws', account: '123456789012', region: 'us-east-1' };
/** The second account (and region) the local run puts `stage` in, as a team keeps production apart. */
export const LOCAL_PROD: AwsEnv = { partition: 'aws', account: '210987654321', region: 'eu-west-1' };

/**
 * The release configuration pipeline:local runs: the project's, with the stage it shifts traffic in (`plan.stage`)
 * moved to `LOCAL_PROD` — the account and region fields a team sets in its release.config.ts for the same result.
 */
export function localReleaseConfig(config: ReleaseConfig, plan: LocalReleasePlan): ReleaseConfig {
  return { ...config, stages: config.stages.map((stage) => (stage.name === plan.stage ? { ...stage, account: LOCAL_PROD.account, region: LOCAL_PROD.region } : stage)) };
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
  const earlierStages = config.stages.slice(0, config.stages.findIndex((s) => s.name === stage)).map((s) => s.name);
  return { functions, stage, alarmTarget, earlierStages };
}
