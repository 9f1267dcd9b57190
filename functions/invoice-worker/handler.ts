import { Logger } from '@aws-lambda-powertools/logger';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { loadInvoiceConfig } from './config';
import { processBatch } from './invoices';

// Created once per container: warm invocations reuse the configuration and the logger.
const config = loadInvoiceConfig();
const logger = new Logger({ serviceName: 'invoice-worker' });

/** SQS entry point with ReportBatchItemFailures: only the failed messages go back to the queue. */
export const handler = async (event: SQSEvent): Promise<SQSBatchResponse> => {
  if (!event || !Array.isArray(event.Records)) {
    // Not an SQS batch: nothing can be retried message by message, so fail the invocation loudly.
    throw new TypeError('Event is not an SQS batch: Records is missing');
  }
  const result = processBatch(
    event.Records.map((record) => ({ id: record.messageId, body: record.body })),
    config,
  );
  for (const failure of result.failures) logger.warn('invoice rejected', { messageId: failure.id, reason: failure.reason });
  logger.info('batch processed', { received: event.Records.length, processed: result.processed, failed: result.failedMessageIds.length });
  return { batchItemFailures: result.failedMessageIds.map((itemIdentifier) => ({ itemIdentifier })) };
};
