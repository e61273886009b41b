import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';

/** Powertools Logger and Metrics of one function, created once per container. */
export interface Observability {
  readonly logger: Logger;
  readonly metrics: Metrics;
}

/**
 * Creates Powertools Logger and Metrics for a function. Settings follow Powertools'
 * own environment variables (`POWERTOOLS_METRICS_NAMESPACE`, `POWERTOOLS_LOG_LEVEL`, …),
 * which the stack and the local cloud set alike (`functionEnvironment` in the topology).
 * Tracing is wired per function (see the handlers): the Powertools Tracer adds
 * ~100 KB (the X-Ray SDK), which the predict function's cold start does not carry.
 */
export function createObservability(serviceName: string): Observability {
  return {
    logger: new Logger({ serviceName }),
    metrics: new Metrics({ serviceName }),
  };
}
