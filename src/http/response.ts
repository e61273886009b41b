import type { APIGatewayProxyResult } from 'aws-lambda';
import { isTransientAwsError, RETRY_AFTER_SECONDS } from '../aws/dependency-errors.js';
import { DependencyUnavailableError, type FailureKind, PlatformError } from '../errors.js';
import { HttpError } from './errors.js';

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

/** The status of each kind of domain failure. */
const STATUS_OF: Readonly<Record<FailureKind, number>> = {
  'invalid-request': 400,
  'not-found': 404,
  conflict: 409,
  'revision-mismatch': 412,
  'unusable-artifact': 422,
  'dependency-unavailable': 503,
  'version-unservable': 500,
  'model-failed': 500,
};

/** The status a model's own server answered, where it fits the error's kind (a 4xx refusal, a 5xx failure). */
function modelStatusOf(error: PlatformError): number | undefined {
  const status = error.modelStatus;
  if (status === undefined || !Number.isInteger(status)) return undefined;
  return (error.refusal ? status >= 400 && status < 500 : status >= 500 && status < 600) ? status : undefined;
}

/**
 * The one place where errors become HTTP: {@link HttpError}s keep their status; a domain
 * {@link PlatformError} gets its kind's status (or the status the model's own server answered,
 * {@link PlatformError.modelStatus}) and shows its message (every domain message is written for
 * the caller); a dependency failure adds `Retry-After`; a transient AWS failure becomes 503;
 * anything else is a 500 with a generic message.
 */
export function asHttpError(error: unknown): HttpError {
  if (error instanceof HttpError) return error;
  if (error instanceof PlatformError) {
    const headers: Record<string, string> = error instanceof DependencyUnavailableError ? { 'Retry-After': String(error.retryAfterSeconds) } : {};
    return new HttpError(modelStatusOf(error) ?? STATUS_OF[error.kind], error.message, { expose: true, headers, cause: error });
  }
  if (isTransientAwsError(error)) return asHttpError(new DependencyUnavailableError('a platform dependency', RETRY_AFTER_SECONDS, error));
  return new HttpError(500, 'internal error', { expose: false, cause: error });
}

/** The error response for `error` (see {@link asHttpError}): always `{"error": "...", "correlation_id": "..."}`, never a stack trace. */
export function toErrorResponse(error: unknown, correlationId: string): MappedError {
  const mapped = asHttpError(error);
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
