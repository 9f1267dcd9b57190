import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { SnsNotifier, snsClient } from '../../../deploy-functions/aws/sns';
import { ErrorCode } from '../../../deploy-functions/core/errors';

const TOPIC = 'arn:aws:sns:us-east-1:123456789012:lrp-approvals';

describe('SnsNotifier', () => {
  const sns = mockClient(SNSClient);
  afterEach(() => sns.reset());

  it('publishes the subject and message to its topic, and nothing else', async () => {
    // Arrange
    sns.on(PublishCommand).resolves({ MessageId: 'm-1' });
    // Act
    await new SnsNotifier(TOPIC).publish({ subject: '[lrp] fn:live rolled back 2 -> 1 (ALARM_BREACHED)', message: '{"version":1}' });
    // Assert
    expect(sns.commandCalls(PublishCommand).map((call) => call.args[0].input)).toEqual([{ TopicArn: TOPIC, Subject: '[lrp] fn:live rolled back 2 -> 1 (ALARM_BREACHED)', Message: '{"version":1}' }]);
  });

  it.each([
    ['KMSAccessDeniedException', 400, ErrorCode.AWS_ERROR],
    ['AuthorizationErrorException', 403, ErrorCode.AWS_ACCESS_DENIED],
    ['ThrottledException', 429, ErrorCode.AWS_THROTTLED],
    ['InternalErrorException', 500, ErrorCode.AWS_UNAVAILABLE],
  ])('raises %s as a DeploymentError naming the topic (the caller logs and counts it)', async (name, status, code) => {
    // Arrange
    sns.on(PublishCommand).rejects(Object.assign(new Error(name), { name, $metadata: { httpStatusCode: status } }));
    // Act
    const publishing = new SnsNotifier(TOPIC).publish({ subject: 's', message: 'm' });
    // Assert
    await expect(publishing).rejects.toMatchObject({ code, message: expect.stringContaining(`SNS Publish ${TOPIC}`) });
  });

  it('gives up quickly: two attempts at most, so a notice never holds a rollback up', async () => {
    expect(await snsClient.config.maxAttempts()).toBe(2);
  });
});
