import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { unzipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCfnYaml } from '../../infra/templates/cfn-yaml';
import { bundleFunctions } from '../../scripts/lib/bundle';
import { FunctionKind, discoverFunctions } from '../../scripts/lib/functions';
import { packageFunctions } from '../../scripts/lib/package';
import { requireMoto, startMoto, type MotoServer } from '../../harness/moto';

const root = join(import.meta.dirname, '..', '..');
const applications = discoverFunctions(root).filter((fn) => fn.kind === FunctionKind.APPLICATION);

describe.runIf(requireMoto('packaging test'))('package: SAM templates to S3 (against moto)', () => {
  let moto: MotoServer;
  let s3: S3Client;
  let keyArn: string;
  // Never the repository's dist/: what tests package must not end up in a build's output.
  const outDir = () => mkdtempSync(join(tmpdir(), 'lrp-packaged-'));
  beforeAll(async () => {
    moto = await startMoto();
    await bundleFunctions(applications, { root });
    const client = { endpoint: moto.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } };
    s3 = new S3Client({ ...client, forcePathStyle: true });
    await s3.send(new CreateBucketCommand({ Bucket: 'artifacts' }));
    keyArn = execFileSync('aws', ['kms', 'create-key', '--query', 'KeyMetadata.Arn', '--output', 'text'], { env: { ...process.env, ...moto.env }, encoding: 'utf8' }).trim();
  }, 120_000);
  afterAll(() => moto?.stop());

  it('uploads each zip encrypted with the artifact key, and writes plain CloudFormation deploying it, with the commit as a parameter', async () => {
    const results = packageFunctions(applications, { root, bucket: 'artifacts', commitSha: 'abc1234', kmsKeyId: keyArn, outDir: outDir(), tool: 'aws', env: { ...process.env, ...moto.env }, region: 'eu-central-1' });
    for (const result of results) {
      const template = parseCfnYaml(readFileSync(result.packagedTemplate, 'utf8')) as { Transform?: unknown; Parameters: Record<string, { Default: string }>; Resources: Record<string, { Type: string; Properties: { Code?: unknown; Handler?: string; Name?: string } }> };
      expect(template.Transform, `${result.name}: translated`).toBeUndefined();
      const fn = Object.values(template.Resources).find((r) => r.Type === 'AWS::Lambda::Function')!;
      // The code location is two parameters whose defaults are the upload (a stage in another region passes its copy).
      expect(fn.Properties.Code, result.name).toEqual({ S3Bucket: { Ref: 'ReleaseCodeBucket' }, S3Key: { Ref: 'ReleaseCodeKey' } });
      expect(template.Parameters.ReleaseCodeBucket!.Default, result.name).toBe('artifacts');
      const match = /^(functions\/[\w-]+\/\w+)$/.exec(template.Parameters.ReleaseCodeKey!.Default);
      expect(match, `${result.name} S3Key ${template.Parameters.ReleaseCodeKey!.Default}`).not.toBeNull();
      expect(fn.Properties.Handler).toBe(`index.${applications.find((a) => a.name === result.name)!.exportName}`);
      expect(Object.values(template.Resources).filter((r) => r.Type === 'AWS::Lambda::Alias').map((r) => r.Properties.Name).sort()).toEqual(['candidate', 'live']);
      const head = await s3.send(new HeadObjectCommand({ Bucket: 'artifacts', Key: match![1] }));
      expect({ sse: head.ServerSideEncryption, key: head.SSEKMSKeyId }, result.name).toEqual({ sse: 'aws:kms', key: keyArn });
      expect(JSON.parse(readFileSync(result.templateConfiguration, 'utf8'))).toEqual({ Parameters: { CommitSha: 'abc1234' }, Tags: { 'lrp:commit': 'abc1234' } });
    }
  });

  it('unpacks the one packaged function\'s uploaded zip into the code folder, for the build\'s Code artifact', () => {
    const [only] = applications;
    const codeOutDir = join(outDir(), 'code');
    packageFunctions([only!], { root, bucket: 'artifacts', commitSha: 'abc1234', outDir: outDir(), codeOutDir, tool: 'aws', env: { ...process.env, ...moto.env }, region: 'eu-central-1' });
    const zipped = unzipSync(readFileSync(join(root, 'dist', `${only!.name}.zip`)));
    expect(readdirSync(codeOutDir)).toEqual(Object.keys(zipped));
    for (const [name, contents] of Object.entries(zipped)) expect(readFileSync(join(codeOutDir, name)).equals(Buffer.from(contents)), name).toBe(true);
    expect(() => packageFunctions(applications, { root, bucket: 'artifacts', commitSha: 'x', outDir: outDir(), codeOutDir, tool: 'aws', env: { ...process.env, ...moto.env }, region: 'eu-central-1' })).toThrow(/--code-out unpacks one function's code; \d+ were selected: name one with --only/);
  });

  it('leaves in its folder exactly the templates of this run, never those of an earlier one', () => {
    const dir = outDir();
    const env = { ...process.env, ...moto.env, AWS_REGION: 'eu-central-1' };
    packageFunctions(applications, { root, bucket: 'artifacts', commitSha: 'abc1234', outDir: dir, tool: 'aws', env });
    expect(readdirSync(dir)).toHaveLength(applications.length * 2);
    const [only] = applications;
    packageFunctions([only!], { root, bucket: 'artifacts', commitSha: 'abc1234', outDir: dir, tool: 'aws', env });
    expect(readdirSync(dir).sort()).toEqual([`${only!.name}.packaged.yaml`, `${only!.name}.template-config.json`]);
  });

  it('fails with a clear message when the bucket does not exist', () => {
    expect(() => packageFunctions(applications.slice(0, 1), { root, bucket: 'missing-bucket', commitSha: 'x', outDir: outDir(), tool: 'aws', env: { ...process.env, ...moto.env }, region: 'eu-central-1' })).toThrow(
      /aws cloudformation package.*failed/s,
    );
  });

  it('refuses to translate without a region, saying how to give one', () => {
    const env = { ...process.env, ...moto.env, AWS_REGION: '', AWS_DEFAULT_REGION: '' };
    expect(() => packageFunctions(applications.slice(0, 1), { root, bucket: 'artifacts', commitSha: 'x', outDir: outDir(), tool: 'aws', env })).toThrow(/No region to translate SAM templates for: pass --region or set AWS_REGION/);
  });

  it('the npm script refuses to run without a bucket', () => {
    const env = { ...process.env, ...moto.env, ARTIFACT_BUCKET: '' };
    expect(() => execFileSync('npx', ['tsx', 'scripts/package.ts'], { cwd: root, env, stdio: 'pipe' })).toThrow(/--bucket NAME or set ARTIFACT_BUCKET/);
  });
});
