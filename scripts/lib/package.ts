import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { unzipSync } from 'fflate';
import { applicationTemplatePath, readApplicationTemplate, type CfnTemplate } from '../../infra/templates/application-template';
import { prepareApplication, type DeploymentPreferenceTakeover } from '../../infra/templates/prepare-application';
import { finishReleaseTemplate, packagedYaml } from '../../infra/templates/release-template';
import type { FunctionSource } from './functions';

/** The tool that uploads code and rewrites `CodeUri` to it: the SAM CLI where installed (CodeBuild's standard image), else the AWS CLI. */
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
  /** Region the SAM translator writes the template for. @default - `AWS_REGION`, else `AWS_DEFAULT_REGION` of `env` */
  readonly region?: string;
  /**
   * Folder the one packaged function's zip is unpacked into (emptied first): the build's `Code` artifact, which
   * CodePipeline zips again and replicates to each other region a stage deploys to. Only with exactly one function.
   * @default - not unpacked
   */
  readonly codeOutDir?: string;
}

/** What packaging wrote for one function. */
export interface PackageResult {
  readonly name: string;
  readonly tool: PackagerTool;
  /** The template with `CodeUri` rewritten to S3, for the CloudFormation deploy action. */
  readonly packagedTemplate: string;
  /** A CloudFormation template configuration file carrying the commit parameter and tag. */
  readonly templateConfiguration: string;
  /** What was done to the template on the way, one sentence each. */
  readonly notes: readonly string[];
  /** What was taken over from a CodeDeploy `DeploymentPreference`. @default - the template had none */
  readonly takeover?: DeploymentPreferenceTakeover;
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

/** The region the SAM translator writes for: the option, else `AWS_REGION`, else `AWS_DEFAULT_REGION`. */
function translationRegion(options: PackageOptions): string {
  const env = options.env ?? process.env;
  const region = options.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
  if (!region) throw new Error('No region to translate SAM templates for: pass --region or set AWS_REGION (CodeBuild sets it)');
  return region;
}

/**
 * Packages each application function's template into `<outDir>/<name>.packaged.yaml`, and nothing else: the template
 * as its team wrote it is prepared (`prepareApplication`: name, `candidate` alias, code, boundary, parameters, any
 * `DeploymentPreference` taken over), its code uploaded by the packager, translated from SAM into plain CloudFormation,
 * and every invoker pointed at `live` (`pointInvokersAtLive`). What CloudFormation deploys is exactly what was checked.
 */
export function packageFunctions(functions: readonly FunctionSource[], options: PackageOptions): PackageResult[] {
  if (options.codeOutDir !== undefined && functions.length !== 1) throw new Error(`--code-out unpacks one function's code; ${functions.length} were selected: name one with --only`);
  const tool = options.tool ?? detectPackager();
  const region = translationRegion(options);
  const outDir = options.outDir ?? join(options.root, PACKAGED_DIR);
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  // The intermediate templates (the prepared one, the one the packager uploaded) never reach the build's output.
  const workDir = mkdtempSync(join(tmpdir(), 'lrp-package-'));
  try {
    const results = functions.map((fn) => packageOne(fn, options, { tool, region, outDir, workDir }));
    if (options.codeOutDir !== undefined) unpackCode(join(options.root, 'dist', `${functions[0]!.name}.zip`), options.codeOutDir);
    return results;
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
}

/** Writes the files of the zip the packager uploaded into `dir` (emptied first): the same code, for the `Code` artifact. */
function unpackCode(zip: string, dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  for (const [name, contents] of Object.entries(unzipSync(readFileSync(zip)))) {
    if (name.endsWith('/')) continue;
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), contents);
  }
  mkdirSync(dir, { recursive: true });
}

/** Packages one function (see `packageFunctions`). */
function packageOne(fn: FunctionSource, options: PackageOptions, run: { tool: PackagerTool; region: string; outDir: string; workDir: string }): PackageResult {
  const { tool, region, outDir, workDir } = run;
  const source = readApplicationTemplate(options.root, fn.name);
  if (!source) throw new Error(`${fn.name}: no template at ${applicationTemplatePath(fn.name)}`);
  const zip = join(options.root, 'dist', `${fn.name}.zip`);
  if (!existsSync(zip)) throw new Error(`${fn.name}: dist/${fn.name}.zip is missing; run \`npm run build\` first`);
  const prepared = prepareApplication(source, { functionName: fn.name, codeUri: zip, handler: `index.${fn.exportName}` });
  const preparedFile = join(workDir, `${fn.name}.prepared.json`);
  const uploadedFile = join(workDir, `${fn.name}.uploaded.json`);
  writeFileSync(preparedFile, JSON.stringify(prepared.template, null, 2));
  const args = [
    ...(tool === 'aws' ? ['cloudformation'] : []),
    'package',
    '--template-file', preparedFile,
    '--s3-bucket', options.bucket,
    '--s3-prefix', `${options.prefix ?? 'functions'}/${fn.name}`,
    '--output-template-file', uploadedFile,
    '--use-json',
    ...(options.kmsKeyId ? ['--kms-key-id', options.kmsKeyId] : []),
  ];
  const packager = spawnSync(tool, args, { cwd: options.root, env: options.env ?? process.env, encoding: 'utf8' });
  if (packager.status !== 0) {
    throw new Error(`${fn.name}: \`${tool} ${args.join(' ')}\` failed: ${(packager.stderr || packager.stdout || packager.error?.message || '').trim()}`);
  }
  const released = finishReleaseTemplate(JSON.parse(readFileSync(uploadedFile, 'utf8')) as CfnTemplate, prepared, fn.name, region);
  const packagedTemplate = join(outDir, packagedTemplateFile(fn.name));
  writeFileSync(packagedTemplate, packagedYaml(released.template));
  const templateConfiguration = join(outDir, templateConfigurationFile(fn.name));
  writeFileSync(
    templateConfiguration,
    `${JSON.stringify({ Parameters: { CommitSha: options.commitSha }, Tags: { 'lrp:commit': options.commitSha } }, null, 2)}\n`,
  );
  return { name: fn.name, tool, packagedTemplate, templateConfiguration, notes: released.notes, ...(released.takeover ? { takeover: released.takeover } : {}) };
}
