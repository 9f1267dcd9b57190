// `npm run package -- --bucket BUCKET [--kms-key-id KEY] [--only NAME ...]`: SAM-package each application function's
// template into dist/packaged/ (emptied first, so it holds exactly what this run packaged).
import { relative } from 'node:path';
import { parseArgs } from 'node:util';
import { FunctionKind, discoverFunctions, selectFunctions } from './lib/functions';
import { packageFunctions, resolveCommitSha } from './lib/package';

const root = process.cwd();
const { values } = parseArgs({
  options: {
    bucket: { type: 'string', default: process.env.ARTIFACT_BUCKET },
    prefix: { type: 'string', default: 'functions' },
    'kms-key-id': { type: 'string', default: process.env.ARTIFACT_KEY_ARN },
    only: { type: 'string', multiple: true, default: [] },
  },
  strict: true,
});

try {
  if (!values.bucket) throw new Error('No S3 bucket: pass --bucket NAME or set ARTIFACT_BUCKET');
  const applications = discoverFunctions(root).filter((fn) => fn.kind === FunctionKind.APPLICATION);
  const functions = selectFunctions(applications, values.only.flatMap((value) => value.split(',')).filter(Boolean));
  const commitSha = resolveCommitSha(root);
  for (const result of packageFunctions(functions, { root, bucket: values.bucket, prefix: values.prefix, commitSha, ...(values['kms-key-id'] ? { kmsKeyId: values['kms-key-id'] } : {}) })) {
    console.log(`${result.name}: ${relative(root, result.packagedTemplate)} (${result.tool}, commit ${commitSha})`);
  }
} catch (error) {
  console.error(`package failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
}
