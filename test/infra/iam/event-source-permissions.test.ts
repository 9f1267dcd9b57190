import { copyFileSync, mkdirSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { runInNewContext } from 'node:vm';
import { beforeAll, describe, expect, it } from 'vitest';
import { resolveReleaseConfig, type ReleaseConfigInput } from '../../../infra/config';
import { checkCloudFormationRole, packagedTemplate, type Finding } from '../../../infra/iam/release-check';
import { readApplicationTemplate, type CfnTemplate } from '../../../infra/templates/application-template';
import { requireSamTranslator } from '../../support/sam';
import { sampleConfig, synthRelease, templatesOf } from '../support';

const fixtures = join(import.meta.dirname, '..', '..', 'fixtures', 'sam-events');
const env = { partition: 'aws', region: 'eu-central-1', account: '123456789012' };
/** The sample release's stages, in which every fixture is checked. */
const STAGES = resolveReleaseConfig(sampleConfig).stages.map((s) => s.name);
/** One fixture per SAM event type; each is released as a function of the same name. */
const EVENT_FIXTURES = readdirSync(fixtures).map((file) => basename(file, '.yaml')).sort();

/**
 * What the check cannot settle by a deploy permission today, each with the finding that says so. Remove an entry when
 * its cause is fixed: the test then fails until the entry goes.
 */
const KNOWN_GAPS: Readonly<Record<string, readonly RegExp[]>> = {
  // The stream's registry schema is not recorded: `npm run refresh:handler-permissions -- --add AWS::Kinesis::Stream`
  // needs CloudFormation's schema zip, which this environment cannot download.
  kinesis: [/^lrp-app-kinesis-(staging|prod): Stream \(AWS::Kinesis::Stream\) cannot be judged: no handler permissions recorded for AWS::Kinesis::Stream: npm run refresh:handler-permissions -- --add AWS::Kinesis::Stream$/],
};

/** A finding that names the resource, its type, the action, the ARN, the handlers and what to do. */
const CONCRETE = /^lrp-app-[\w-]+: \w+ \(AWS::\w+::\w+\) needs [\w-]+:[\w.]+ on \S+( with \{.*\})? for its [a-z/]+ handlers?; the CloudFormation role of lrp-pipeline-[\w-]+ (does not allow it|explicitly denies it): /;
const SUGGESTION = /^lrp-app-[\w-]+: \w+ \((AWS::\w+::\w+)\).*: add to functions\.0\.deployPermissions \([\w-]+\) in release\.config\.ts: (\{ actions: \['[^']+'\], resources: \['[^']+'\](, conditions: \{.*\})?, reason: '…' \})$/;
type DeployPermission = NonNullable<ReleaseConfigInput['functions'][number]['deployPermissions']>[number];

/** The line a finding suggests, read as release.config.ts would read it; undefined for a finding without one. */
function suggestionOf(message: string): DeployPermission | undefined {
  const [, type, line] = SUGGESTION.exec(message) ?? [];
  if (!type || !line) return undefined;
  const permission = runInNewContext(`(${line})`) as DeployPermission;
  return { ...permission, reason: 'Suggested by the permission check.', resourceTypes: [type] };
}

/**
 * A second function released alongside each fixture: the configuration refuses deploy permissions that would reach
 * another function's resources, so the suggested lines must be ones it accepts when the account is shared.
 */
const NEIGHBOUR = { name: 'neighbour', template: 'sqs' };

/** A copy of the repository's layout with the fixture's template, and the neighbour's. */
function functionRoot(fixture: string): string {
  const root = mkdtempSync(join(tmpdir(), `lrp-events-${fixture}-`));
  for (const [name, template] of [[fixture, fixture], [NEIGHBOUR.name, NEIGHBOUR.template]] as const) {
    mkdirSync(join(root, 'functions', name), { recursive: true });
    copyFileSync(join(fixtures, `${template}.yaml`), join(root, 'functions', name, 'template.yaml'));
  }
  return root;
}

/** The sample release with the fixture as its first function, with the given deploy permissions, and the neighbour. */
const configFor = (fixture: string, deployPermissions: DeployPermission[] = []): ReleaseConfigInput => ({
  ...sampleConfig,
  functions: [{ name: fixture, deployPermissions }, { name: NEIGHBOUR.name }],
});

/** The CloudFormation role of the fixture's pipeline against its packaged template, in every stage. */
function check(fixture: string, root: string, input: ReleaseConfigInput, translated: CfnTemplate): Finding[] {
  const stacks = templatesOf(synthRelease(input, { root }));
  const config = resolveReleaseConfig(input);
  const pipeline = { stackName: `lrp-pipeline-${fixture}`, template: stacks.pipelines[`lrp-pipeline-${fixture}`]!.toJSON() as CfnTemplate };
  const tooling = { stackName: 'lrp-tooling', template: stacks.tooling.toJSON() as CfnTemplate };
  return checkCloudFormationRole({ env, tooling, pipeline, fn: config.functions[0]!, fnIndex: 0, stages: config.stages.map((s) => s.name), translated: () => translated }).findings;
}

const isGap = (fixture: string, message: string) => (KNOWN_GAPS[fixture] ?? []).some((gap) => gap.test(message));

describe.runIf(requireSamTranslator('the event source permission check'))('GIVEN a function template using one SAM event type, packaged as the build does', () => {
  it('THEN every fixture is checked, and every known gap names a fixture', () => {
    expect(EVENT_FIXTURES.length).toBeGreaterThanOrEqual(12);
    expect(Object.keys(KNOWN_GAPS).filter((fixture) => !EVENT_FIXTURES.includes(fixture))).toEqual([]);
  });

  describe.each(EVENT_FIXTURES)('WHEN the pipeline of the %s fixture is checked', (fixture) => {
    let root: string;
    let translated: CfnTemplate;
    let findings: Finding[];
    beforeAll(() => {
      root = functionRoot(fixture);
      // One translation per fixture: the same packaged template serves every stage and both configurations.
      translated = packagedTemplate(readApplicationTemplate(root, fixture)!, fixture, env.region);
      findings = check(fixture, root, configFor(fixture), translated);
    }, 60_000);

    it('THEN every resource type can be placed: no finding asks for a model, and nothing else is left unjudged', () => {
      const messages = findings.map((f) => f.message);
      expect(messages.filter((m) => m.includes('resource-models.ts'))).toEqual([]);
      expect(messages.filter((m) => m.includes('cannot be judged') && !isGap(fixture, m))).toEqual([]);
    });

    it('THEN every finding is a concrete missing permission naming the resource, the action, the ARN and the line to add', () => {
      const open = findings.map((f) => f.message).filter((m) => !isGap(fixture, m));
      expect(open.filter((m) => !CONCRETE.test(m) || !SUGGESTION.test(m))).toEqual([]);
    });

    it('THEN every stage is suggested the same lines, naming ${Stage}, ${Partition}, ${Region} and ${Account} rather than their values', () => {
      const linesOf = (stage: string) => [...new Set(findings.filter((f) => f.message.startsWith(`lrp-app-${fixture}-${stage}: `) && !isGap(fixture, f.message)).flatMap((f) => (SUGGESTION.exec(f.message)?.[2] ?? [])))].sort();
      const [first, ...others] = STAGES.map(linesOf);
      for (const lines of others) expect(lines).toEqual(first);
      const literal = new RegExp(`${env.account}|${env.region}|arn:${env.partition}:|-(${STAGES.join('|')})\\b`);
      expect(first!.filter((line) => literal.test(line))).toEqual([]);
    });

    it('THEN adding exactly the suggested deploy permissions leaves nothing missing but the known gaps', () => {
      // A gap's suggestion is one the configuration refuses: it is left out. One stage's lines serve every stage.
      const last = STAGES[STAGES.length - 1]!;
      const suggested = findings.filter((f) => f.message.startsWith(`lrp-app-${fixture}-${last}: `) && !isGap(fixture, f.message)).flatMap((f) => suggestionOf(f.message) ?? []);
      const after = check(fixture, root, configFor(fixture, suggested), translated).map((f) => f.message);
      expect(after.filter((m) => !isGap(fixture, m))).toEqual([]);
      // Each known gap is still there: when one is fixed, its entry must go.
      for (const gap of KNOWN_GAPS[fixture] ?? []) expect(after.some((m) => gap.test(m)), `${fixture}: ${gap} no longer found`).toBe(true);
    }, 60_000);
  });
});
