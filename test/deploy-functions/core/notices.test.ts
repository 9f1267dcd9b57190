import { describe, expect, it } from 'vitest';
import { MAX_SUBJECT_CHARS, alarmUrl, pipelineExecutionUrl, rollbackFailedNotice, rollbackNotice, safeSubject, type NoticeBody } from '../../../deploy-functions/core/notices';

const facts = {
  functionName: 'orders-api-prod',
  alias: 'live',
  deploymentId: '20261126T081500Z-ab12cd34',
  restoredVersion: '6',
  releasedVersion: '7',
  commit: '3f2c9e1',
  stage: 'prod',
  pipelineName: 'lrp-orders-api',
  pipelineExecutionId: 'b5f0e1a2-1111-2222-3333-444455556666',
  code: 'ALARM_BREACHED',
  by: 'rollback-function',
  reason: 'alarm lrp/orders-api-prod/live/errors changed to ALARM during the bake window: Threshold Crossed',
  alarmName: 'lrp/orders-api-prod/live/errors',
  at: Date.UTC(2026, 10, 26, 8, 21, 7),
  region: 'eu-central-1',
};

describe('rollbackNotice', () => {
  it('says which alias moved from which version back to which, why, and links the execution and the alarm', () => {
    // Act
    const notice = rollbackNotice(facts);
    // Assert
    expect(notice.subject).toBe('[lrp] orders-api-prod:live rolled back 7 -> 6 (ALARM_BREACHED)');
    expect(JSON.parse(notice.message)).toEqual({
      version: 1,
      kind: 'ROLLED_BACK',
      functionName: 'orders-api-prod',
      stage: 'prod',
      alias: 'live',
      fromVersion: '7',
      toVersion: '6',
      commit: '3f2c9e1',
      deploymentId: '20261126T081500Z-ab12cd34',
      cause: { code: 'ALARM_BREACHED', by: 'rollback-function', alarmName: 'lrp/orders-api-prod/live/errors', reason: facts.reason },
      pipeline: { name: 'lrp-orders-api', executionId: 'b5f0e1a2-1111-2222-3333-444455556666' },
      links: {
        pipelineExecution: 'https://eu-central-1.console.aws.amazon.com/codesuite/codepipeline/pipelines/lrp-orders-api/executions/b5f0e1a2-1111-2222-3333-444455556666/timeline',
        alarm: 'https://eu-central-1.console.aws.amazon.com/cloudwatch/home?region=eu-central-1#alarmsV2:alarm/lrp%2Forders-api-prod%2Flive%2Ferrors',
      },
      at: '2026-11-26T08:21:07.000Z',
    } satisfies NoticeBody);
  });

  it('keeps every field, as null, when it is unknown: a webhook template may name any of them', () => {
    // Act
    const body = JSON.parse(rollbackNotice({ functionName: 'f-prod', alias: 'live', deploymentId: 'd', restoredVersion: '1', releasedVersion: '2', code: 'ORPHANED', by: 'sweep', reason: 'no heartbeat', at: 0 }).message) as NoticeBody;
    // Assert
    expect(body).toMatchObject({ stage: null, commit: null, cause: { alarmName: null }, pipeline: { name: null, executionId: null }, links: { pipelineExecution: null, alarm: null } });
    expect(Object.keys(body)).toEqual(Object.keys(JSON.parse(rollbackNotice(facts).message) as object));
  });

  it('keeps the message small', () => {
    expect(rollbackNotice(facts).message.length).toBeLessThan(1_500);
  });
});

describe('safeSubject', () => {
  it.each([
    ['a long name', `[lrp] ${'x'.repeat(140)}:live rolled back 7 -> 6 (ALARM_BREACHED)`],
    ['line breaks', '[lrp] fn:live\nrolled back\r\n7 -> 6'],
    ['non-ASCII characters', '[lrp] größe-prod:live rolled back 7 → 6'],
  ])('makes a subject SNS accepts from %s: one line of printable ASCII, at most 100 characters', (_, text) => {
    const subject = safeSubject(text);
    expect(subject.length).toBeLessThanOrEqual(MAX_SUBJECT_CHARS);
    expect(subject).toMatch(/^[\x20-\x7E]+$/);
  });
});

describe('console links', () => {
  it('point at the pipeline execution timeline and the alarm, names encoded', () => {
    expect(pipelineExecutionUrl('us-east-1', 'lrp-a', 'e-1')).toBe('https://us-east-1.console.aws.amazon.com/codesuite/codepipeline/pipelines/lrp-a/executions/e-1/timeline');
    expect(alarmUrl('us-east-1', 'lrp/a-prod/live/duration-p99')).toBe('https://us-east-1.console.aws.amazon.com/cloudwatch/home?region=us-east-1#alarmsV2:alarm/lrp%2Fa-prod%2Flive%2Fduration-p99');
  });
});

describe('rollbackFailedNotice', () => {
  it('says which event failed, that it is retried and then dead-lettered, and links its alarm', () => {
    // Act
    const notice = rollbackFailedNotice({ eventType: 'CloudWatch Alarm State Change', alarmName: 'lrp/a-prod/live/errors', error: 'ledger GetItem failed: AccessDeniedException', at: 0, region: 'us-east-1' });
    // Assert
    expect(notice.subject).toBe('[lrp] rollback function failed on lrp/a-prod/live/errors: retried, then dead-lettered');
    expect(JSON.parse(notice.message)).toMatchObject({
      version: 1,
      kind: 'ROLLBACK_FAILED',
      functionName: null,
      cause: { code: 'ROLLBACK_FAILED', by: 'rollback-function', alarmName: 'lrp/a-prod/live/errors', reason: expect.stringMatching(/AccessDeniedException.*dead-letter queue/) },
      links: { alarm: expect.stringContaining('#alarmsV2:alarm/lrp%2Fa-prod%2Flive%2Ferrors') },
    });
  });
});
