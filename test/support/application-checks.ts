// The checks every application function of a project must pass: its template as its team wrote it, the template the
// packager makes of it (prepared and translated offline, nothing uploaded: what CloudFormation would deploy), and its
// integration cases run against its handler. Parameterised by the project root, so a test can run them against another
// project. They hold for any template the packager releases, hand-wired (orders-api) or as `sam init` writes it.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Context } from 'aws-lambda';
import { expect, vi } from 'vitest';
import { CaseFormat, judgeOf, parseIntegrationCase, parseSmokeCase } from '../../deploy-functions/core/cases';
import { caseFilesOf, caseSourceOf } from '../../infra/lib/case-source';
import { invokeHandler, lambdaContext } from '../../harness/lambda-context';
import { managedFunctionOf, readApplicationTemplate, templateTimeoutSeconds, type CfnTemplate } from '../../infra/templates/application-template';
import { CANDIDATE_ALIAS, LIVE_ALIAS } from '../../infra/templates/prepare-application';
import { referencesIn } from '../../infra/templates/references';
import { releaseTemplateOf, type ReleaseTemplate } from '../../infra/templates/release-template';
import { FunctionKind, discoverFunctions, selectFunctions, type FunctionSource } from '../../scripts/lib/functions';

/** The root of this repository. */
export const PROJECT_ROOT = join(import.meta.dirname, '..', '..');
/** The region the templates are translated for; any region would do. */
const REGION = 'eu-central-1';
/** The oldest Node.js runtime Lambda still runs (nodejs20.x); the bundles target nodejs24.x's language level. */
const OLDEST_NODE_RUNTIME = 20;

/**
 * The application functions under test: every folder of `functions/` the build discovers or, when `only` is given
 * (`LRP_FUNCTION`, as the per-function build check sets it), that one alone; an unknown name fails, listing the known.
 */
export function functionsUnderTest(root: string, only = process.env.LRP_FUNCTION): FunctionSource[] {
  const applications = discoverFunctions(root).filter((fn) => fn.kind === FunctionKind.APPLICATION);
  return selectFunctions(applications, only ? [only] : []);
}

/** The export Lambda calls in a function's code (`handler` unless discovery says otherwise). */
export function exportOf(fn: FunctionSource): string {
  const name = (fn as { exportName?: unknown }).exportName;
  return typeof name === 'string' ? name : 'handler';
}

type Resource = { Type: string; Properties?: Record<string, unknown> };
type Settings = Record<string, unknown> & { Environment?: { Variables?: Record<string, unknown> } };

/** A function's template as written: the released function's settings, `Globals.Function` under its own. */
export function sourceTemplate(root: string, name: string) {
  const template = readApplicationTemplate(root, name);
  expect(template, `functions/${name}/template.yaml exists`).toBeDefined();
  const released = managedFunctionOf(template!);
  expect(released, `functions/${name}/template.yaml declares the AWS::Serverless::Function it releases`).toBeDefined();
  const globals = ((template!.Globals as { Function?: Settings } | undefined)?.Function ?? {}) as Settings;
  const own = released!.properties as Settings;
  const variables = { ...(globals.Environment?.Variables ?? {}), ...(own.Environment?.Variables ?? {}) };
  return { template: template!, settings: { ...globals, ...own, Environment: { Variables: variables } } as Settings };
}

const released = new Map<string, ReleaseTemplate>();
/** The template CloudFormation would deploy (computed once per function: the translation runs Python). */
export function releaseTemplate(root: string, name: string): ReleaseTemplate {
  const key = join(root, name);
  if (!released.has(key)) released.set(key, releaseTemplateOf(sourceTemplate(root, name).template, { functionName: name, region: REGION }));
  return released.get(key)!;
}

/** The released function's versions and aliases in a release template, and every other resource. */
function familyOf({ template, functionLogicalId }: ReleaseTemplate) {
  const resources = Object.entries(template.Resources as Record<string, Resource>);
  const ofFunction = ([, r]: [string, Resource]) => referencesIn(r.Properties?.FunctionName).some((ref) => ref.logicalId === functionLogicalId);
  const versions = resources.filter((entry) => entry[1].Type === 'AWS::Lambda::Version' && ofFunction(entry));
  const aliases = resources.filter((entry) => entry[1].Type === 'AWS::Lambda::Alias' && ofFunction(entry));
  const named = (name: string) => aliases.filter(([, r]) => r.Properties?.Name === name);
  const family = new Set([functionLogicalId, ...versions.map(([id]) => id), ...aliases.map(([id]) => id)]);
  return { fn: template.Resources[functionLogicalId] as Resource, versions, live: named(LIVE_ALIAS), candidate: named(CANDIDATE_ALIAS), others: resources.filter(([id]) => !family.has(id)) };
}

/** One check of one application function; it fails through `expect`. */
export interface ApplicationCheck {
  readonly title: string;
  run(root: string, fn: FunctionSource): void | Promise<void>;
}

export const APPLICATION_CHECKS: readonly ApplicationCheck[] = [
  {
    title: 'runs on a Node.js runtime Lambda supports, with LOG_LEVEL configured',
    run: (root, { name }) => {
      const { settings } = sourceTemplate(root, name);
      const major = Number(/^nodejs(\d+)\.x$/.exec(String(settings.Runtime))?.[1]);
      expect(major, `functions/${name}: Runtime ${String(settings.Runtime)}`).toBeGreaterThanOrEqual(OLDEST_NODE_RUNTIME);
      expect(settings.Environment?.Variables).toHaveProperty('LOG_LEVEL');
    },
  },
  {
    title: 'is released from the bundle, called by the export its entry point has',
    run: (root, fn) => {
      const { fn: lambda } = familyOf(releaseTemplate(root, fn.name));
      expect(lambda.Type).toBe('AWS::Lambda::Function');
      expect(lambda.Properties?.Handler).toBe(`index.${exportOf(fn)}`);
      expect(lambda.Properties?.FunctionName).toEqual({ 'Fn::Sub': `${fn.name}-\${Stage}` });
    },
  },
  {
    title: 'publishes a version described with its commit and moves `candidate` to it',
    run: (root, { name }) => {
      const { versions, candidate } = familyOf(releaseTemplate(root, name));
      expect(versions).toHaveLength(1);
      expect(JSON.stringify(versions[0]![1].Properties?.Description)).toContain('${CommitSha}');
      expect(candidate).toHaveLength(1);
      expect(referencesIn(candidate[0]![1].Properties?.FunctionVersion).map((ref) => ref.logicalId)).toEqual([versions[0]![0]]);
    },
  },
  {
    title: 'declares `live` with constant properties so a stack update never moves it',
    run: (root, { name }) => {
      const { live } = familyOf(releaseTemplate(root, name));
      expect(live).toHaveLength(1);
      expect(live[0]![1].Properties?.FunctionVersion).toBe('$LATEST');
      expect(JSON.stringify(live[0]![1].Properties)).not.toMatch(/Version"\s*:\s*\{|GetAtt/);
    },
  },
  {
    title: 'is invoked through `live` only, never through `candidate` or a version',
    run: (root, { name }) => {
      const { versions, live, candidate, others } = familyOf(releaseTemplate(root, name));
      const pinned = new Set([...versions, ...candidate].map(([id]) => id));
      const invokers = others.filter(([, r]) => referencesIn(r).some((ref) => ref.logicalId === live[0]![0]));
      expect(invokers.length, `${name}: nothing invokes live`).toBeGreaterThan(0);
      expect(others.filter(([, r]) => referencesIn(r).some((ref) => pinned.has(ref.logicalId))).map(([id]) => id)).toEqual([]);
    },
  },
  {
    title: 'ships valid integration cases, or events run as smoke cases, that the handler passes, invoked with a Lambda context',
    // The pipeline's integration-test action runs what synth points it at: integration/*.json, else events/*.json.
    run: async (root, source) => {
      const { name } = source;
      const { template, settings } = sourceTemplate(root, name);
      const cases = caseSourceOf(root, name);
      if (cases === undefined) throw new Error(`functions/${name} does not exist`);
      if ('missing' in cases) throw new Error(cases.missing);
      const parse = cases.format === CaseFormat.EVENTS ? parseSmokeCase : parseIntegrationCase;
      const judge = judgeOf(cases.format);
      // Load the handler with the environment the template gives it (literal values only), as Lambda would.
      for (const [key, value] of Object.entries(settings.Environment?.Variables ?? {})) if (typeof value === 'string') vi.stubEnv(key, value);
      vi.resetModules();
      const module = (await import(pathToFileURL(join(root, source.entry)).href)) as Record<string, (event: unknown, context: Context) => Promise<unknown>>;
      vi.unstubAllEnvs();
      const handler = module[exportOf(source)];
      expect(handler, `${source.entry} exports ${exportOf(source)}`).toBeTypeOf('function');
      const timeoutSeconds = templateTimeoutSeconds(template as CfnTemplate);
      for (const file of caseFilesOf(root, cases)) {
        const parsed = parse(file, readFileSync(join(root, file), 'utf8'));
        if (!parsed.ok) throw new Error(parsed.error);
        const context = lambdaContext({ functionName: `${name}-local`, qualifier: 'candidate', timeoutSeconds, memoryLimitInMB: Number(settings.MemorySize ?? 128) });
        const started = performance.now();
        const payload = await invokeHandler(handler!, parsed.testCase.event, context);
        expect(judge(parsed.testCase, { payload, durationMs: performance.now() - started }), file).toEqual([]);
      }
    },
  },
];
