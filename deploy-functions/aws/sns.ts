import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import type { NotifierPort } from '../core/ports';
import { clientConfig } from './client-config';
import { translateAwsError } from './errors';

/**
 * Created once per container. A notice must never hold a rollback up: short timeouts and two attempts at most, so a
 * publish gives up within about six seconds.
 */
export const snsClient = new SNSClient(clientConfig({ connectionTimeoutMs: 1_000, requestTimeoutMs: 2_000, maxAttempts: 2 }));

/** Publishes notices to one topic (`NOTICES_TOPIC_ARN`). */
export class SnsNotifier implements NotifierPort {
  constructor(
    private readonly topicArn: string,
    private readonly client: SNSClient = snsClient,
  ) {}

  async publish(notice: { readonly subject: string; readonly message: string }): Promise<void> {
    try {
      await this.client.send(new PublishCommand({ TopicArn: this.topicArn, Subject: notice.subject, Message: notice.message }));
    } catch (error) {
      throw translateAwsError(error, `SNS Publish ${this.topicArn}`);
    }
  }
}
