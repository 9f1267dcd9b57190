import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';

/** Namespace of the deployment functions' EMF metrics. */
import { METRICS_NAMESPACE } from '../core/names';

/**
 * JSON logs (level from LOG_LEVEL), EMF metrics and X-Ray tracing for one deployment function, created once per
 * container. Every SDK client passed in is traced.
 */
export function createObservability(serviceName: string, clients: readonly object[]) {
  const logger = new Logger({ serviceName });
  const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName });
  const tracer = new Tracer({ serviceName });
  for (const client of clients) tracer.captureAWSv3Client(client);
  return { logger, metrics, tracer };
}
