import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { IntegrationTestParametersSchema } from '../../deploy-functions/core/user-parameters';
import { resolveReleaseConfig } from '../../infra/config';
import { caseSourceOf } from '../../infra/lib/case-source';
import { planPipeline, planRelease, type PlannedAction } from '../../infra/lib/release-plan';
import { sampleConfig } from './support';

const repoRoot = join(import.meta.dirname, '..', '..');
const samInit = join(repoRoot, 'test', 'fixtures', 'sam-init-project', 'functions', 'hello');
const root = mkdtempSync(join(tmpdir(), 'lrp-case-source-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A function folder under the temporary root holding `files` (path → content). */
function functionFolder(name: string, files: Record<string, string>): void {
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(join(root, 'functions', name, path, '..'), { recursive: true });
    writeFileSync(join(root, 'functions', name, path), content);
  }
}

const config = resolveReleaseConfig({ ...sampleConfig, functions: [{ name: 'hello' }] });
const integrationTests = (actions: readonly PlannedAction[]) => actions.filter((a) => a.kind === 'invoke' && a.name === 'IntegrationTests').map((a) => (a as { userParameters: Record<string, unknown> }).userParameters);

describe('caseSourceOf', () => {
  it('takes the integration cases when the folder has any, even beside events', () => {
    functionFolder('both', { 'integration/ok.json': '{}', 'events/event.json': '{}' });
    expect(caseSourceOf(root, 'both')).toEqual({ casesPath: 'functions/both/integration', format: 'cases' });
  });

  it('takes the events as smoke cases for a folder as `sam init` writes it (events/, no integration/)', () => {
    cpSync(samInit, join(root, 'functions', 'hello'), { recursive: true });
    expect(caseSourceOf(root, 'hello')).toEqual({ casesPath: 'functions/hello/events', format: 'events' });
  });

  it('says what to add when there are neither cases nor events (an empty integration/ counts as none)', () => {
    functionFolder('bare', { 'template.yaml': 'Resources: {}', 'integration/README.md': 'todo' });
    expect(caseSourceOf(root, 'bare')).toEqual({ missing: expect.stringMatching(/^functions\/bare has no integration case \(integration\/\*\.json\) and no event \(events\/\*\.json\).*add a case as functions\/bare\/integration\/<case>\.json.*or .*functions\/bare\/events\/<event>\.json/) });
  });

  it('leaves a function without a folder to the template check', () => {
    expect(caseSourceOf(root, 'absent')).toBeUndefined();
  });
});

describe('release plan: what the integration-test action runs', () => {
  it('passes casesPath and cases: events for a function tested with its events, parameters the action accepts', () => {
    const plan = planPipeline(config, config.functions[0]!, { casesOf: () => ({ casesPath: 'functions/hello/events', format: 'events' }) });
    const params = integrationTests(plan.stages.flatMap((s) => s.actions));
    expect(params.length).toBeGreaterThan(0);
    for (const p of params) {
      expect(p).toMatchObject({ qualifier: 'candidate', casesPath: 'functions/hello/events', cases: 'events' });
      expect(IntegrationTestParametersSchema.parse(p)).toMatchObject({ cases: 'events' });
    }
  });

  it('leaves cases at its default for integration cases, as before', () => {
    for (const options of [{}, { casesOf: () => ({ casesPath: 'functions/hello/integration', format: 'cases' as const }) }]) {
      const plan = planPipeline(config, config.functions[0]!, options);
      expect(integrationTests(plan.stages.flatMap((s) => s.actions))).toContainEqual({ functionName: 'hello-staging', qualifier: 'candidate', casesPath: 'functions/hello/integration' });
    }
  });

  it('fails synth for a function with neither integration cases nor events, naming the folder and what to add', () => {
    expect(() => planRelease(config, { casesOf: (name) => caseSourceOf(root, name === 'hello' ? 'bare' : name) })).toThrow(
      /functions\.0\.name: functions\/bare has no integration case \(integration\/\*\.json\) and no event \(events\/\*\.json\).*functions\/bare\/integration\/<case>\.json/,
    );
  });

  it('needs nothing to run when no stage runs integration tests', () => {
    const untested = resolveReleaseConfig({ ...sampleConfig, functions: [{ name: 'hello' }], stages: [{ name: 'prod', integrationTests: false }] });
    expect(() => planRelease(untested, { casesOf: () => ({ missing: 'nothing to test with' }) })).not.toThrow();
  });
});
