/**
 * Errors that exist only in HTTP: credentials, methods, payload sizes, media types and
 * conditional-request headers. Domain failures are `PlatformError`s (`src/errors.ts`);
 * `toErrorResponse` (in `response.ts`) is the one place that maps both, and every other error, to HTTP.
 */
import { quote } from '../errors.js';

/** An error that carries its HTTP status. 4xx messages are shown to callers; 5xx ones are not unless `expose`. */
export class HttpError extends Error {
  /** Whether the message may be shown to the caller. */
  readonly expose: boolean;
  /** Extra response headers (e.g. `Retry-After`). */
  readonly headers: Readonly<Record<string, string>>;

  constructor(
    readonly statusCode: number,
    message: string,
    options: { expose?: boolean; headers?: Record<string, string>; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.expose = options.expose ?? statusCode < 500;
    this.headers = options.headers ?? {};
  }
}

/** 401: no credentials. */
export class UnauthorizedError extends HttpError {
  constructor(message = 'missing API key: send it in the x-api-key header') {
    super(401, message);
  }
}

/** 403: credentials present but not valid. */
export class ForbiddenError extends HttpError {
  constructor(message = 'invalid API key') {
    super(403, message);
  }
}

/** 405: the route exists but not with this method; the `Allow` header lists the methods it has (RFC 9110 §15.5.6). */
export class MethodNotAllowedError extends HttpError {
  constructor(method: string, path: string, allowed: readonly string[]) {
    super(405, `method ${quote(method)} is not allowed on ${quote(path)}; allowed: ${allowed.join(', ')}`, { headers: { Allow: allowed.join(', ') } });
  }
}

/** 428: a change that must be conditional came without `If-Match`. */
export class PreconditionRequiredError extends HttpError {
  constructor(message: string) {
    super(428, message);
  }
}

/** 413: the body exceeds the payload limit. */
export class PayloadTooLargeError extends HttpError {
  /** `advice` says what to do instead. */
  constructor(
    readonly limitBytes: number,
    readonly actualBytes: number,
    advice = 'split the request into smaller ones',
  ) {
    super(413, `request body is ${actualBytes} bytes; the limit is ${limitBytes} bytes (${advice})`);
  }
}

/**
 * 413: the answer would exceed Lambda's payload limit for a synchronous response (Lambda would
 * fail the invocation and API Gateway answer a bare 502). A 4xx: the caller can fix it by asking
 * for less in one request.
 */
export class ResponseTooLargeError extends HttpError {
  constructor(limitBytes: number, actualBytes: number) {
    super(
      413,
      `the response would be ${actualBytes} bytes; Lambda returns at most ${limitBytes} bytes per synchronous call: ask for fewer rows or outputs per request`,
    );
  }
}

/** 415: the body is not JSON. */
export class UnsupportedMediaTypeError extends HttpError {
  /** `message` says what is unsupported when the media type itself is JSON (a charset, a content coding). */
  constructor(contentType: string | undefined, message?: string) {
    super(415, message ?? `content-type must be application/json, got ${contentType === undefined ? 'none' : quote(contentType)}`);
  }
}

/** 406: the answer cannot be given in a form the request's `Accept` allows. */
export class NotAcceptableError extends HttpError {
  constructor(message: string) {
    super(406, message);
  }
}
