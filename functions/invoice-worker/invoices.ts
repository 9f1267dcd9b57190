import type { InvoiceConfig } from './config';

/** An invoice message as producers put it on the queue. */
export interface Invoice {
  readonly invoiceId: string;
  readonly customerEmail: string;
  readonly amountCents: number;
}

/** The result of processing one message: done, or failed with the reason (to be retried, then dead-lettered). */
export type InvoiceOutcome =
  | { readonly status: 'processed'; readonly invoiceId: string; readonly reference: string }
  | { readonly status: 'failed'; readonly reason: string };

/** A message as the worker sees it, stripped of its transport. */
export interface InvoiceMessage {
  readonly id: string;
  readonly body: string;
}

/** What the worker reports for a batch: the ids of the messages that must be retried. */
export interface BatchResult {
  readonly processed: number;
  readonly failedMessageIds: string[];
  readonly failures: { readonly id: string; readonly reason: string }[];
}

const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;

/** Parses and validates one message body; never throws. */
export function parseInvoice(body: string, config: InvoiceConfig): { ok: true; invoice: Invoice } | { ok: false; reason: string } {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return { ok: false, reason: 'body is not valid JSON' };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { ok: false, reason: 'body must be a JSON object' };
  const { invoiceId, customerEmail, amountCents } = value as Record<string, unknown>;
  if (typeof invoiceId !== 'string' || !/^INV-\d{1,12}$/.test(invoiceId)) return { ok: false, reason: 'invoiceId must look like INV-123' };
  if (typeof customerEmail !== 'string' || !EMAIL.test(customerEmail)) return { ok: false, reason: 'customerEmail must be an e-mail address' };
  if (!Number.isInteger(amountCents) || (amountCents as number) <= 0) return { ok: false, reason: 'amountCents must be a positive integer' };
  if ((amountCents as number) > config.maxAmountCents) {
    return { ok: false, reason: `amountCents exceeds the ${config.maxAmountCents} limit for automatic processing` };
  }
  return { ok: true, invoice: { invoiceId, customerEmail, amountCents: amountCents as number } };
}

/** Issues the booking reference of an invoice; deterministic so a redelivered message books the same reference. */
export function bookInvoice(invoice: Invoice): string {
  return `BK-${invoice.invoiceId.slice(4).padStart(12, '0')}`;
}

/** Processes a batch message by message, so one bad message never fails the others. */
export function processBatch(messages: readonly InvoiceMessage[], config: InvoiceConfig): BatchResult {
  const failures: { id: string; reason: string }[] = [];
  let processed = 0;
  for (const message of messages) {
    const parsed = parseInvoice(message.body, config);
    if (!parsed.ok) {
      failures.push({ id: message.id, reason: parsed.reason });
      continue;
    }
    bookInvoice(parsed.invoice);
    processed += 1;
  }
  return { processed, failedMessageIds: failures.map((f) => f.id), failures };
}
