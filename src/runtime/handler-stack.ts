/**
 * The one middleware stack every Lambda handler of the platform runs in, whatever its trigger
 * (API Gateway, SQS, schedule): Powertools Logger with the Lambda context (request id, cold
 * start, function name) and a correlation id on every line, Powertools Metrics flushed once at
 * the end of each invocation (also when it fails), plus any extra middlewares (e.g. the
 * Powertools Tracer's `captureLambdaHandler`). Handlers differ only in how they turn their
 * event into domain calls: {@link createSqsHandler}, {@link createScheduledHandler}, and
 * `createApiHandler` (src/http) for routes.
 */
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy, { type MiddlewareObj } from '@middy/core';
import type { Context, ScheduledEvent, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type { Observability } from './observability.js';

/** A Lambda handler. */
export type LambdaHandler<E, R> = (event: E, context: Context) => Promise<R>;

/** How the stack learns an invocation's correlation id (the id its log lines carry). */
export type CorrelationIdOf<E> = (event: E, context: Context) => string;

/**
 * Publishes the metrics an invocation recorded, after it and also when it fails. An invocation
 * that recorded none publishes nothing: Powertools' own `logMetrics` would log a warning for each
 * (every scheduled run with nothing to do, once a minute).
 */
function publishMetrics<E, R>(metrics: Observability['metrics']): MiddlewareObj<E, R> {
  const publish = (): void => {
    if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
  };
  return { after: publish, onError: publish };
}

/**
 * Wraps `base` in the platform's stack: the correlation id set before it runs, the Lambda context
 * on the logger, metrics flushed after it, then `middlewares` around all of it.
 */
export function withHandlerStack<E, R>(
  base: LambdaHandler<E, R>,
  { logger, metrics }: Observability,
  correlationIdOf: CorrelationIdOf<E>,
  middlewares: readonly MiddlewareObj<E, R>[] = [],
): LambdaHandler<E, R> {
  const correlated: LambdaHandler<E, R> = (event, context) => {
    logger.setCorrelationId(correlationIdOf(event, context));
    return base(event, context);
  };
  return middy(correlated)
    .use([...middlewares])
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(publishMetrics<E, R>(metrics));
}

/** Handles one SQS record; a throw marks that record failed (it is redelivered, then dead-lettered). */
export type SqsRecordHandler = (record: SQSRecord) => Promise<unknown>;

/**
 * An SQS handler with partial batch responses (`reportBatchItemFailures`): each record is handled
 * on its own, and only the failed ones go back to the queue. `recordHandlerFor` builds the record
 * handler of one invocation (some need its context: the time left, the request id). Log lines of
 * a record carry its `messageId`; the invocation's correlation id is Lambda's request id.
 */
export function createSqsHandler(observability: Observability, recordHandlerFor: (context: Context) => SqsRecordHandler): LambdaHandler<SQSEvent, SQSBatchResponse> {
  const processor = new BatchProcessor(EventType.SQS);
  const { logger } = observability;
  return withHandlerStack<SQSEvent, SQSBatchResponse>(
    (event, context) => {
      const handle = recordHandlerFor(context);
      const logged: SqsRecordHandler = async (record) => {
        logger.appendKeys({ messageId: record.messageId });
        try {
          return await handle(record);
        } finally {
          logger.removeKeys(['messageId']);
        }
      };
      return processPartialResponse(event, logged, processor, { context });
    },
    observability,
    (_event, context) => context.awsRequestId,
  );
}

/** A handler run on a schedule (EventBridge in AWS, a timer in the local cloud); the correlation id is Lambda's request id. */
export function createScheduledHandler<R>(observability: Observability, run: LambdaHandler<ScheduledEvent, R>): LambdaHandler<ScheduledEvent, R> {
  return withHandlerStack(run, observability, (_event, context) => context.awsRequestId);
}
