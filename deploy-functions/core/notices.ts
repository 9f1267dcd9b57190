/**
 * The notices an automatic rollback sends to people (the notices topic): what they say, built from plain data. Pure:
 * nothing here knows of SNS or Lambda. The body is JSON with a `version`, stable for chat webhooks; every field is
 * always present (`null` when unknown), so a template can name any of them.
 */

/** The body's format version: a field is only ever added; a change of meaning gets a new version. */
export const NOTICE_VERSION = 1;

/** What happened. */
export const NoticeKind = {
  /** An alias was put back on the version before a deployment, by the pipeline itself. */
  ROLLED_BACK: 'ROLLED_BACK',
  /** The rollback function failed on an event: it will be retried, then dead-lettered. */
  ROLLBACK_FAILED: 'ROLLBACK_FAILED',
} as const;
export type NoticeKind = (typeof NoticeKind)[keyof typeof NoticeKind];

/** SNS refuses subjects over 100 characters, and any with a line break or a non-ASCII character. */
export const MAX_SUBJECT_CHARS = 100;

/** The JSON body of a notice (documented in the README, *Rollback notices*). */
export interface NoticeBody {
  readonly version: typeof NOTICE_VERSION;
  readonly kind: NoticeKind;
  /** The stage function: `<function>-<stage>`. */
  readonly functionName: string | null;
  readonly stage: string | null;
  readonly alias: string | null;
  /** The version the alias was moved off (the release that was rolled back). */
  readonly fromVersion: string | null;
  /** The version the alias was put back on. */
  readonly toVersion: string | null;
  readonly commit: string | null;
  readonly deploymentId: string | null;
  readonly cause: {
    /** A stable code: ALARM_BREACHED, METRIC_BREACHED, HEALTH_UNKNOWN, ABORTED, ORPHANED, EXECUTION_STOPPED, … */
    readonly code: string;
    /** `shift-traffic` (during the rollout), `rollback-function` (an alarm event), `sweep` (orphans), `pipeline-execution`. */
    readonly by: string;
    /** The alarm that decided it, if one did. */
    readonly alarmName: string | null;
    /** The sentence explaining the verdict. */
    readonly reason: string;
  };
  readonly pipeline: { readonly name: string | null; readonly executionId: string | null };
  readonly links: { readonly pipelineExecution: string | null; readonly alarm: string | null };
  /** ISO 8601. */
  readonly at: string;
}

/** A notice ready to publish. */
export interface Notice {
  readonly subject: string;
  readonly message: string;
}

/** A rollback as the ledger recorded it, and why it happened. */
export interface RollbackFacts {
  readonly functionName: string;
  readonly alias: string;
  readonly deploymentId: string;
  /** The deployment's fromVersion: where the alias went back to. */
  readonly restoredVersion: string;
  /** The deployment's toVersion: the release the alias left. */
  readonly releasedVersion: string;
  readonly commit?: string;
  readonly stage?: string;
  readonly pipelineName?: string;
  readonly pipelineExecutionId?: string;
  readonly code: string;
  readonly by: string;
  readonly reason: string;
  readonly alarmName?: string;
  readonly at: number;
  readonly region?: string;
}

/** What the rollback function knows of an event it failed on. */
export interface FailureFacts {
  readonly eventType: string;
  readonly alarmName?: string;
  readonly pipelineName?: string;
  readonly pipelineExecutionId?: string;
  readonly error: string;
  readonly at: number;
  readonly region?: string;
}

/** The console page of a pipeline execution. */
export function pipelineExecutionUrl(region: string, pipelineName: string, executionId: string): string {
  return `https://${region}.console.aws.amazon.com/codesuite/codepipeline/pipelines/${encodeURIComponent(pipelineName)}/executions/${encodeURIComponent(executionId)}/timeline`;
}

/** The console page of an alarm. */
export function alarmUrl(region: string, alarmName: string): string {
  return `https://${region}.console.aws.amazon.com/cloudwatch/home?region=${region}#alarmsV2:alarm/${encodeURIComponent(alarmName)}`;
}

/** A subject SNS accepts: printable ASCII only, one line, at most 100 characters. */
export function safeSubject(text: string): string {
  const ascii = text.replace(/[\r\n\t]+/g, ' ').replace(/[^\x20-\x7E]/g, '?').trim();
  return ascii.length <= MAX_SUBJECT_CHARS ? ascii : `${ascii.slice(0, MAX_SUBJECT_CHARS - 3)}...`;
}

const links = (region: string | undefined, pipelineName: string | undefined, executionId: string | undefined, alarmName: string | undefined) => ({
  pipelineExecution: region && pipelineName && executionId ? pipelineExecutionUrl(region, pipelineName, executionId) : null,
  alarm: region && alarmName ? alarmUrl(region, alarmName) : null,
});

/** The notice of an automatic rollback. */
export function rollbackNotice(facts: RollbackFacts): Notice {
  const body: NoticeBody = {
    version: NOTICE_VERSION,
    kind: NoticeKind.ROLLED_BACK,
    functionName: facts.functionName,
    stage: facts.stage ?? null,
    alias: facts.alias,
    fromVersion: facts.releasedVersion,
    toVersion: facts.restoredVersion,
    commit: facts.commit ?? null,
    deploymentId: facts.deploymentId,
    cause: { code: facts.code, by: facts.by, alarmName: facts.alarmName ?? null, reason: facts.reason },
    pipeline: { name: facts.pipelineName ?? null, executionId: facts.pipelineExecutionId ?? null },
    links: links(facts.region, facts.pipelineName, facts.pipelineExecutionId, facts.alarmName),
    at: new Date(facts.at).toISOString(),
  };
  const subject = safeSubject(`[lrp] ${facts.functionName}:${facts.alias} rolled back ${facts.releasedVersion} -> ${facts.restoredVersion} (${facts.code})`);
  return { subject, message: JSON.stringify(body) };
}

/** The notice of an event the rollback function failed on (it is retried, then dead-lettered). */
export function rollbackFailedNotice(facts: FailureFacts): Notice {
  const body: NoticeBody = {
    version: NOTICE_VERSION,
    kind: NoticeKind.ROLLBACK_FAILED,
    functionName: null,
    stage: null,
    alias: null,
    fromVersion: null,
    toVersion: null,
    commit: null,
    deploymentId: null,
    cause: { code: 'ROLLBACK_FAILED', by: 'rollback-function', alarmName: facts.alarmName ?? null, reason: `${facts.eventType} event failed: ${facts.error}; it is retried, then sent to the dead-letter queue` },
    pipeline: { name: facts.pipelineName ?? null, executionId: facts.pipelineExecutionId ?? null },
    links: links(facts.region, facts.pipelineName, facts.pipelineExecutionId, facts.alarmName),
    at: new Date(facts.at).toISOString(),
  };
  const about = facts.alarmName ?? facts.pipelineExecutionId ?? facts.eventType;
  return { subject: safeSubject(`[lrp] rollback function failed on ${about}: retried, then dead-lettered`), message: JSON.stringify(body) };
}
