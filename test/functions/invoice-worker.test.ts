import { describe, expect, it } from 'vitest';
import { invokeHandler, lambdaContext } from '../../harness/lambda-context';
import { loadInvoiceConfig } from '../../functions/invoice-worker/config';
import { InvoiceRejectedError, bookInvoice, parseInvoice, processInvoice } from '../../functions/invoice-worker/invoices';

const config = { maxAmountCents: 10_000 };
const invoice = (overrides: Record<string, unknown> = {}) => JSON.stringify({ invoiceId: 'INV-12', customerEmail: 'a@example.com', amountCents: 500, ...overrides });

describe('invoice-worker: loadInvoiceConfig', () => {
  it('defaults the review limit and rejects a non-positive one', () => {
    expect(loadInvoiceConfig({})).toEqual({ maxAmountCents: 1_000_000 });
    expect(() => loadInvoiceConfig({ MAX_AMOUNT_CENTS: '0' })).toThrow(/MAX_AMOUNT_CENTS/);
  });
});

describe('invoice-worker: parseInvoice', () => {
  it.each([
    ['not json', 'not valid JSON'],
    ['[1]', 'JSON object'],
    [invoice({ invoiceId: 'X' }), 'invoiceId'],
    [invoice({ customerEmail: 'nope' }), 'customerEmail'],
    [invoice({ amountCents: 1.5 }), 'amountCents'],
    [invoice({ amountCents: 10_001 }), 'limit'],
  ])('rejects %s with a reason naming the problem', (body, reason) => {
    const result = parseInvoice(body, config);
    expect(result.ok).toBe(false);
    expect(!result.ok && result.reason).toContain(reason);
  });

  it('accepts a valid invoice', () => {
    expect(parseInvoice(invoice(), config)).toEqual({ ok: true, invoice: { invoiceId: 'INV-12', customerEmail: 'a@example.com', amountCents: 500 } });
  });
});

describe('invoice-worker: processInvoice', () => {
  it('books a valid invoice and rejects an invalid one, naming why', () => {
    expect(processInvoice(invoice(), config)).toBe('BK-000000000012');
    expect(() => processInvoice('{}', config)).toThrow(new InvoiceRejectedError('invoiceId must look like INV-123'));
  });

  it('books the same reference for a redelivered invoice', () => {
    const parsed = parseInvoice(invoice(), config);
    expect(parsed.ok && bookInvoice(parsed.invoice)).toBe('BK-000000000012');
    expect(processInvoice(invoice(), config)).toBe(processInvoice(invoice(), config));
  });
});

/** An SQS record as Lambda delivers it. */
const sqsRecord = (messageId: string, body: string) => ({
  messageId,
  receiptHandle: `r-${messageId}`,
  body,
  attributes: {},
  messageAttributes: {},
  md5OfBody: '',
  eventSource: 'aws:sqs',
  eventSourceARN: 'arn:aws:sqs:us-east-1:123456789012:invoices',
  awsRegion: 'us-east-1',
});

describe('invoice-worker: handler', () => {
  const load = async () => (await import('../../functions/invoice-worker/handler')).handler;
  // Lambda passes every handler a context too; invoke as it does.
  const context = () => lambdaContext({ functionName: 'invoice-worker-test', timeoutSeconds: 30 });

  it('reports partial batch failures by message id', async () => {
    const handler = await load();
    const response = await invokeHandler(handler, { Records: [sqsRecord('m-1', invoice()), sqsRecord('m-2', 'x')] } as never, context());
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: 'm-2' }] });
  });

  it('reports a batch whose every message fails as batch item failures, not as a failed invocation', async () => {
    const handler = await load();
    const response = await invokeHandler(handler, { Records: [sqsRecord('m-1', 'x'), sqsRecord('m-2', '{}')] } as never, context());
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: 'm-1' }, { itemIdentifier: 'm-2' }] });
  });

  it('keeps concurrent batches apart: one batch\'s failures never appear in another\'s answer', async () => {
    const handler = await load();
    const [bad, good] = await Promise.all([
      invokeHandler(handler, { Records: [sqsRecord('b-1', 'x'), sqsRecord('b-2', '{}')] } as never, context()),
      invokeHandler(handler, { Records: [sqsRecord('g-1', invoice()), sqsRecord('g-2', invoice({ invoiceId: 'INV-13' }))] } as never, context()),
    ]);
    expect(bad).toEqual({ batchItemFailures: [{ itemIdentifier: 'b-1' }, { itemIdentifier: 'b-2' }] });
    expect(good).toEqual({ batchItemFailures: [] });
  });

  it('fails loudly on an event that is not an SQS batch', async () => {
    const handler = await load();
    await expect(invokeHandler(handler, {} as never, context())).rejects.toThrow(/Records/);
  });
});
