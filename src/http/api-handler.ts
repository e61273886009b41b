import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import type { MiddlewareObj } from '@middy/core';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Observability } from '../runtime/observability.js';
import { withHandlerStack } from '../runtime/handler-stack.js';
import { MAX_PAYLOAD_BYTES } from '../../topology/limits.js';
import { ResponseTooLargeError } from './errors.js';
import { header, refuseRepeatedHeaders } from './request.js';
import { CORRELATION_HEADER, toErrorResponse } from './response.js';
import { dispatch, type RouteTable } from './router.js';

/** An API Gateway REST proxy handler. */
export type ApiHandler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

/** The correlation id of a request: the caller's `x-correlation-id`, else API Gateway's request id. */
export function correlationIdOf(event: APIGatewayProxyEvent, context: Pick<Context, 'awsRequestId'>): string {
  return header(event, CORRELATION_HEADER) ?? event.requestContext?.requestId ?? context.awsRequestId;
}

/** Middy middlewares for an API handler. */
export type ApiMiddleware = MiddlewareObj<APIGatewayProxyEvent, APIGatewayProxyResult>;

/**
 * Wraps a route table into a Lambda handler: refuses a request that repeats a header it must
 * send once (400), dispatches on method and resource,
 * refuses a response over Lambda's payload limit (413 saying so, where Lambda would fail the
 * invocation), maps every error to HTTP in one place (`toErrorResponse`), and tags the
 * response with the correlation id; runs in the platform's handler stack (Powertools Logger
 * and Metrics, the correlation id on every log line, any extra middlewares such as the
 * Powertools Tracer's `captureLambdaHandler`: `withHandlerStack`).
 */
export function createApiHandler(
  routes: RouteTable,
  { logger, metrics }: Observability,
  middlewares: readonly ApiMiddleware[] = [],
): ApiHandler {
  const base = async (event: APIGatewayProxyEvent, context: Context): Promise<APIGatewayProxyResult> => {
    const correlationId = correlationIdOf(event, context);
    try {
      refuseRepeatedHeaders(event);
      const routed = await dispatch(routes, event);
      const response = { ...routed, headers: { ...routed.headers, [CORRELATION_HEADER]: correlationId } };
      const size = Buffer.byteLength(JSON.stringify(response));
      if (size > MAX_PAYLOAD_BYTES) throw new ResponseTooLargeError(MAX_PAYLOAD_BYTES, size);
      metrics.addMetric('Requests', MetricUnit.Count, 1);
      return response;
    } catch (error) {
      const { response, serverFault } = toErrorResponse(error, correlationId);
      metrics.addMetric(serverFault ? 'ServerErrors' : 'ClientErrors', MetricUnit.Count, 1);
      const details = { statusCode: response.statusCode, method: event.httpMethod, path: event.path };
      if (serverFault) logger.error('request failed', { ...details, error: error as Error });
      else logger.warn('request rejected', { ...details, reason: (error as Error).message, detail: ((error as Error).cause as Error | undefined)?.message });
      return response;
    }
  };
  return withHandlerStack(base, { logger, metrics }, correlationIdOf, middlewares);
}
