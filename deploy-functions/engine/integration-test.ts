import { unzipSync } from 'fflate';
import { CaseFormat, judgeOf, parseIntegrationCase, parseSmokeCase, type IntegrationCase } from '../core/cases';
import { DeploymentError, ErrorCode, InvalidParametersError, asDeploymentError } from '../core/errors';
import type { ArtifactPort, Clock, InvokePort, LogPort } from '../core/ports';
import { IntegrationTestParametersSchema, parseUserParameters, type IntegrationTestParameters } from '../core/user-parameters';
import type { JobOutcome, PipelineJob } from './pipeline-job';
import { withRetries } from './retry';

/** Timing of the integration-test action. */
export interface IntegrationTestSettings {
  /** Longest one invocation may take; the SDK client gives up after it (INVOKE_TIMEOUT_SECONDS). @default 60000 */
  readonly invokeTimeoutMs: number;
  /** Time kept before the action's own Lambda timeout to report the result (SAFETY_MARGIN_SECONDS). @default 10000 */
  readonly safetyMarginMs: number;
}

/** The settings when no environment variable says otherwise. */
export const DEFAULT_INTEGRATION_TEST_SETTINGS: IntegrationTestSettings = { invokeTimeoutMs: 60_000, safetyMarginMs: 10_000 };

/** What the integration-test action needs from the world. */
export interface IntegrationTestDeps {
  readonly artifacts: ArtifactPort;
  readonly invoker: InvokePort;
  readonly clock: Clock;
  readonly logger: LogPort;
  /** @default DEFAULT_INTEGRATION_TEST_SETTINGS */
  readonly settings?: IntegrationTestSettings;
}

/** A case file and the name the case gives itself. */
export interface CaseRef {
  readonly file: string;
  readonly name: string;
}

/** The result of one case that finished. */
export interface CaseResult extends CaseRef {
  readonly problems: string[];
  readonly durationMs: number;
}

/** The cases a run could not judge: abandoned while running at the deadline, or never started for lack of time. */
export interface IncompleteCases {
  readonly unfinished: readonly CaseRef[];
  readonly notRun: readonly CaseRef[];
}

/** How often the deadline watch wakes up: no timer longer than this outlives a run. */
const WATCH_INTERVAL_MS = 1_000;

/** Resolves true when `deadline` arrives, false as soon as `signal` aborts. */
async function reachesDeadline(clock: Clock, deadline: number, signal: AbortSignal): Promise<boolean> {
  for (;;) {
    if (signal.aborted) return false;
    const leftMs = deadline - clock.now();
    if (leftMs <= 0) return true;
    await clock.sleep(Math.min(leftMs, WATCH_INTERVAL_MS));
  }
}

/** What reading the input artifact leaves of the action's time, at least, for reporting. */
const ARTIFACT_REPORT_RESERVE_MS = 3_000;

/** Reads the input artifact, retrying failures, but never past the deadline: then the read is abandoned and the job fails. */
async function fetchBefore(deadline: number, deps: IntegrationTestDeps, fetch: () => Promise<Uint8Array>, stop: AbortController): Promise<Uint8Array> {
  const { clock } = deps;
  const reading = withRetries(clock, fetch, { until: deadline });
  // Abandoned at the deadline, the read still ends (aborted) later: that end is expected, not unhandled.
  reading.catch(() => undefined);
  try {
    const expired = await Promise.race([reading.then(() => false), reachesDeadline(clock, deadline, stop.signal)]);
    if (expired) throw new DeploymentError(ErrorCode.TIMED_OUT, 'the input artifact could not be read before the deadline (S3 slow or unreachable); no case was run');
    return await reading;
  } finally {
    stop.abort();
  }
}

function parsePayload(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/**
 * The cases under `casesPath` in an artifact zip, parsed and validated; every bad file is named. With `format` events,
 * each `*.json` there is an event run as a smoke case.
 */
export function readCases(zip: Uint8Array, casesPath: string, artifactName: string, format: CaseFormat = CaseFormat.CASES): { file: string; testCase: IntegrationCase }[] {
  let entries: Record<string, Uint8Array>;
  try {
    entries = unzipSync(zip);
  } catch (error) {
    throw new DeploymentError(ErrorCode.ARTIFACT_UNREADABLE, `input artifact ${artifactName} is not a readable zip (${(error as Error).message})`, { cause: error });
  }
  const prefix = `${casesPath.replace(/\/+$/, '')}/`;
  const files = Object.keys(entries)
    .filter((path) => path.startsWith(prefix) && path.endsWith('.json') && !path.slice(prefix.length).includes('/'))
    .sort();
  const what = format === CaseFormat.EVENTS ? 'events' : 'cases';
  if (files.length === 0) {
    const folders = [...new Set(Object.keys(entries).map((path) => path.split('/').slice(0, -1).join('/')).filter(Boolean))].slice(0, 10);
    throw new InvalidParametersError(`casesPath: no *.json ${what} under ${casesPath} in input artifact ${artifactName} (its folders: ${folders.join(', ') || 'none'})`);
  }
  const parse = format === CaseFormat.EVENTS ? parseSmokeCase : parseIntegrationCase;
  const parsed = files.map((file) => parse(file, new TextDecoder().decode(entries[file])));
  const errors = parsed.flatMap((p) => (p.ok ? [] : [p.error]));
  if (errors.length > 0) throw new InvalidParametersError(`invalid ${format === CaseFormat.EVENTS ? 'event' : 'integration case'} file(s): ${errors.join(' | ')}`);
  return parsed.map((p, i) => ({ file: files[i]!, testCase: (p as { ok: true; testCase: IntegrationCase }).testCase }));
}

/**
 * The failure message, readable in the CodePipeline console: every case abandoned at the deadline, every case not run,
 * then every failed case with its differences.
 */
export function describeFailures(results: readonly CaseResult[], incomplete: IncompleteCases = { unfinished: [], notRun: [] }): string {
  const total = results.length + incomplete.unfinished.length + incomplete.notRun.length;
  const failed = results.filter((r) => r.problems.length > 0);
  const list = (cases: readonly CaseRef[]) => cases.map((c) => `- ${c.file} (${c.name})`).join('\n');
  const sections: string[] = [];
  if (incomplete.unfinished.length > 0) sections.push(`${incomplete.unfinished.length} of ${total} integration case(s) still running at the deadline, abandoned:\n${list(incomplete.unfinished)}`);
  if (incomplete.notRun.length > 0) sections.push(`${incomplete.notRun.length} of ${total} integration case(s) not run, too little time left before the deadline:\n${list(incomplete.notRun)}`);
  if (failed.length > 0 || sections.length === 0) {
    sections.push(`${failed.length} of ${total} integration case(s) failed:\n${failed.map((r) => `- ${r.file} (${r.name}):\n    ${r.problems.join('\n    ')}`).join('\n')}`);
  }
  return sections.join('\n');
}

/**
 * Runs the cases with at most `concurrency` at once until `deadline`. A case starts only if the time left covers its
 * expected duration (its `expect.maxDurationMs`, capped by the invoke timeout); only throttled invocations are retried,
 * since a throttled invocation never ran while a timeout or a 5xx may come from one that did. At the deadline it stops
 * waiting, aborts the invocations still running and reports them as unfinished.
 */
async function runCases(cases: readonly { file: string; testCase: IntegrationCase }[], params: IntegrationTestParameters, deadline: number, deps: IntegrationTestDeps & { settings: IntegrationTestSettings }) {
  const { clock, logger, invoker, settings } = deps;
  const results = new Array<CaseResult | undefined>(cases.length);
  const started = new Array<boolean>(cases.length).fill(false);
  const stop = new AbortController();

  const runCase = async (index: number): Promise<void> => {
    const { file, testCase } = cases[index]!;
    const expectedMs = Math.min(testCase.expect.maxDurationMs, settings.invokeTimeoutMs);
    if (deadline - clock.now() < expectedMs) {
      logger.warn('case not started: the time left before the deadline would not cover it', { file, expectedMs, leftMs: deadline - clock.now() });
      return;
    }
    started[index] = true;
    let begin = clock.now();
    const attempt = async () => {
      if (stop.signal.aborted || deadline - clock.now() < expectedMs) throw new DeploymentError(ErrorCode.TIMED_OUT, 'throttled until too little time was left before the deadline');
      begin = clock.now();
      return invoker.invoke(params.functionName, params.qualifier, JSON.stringify(testCase.event), { signal: stop.signal });
    };
    try {
      const result = await withRetries(clock, attempt, { retryOn: [ErrorCode.AWS_THROTTLED] });
      const durationMs = clock.now() - begin;
      const problems = judgeOf(params.cases)(testCase, { functionError: result.functionError, payload: parsePayload(result.payload), durationMs });
      results[index] = { file, name: testCase.name, problems, durationMs };
    } catch (error) {
      const failure = asDeploymentError(error);
      if (failure.isConfigurationError) throw failure;
      results[index] = { file, name: testCase.name, problems: [`invocation failed: ${failure.message}`], durationMs: clock.now() - begin };
    }
  };
  let next = 0;
  const worker = async () => {
    while (next < cases.length && !stop.signal.aborted) await runCase(next++);
  };
  const work = Promise.all(Array.from({ length: Math.min(params.concurrency, cases.length) }, worker));

  let expired: boolean;
  try {
    expired = await Promise.race([work.then(() => false), reachesDeadline(clock, deadline, stop.signal)]);
  } catch (error) {
    stop.abort();
    throw error;
  }
  // What is known at this instant is what gets reported; answers arriving later are ignored.
  const ref = (i: number): CaseRef => ({ file: cases[i]!.file, name: cases[i]!.testCase.name });
  const unfinished = cases.flatMap((_, i) => (started[i] && !results[i] ? [ref(i)] : []));
  const notRun = cases.flatMap((_, i) => (started[i] ? [] : [ref(i)]));
  const finished = results.filter((r): r is CaseResult => r !== undefined);
  stop.abort();
  if (expired) logger.warn('deadline reached: no longer waiting for the cases still running', { unfinished: unfinished.map((c) => c.file) });
  return { results: finished, unfinished, notRun };
}

/**
 * The integration-test action: reads the cases from the job's input artifact, invokes the qualified function for each
 * with bounded concurrency and judges the answers, finishing `safetyMarginMs` before the action's own Lambda timeout
 * (`remainingTimeMs` from now). Passes with output variables (passed, failed, milliseconds); fails listing every failed
 * case with a readable diff, and every case abandoned at the deadline or not run for lack of time.
 */
export async function runIntegrationTests(job: PipelineJob, remainingTimeMs: number, deps: IntegrationTestDeps): Promise<JobOutcome> {
  const { clock, logger, artifacts } = deps;
  const settings = deps.settings ?? DEFAULT_INTEGRATION_TEST_SETTINGS;
  const deadline = clock.now() + remainingTimeMs - settings.safetyMarginMs;
  const params = parseUserParameters(IntegrationTestParametersSchema, job.userParameters);
  logger.appendKeys({ functionName: params.functionName, qualifier: params.qualifier });
  const artifact = params.artifact ? job.inputArtifacts.find((a) => a.name === params.artifact) : job.inputArtifacts[0];
  const stop = new AbortController();
  if (!artifact) {
    const names = job.inputArtifacts.map((a) => a.name).join(', ') || 'none';
    throw new InvalidParametersError(`input artifact ${params.artifact ?? '(first)'} not found: the action needs the build output as input (it has: ${names})`);
  }
  // The read may use part of the safety margin (cases may not): it is quick, and without it nothing can be reported but a timeout.
  const readDeadline = Math.max(deadline, clock.now() + remainingTimeMs - Math.min(settings.safetyMarginMs, ARTIFACT_REPORT_RESERVE_MS));
  const zip = await fetchBefore(readDeadline, deps, () => artifacts.fetch(artifact, job.artifactCredentials, { signal: stop.signal }), stop);
  const cases = readCases(zip, params.casesPath, artifact.name, params.cases);
  logger.info('running integration cases', { cases: cases.length, format: params.cases, concurrency: params.concurrency, msUntilDeadline: deadline - clock.now(), safetyMarginMs: settings.safetyMarginMs });

  const started = clock.now();
  const { results, unfinished, notRun } = await runCases(cases, params, deadline, { ...deps, settings });
  const milliseconds = clock.now() - started;
  const failed = results.filter((r) => r.problems.length > 0).length;
  for (const r of results) logger.info('case result', { file: r.file, passed: r.problems.length === 0, durationMs: r.durationMs, problems: r.problems });
  if (failed > 0 || unfinished.length > 0 || notRun.length > 0) {
    const context = { failed, passed: results.length - failed, unfinished: unfinished.length, notRun: notRun.length };
    return { kind: 'failed', error: new DeploymentError(ErrorCode.TEST_CASE_FAILED, describeFailures(results, { unfinished, notRun }), { context }) };
  }
  return {
    kind: 'succeeded',
    summary: `${results.length} ${params.cases === CaseFormat.EVENTS ? `smoke case(s) (the events under ${params.casesPath})` : 'integration case(s)'} passed against ${params.functionName}:${params.qualifier} in ${milliseconds} ms`,
    outputVariables: { passed: String(results.length), failed: '0', milliseconds: String(milliseconds) },
  };
}
