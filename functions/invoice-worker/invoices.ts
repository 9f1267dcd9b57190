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

/** A message the worker cannot book: it goes back to the queue, and after its retries to the dead-letter queue. */
export class InvoiceRejectedError extends Error {
  override readonly name = 'InvoiceRejectedError';
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

/** Books one message's invoice and answers its reference; throws InvoiceRejectedError naming why it cannot. */
export function processInvoice(body: string, config: InvoiceConfig): string {
  const parsed = parseInvoice(body, config);
  if (!parsed.ok) throw new InvoiceRejectedError(parsed.reason);
  return bookInvoice(parsed.invoice);
}
