import { DeploymentError, ErrorCode, InvalidParametersError } from '../core/errors';
import { describeIssues } from '../core/issues';
import type { Clock, LedgerPort, LogPort, ParameterPort } from '../core/ports';
import { DeployWindowParametersSchema, WindowOverrideSchema, parseUserParameters } from '../core/user-parameters';
import { WindowPolicySchema, assessWindow, type WindowPolicy } from '../core/window';
import type { JobOutcome, PipelineJob } from './pipeline-job';
import { ROLLBACK_ATTEMPTS, withRetries } from './retry';

/** What the deployment-window gate needs from the world. */
export interface DeployWindowDeps {
  readonly parameters: ParameterPort;
  readonly ledger: LedgerPort;
  readonly clock: Clock;
  readonly logger: LogPort;
}

/** Reads and validates a JSON SSM parameter; the error names the parameter and the bad field. */
async function readJsonParameter<T>(deps: DeployWindowDeps, name: string, parse: (value: unknown) => { success: true; data: T } | { success: false; error: { issues: { path: PropertyKey[]; message: string }[] } }): Promise<T | undefined> {
  const raw = await withRetries(deps.clock, () => deps.parameters.get(name));
  if (raw === undefined) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (error) {
    throw new InvalidParametersError(`SSM parameter ${name}: not valid JSON (${(error as Error).message})`, { cause: error });
  }
  const result = parse(json);
  if (!result.success) {
    throw new InvalidParametersError(`SSM parameter ${name}: ${describeIssues(result.error.issues).join('; ')}`);
  }
  return result.data;
}

/**
 * The deployment-window gate before production: succeeds inside an allowed window and outside every freeze; else
 * fails saying when the next window opens — unless an unexpired emergency override is set, which lets the release
 * through and is recorded in the ledger with who and why.
 */
export async function checkDeploymentWindow(job: PipelineJob, deps: DeployWindowDeps): Promise<JobOutcome> {
  const { clock, logger, ledger } = deps;
  const params = parseUserParameters(DeployWindowParametersSchema, job.userParameters);
  logger.appendKeys({ functionName: params.functionName });

  let policy: WindowPolicy | undefined = params.policy;
  if (params.policyParameter) {
    // The parameter wins when it exists, so operators can change the rules; the inline policy is the fallback.
    const fromStore = await readJsonParameter(deps, params.policyParameter, (v) => WindowPolicySchema.safeParse(v));
    if (fromStore === undefined && policy === undefined) throw new InvalidParametersError(`policyParameter: SSM parameter ${params.policyParameter} does not exist and no inline policy is given`);
    policy = fromStore ?? policy;
  }
  const now = clock.now();
  const verdict = assessWindow(policy!, now);
  logger.info('deployment window verdict', { open: verdict.open, reason: verdict.reason });
  if (verdict.open) return { kind: 'succeeded', summary: verdict.reason, outputVariables: { windowOpen: 'true', override: 'false' } };

  if (params.overrideParameter) {
    const override = await readJsonParameter(deps, params.overrideParameter, (v) => WindowOverrideSchema.safeParse(v));
    if (override && Date.parse(override.expiresAt) > now) {
      // An override that cannot be recorded does not apply: every exception to the window must be auditable.
      await withRetries(
        clock,
        () => ledger.recordWindowOverride({ functionName: params.functionName, jobId: job.id, by: override.by, reason: override.reason, at: now, windowReason: verdict.reason }),
        { attempts: ROLLBACK_ATTEMPTS },
      );
      logger.warn('deployment window overridden', { by: override.by, reason: override.reason, expiresAt: override.expiresAt });
      return {
        kind: 'succeeded',
        summary: `window closed (${verdict.reason}) but overridden by ${override.by}: ${override.reason}`,
        outputVariables: { windowOpen: 'false', override: 'true', overrideBy: override.by },
      };
    }
    if (override) logger.info('override expired', { expiresAt: override.expiresAt });
  }
  return { kind: 'failed', error: new DeploymentError(ErrorCode.WINDOW_CLOSED, verdict.reason, { context: verdict.nextOpen ? { nextOpen: new Date(verdict.nextOpen).toISOString() } : {} }) };
}
