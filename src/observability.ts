import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';

/** CloudWatch metrics namespace of the platform. */
export const METRICS_NAMESPACE = 'ServerlessAiPlatform';

/** Powertools Logger, Metrics and Tracer of one function, created once per container. */
export interface Observability {
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly tracer: Tracer;
}

/**
 * Creates the Powertools trio for a function. Settings follow Powertools' own
 * environment variables (`POWERTOOLS_LOG_LEVEL`, `POWERTOOLS_TRACE_ENABLED`, …).
 */
export function createObservability(serviceName: string): Observability {
  return {
    logger: new Logger({ serviceName }),
    metrics: new Metrics({ namespace: METRICS_NAMESPACE, serviceName }),
    tracer: new Tracer({ serviceName }),
  };
}
