import { DependencyUnavailableError } from '../errors.js';

/** Error names the AWS SDK uses for throttling and server-side unavailability. */
const TRANSIENT_NAMES = new Set([
  'ThrottlingException',
  'Throttling',
  'ThrottledException',
  'TooManyRequestsException',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'RequestThrottledException',
  'SlowDown',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'InternalServerError',
  'InternalError',
  'InternalFailure',
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
]);

/** Node.js network error codes that mean "the dependency could not be reached". */
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN', 'ENOTFOUND', 'EHOSTUNREACH']);

interface AwsLikeError {
  name?: string;
  code?: string;
  $metadata?: { httpStatusCode?: number };
  $retryable?: unknown;
}

/**
 * Whether an error thrown by an AWS SDK call is transient: throttling, a 5xx,
 * a timeout or a connection failure. Such errors become a {@link DependencyUnavailableError} (over HTTP: 503 + `Retry-After`).
 */
export function isTransientAwsError(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const e = error as AwsLikeError;
  if (e.name !== undefined && TRANSIENT_NAMES.has(e.name)) return true;
  if (e.code !== undefined && NETWORK_CODES.has(e.code)) return true;
  if (e.$retryable !== undefined) return true;
  const status = e.$metadata?.httpStatusCode;
  return status !== undefined && status >= 500;
}

/** Error names with which S3 refuses a request that can never succeed as sent (a key too long, a bad argument). */
const REJECTED_NAMES = new Set(['KeyTooLongError', 'InvalidArgument', 'InvalidRequest', 'InvalidObjectName', 'InvalidURI', 'MetadataTooLarge', 'RequestHeaderSectionTooLarge']);

/** 4xx statuses that are not about the request as sent: forbidden (the platform's grants), not found, timeout, throttling. */
const NOT_REJECTIONS = new Set([403, 404, 408, 429]);

/**
 * Whether an AWS call failed because the request itself can never succeed (e.g. S3's
 * `KeyTooLongError`, `InvalidArgument`, or another 400-class answer that is neither throttling,
 * a timeout, "not found" nor "forbidden"): the caller's fault, never worth a retry.
 */
export function isRejectedRequestAwsError(error: unknown): boolean {
  if (typeof error !== 'object' || error === null || isTransientAwsError(error)) return false;
  const e = error as AwsLikeError;
  if (e.name !== undefined && REJECTED_NAMES.has(e.name)) return true;
  const status = e.$metadata?.httpStatusCode;
  return status !== undefined && status >= 400 && status < 500 && !NOT_REJECTIONS.has(status);
}

/** Seconds a caller is asked to wait before retrying after a transient dependency failure. */
export const RETRY_AFTER_SECONDS = 1;

/**
 * Runs an AWS call and turns a transient failure into a {@link DependencyUnavailableError}
 * naming the dependency; other errors pass through unchanged.
 */
export async function callDependency<T>(dependency: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (isTransientAwsError(error)) throw new DependencyUnavailableError(dependency, RETRY_AFTER_SECONDS, error);
    throw error;
  }
}
