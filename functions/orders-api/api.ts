import type { OrdersConfig } from './config';
import { priceOrder, validateOrderRequest } from './orders';

/** A transport-neutral HTTP request: what the API needs, nothing of Lambda or API Gateway. */
export interface ApiRequest {
  readonly method: string;
  readonly path: string;
  readonly body: string | undefined;
}

/** A transport-neutral HTTP response with a JSON body. */
export interface ApiResponse {
  readonly statusCode: number;
  readonly body: unknown;
}

/** Routes a request to the orders logic and answers with the proper status code. */
export function handleApiRequest(request: ApiRequest, config: OrdersConfig): ApiResponse {
  const method = request.method.toUpperCase();
  if (request.path === '/health') {
    return method === 'GET' ? { statusCode: 200, body: { status: 'ok' } } : methodNotAllowed('GET');
  }
  if (request.path !== '/orders') {
    return { statusCode: 404, body: { message: `No route for ${request.path}` } };
  }
  if (method !== 'POST') return methodNotAllowed('POST');

  let payload: unknown;
  try {
    payload = JSON.parse(request.body ?? '');
  } catch {
    return { statusCode: 400, body: { message: 'Request body must be valid JSON' } };
  }
  const validation = validateOrderRequest(payload, config);
  if (!validation.ok) {
    return { statusCode: 422, body: { message: 'Order is invalid', errors: validation.errors } };
  }
  return { statusCode: 201, body: priceOrder(validation.value, config) };
}

function methodNotAllowed(allowed: string): ApiResponse {
  return { statusCode: 405, body: { message: `Method not allowed; use ${allowed}` } };
}
