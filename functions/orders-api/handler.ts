import { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { handleApiRequest } from './api';
import { loadOrdersConfig } from './config';

// Created once per container: warm invocations reuse the configuration and the logger.
const config = loadOrdersConfig();
const logger = new Logger({ serviceName: 'orders-api' });

/** API Gateway HTTP API (payload 2.0) entry point: translate the event, delegate, translate back. */
export const handler = async (event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> => {
  const http = event?.requestContext?.http;
  if (!http) {
    logger.error('Event is not an API Gateway HTTP API (payload 2.0) request');
    return { statusCode: 400, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ message: 'Unsupported event' }) };
  }
  const body = event.body !== undefined && event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
  const response = handleApiRequest({ method: http.method, path: http.path, body }, config);
  logger.info('request handled', { method: http.method, path: http.path, statusCode: response.statusCode });
  return { statusCode: response.statusCode, headers: { 'content-type': 'application/json' }, body: JSON.stringify(response.body) };
};
