import { unzipSync } from 'fflate';
import { judgeCase, parseIntegrationCase, type IntegrationCase } from '../core/cases';
import { DeploymentError, ErrorCode, InvalidParametersError, asDeploymentError } from '../core/errors';
import type { ArtifactPort, Clock, InvokePort, LogPort } from '../core/ports';
import { IntegrationTestParametersSchema, parseUserParameters } from '../core/user-parameters';
import type { JobOutcome, PipelineJob } from './pipeline-job';
import { withRetries } from './retry';

/** What the integration-test action needs from the world. */
export interface IntegrationTestDeps {
  readonly artifacts: ArtifactPort;
  readonly invoker: InvokePort;
  readonly clock: Clock;
  readonly logger: LogPort;
}

/** The result of one case. */
export interface CaseResult {
  readonly file: string;
  readonly name: string;
  readonly problems: string[];
  readonly durationMs: number;
}

/** Runs `work` over `items` with at most `limit` at once, keeping the order of results. */
async function mapLimit<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

function parsePayload(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** The cases under `casesPath` in an artifact zip, parsed and validated; every bad file is named. */
export function readCases(zip: Uint8Array, casesPath: string, artifactName: string): { file: string; testCase: IntegrationCase }[] {
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
  if (files.length === 0) {
    const folders = [...new Set(Object.keys(entries).map((path) => path.split('/').slice(0, -1).join('/')).filter(Boolean))].slice(0, 10);
    throw new InvalidParametersError(`casesPath: no *.json cases under ${casesPath} in input artifact ${artifactName} (its folders: ${folders.join(', ') || 'none'})`);
  }
  const parsed = files.map((file) => parseIntegrationCase(file, new TextDecoder().decode(entries[file])));
  const errors = parsed.flatMap((p) => (p.ok ? [] : [p.error]));
  if (errors.length > 0) throw new InvalidParametersError(`invalid integration case file(s): ${errors.join(' | ')}`);
  return parsed.map((p, i) => ({ file: files[i]!, testCase: (p as { ok: true; testCase: IntegrationCase }).testCase }));
}

/** The failure message: every failed case with its differences, readable in the CodePipeline console. */
export function describeFailures(results: readonly CaseResult[]): string {
  const failed = results.filter((r) => r.problems.length > 0);
  const lines = failed.map((r) => `- ${r.file} (${r.name}):\n    ${r.problems.join('\n    ')}`);
  return `${failed.length} of ${results.length} integration case(s) failed:\n${lines.join('\n')}`;
}

/**
 * The integration-test action: reads the cases from the job's input artifact, invokes the qualified function for each
 * with bounded concurrency and judges the answers. Passes with output variables (passed, failed, milliseconds); fails
 * listing every failed case with a readable diff.
 */
export async function runIntegrationTests(job: PipelineJob, deps: IntegrationTestDeps): Promise<JobOutcome> {
  const { clock, logger, artifacts, invoker } = deps;
  const params = parseUserParameters(IntegrationTestParametersSchema, job.userParameters);
  logger.appendKeys({ functionName: params.functionName, qualifier: params.qualifier });
  const artifact = params.artifact ? job.inputArtifacts.find((a) => a.name === params.artifact) : job.inputArtifacts[0];
  if (!artifact) {
    const names = job.inputArtifacts.map((a) => a.name).join(', ') || 'none';
    throw new InvalidParametersError(`input artifact ${params.artifact ?? '(first)'} not found: the action needs the build output as input (it has: ${names})`);
  }
  const zip = await withRetries(clock, () => artifacts.fetch(artifact, job.artifactCredentials));
  const cases = readCases(zip, params.casesPath, artifact.name);
  logger.info('running integration cases', { cases: cases.length, concurrency: params.concurrency });

  const started = clock.now();
  const results = await mapLimit(cases, params.concurrency, async ({ file, testCase }): Promise<CaseResult> => {
    const begin = clock.now();
    try {
      // Only throttling is retried: a throttled invocation never ran, so retrying cannot repeat a side effect.
      const result = await withRetries(clock, () => invoker.invoke(params.functionName, params.qualifier, JSON.stringify(testCase.event)));
      const durationMs = clock.now() - begin;
      const problems = judgeCase(testCase, { functionError: result.functionError, payload: parsePayload(result.payload), durationMs });
      return { file, name: testCase.name, problems, durationMs };
    } catch (error) {
      const failure = asDeploymentError(error);
      if (failure.isConfigurationError) throw failure;
      return { file, name: testCase.name, problems: [`invocation failed: ${failure.message}`], durationMs: clock.now() - begin };
    }
  });
  const milliseconds = clock.now() - started;
  const failed = results.filter((r) => r.problems.length > 0).length;
  for (const r of results) logger.info('case result', { file: r.file, passed: r.problems.length === 0, durationMs: r.durationMs, problems: r.problems });
  if (failed > 0) return { kind: 'failed', error: new DeploymentError(ErrorCode.TEST_CASE_FAILED, describeFailures(results), { context: { failed, passed: results.length - failed } }) };
  return {
    kind: 'succeeded',
    summary: `${results.length} integration case(s) passed against ${params.functionName}:${params.qualifier} in ${milliseconds} ms`,
    outputVariables: { passed: String(results.length), failed: '0', milliseconds: String(milliseconds) },
  };
}
