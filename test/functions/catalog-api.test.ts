import { describe, expect, it } from 'vitest';
import { invokeHandler, lambdaContext } from '../../harness/lambda-context';
import { handleApiRequest } from '../../functions/catalog-api/api';
import { PRODUCTS, findProduct, listProducts } from '../../functions/catalog-api/catalog';
import { ConfigurationError, loadCatalogConfig } from '../../functions/catalog-api/config';

const config = { currency: 'EUR', defaultPageSize: 2, maxPageSize: 3 } as const;
const skus = (listing: ReturnType<typeof listProducts>) => (listing.ok ? listing.page.items.map((p) => p.sku) : listing);

describe('catalog-api: loadCatalogConfig', () => {
  it('fills documented defaults when the environment is empty', () => {
    expect(loadCatalogConfig({})).toEqual({ currency: 'EUR', defaultPageSize: 20, maxPageSize: 100 });
  });

  it.each([
    [{ CURRENCY: 'euro' }, /CURRENCY/],
    [{ MAX_PAGE_SIZE: '0' }, /MAX_PAGE_SIZE/],
    [{ DEFAULT_PAGE_SIZE: '2.5' }, /DEFAULT_PAGE_SIZE/],
    [{ DEFAULT_PAGE_SIZE: '50', MAX_PAGE_SIZE: '10' }, /must not exceed MAX_PAGE_SIZE/],
  ])('rejects %o, naming the variable', (env, message) => {
    expect(() => loadCatalogConfig(env)).toThrow(ConfigurationError);
    expect(() => loadCatalogConfig(env)).toThrow(message);
  });
});

describe('catalog-api: findProduct', () => {
  it('finds a product by SKU and prices it in the configured currency', () => {
    expect(findProduct('MUG-1', { ...config, currency: 'USD' })).toEqual({ sku: 'MUG-1', name: 'Canary Mug', category: 'merch', priceCents: 1200, currency: 'USD' });
  });

  it('finds nothing for an unknown or malformed SKU', () => {
    expect(findProduct('NOPE-9', config)).toBeUndefined();
    expect(findProduct('../etc', config)).toBeUndefined();
  });
});

describe('catalog-api: listProducts', () => {
  it('pages through the whole catalog in SKU order, each product once', () => {
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const listing = listProducts({ cursor }, config);
      if (!listing.ok) throw new Error(listing.message);
      seen.push(...listing.page.items.map((p) => p.sku));
      cursor = listing.page.nextCursor;
    } while (cursor);
    expect(seen).toEqual(PRODUCTS.map((p) => p.sku));
  });

  it('filters by category and gives no cursor after the last page', () => {
    const listing = listProducts({ category: 'merch', limit: '3' }, config);
    expect(listing).toEqual({ ok: true, page: { items: [expect.objectContaining({ sku: 'MUG-1' }), expect.objectContaining({ sku: 'SHIRT-1' })] } });
  });

  it('keeps its place when the catalog changes between pages: the cursor is the last SKU seen', () => {
    const first = listProducts({ limit: '2' }, config);
    expect(first.ok && first.page.nextCursor).toBe('BOOK-2');
    const grown = [...PRODUCTS, { sku: 'BOOK-0', name: 'Prequel', category: 'books', priceCents: 100 }].sort((a, b) => a.sku.localeCompare(b.sku));
    expect(skus(listProducts({ cursor: 'BOOK-2', limit: '1' }, config, grown))).toEqual(['BOOK-3']);
  });

  it.each([
    [{ limit: '4' }, 'limit'],
    [{ limit: '0' }, 'limit'],
    [{ limit: 'ten' }, 'limit'],
    [{ category: 'Books!' }, 'category'],
    [{ cursor: 'not a cursor' }, 'cursor'],
  ])('rejects %o, naming the query parameter', (query, field) => {
    expect(listProducts(query, config)).toMatchObject({ ok: false, field });
  });
});

describe('catalog-api: handleApiRequest', () => {
  const get = (path: string, query = {}) => handleApiRequest({ method: 'GET', path, query }, config);

  it('answers the health check, a listing and a product with 200', () => {
    expect(get('/health')).toEqual({ statusCode: 200, body: { status: 'ok' } });
    expect(get('/products')).toMatchObject({ statusCode: 200, body: { items: [{ sku: 'BOOK-1' }, { sku: 'BOOK-2' }], nextCursor: 'BOOK-2' } });
    expect(get('/products/BOOK-3')).toMatchObject({ statusCode: 200, body: { sku: 'BOOK-3', currency: 'EUR' } });
  });

  it('answers 400 naming the field for a bad query, 404 for an unknown product or path, 405 for a write', () => {
    expect(get('/products', { limit: '99' })).toMatchObject({ statusCode: 400, body: { errors: [{ field: 'limit' }] } });
    expect(get('/products/NOPE-1').statusCode).toBe(404);
    expect(get('/orders').statusCode).toBe(404);
    expect(handleApiRequest({ method: 'POST', path: '/products', query: {} }, config).statusCode).toBe(405);
    expect(handleApiRequest({ method: 'get', path: '/health', query: {} }, config).statusCode).toBe(200);
  });
});

describe('catalog-api: handler', () => {
  const load = async () => (await import('../../functions/catalog-api/handler')).handler;
  // Lambda passes every handler a context too; invoke as it does.
  const context = () => lambdaContext({ functionName: 'catalog-api-test', timeoutSeconds: 3, memoryLimitInMB: 128 });
  const event = (httpMethod: string, path: string, queryStringParameters: Record<string, string> | null = null) => ({ httpMethod, path, queryStringParameters }) as never;

  it('translates a REST API proxy event into a JSON response', async () => {
    const handler = await load();
    const response = await invokeHandler(handler, event('GET', '/products', { category: 'books', limit: '1' }), context());
    expect(response.statusCode).toBe(200);
    expect(response.headers).toEqual({ 'content-type': 'application/json' });
    expect(JSON.parse(response.body)).toMatchObject({ items: [{ sku: 'BOOK-1' }], nextCursor: 'BOOK-1' });
  });

  it('answers 400 to an event that is not a REST API request', async () => {
    const handler = await load();
    expect((await invokeHandler(handler, {} as never, context())).statusCode).toBe(400);
  });
});
