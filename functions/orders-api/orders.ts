import { randomUUID } from 'node:crypto';
import type { OrdersConfig } from './config';

/** One line of an order as a client sends it. */
export interface OrderLine {
  readonly sku: string;
  readonly quantity: number;
  readonly unitPriceCents: number;
}

/** An order request after validation. */
export interface OrderRequest {
  readonly customerId: string;
  readonly items: readonly OrderLine[];
}

/** A priced, accepted order. */
export interface Order extends OrderRequest {
  readonly orderId: string;
  readonly currency: string;
  readonly subtotalCents: number;
  readonly taxCents: number;
  readonly totalCents: number;
}

/** One reason an order request was rejected, naming the offending field. */
export interface FieldError {
  readonly field: string;
  readonly message: string;
}

/** The outcome of validating untrusted input: the request, or every problem found. */
export type Validation = { readonly ok: true; readonly value: OrderRequest } | { readonly ok: false; readonly errors: FieldError[] };

const SKU_PATTERN = /^[A-Z0-9-]{3,32}$/;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Checks an untrusted order payload and reports every invalid field at once. */
export function validateOrderRequest(input: unknown, config: OrdersConfig): Validation {
  const errors: FieldError[] = [];
  if (!isRecord(input)) return { ok: false, errors: [{ field: '(body)', message: 'must be a JSON object' }] };

  const { customerId, items } = input;
  if (typeof customerId !== 'string' || customerId.trim() === '' || customerId.length > 64) {
    errors.push({ field: 'customerId', message: 'must be a non-empty string of at most 64 characters' });
  }
  if (!Array.isArray(items) || items.length === 0) {
    errors.push({ field: 'items', message: 'must be a non-empty array' });
  } else if (items.length > config.maxItems) {
    errors.push({ field: 'items', message: `must hold at most ${config.maxItems} lines` });
  } else {
    items.forEach((item: unknown, index) => {
      const at = `items[${index}]`;
      if (!isRecord(item)) {
        errors.push({ field: at, message: 'must be an object' });
        return;
      }
      if (typeof item.sku !== 'string' || !SKU_PATTERN.test(item.sku)) {
        errors.push({ field: `${at}.sku`, message: 'must be 3-32 upper-case letters, digits or dashes' });
      }
      if (!Number.isInteger(item.quantity) || (item.quantity as number) < 1 || (item.quantity as number) > 10_000) {
        errors.push({ field: `${at}.quantity`, message: 'must be an integer from 1 to 10000' });
      }
      if (!Number.isInteger(item.unitPriceCents) || (item.unitPriceCents as number) < 0) {
        errors.push({ field: `${at}.unitPriceCents`, message: 'must be a non-negative integer' });
      }
    });
  }
  if (errors.length > 0) return { ok: false, errors };
  return { ok: true, value: input as unknown as OrderRequest };
}

/** Prices a valid order; tax is rounded half-up to the cent. */
export function priceOrder(request: OrderRequest, config: OrdersConfig, newId: () => string = randomUUID): Order {
  const subtotalCents = request.items.reduce((sum, line) => sum + line.quantity * line.unitPriceCents, 0);
  const taxCents = Math.round((subtotalCents * config.taxRatePercent) / 100);
  return {
    orderId: newId(),
    customerId: request.customerId,
    items: request.items.map(({ sku, quantity, unitPriceCents }) => ({ sku, quantity, unitPriceCents })),
    currency: config.currency,
    subtotalCents,
    taxCents,
    totalCents: subtotalCents + taxCents,
  };
}
