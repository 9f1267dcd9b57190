import { existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ReleaseConfigSchema, resolveReleaseConfig, type ReleaseConfig } from '../../infra/config';
import { FunctionKind, type FunctionSource } from './functions';

/** How one function is bundled, from its entry in `release.config.ts`. */
export interface BuildSettings {
  /** The zip's size budget in KiB: the build fails above it. */
  readonly maxZipKiB: number;
  /** Leave `@aws-sdk/*` out of the bundle and use the SDK the Lambda runtime ships. */
  readonly externalAwsSdk: boolean;
}

/** The deployment functions' budget: they carry their AWS SDK clients. */
export const DEPLOYMENT_MAX_ZIP_KIB = 1024;

const functionFields = ReleaseConfigSchema.shape.functions.element.shape;
/** What a function that `release.config.ts` does not configure gets: the schema's defaults. */
export const DEFAULT_BUILD_SETTINGS: BuildSettings = {
  maxZipKiB: functionFields.maxZipKiB.parse(undefined),
  externalAwsSdk: functionFields.externalAwsSdk.parse(undefined),
};

/** The settings of each function: configured ones as configured, other application functions the defaults. */
export function buildSettingsFrom(config: Pick<ReleaseConfig, 'functions'> | undefined): (fn: FunctionSource) => BuildSettings {
  return (fn) => {
    if (fn.kind === FunctionKind.DEPLOYMENT) return { maxZipKiB: DEPLOYMENT_MAX_ZIP_KIB, externalAwsSdk: false };
    const configured = config?.functions.find((f) => f.name === fn.name);
    return configured ? { maxZipKiB: configured.maxZipKiB, externalAwsSdk: configured.externalAwsSdk } : DEFAULT_BUILD_SETTINGS;
  };
}

/** The settings of each function of the project at `root`, from its `release.config.ts` (defaults when it has none). */
export async function loadBuildSettings(root: string): Promise<(fn: FunctionSource) => BuildSettings> {
  const path = join(root, 'release.config.ts');
  if (!existsSync(path)) return buildSettingsFrom(undefined);
  const { default: input } = (await import(pathToFileURL(path).href)) as { default: unknown };
  return buildSettingsFrom(resolveReleaseConfig(input));
}

const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;

/**
 * Why a built zip is over its budget, naming the function, its size, its budget and the ways out; undefined when
 * it fits.
 */
export function budgetFailure(fn: FunctionSource, zip: { readonly bytes: number; readonly zipPath: string }, settings: BuildSettings, root: string): string | undefined {
  if (zip.bytes <= settings.maxZipKiB * 1024) return undefined;
  const over = `${fn.name}: ${relative(root, zip.zipPath)} is ${kib(zip.bytes)} (${zip.bytes} bytes), over its budget of ${settings.maxZipKiB} KiB`;
  if (fn.kind === FunctionKind.DEPLOYMENT) return `${over} (DEPLOYMENT_MAX_ZIP_KIB in scripts/lib/build-settings.ts); trim what it imports, or raise that budget`;
  const raise = `raise maxZipKiB for ${fn.name} in release.config.ts (functions[].maxZipKiB)`;
  return settings.externalAwsSdk
    ? `${over}. It already uses the runtime's AWS SDK (externalAwsSdk), so ${raise}, or trim what it imports (dist/${fn.name}/index.mjs.map lists every input)`
    : `${over}. Either ${raise}, or set externalAwsSdk: true there to leave @aws-sdk/* out of the bundle and use the SDK the Lambda runtime ships (see the README, "Adding a function")`;
}

/** The budget failures of one build, in function order: `results[i]` is the zip of `functions[i]`. */
export function budgetFailures(
  functions: readonly FunctionSource[],
  results: readonly { readonly bytes: number; readonly zipPath: string }[],
  settings: (fn: FunctionSource) => BuildSettings,
  root: string,
): string[] {
  return functions.flatMap((fn, index) => budgetFailure(fn, results[index]!, settings(fn), root) ?? []);
}
