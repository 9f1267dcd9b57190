import { describe, expect, it } from 'vitest';
import { invokeHandler, lambdaContext } from '../../harness/lambda-context';
import { handleApiRequest } from '../../functions/orders-api/api';
import { ConfigurationError, loadOrdersConfig } from '../../functions/orders-api/config';
import { priceOrder, validateOrderRequest } from '../../functions/orders-api/orders';

const config = { currency: 'EUR', maxItems: 3, taxRatePercent: 20 } as const;
const validOrder = { customerId: 'c-1', items: [{ sku: 'BOOK-1', quantity: 2, unitPriceCents: 1250 }] };

describe('orders-api: loadOrdersConfig', () => {
  it('fills documented defaults when the environment is empty', () => {
    expect(loadOrdersConfig({})).toEqual({ currency: 'EUR', maxItems: 50, taxRatePercent: 0 });
  });

  it('rejects a tax rate out of range, naming the variable', () => {
    expect(() => loadOrdersConfig({ TAX_RATE_PERCENT: '120' })).toThrow(ConfigurationError);
    expect(() => loadOrdersConfig({ TAX_RATE_PERCENT: 'x' })).toThrow(/TAX_RATE_PERCENT/);
  });

  it('rejects a currency that is not an ISO code', () => {
    expect(() => loadOrdersConfig({ CURRENCY: 'euro' })).toThrow(/CURRENCY/);
  });
});

describe('orders-api: validateOrderRequest', () => {
  it('accepts a well-formed order', () => {
    expect(validateOrderRequest(validOrder, config)).toEqual({ ok: true, value: validOrder });
  });

  it('reports every invalid field at once', () => {
    const result = validateOrderRequest({ customerId: '', items: [{ sku: 'x', quantity: 0, unitPriceCents: -1 }] }, config);
    expect(result.ok).toBe(false);
    expect(!result.ok && result.errors.map((e) => e.field)).toEqual(['customerId', 'items[0].sku', 'items[0].quantity', 'items[0].unitPriceCents']);
  });

  it('rejects too many lines and non-object bodies', () => {
    const many = { customerId: 'c', items: Array.from({ length: 4 }, () => validOrder.items[0]) };
    expect(validateOrderRequest(many, config)).toMatchObject({ ok: false, errors: [{ field: 'items' }] });
    expect(validateOrderRequest([1], config)).toMatchObject({ ok: false, errors: [{ field: '(body)' }] });
  });
});

describe('orders-api: priceOrder', () => {
  it('adds tax rounded to the cent and keeps only known line fields', () => {
    const order = priceOrder({ customerId: 'c', items: [{ sku: 'A-1', quantity: 3, unitPriceCents: 333 }] }, { ...config, taxRatePercent: 7 }, () => 'id-1');
    expect(order).toEqual({
      orderId: 'id-1',
      customerId: 'c',
      items: [{ sku: 'A-1', quantity: 3, unitPriceCents: 333 }],
      currency: 'EUR',
      subtotalCents: 999,
      taxCents: 70,
      totalCents: 1069,
    });
  });
});

describe('orders-api: handleApiRequest', () => {
  const post = (body: string | undefined) => handleApiRequest({ method: 'POST', path: '/orders', body }, config);

  it('answers 201 with the priced order', () => {
    const response = post(JSON.stringify(validOrder));
    expect(response.statusCode).toBe(201);
    expect(response.body).toMatchObject({ totalCents: 3000, taxCents: 500 });
  });

  it.each([
    ['malformed JSON', 'not json', 400],
    ['an empty body', undefined, 400],
    ['an invalid order', JSON.stringify({ customerId: 'c', items: [] }), 422],
  ])('answers %s with the right status', (_label, body, status) => {
    expect(post(body).statusCode).toBe(status);
  });

  it('answers 405 for a wrong method and 404 for an unknown path', () => {
    expect(handleApiRequest({ method: 'GET', path: '/orders', body: undefined }, config).statusCode).toBe(405);
    expect(handleApiRequest({ method: 'GET', path: '/nope', body: undefined }, config).statusCode).toBe(404);
    expect(handleApiRequest({ method: 'get', path: '/health', body: undefined }, config)).toEqual({ statusCode: 200, body: { status: 'ok' } });
  });
});

describe('orders-api: handler', () => {
  const load = async () => (await import('../../functions/orders-api/handler')).handler;
  // Lambda passes every handler a context too; invoke as it does.
  const context = () => lambdaContext({ functionName: 'orders-api-test', timeoutSeconds: 5, memoryLimitInMB: 256 });
  const event = (method: string, path: string, body?: string, isBase64Encoded = false) =>
    ({ requestContext: { http: { method, path } }, body, isBase64Encoded }) as never;

  it('translates an HTTP API event into a JSON response', async () => {
    const handler = await load();
    const response = await invokeHandler(handler, event('POST', '/orders', JSON.stringify(validOrder)), context());
    expect(response.statusCode).toBe(201);
    expect(response.headers).toEqual({ 'content-type': 'application/json' });
    expect(JSON.parse(response.body!)).toMatchObject({ customerId: 'c-1', subtotalCents: 2500 });
  });

  it('decodes base64 bodies', async () => {
    const handler = await load();
    const response = await invokeHandler(handler, event('POST', '/orders', Buffer.from(JSON.stringify(validOrder)).toString('base64'), true), context());
    expect(response.statusCode).toBe(201);
  });

  it('answers 400 to an event that is not an HTTP API request', async () => {
    const handler = await load();
    expect((await invokeHandler(handler, {} as never, context())).statusCode).toBe(400);
  });
});
