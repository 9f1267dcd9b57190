// The checks every application function of a project must pass: its template's conventions and its integration cases
// run against its handler. Parameterised by the project root, so a test can run them against another project.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Context } from 'aws-lambda';
import { expect, vi } from 'vitest';
import { judgeCase, parseIntegrationCase } from '../../deploy-functions/core/cases';
import { invokeHandler, lambdaContext } from '../../harness/lambda-context';
import { parseCfnYaml } from '../../infra/templates/cfn-yaml';
import { templateTimeoutSeconds, type CfnTemplate } from '../../infra/templates/application-template';
import { FunctionKind, discoverFunctions, selectFunctions, type FunctionSource } from '../../scripts/lib/functions';

/** The root of this repository. */
export const PROJECT_ROOT = join(import.meta.dirname, '..', '..');

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

type Resource = { Type: string; Properties: Record<string, unknown> };

/** A function's template, its released function and its `live` alias. */
export function applicationTemplate(root: string, name: string) {
  const template = parseCfnYaml(readFileSync(join(root, 'functions', name, 'template.yaml'), 'utf8')) as CfnTemplate;
  const resources = (template.Resources ?? {}) as Record<string, Resource>;
  const [, fn] = Object.entries(resources).find(([, r]) => r.Type === 'AWS::Serverless::Function') ?? [];
  const [liveId, live] = Object.entries(resources).find(([, r]) => r.Type === 'AWS::Lambda::Alias' && r.Properties.Name === 'live') ?? [];
  expect(fn, `functions/${name}/template.yaml declares an AWS::Serverless::Function`).toBeDefined();
  expect(live, `functions/${name}/template.yaml declares the live alias`).toBeDefined();
  return { template, resources, fn: fn!, liveId: liveId!, live: live! };
}

/** Literal environment variables of a function, as its template gives them. */
const literalVariables = (fn: Resource) =>
  Object.entries((fn.Properties.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ?? {}).filter((entry): entry is [string, string] => typeof entry[1] === 'string');

/** One check of one application function; it fails through `expect`. */
export interface ApplicationCheck {
  readonly title: string;
  run(root: string, fn: FunctionSource): void | Promise<void>;
}

export const APPLICATION_CHECKS: readonly ApplicationCheck[] = [
  {
    title: 'runs on a current Node.js runtime with LOG_LEVEL configured',
    run: (root, { name }) => {
      const { fn } = applicationTemplate(root, name);
      expect(fn.Properties.Runtime).toBe('nodejs24.x');
      expect(fn.Properties.Handler).toBe('index.handler');
      expect(fn.Properties.CodeUri).toBe(`../../dist/${name}.zip`);
      expect((fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables).toHaveProperty('LOG_LEVEL');
    },
  },
  {
    title: 'publishes a version described with its commit and moves `candidate` to it',
    run: (root, { name }) => {
      const { fn } = applicationTemplate(root, name);
      expect(fn.Properties.AutoPublishAlias).toBe('candidate');
      expect(JSON.stringify(fn.Properties.VersionDescription)).toContain('${CommitSha}');
    },
  },
  {
    title: 'declares `live` with constant properties so a stack update never moves it',
    run: (root, { name }) => {
      const { live } = applicationTemplate(root, name);
      expect(live.Properties.FunctionVersion).toBe('$LATEST');
      expect(JSON.stringify(live.Properties)).not.toMatch(/Version"\s*:\s*\{|GetAtt/);
    },
  },
  {
    title: 'wires every event source to the `live` alias, never to `candidate`',
    run: (root, { name }) => {
      const { resources, fn, liveId } = applicationTemplate(root, name);
      const sources = Object.values(resources).filter((r) => ['AWS::Lambda::EventSourceMapping', 'AWS::Lambda::Permission', 'AWS::ApiGatewayV2::Api'].includes(r.Type));
      expect(sources.length).toBeGreaterThan(0);
      for (const source of sources) {
        const target = source.Properties.FunctionName ?? source.Properties.Target;
        expect(target).toEqual({ Ref: liveId });
      }
      expect((fn.Properties as { Events?: unknown }).Events).toBeUndefined();
    },
  },
  {
    title: 'ships valid integration cases that the handler passes, invoked with a Lambda context',
    run: async (root, source) => {
      const { name } = source;
      const { template, fn } = applicationTemplate(root, name);
      const dir = join(root, 'functions', name, 'integration');
      const files = readdirSync(dir).filter((file) => file.endsWith('.json'));
      expect(files.length).toBeGreaterThan(0);
      // Load the handler with the environment the template gives it (literal values only), as Lambda would.
      for (const [key, value] of literalVariables(fn)) vi.stubEnv(key, value);
      vi.resetModules();
      const module = (await import(pathToFileURL(join(root, source.entry)).href)) as Record<string, (event: unknown, context: Context) => Promise<unknown>>;
      vi.unstubAllEnvs();
      const handler = module[exportOf(source)];
      expect(handler, `${source.entry} exports ${exportOf(source)}`).toBeTypeOf('function');
      const timeoutSeconds = templateTimeoutSeconds(template);
      for (const file of files) {
        const parsed = parseIntegrationCase(file, readFileSync(join(dir, file), 'utf8'));
        if (!parsed.ok) throw new Error(parsed.error);
        const context = lambdaContext({ functionName: `${name}-local`, qualifier: 'candidate', timeoutSeconds, memoryLimitInMB: Number(fn.Properties.MemorySize ?? 128) });
        const started = performance.now();
        const payload = await invokeHandler(handler!, parsed.testCase.event, context);
        expect(judgeCase(parsed.testCase, { payload, durationMs: performance.now() - started }), `${name}/${file}`).toEqual([]);
      }
    },
  },
];
