// Prints what `cdk synth` wrote to cdk.out: stacks, pipelines, and each pipeline's stages and actions in order.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

type Template = { Resources: Record<string, { Type: string; Properties: Record<string, unknown> }> };
type Stage = { Name: string; Actions: { Name: string; RunOrder?: number; ActionTypeId: { Provider: string } }[] };

const out = join(process.cwd(), process.argv[2] ?? 'cdk.out');
if (!existsSync(out)) {
  console.error(`no ${out}: run \`cdk synth\` first`);
  process.exit(1);
}
const templates = readdirSync(out).filter((f) => f.endsWith('.template.json')).sort();
console.log(`\n${templates.length} stacks in ${out}:`);
for (const file of templates) {
  const template = JSON.parse(readFileSync(join(out, file), 'utf8')) as Template;
  const resources = Object.values(template.Resources);
  console.log(`  ${file.replace('.template.json', '')}: ${resources.length} resources`);
  for (const pipeline of resources.filter((r) => r.Type === 'AWS::CodePipeline::Pipeline')) {
    const name = typeof pipeline.Properties.Name === 'string' ? pipeline.Properties.Name : '(generated name)';
    console.log(`    pipeline ${name} (${String(pipeline.Properties.PipelineType ?? 'V1')})`);
    for (const stage of pipeline.Properties.Stages as Stage[]) {
      const actions = [...stage.Actions].sort((a, b) => (a.RunOrder ?? 1) - (b.RunOrder ?? 1)).map((a) => `${a.Name} [${a.ActionTypeId.Provider}]`);
      console.log(`      ${stage.Name.padEnd(16)} ${actions.join(' → ')}`);
    }
  }
}
