import type { CatalogConfig } from './config';
import { findProduct, listProducts, type ListQuery } from './catalog';

/** A transport-neutral HTTP request: what the API needs, nothing of Lambda or API Gateway. */
export interface ApiRequest {
  readonly method: string;
  readonly path: string;
  readonly query: ListQuery;
}

/** A transport-neutral HTTP response with a JSON body. */
export interface ApiResponse {
  readonly statusCode: number;
  readonly body: unknown;
}

const PRODUCT_PATH = /^\/products\/([^/]+)$/;

/** Routes a read-only request to the catalog and answers with the proper status code. */
export function handleApiRequest(request: ApiRequest, config: CatalogConfig): ApiResponse {
  const product = PRODUCT_PATH.exec(request.path);
  const known = request.path === '/health' || request.path === '/products' || product !== null;
  if (!known) return { statusCode: 404, body: { message: `No route for ${request.path}` } };
  if (request.method.toUpperCase() !== 'GET') return { statusCode: 405, body: { message: 'Method not allowed; use GET' } };

  if (request.path === '/health') return { statusCode: 200, body: { status: 'ok' } };
  if (product) {
    const found = findProduct(decodeURIComponent(product[1]!), config);
    return found ? { statusCode: 200, body: found } : { statusCode: 404, body: { message: `No product ${product[1]}` } };
  }
  const listing = listProducts(request.query, config);
  if (!listing.ok) return { statusCode: 400, body: { message: 'Query is invalid', errors: [{ field: listing.field, message: listing.message }] } };
  return { statusCode: 200, body: listing.page };
}
