import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { judgeCase, parseIntegrationCase } from '../../deploy-functions/core/cases';
import { FunctionKind, discoverFunctions } from '../../scripts/lib/functions';
import { parseCfnYaml } from '../../infra/templates/cfn-yaml';
import { cfnLint } from '../support/cfn-lint';

const root = join(import.meta.dirname, '..', '..');
const applications = discoverFunctions(root).filter((fn) => fn.kind === FunctionKind.APPLICATION);

type Resource = { Type: string; Properties: Record<string, unknown> };
const resourcesOf = (name: string) =>
  (parseCfnYaml(readFileSync(join(root, 'functions', name, 'template.yaml'), 'utf8')).Resources ?? {}) as Record<string, Resource>;

describe('sample application', () => {
  it('ships at least two independent functions', () => {
    expect(applications.map((fn) => fn.name)).toEqual(expect.arrayContaining(['orders-api', 'invoice-worker']));
  });

  describe.each(applications.map((fn) => fn.name))('%s template', (name) => {
    const resources = resourcesOf(name);
    const [, fn] = Object.entries(resources).find(([, r]) => r.Type === 'AWS::Serverless::Function')!;
    const [liveId, live] = Object.entries(resources).find(([, r]) => r.Type === 'AWS::Lambda::Alias' && r.Properties.Name === 'live')!;

    it('runs on a current Node.js runtime with LOG_LEVEL configured', () => {
      expect(fn.Properties.Runtime).toBe('nodejs24.x');
      expect(fn.Properties.Handler).toBe('index.handler');
      expect(fn.Properties.CodeUri).toBe(`../../dist/${name}.zip`);
      expect((fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables).toHaveProperty('LOG_LEVEL');
    });

    it('publishes a version described with its commit and moves `candidate` to it', () => {
      expect(fn.Properties.AutoPublishAlias).toBe('candidate');
      expect(JSON.stringify(fn.Properties.VersionDescription)).toContain('${CommitSha}');
    });

    it('declares `live` with constant properties so a stack update never moves it', () => {
      expect(live.Properties.FunctionVersion).toBe('$LATEST');
      expect(JSON.stringify(live.Properties)).not.toMatch(/Version"\s*:\s*\{|GetAtt/);
    });

    it('wires every event source to the `live` alias, never to `candidate`', () => {
      const sources = Object.values(resources).filter((r) => ['AWS::Lambda::EventSourceMapping', 'AWS::Lambda::Permission', 'AWS::ApiGatewayV2::Api'].includes(r.Type));
      expect(sources.length).toBeGreaterThan(0);
      for (const source of sources) {
        const target = source.Properties.FunctionName ?? source.Properties.Target;
        expect(target).toEqual({ Ref: liveId });
      }
      expect((fn.Properties as { Events?: unknown }).Events).toBeUndefined();
    });

    it('ships valid integration cases that the handler passes', async () => {
      const dir = join(root, 'functions', name, 'integration');
      const files = readdirSync(dir).filter((file) => file.endsWith('.json'));
      expect(files.length).toBeGreaterThan(0);
      // Run the handler with the environment the template gives it (literal values only).
      const variables = (fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
      for (const [key, value] of Object.entries(variables)) if (typeof value === 'string') vi.stubEnv(key, value);
      vi.resetModules();
      const { handler } = (await import(`../../functions/${name}/handler.ts`)) as { handler: (event: unknown) => Promise<unknown> };
      vi.unstubAllEnvs();
      for (const file of files) {
        const parsed = parseIntegrationCase(file, readFileSync(join(dir, file), 'utf8'));
        if (!parsed.ok) throw new Error(parsed.error);
        const started = performance.now();
        const payload = await handler(parsed.testCase.event);
        expect(judgeCase(parsed.testCase, { payload, durationMs: performance.now() - started }), `${name}/${file}`).toEqual([]);
      }
    });
  });

  it('passes cfn-lint', () => {
    const templates = applications.map((fn) => join(root, 'functions', fn.name, 'template.yaml'));
    const lint = cfnLint(templates);
    if (lint) expect(lint).toEqual({ output: '', status: 0 });
  });
});
