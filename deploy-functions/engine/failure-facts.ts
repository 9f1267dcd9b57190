import type { FailureFacts } from '../core/notices';

/** What a notice can say of an event the rollback function failed on, read leniently: the event may be malformed. */
export function failureFacts(event: unknown): Pick<FailureFacts, 'eventType' | 'alarmName' | 'pipelineName' | 'pipelineExecutionId'> {
  const e = (typeof event === 'object' && event !== null ? event : {}) as { 'detail-type'?: unknown; detail?: Record<string, unknown> };
  const text = (value: unknown) => (typeof value === 'string' && value.length > 0 ? value : undefined);
  const detail = typeof e.detail === 'object' && e.detail !== null ? e.detail : {};
  const alarmName = text(detail.alarmName);
  const pipelineName = text(detail.pipeline);
  const pipelineExecutionId = text(detail['execution-id']);
  return {
    eventType: text(e['detail-type']) ?? 'unrecognised',
    ...(alarmName ? { alarmName } : {}),
    ...(pipelineName ? { pipelineName } : {}),
    ...(pipelineExecutionId ? { pipelineExecutionId } : {}),
  };
}
