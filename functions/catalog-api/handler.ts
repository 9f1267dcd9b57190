import { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { handleApiRequest } from './api';
import { loadCatalogConfig } from './config';

// Created once per container: warm invocations reuse the configuration and the logger.
const config = loadCatalogConfig();
const logger = new Logger({ serviceName: 'catalog-api' });

/** API Gateway REST API (Lambda proxy integration) entry point: translate the event, delegate, translate back. */
export const handler = async (event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> => {
  if (typeof event?.httpMethod !== 'string' || typeof event.path !== 'string') {
    logger.error('Event is not an API Gateway REST API proxy request');
    return { statusCode: 400, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ message: 'Unsupported event' }) };
  }
  const query = event.queryStringParameters ?? {};
  const response = handleApiRequest({ method: event.httpMethod, path: event.path, query: { category: query.category, limit: query.limit, cursor: query.cursor } }, config);
  logger.info('request handled', { method: event.httpMethod, path: event.path, statusCode: response.statusCode });
  return { statusCode: response.statusCode, headers: { 'content-type': 'application/json' }, body: JSON.stringify(response.body) };
};
