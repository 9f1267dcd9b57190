import type { CatalogConfig } from './config';

/** One product of the catalog. */
export interface Product {
  readonly sku: string;
  readonly name: string;
  readonly category: string;
  readonly priceCents: number;
}

/** A product as the API shows it: priced in the catalog's currency. */
export interface PricedProduct extends Product {
  readonly currency: string;
}

/** One page of products, and the cursor of the next page when there is one. */
export interface ProductPage {
  readonly items: readonly PricedProduct[];
  readonly nextCursor?: string;
}

/** What a listing asks for, as the client sent it (query string values, unvalidated). */
export interface ListQuery {
  readonly category?: string;
  readonly limit?: string;
  readonly cursor?: string;
}

/** The outcome of listing: a page, or the query parameter that was wrong and why. */
export type Listing = { readonly ok: true; readonly page: ProductPage } | { readonly ok: false; readonly field: string; readonly message: string };

/** The sample catalog, sorted by SKU; a real function would read a table, behind the same functions. */
export const PRODUCTS: readonly Product[] = [
  { sku: 'BOOK-1', name: 'Serverless Architectures', category: 'books', priceCents: 3900 },
  { sku: 'BOOK-2', name: 'Release Engineering', category: 'books', priceCents: 4500 },
  { sku: 'BOOK-3', name: 'Site Reliability Workbook', category: 'books', priceCents: 5200 },
  { sku: 'MUG-1', name: 'Canary Mug', category: 'merch', priceCents: 1200 },
  { sku: 'SHIRT-1', name: 'Rollback T-Shirt', category: 'merch', priceCents: 2500 },
];

const CATEGORY = /^[a-z][a-z0-9-]{0,31}$/;
const SKU = /^[A-Z0-9-]{3,32}$/;

const priced = (product: Product, config: CatalogConfig): PricedProduct => ({ ...product, currency: config.currency });

/** The product with this SKU, or undefined; a malformed SKU finds nothing. */
export function findProduct(sku: string, config: CatalogConfig, products: readonly Product[] = PRODUCTS): PricedProduct | undefined {
  if (!SKU.test(sku)) return undefined;
  const product = products.find((p) => p.sku === sku);
  return product && priced(product, config);
}

/**
 * One page of the catalog in SKU order, optionally of one category. The cursor is the last SKU of the previous page,
 * so a page never repeats or skips a product when the catalog changes between requests.
 */
export function listProducts(query: ListQuery, config: CatalogConfig, products: readonly Product[] = PRODUCTS): Listing {
  if (query.category !== undefined && !CATEGORY.test(query.category)) return { ok: false, field: 'category', message: 'must be 1-32 lower-case letters, digits or dashes' };
  if (query.cursor !== undefined && !SKU.test(query.cursor)) return { ok: false, field: 'cursor', message: 'must be a cursor this API returned' };
  const limit = query.limit === undefined ? config.defaultPageSize : Number(query.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > config.maxPageSize) return { ok: false, field: 'limit', message: `must be an integer from 1 to ${config.maxPageSize}` };

  const cursor = query.cursor;
  const matching = products.filter((p) => (query.category === undefined || p.category === query.category) && (cursor === undefined || p.sku > cursor));
  const items = matching.slice(0, limit).map((p) => priced(p, config));
  const more = matching.length > limit;
  return { ok: true, page: { items, ...(more ? { nextCursor: items[items.length - 1]!.sku } : {}) } };
}
