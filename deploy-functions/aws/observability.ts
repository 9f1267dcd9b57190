import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
/** Namespace of the deployment functions' EMF metrics. */
import { METRICS_NAMESPACE } from '../core/names';
import { traceAwsClient, type TraceableClient } from './xray';

/**
 * JSON logs (level from LOG_LEVEL), EMF metrics and X-Ray tracing for one deployment function, created once per
 * container. Every SDK client passed in is traced, one subsegment per call (see `./xray`); `traceClient` traces a client
 * made later (one for another account, say).
 */
export function createObservability(serviceName: string, clients: readonly TraceableClient[]) {
  const logger = new Logger({ serviceName });
  const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName });
  const traceClient = <T extends TraceableClient>(client: T): T => traceAwsClient(client);
  for (const client of clients) traceClient(client);
  return { logger, metrics, traceClient };
}
