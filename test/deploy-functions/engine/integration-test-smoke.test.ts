import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CaseFormat, judgeSmokeCase, parseSmokeCase } from '../../../deploy-functions/core/cases';
import type { InvokePort } from '../../../deploy-functions/core/ports';
import { artifactZip, runAction } from './integration-test-runner';

const root = join(import.meta.dirname, '..', '..', '..');
/** The API Gateway proxy event `sam init` writes to events/event.json. */
const samInitEvent = readFileSync(join(root, 'test', 'fixtures', 'sam-init-project', 'functions', 'hello', 'events', 'event.json'));
const EVENTS = 'functions/hello/events';
const params = { functionName: 'hello-staging', qualifier: 'candidate', casesPath: EVENTS, cases: CaseFormat.EVENTS };

/** Answers every invocation with `answer`, recording the events it was invoked with. */
const answering = (answer: { functionError?: string; payload: unknown }, calls: unknown[] = []): InvokePort => ({
  invoke: async (_fn, _qualifier, payload) => {
    calls.push(JSON.parse(payload));
    return { ...answer, payload: JSON.stringify(answer.payload) };
  },
});

describe('integration-test action: events as smoke cases', () => {
  it('invokes the function once with each event, verbatim, and passes when no invocation raises', async () => {
    // Arrange
    const calls: unknown[] = [];
    const zip = artifactZip({ [`${EVENTS}/event.json`]: samInitEvent, [`${EVENTS}/ping.json`]: new TextEncoder().encode('{"ping":true}') });
    // Act
    const result = await runAction(zip, answering({ payload: { statusCode: 200, body: '{"message":"hello world"}' } }, calls))(params);
    // Assert
    expect(result).toMatchObject({
      kind: 'success',
      summary: expect.stringContaining(`2 smoke case(s) (the events under ${EVENTS}) passed against hello-staging:candidate`),
      outputVariables: { passed: '2', failed: '0' },
    });
    expect(calls).toEqual(expect.arrayContaining([JSON.parse(samInitEvent.toString()), { ping: true }]));
  });

  it('passes any answer that is not a proxy response, and a 4xx proxy response', async () => {
    for (const payload of [null, 'done', { batchItemFailures: [] }, { statusCode: '500' }, { statusCode: 404 }]) {
      const result = await runAction(artifactZip({ [`${EVENTS}/event.json`]: samInitEvent }), answering({ payload }))(params);
      expect(result.kind, JSON.stringify(payload)).toBe('success');
    }
  });

  it('fails naming the event file when the invocation raises (a FunctionError)', async () => {
    const invoker = answering({ functionError: 'Unhandled', payload: { errorType: 'TypeError', errorMessage: 'boom' } });
    const result = await runAction(artifactZip({ [`${EVENTS}/event.json`]: samInitEvent }), invoker)(params);
    expect(result).toMatchObject({ kind: 'failure', message: expect.stringContaining(`[TEST_CASE_FAILED] 1 of 1 integration case(s) failed:\n- ${EVENTS}/event.json (smoke: event event.json):\n    function raised Unhandled`) });
  });

  it('fails naming the event file when a proxy response is a server error (statusCode 5xx)', async () => {
    const result = await runAction(artifactZip({ [`${EVENTS}/event.json`]: samInitEvent }), answering({ payload: { statusCode: 502, body: 'bad gateway' } }))(params);
    expect(result).toMatchObject({ kind: 'failure', message: expect.stringMatching(new RegExp(`- ${EVENTS}/event\\.json \\(smoke: event event\\.json\\):\\n {4}statusCode: expected below 500 .*got 502`)) });
  });

  it('fails naming a file that is not a JSON object, and a folder without events', async () => {
    const bad = await runAction(artifactZip({ [`${EVENTS}/list.json`]: new TextEncoder().encode('[1]') }), answering({ payload: null }))(params);
    expect(bad).toMatchObject({ kind: 'failure', message: expect.stringContaining(`[INVALID_PARAMETERS] invalid event file(s): ${EVENTS}/list.json: an event must be a JSON object, got [1]`) });
    const none = await runAction(artifactZip({}), answering({ payload: null }))(params);
    expect(none).toMatchObject({ kind: 'failure', message: expect.stringContaining(`casesPath: no *.json events under ${EVENTS}`) });
  });

  it('reads events as integration cases unless told otherwise, so an event file fails as a case', async () => {
    const { cases: _, ...withoutFormat } = params;
    const result = await runAction(artifactZip({ [`${EVENTS}/event.json`]: samInitEvent }), answering({ payload: null }))(withoutFormat);
    expect(result).toMatchObject({ kind: 'failure', message: expect.stringContaining(`invalid integration case file(s): ${EVENTS}/event.json`) });
  });
});

describe('judgeSmokeCase', () => {
  const smoke = parseSmokeCase('events/event.json', '{}');
  if (!smoke.ok) throw new Error(smoke.error);

  it.each([
    ['a plain answer', { payload: { ok: true } }, []],
    ['a 499 proxy response', { payload: { statusCode: 499 } }, []],
    ['a 500 proxy response', { payload: { statusCode: 500 } }, ['statusCode: expected below 500 (a smoke case accepts any answer but a server error), got 500: {"statusCode":500}']],
    ['a raised error', { functionError: 'Unhandled', payload: { errorType: 'Error' } }, ['function raised Unhandled: {"errorType":"Error"}']],
  ])('judges %s', (_title, observed, problems) => {
    expect(judgeSmokeCase(smoke.testCase, { ...observed, durationMs: 5 })).toEqual(problems);
  });
});
