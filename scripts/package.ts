// `npm run package -- --bucket BUCKET [--kms-key-id KEY] [--region REGION] [--only NAME ...] [--code-out DIR]`: package each application
// function's SAM template into plain CloudFormation in dist/packaged/ (emptied first, so it holds exactly what this run
// packaged), its code uploaded and every invoker pointed at `live`; says what it changed and what it took over.
// `--code-out DIR` also unpacks the one packaged function's code into DIR (the build's `Code` artifact).
import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { FunctionKind, discoverFunctions, selectFunctions } from './lib/functions';
import { packageFunctions, resolveCommitSha } from './lib/package';

const root = process.cwd();
const { values } = parseArgs({
  options: {
    bucket: { type: 'string', default: process.env.ARTIFACT_BUCKET },
    prefix: { type: 'string', default: 'functions' },
    'kms-key-id': { type: 'string', default: process.env.ARTIFACT_KEY_ARN },
    region: { type: 'string' },
    only: { type: 'string', multiple: true, default: [] },
    'code-out': { type: 'string' },
  },
  strict: true,
});

try {
  if (!values.bucket) throw new Error('No S3 bucket: pass --bucket NAME or set ARTIFACT_BUCKET');
  const applications = discoverFunctions(root).filter((fn) => fn.kind === FunctionKind.APPLICATION);
  const functions = selectFunctions(applications, values.only.flatMap((value) => value.split(',')).filter(Boolean));
  const commitSha = resolveCommitSha(root);
  const options = { root, bucket: values.bucket, prefix: values.prefix, commitSha, ...(values['kms-key-id'] ? { kmsKeyId: values['kms-key-id'] } : {}), ...(values.region ? { region: values.region } : {}), ...(values['code-out'] ? { codeOutDir: join(root, values['code-out']) } : {}) };
  for (const result of packageFunctions(functions, options)) {
    console.log(`${result.name}: ${relative(root, result.packagedTemplate)} (${result.tool}, commit ${commitSha})`);
    for (const note of result.notes) console.log(`  - ${note}`);
  }
} catch (error) {
  console.error(`package failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
}
