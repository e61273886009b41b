import type { APIGatewayProxyResult } from 'aws-lambda';
import { isTransientAwsError, RETRY_AFTER_SECONDS } from '../aws/dependency-errors.js';
import { DependencyUnavailableError, HttpError } from './errors.js';

/** Header that carries the correlation id of a request, in and out. */
export const CORRELATION_HEADER = 'x-correlation-id';

/** A JSON response. */
export function jsonResponse(
  statusCode: number,
  body: unknown,
  headers: Readonly<Record<string, string>> = {},
): APIGatewayProxyResult {
  return {
    statusCode,
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  };
}

/** What the error mapping decided, for the response and for the log line. */
export interface MappedError {
  readonly response: APIGatewayProxyResult;
  /** Whether the error is the platform's fault (5xx) and should be logged at error level. */
  readonly serverFault: boolean;
}

/**
 * The one place where errors become HTTP: typed {@link HttpError}s keep their
 * status and (for exposed ones) their message; transient AWS failures become
 * 503 with `Retry-After`; anything else is a 500 with a generic message.
 * The body is always `{"error": "..."}` and never contains a stack trace.
 */
export function toErrorResponse(error: unknown, correlationId: string): MappedError {
  const mapped =
    error instanceof HttpError
      ? error
      : isTransientAwsError(error)
        ? new DependencyUnavailableError('a platform dependency', RETRY_AFTER_SECONDS, error)
        : new HttpError(500, 'internal error', { expose: false, cause: error });
  const message = mapped.expose ? mapped.message : 'internal error';
  return {
    response: jsonResponse(
      mapped.statusCode,
      { error: message, correlation_id: correlationId },
      { ...mapped.headers, [CORRELATION_HEADER]: correlationId },
    ),
    serverFault: mapped.statusCode >= 500,
  };
}
