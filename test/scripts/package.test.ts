import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CreateBucketCommand, HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleFunctions } from '../../scripts/lib/bundle';
import { FunctionKind, discoverFunctions } from '../../scripts/lib/functions';
import { packageFunctions } from '../../scripts/lib/package';
import { parseCfnYaml } from '../support/cfn-yaml';
import { requireMoto, startMoto, type MotoServer } from '../support/moto';

const root = join(import.meta.dirname, '..', '..');
const applications = discoverFunctions(root).filter((fn) => fn.kind === FunctionKind.APPLICATION);

describe.runIf(requireMoto('packaging test'))('package: SAM templates to S3 (against moto)', () => {
  let moto: MotoServer;
  beforeAll(async () => {
    moto = await startMoto();
    await bundleFunctions(applications, { root });
    await new S3Client({ endpoint: moto.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } }).send(
      new CreateBucketCommand({ Bucket: 'artifacts' }),
    );
  }, 120_000);
  afterAll(() => moto?.stop());

  it('uploads each zip and rewrites CodeUri to the uploaded object, with the commit as a parameter', async () => {
    const results = packageFunctions(applications, { root, bucket: 'artifacts', commitSha: 'abc1234', tool: 'aws', env: { ...process.env, ...moto.env } });
    const s3 = new S3Client({ endpoint: moto.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
    for (const result of results) {
      const template = parseCfnYaml(readFileSync(result.packagedTemplate, 'utf8')) as { Resources: Record<string, { Type: string; Properties: { CodeUri?: string } }> };
      const fn = Object.values(template.Resources).find((r) => r.Type === 'AWS::Serverless::Function')!;
      const match = /^s3:\/\/artifacts\/(functions\/[\w-]+\/\w+)$/.exec(fn.Properties.CodeUri ?? '');
      expect(match, `${result.name} CodeUri ${fn.Properties.CodeUri}`).not.toBeNull();
      await expect(s3.send(new HeadObjectCommand({ Bucket: 'artifacts', Key: match![1] }))).resolves.toBeDefined();
      expect(JSON.parse(readFileSync(result.templateConfiguration, 'utf8'))).toEqual({ Parameters: { CommitSha: 'abc1234' }, Tags: { 'lrp:commit': 'abc1234' } });
    }
  });

  it('fails with a clear message when the bucket does not exist', () => {
    expect(() => packageFunctions(applications.slice(0, 1), { root, bucket: 'missing-bucket', commitSha: 'x', tool: 'aws', env: { ...process.env, ...moto.env } })).toThrow(
      /aws cloudformation package.*failed/s,
    );
  });

  it('the npm script refuses to run without a bucket', () => {
    const env = { ...process.env, ...moto.env, ARTIFACT_BUCKET: '' };
    expect(() => execFileSync('npx', ['tsx', 'scripts/package.ts'], { cwd: root, env, stdio: 'pipe' })).toThrow(/--bucket NAME or set ARTIFACT_BUCKET/);
  });
});
