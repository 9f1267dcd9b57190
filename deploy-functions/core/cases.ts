import * as z from './zod';
import { describeIssues } from './issues';

/**
 * One integration test case, stored as `functions/<fn>/integration/<case>.json`:
 * the event to invoke the function with and what the answer must look like.
 */
export const IntegrationCaseSchema = z.strictObject({
  /** What the case proves, in plain words. */
  name: z.string().check(z.minLength(1)),
  /** The event the function is invoked with, verbatim. */
  event: z.unknown().check(z.refine((value) => value !== undefined, 'is required')),
  expect: z._default(
    z.strictObject({
      /** `false` (the default): the invocation must not raise. `true`: it must. A string: it must raise that error type. */
      functionError: z._default(z.union([z.boolean(), z.string().check(z.minLength(1))]), false),
      /** HTTP-style `statusCode` of the response payload. */
      statusCode: z.optional(z.number().check(z.int(), z.gte(100), z.lte(599))),
      /** Subset the whole response payload must match. */
      payload: z.optional(z.unknown()),
      /** Subset the response's `body` must match; a JSON-string body is parsed first. */
      body: z.optional(z.unknown()),
      /** Longest acceptable invocation time, client side. @default 10000 */
      maxDurationMs: z._default(z.number().check(z.int(), z.gt(0), z.lte(900_000)), 10_000),
    }),
    { functionError: false, maxDurationMs: 10_000 },
  ),
});
export type IntegrationCase = z.infer<typeof IntegrationCaseSchema>;

/**
 * What the files under an integration-test action's `casesPath` are: integration cases (`integration/*.json`, format
 * above), or events (`events/*.json`, as `sam init` and `sam local invoke` use them) each run as a smoke case.
 */
export const CaseFormat = {
  CASES: 'cases',
  EVENTS: 'events',
} as const;
export type CaseFormat = (typeof CaseFormat)[keyof typeof CaseFormat];

/** The outcome of parsing a case file: the case, or a message naming the file and the field. */
export type ParsedCase = { ok: true; testCase: IntegrationCase } | { ok: false; error: string };

/** A file's JSON, or a message naming the file. */
function parseJson(file: string, text: string): { ok: true; json: unknown } | { ok: false; error: string } {
  try {
    return { ok: true, json: JSON.parse(text) as unknown };
  } catch (error) {
    return { ok: false, error: `${file}: not valid JSON (${(error as Error).message})` };
  }
}

/** Parses a case file's text; the error names the file and each bad field. */
export function parseIntegrationCase(file: string, text: string): ParsedCase {
  const parsed = parseJson(file, text);
  if (!parsed.ok) return parsed;
  const result = IntegrationCaseSchema.safeParse(parsed.json);
  if (!result.success) {
    const fields = describeIssues(result.error.issues);
    return { ok: false, error: `${file}: ${fields.join('; ')}` };
  }
  return { ok: true, testCase: result.data };
}

/**
 * Parses an event file (`events/<event>.json`) into a smoke case: the event as it stands, expecting only that the
 * invocation does not raise and, for a proxy response, that it is no 5xx (see `judgeSmokeCase`).
 */
export function parseSmokeCase(file: string, text: string): ParsedCase {
  const parsed = parseJson(file, text);
  if (!parsed.ok) return parsed;
  const event = parsed.json;
  if (typeof event !== 'object' || event === null || Array.isArray(event)) return { ok: false, error: `${file}: an event must be a JSON object, got ${describe(event)}` };
  return { ok: true, testCase: IntegrationCaseSchema.parse({ name: `smoke: event ${file.split('/').pop()}`, event }) };
}

const describe = (value: unknown): string => (value === undefined ? 'nothing' : JSON.stringify(value));

/**
 * Compares `actual` against the `expected` subset and returns one line per difference (empty: match).
 * Objects: every expected key must be present and match (extra keys are fine). Arrays: same length, element by element.
 * Anything else: strict equality.
 */
export function subsetDifferences(expected: unknown, actual: unknown, path = '$'): string[] {
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual)) return [`${path}: expected an array, got ${describe(actual)}`];
    if (actual.length !== expected.length) return [`${path}: expected ${expected.length} element(s), got ${actual.length}: ${describe(actual)}`];
    return expected.flatMap((item, index) => subsetDifferences(item, actual[index], `${path}[${index}]`));
  }
  if (typeof expected === 'object' && expected !== null) {
    if (typeof actual !== 'object' || actual === null || Array.isArray(actual)) return [`${path}: expected an object, got ${describe(actual)}`];
    return Object.entries(expected).flatMap(([key, value]) => subsetDifferences(value, (actual as Record<string, unknown>)[key], `${path}.${key}`));
  }
  return Object.is(expected, actual) ? [] : [`${path}: expected ${describe(expected)}, got ${describe(actual)}`];
}

/** What one invocation returned, as the integration test runner observed it. */
export interface InvocationObservation {
  /** The function's error type when it raised (Lambda's `FunctionError`), else undefined. */
  readonly functionError?: string;
  /** The response payload, JSON-parsed when possible. */
  readonly payload: unknown;
  readonly durationMs: number;
}

/** Judges one invocation against its case; returns every failed expectation as a readable line. */
export function judgeCase(testCase: IntegrationCase, observed: InvocationObservation): string[] {
  const { expect } = testCase;
  const problems: string[] = [];
  const raised = observed.functionError !== undefined;
  if (expect.functionError === false && raised) {
    problems.push(`function raised ${observed.functionError}: ${describe(observed.payload)}`);
  } else if (expect.functionError !== false && !raised) {
    problems.push(`expected the function to raise${typeof expect.functionError === 'string' ? ` ${expect.functionError}` : ''}, it returned ${describe(observed.payload)}`);
  } else if (typeof expect.functionError === 'string' && raised) {
    const errorType = (observed.payload as { errorType?: string } | undefined)?.errorType ?? observed.functionError;
    if (errorType !== expect.functionError) problems.push(`expected error ${expect.functionError}, got ${errorType}`);
  }
  const response = observed.payload as Record<string, unknown> | undefined;
  if (expect.statusCode !== undefined && response?.statusCode !== expect.statusCode) {
    problems.push(`statusCode: expected ${expect.statusCode}, got ${describe(response?.statusCode)}`);
  }
  if (expect.payload !== undefined) problems.push(...subsetDifferences(expect.payload, observed.payload, '$'));
  if (expect.body !== undefined) {
    let body = response?.body;
    if (typeof body === 'string') {
      try {
        body = JSON.parse(body);
      } catch {
        // compared as the raw string
      }
    }
    problems.push(...subsetDifferences(expect.body, body, '$.body'));
  }
  if (observed.durationMs > expect.maxDurationMs) {
    problems.push(`took ${Math.round(observed.durationMs)} ms, more than the ${expect.maxDurationMs} ms allowed`);
  }
  return problems;
}

/**
 * Judges a smoke case (an event from `events/`): the invocation must not raise and, when the answer is an API Gateway
 * or Function URL proxy response (an object with a numeric `statusCode`), its status must be below 500. Nothing else
 * about the answer is known, so nothing else is judged.
 */
export function judgeSmokeCase(testCase: IntegrationCase, observed: InvocationObservation): string[] {
  const problems = judgeCase(testCase, observed);
  const statusCode = (observed.payload as { statusCode?: unknown } | null | undefined)?.statusCode;
  if (observed.functionError === undefined && typeof statusCode === 'number' && statusCode >= 500) {
    problems.push(`statusCode: expected below 500 (a smoke case accepts any answer but a server error), got ${statusCode}: ${describe(observed.payload)}`);
  }
  return problems;
}

/** The judge for a case of `format`: a smoke case's for events, the case's own expectations otherwise. */
export const judgeOf = (format: CaseFormat): typeof judgeCase => (format === CaseFormat.EVENTS ? judgeSmokeCase : judgeCase);
