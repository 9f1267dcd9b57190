import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { Logger } from '@aws-lambda-powertools/logger';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { loadInvoiceConfig } from './config';
import { InvoiceRejectedError, processInvoice } from './invoices';

// Created once per container: warm invocations reuse the configuration and the logger. The batch processor is not:
// it holds one batch's records and failures, so invocations sharing an environment must not share it.
const config = loadInvoiceConfig();
const logger = new Logger({ serviceName: 'invoice-worker' });

/** One message: booked, or rejected (thrown, so Powertools reports it as a batch item failure to retry). */
const recordHandler = (record: SQSRecord): string => {
  try {
    return processInvoice(record.body, config);
  } catch (error) {
    if (error instanceof InvoiceRejectedError) logger.warn('invoice rejected', { messageId: record.messageId, reason: error.message });
    throw error;
  }
};

/**
 * SQS entry point with ReportBatchItemFailures, through Powertools batch processing: only the failed messages go back
 * to the queue. A batch whose every message fails is reported the same way, never as a failed invocation: bad input
 * must not count as function errors (the Errors alarm would roll a healthy release back).
 */
export const handler = async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
  if (!event || !Array.isArray(event.Records)) {
    // Not an SQS batch: nothing can be retried message by message, so fail the invocation loudly.
    throw new TypeError('Event is not an SQS batch: Records is missing');
  }
  const processor = new BatchProcessor(EventType.SQS);
  const response = await processPartialResponse(event, recordHandler, processor, { context, throwOnFullBatchFailure: false });
  logger.info('batch processed', { received: event.Records.length, failed: response.batchItemFailures.length });
  return response;
};
