// `npm run refresh:handler-permissions -- [--schemas DIR|FILE.zip] [--add AWS::X::Y ...] [--region R] [--out FILE]`
// Refreshes infra/iam/handler-permissions.json from the CloudFormation registry resource schemas: every type already
// recorded, plus each --add. Without --schemas it downloads CloudFormation's published CloudformationSchema.zip.
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { unzipSync, strFromU8 } from 'fflate';
import { HANDLER_PERMISSIONS_FILE, permissionsFromSchema, type HandlerPermissionsData } from '../infra/iam/handler-permissions';

const { values } = parseArgs({
  options: {
    schemas: { type: 'string' },
    add: { type: 'string', multiple: true, default: [] },
    region: { type: 'string', default: 'us-east-1' },
    out: { type: 'string', default: HANDLER_PERMISSIONS_FILE },
    date: { type: 'string', default: new Date().toISOString().slice(0, 10) },
  },
  strict: true,
});

/** Every schema document found, by type name. */
async function loadSchemas(): Promise<{ schemas: Map<string, { typeName: string }>; from: string }> {
  const texts: string[] = [];
  let from: string;
  if (values.schemas && existsSync(values.schemas) && statSync(values.schemas).isDirectory()) {
    for (const file of readdirSync(values.schemas).filter((f) => f.endsWith('.json'))) texts.push(readFileSync(join(values.schemas, file), 'utf8'));
    from = `the schema files in ${values.schemas}`;
  } else {
    let zip: Uint8Array;
    if (values.schemas) {
      zip = readFileSync(values.schemas);
      from = values.schemas;
    } else {
      from = `https://schema.cloudformation.${values.region}.amazonaws.com/CloudformationSchema.zip`;
      const response = await fetch(from, { signal: AbortSignal.timeout(60_000) });
      if (!response.ok) throw new Error(`GET ${from}: HTTP ${response.status}`);
      zip = new Uint8Array(await response.arrayBuffer());
    }
    for (const [name, bytes] of Object.entries(unzipSync(zip))) if (name.endsWith('.json')) texts.push(strFromU8(bytes));
  }
  const schemas = new Map<string, { typeName: string }>();
  for (const text of texts) {
    const schema = JSON.parse(text) as { typeName?: string };
    if (typeof schema.typeName === 'string') schemas.set(schema.typeName, schema as { typeName: string });
  }
  return { schemas, from };
}

try {
  const current = existsSync(values.out) ? (JSON.parse(readFileSync(values.out, 'utf8')) as HandlerPermissionsData) : undefined;
  const wanted = [...new Set([...Object.keys(current?.types ?? {}), ...values.add])].sort();
  if (wanted.length === 0) throw new Error('no resource types to refresh: pass --add AWS::Service::Type');
  const { schemas, from } = await loadSchemas();
  const missing = wanted.filter((type) => !schemas.has(type));
  if (missing.length > 0) throw new Error(`no schema for ${missing.join(', ')} in ${from}`);
  const data: HandlerPermissionsData = {
    source: `AWS CloudFormation registry resource schemas (${values.region}): handlers.create/read/update/delete.permissions and tagging, from ${from}`,
    retrieved: values.date,
    refresh: 'npm run refresh:handler-permissions -- [--schemas DIR|CloudformationSchema.zip] [--add AWS::Service::Type]',
    types: Object.fromEntries(wanted.map((type) => [type, permissionsFromSchema(schemas.get(type) as never)])),
  };
  writeFileSync(values.out, `${JSON.stringify(data, null, 2)}\n`);
  console.log(`${values.out}: ${wanted.length} resource types from ${from}`);
} catch (error) {
  console.error(`refresh failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
}
