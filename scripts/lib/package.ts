import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FunctionSource } from './functions';

/** The tool that uploads code and rewrites `CodeUri`: the SAM CLI where installed (CodeBuild's standard image), else the AWS CLI. */
export type PackagerTool = 'sam' | 'aws';

/** Options of one packaging run. */
export interface PackageOptions {
  readonly root: string;
  /** S3 bucket that receives the code; in the pipeline, its artifact bucket. */
  readonly bucket: string;
  /** Key prefix under which each function's code is uploaded. @default 'functions' */
  readonly prefix?: string;
  /**
   * KMS key (ARN or id) the code objects are encrypted with (SSE-KMS); in the pipeline, the artifact key. Without one,
   * the packager falls back to SSE-S3, which the artifact bucket's policy refuses under `functions/`.
   * @default - none
   */
  readonly kmsKeyId?: string;
  /**
   * Folder the packaged templates and template configurations are written to. It is emptied first, so it holds exactly
   * what this run packaged: the build ships the whole folder.
   * @default '<root>/dist/packaged'
   */
  readonly outDir?: string;
  /** Commit that built the code; written into each version's description through the `CommitSha` parameter. */
  readonly commitSha: string;
  /** Force a packager instead of detecting one. @default - `sam` when on PATH, else `aws` */
  readonly tool?: PackagerTool;
  /** Extra environment for the packager (endpoints, credentials). @default process.env */
  readonly env?: NodeJS.ProcessEnv;
}

/** What packaging wrote for one function. */
export interface PackageResult {
  readonly name: string;
  readonly tool: PackagerTool;
  /** The template with `CodeUri` rewritten to S3, for the CloudFormation deploy action. */
  readonly packagedTemplate: string;
  /** A CloudFormation template configuration file carrying the commit parameter and tag. */
  readonly templateConfiguration: string;
}

const onPath = (command: string): boolean => spawnSync(command, ['--version'], { stdio: 'ignore' }).status === 0;

/** Picks `sam` when installed, else `aws`; fails with the install hint when neither is. */
export function detectPackager(): PackagerTool {
  if (onPath('sam')) return 'sam';
  if (onPath('aws')) return 'aws';
  throw new Error('Neither the SAM CLI (`sam`) nor the AWS CLI (`aws`) is installed; install one of them to package templates');
}

/** The commit being built: CodeBuild's resolved source version, else the local git HEAD, else `unknown`. */
export function resolveCommitSha(root: string, env: NodeJS.ProcessEnv = process.env): string {
  const fromCodeBuild = env.CODEBUILD_RESOLVED_SOURCE_VERSION;
  if (fromCodeBuild && /^[0-9a-f]{7,40}$/i.test(fromCodeBuild)) return fromCodeBuild;
  try {
    return execFileSync('git', ['rev-parse', 'HEAD'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return 'unknown';
  }
}

/** Where the pipeline's build output keeps what packaging wrote (relative to the project root). */
export const PACKAGED_DIR = join('dist', 'packaged');

/** The packaged template of a function, relative to the packaging folder. */
export const packagedTemplateFile = (name: string) => `${name}.packaged.yaml`;
/** The template configuration (commit parameter and tag) of a function, relative to the packaging folder. */
export const templateConfigurationFile = (name: string) => `${name}.template-config.json`;

/** SAM-packages each application function's `template.yaml` into `<outDir>/<name>.packaged.yaml`, and nothing else. */
export function packageFunctions(functions: readonly FunctionSource[], options: PackageOptions): PackageResult[] {
  const tool = options.tool ?? detectPackager();
  const outDir = options.outDir ?? join(options.root, PACKAGED_DIR);
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  return functions.map((fn) => {
    const template = join(options.root, fn.dir, 'template.yaml');
    if (!existsSync(template)) throw new Error(`${fn.name}: no template at ${join(fn.dir, 'template.yaml')}`);
    if (!existsSync(join(options.root, 'dist', `${fn.name}.zip`))) throw new Error(`${fn.name}: dist/${fn.name}.zip is missing; run \`npm run build\` first`);
    const packagedTemplate = join(outDir, packagedTemplateFile(fn.name));
    const args = [
      ...(tool === 'aws' ? ['cloudformation'] : []),
      'package',
      '--template-file', template,
      '--s3-bucket', options.bucket,
      '--s3-prefix', `${options.prefix ?? 'functions'}/${fn.name}`,
      '--output-template-file', packagedTemplate,
      ...(options.kmsKeyId ? ['--kms-key-id', options.kmsKeyId] : []),
    ];
    const run = spawnSync(tool, args, { cwd: options.root, env: options.env ?? process.env, encoding: 'utf8' });
    if (run.status !== 0) {
      throw new Error(`${fn.name}: \`${tool} ${args.join(' ')}\` failed: ${(run.stderr || run.stdout || run.error?.message || '').trim()}`);
    }
    const templateConfiguration = join(outDir, templateConfigurationFile(fn.name));
    writeFileSync(
      templateConfiguration,
      `${JSON.stringify({ Parameters: { CommitSha: options.commitSha }, Tags: { 'lrp:commit': options.commitSha } }, null, 2)}\n`,
    );
    return { name: fn.name, tool, packagedTemplate, templateConfiguration };
  });
}
