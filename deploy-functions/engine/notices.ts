/**
 * Sending notices without ever holding a rollback up: a notice is posted once the alias is back and the ledger
 * recorded it, published in the background, and awaited only when the invocation ends (`flush`). A notice that cannot
 * be built or published is logged and counted (`NoticesFailed`), never thrown.
 */
import { asDeploymentError } from '../core/errors';
import type { DeploymentRecord, DeploymentSummary } from '../core/ledger';
import { rollbackNotice, type Notice } from '../core/notices';
import type { AliasRef, LedgerPort, LogPort, NotifierPort } from '../core/ports';

/** Props of `Notices`. */
export interface NoticesProps {
  readonly notifier: NotifierPort;
  readonly logger: LogPort;
  /** Counts published and failed notices. @default - not counted */
  readonly metrics?: { addMetric(name: string, unit: 'Count', value: number): void };
  /** The region the console links point at. @default - no links */
  readonly region?: string;
}

/** The notices one deployment function sends; `flush` before the invocation returns. */
export class Notices {
  private readonly pending = new Set<Promise<void>>();

  constructor(private readonly props: NoticesProps) {}

  /** The region console links point at. */
  get region(): string | undefined {
    return this.props.region;
  }

  /** Builds and publishes a notice in the background; `context` goes into the log lines about it. */
  post(build: () => Promise<Notice | undefined> | Notice | undefined, context: Record<string, unknown>): void {
    const { notifier, logger, metrics } = this.props;
    const task = (async () => {
      try {
        const notice = await build();
        if (!notice) return;
        await notifier.publish(notice);
        logger.info('notice published', { ...context, subject: notice.subject });
        metrics?.addMetric('NoticesPublished', 'Count', 1);
      } catch (error) {
        logger.error('notice not published', { ...context, error: asDeploymentError(error).message });
        metrics?.addMetric('NoticesFailed', 'Count', 1);
      }
    })();
    this.pending.add(task);
    void task.finally(() => this.pending.delete(task));
  }

  /** Waits for every notice posted so far (each bounded by the notifier's timeouts); never throws. */
  async flush(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
  }
}

/** Why an undo happened, as its notice tells it. */
export interface RollbackCause {
  readonly by: string;
  readonly code: string;
  readonly reason: string;
  readonly alarmName?: string;
}

/** Whether an undo by this actor is the pipeline's own (operators' rollbacks are their own news). */
export const isAutomatic = (by: string) => !by.startsWith('operator:');

/**
 * Posts the notice of an automatic rollback the caller just recorded in the ledger. Only the invocation whose
 * `recordUndo` put the deployment in ROLLED_BACK calls this, so each rollback is announced once, however often its
 * event is delivered or retried. The record is read (best effort) for the commit, stage and pipeline execution.
 */
export function noticeRollback(deps: { readonly notices?: Notices; readonly ledger: LedgerPort }, ref: AliasRef, deployment: DeploymentSummary, cause: RollbackCause, at: number): void {
  const { notices, ledger } = deps;
  if (!notices || !isAutomatic(cause.by)) return;
  notices.post(
    async () => {
      const record: Partial<DeploymentRecord> = (await ledger.getDeployment(ref, deployment.deploymentId).catch(() => undefined)) ?? {};
      return rollbackNotice({
        ...ref,
        deploymentId: deployment.deploymentId,
        restoredVersion: deployment.fromVersion,
        releasedVersion: deployment.toVersion,
        ...(record.commit ? { commit: record.commit } : {}),
        ...(record.stage ? { stage: record.stage } : {}),
        ...(record.pipelineName ? { pipelineName: record.pipelineName } : {}),
        ...(record.pipelineExecutionId ? { pipelineExecutionId: record.pipelineExecutionId } : {}),
        code: cause.code,
        by: cause.by,
        reason: cause.reason,
        ...(cause.alarmName ? { alarmName: cause.alarmName } : {}),
        at,
        ...(notices.region ? { region: notices.region } : {}),
      });
    },
    { deploymentId: deployment.deploymentId, functionName: ref.functionName, alias: ref.alias, notice: 'ROLLED_BACK', by: cause.by, code: cause.code },
  );
}
