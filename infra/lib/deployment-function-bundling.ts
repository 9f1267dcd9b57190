import { join } from 'node:path';
import { deflateRawSync } from 'node:zlib';
import { AssetHashType, DockerImage } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { buildSync } from 'esbuild';
import { BUNDLE_FILE, esbuildOptions } from '../../scripts/lib/bundle';
import { FunctionKind, type FunctionSource } from '../../scripts/lib/functions';
import type { DeploymentFunction } from './release-plan';

/** Issue 13's target for a deployment function's zip, in KB (1000 bytes): the budget test and `bench:engine` hold it. */
export const DEPLOYMENT_ZIP_TARGET_KB = 150;

/**
 * The size of the zip the CDK uploads for a bundle: one entry deflated at zlib's default level, as the CDK CLI's zip
 * writer does, plus the entry's headers and the end record. (`npm run build`'s deterministic zip is about 3% larger.)
 */
export function deployedZipBytes(code: Uint8Array): number {
  const entryName = BUNDLE_FILE.length;
  return deflateRawSync(code).length + (30 + entryName) + (46 + entryName) + 22;
}

/** The handler of every deployment function's bundle. */
export const DEPLOYMENT_FUNCTION_HANDLER = `${BUNDLE_FILE.replace(/\.mjs$/, '')}.handler`;

/** A deployment function as the build knows it: `deploy-functions/<name>/handler.ts`, bundled as `lrp-<name>`. */
export function deploymentFunctionSource(name: DeploymentFunction): FunctionSource {
  const dir = join('deploy-functions', name);
  return { name: `lrp-${name}`, kind: FunctionKind.DEPLOYMENT, dir, entry: join(dir, 'handler.ts'), exportName: 'handler' };
}

/**
 * A deployment function's code, bundled at synth with the local esbuild and the very options `npm run build` and
 * `npm run bench:engine` use (`esbuildOptions` in scripts/lib/bundle.ts: the AWS SDK bundled at the lock file's
 * version, its Node credential chain replaced by the environment's), without the source map. The bundle's hash names
 * the asset, so unchanged code is not uploaded again.
 */
export function deploymentFunctionCode(root: string, name: DeploymentFunction): lambda.Code {
  const fn = deploymentFunctionSource(name);
  return lambda.Code.fromAsset(root, {
    assetHashType: AssetHashType.OUTPUT,
    bundling: {
      // Never run (bundling is local), but the CDK caches a bundling by its options, not by what tryBundle does:
      // naming the entry here keeps the four functions' bundles apart.
      command: ['esbuild', fn.entry],
      // Never pulled: local bundling either succeeds or throws, so Docker is not needed (nor tried).
      image: DockerImage.fromRegistry('lrp-local-esbuild-only'),
      local: {
        tryBundle(outputDir) {
          try {
            buildSync({ ...esbuildOptions(root, fn), outfile: join(outputDir, BUNDLE_FILE), sourcemap: false, metafile: false, write: true });
          } catch (error) {
            throw new Error(`${fn.name}: bundling ${fn.entry} failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
          }
          return true;
        },
      },
    },
  });
}
