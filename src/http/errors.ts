/**
 * Typed errors of the platform. Domain code throws these; `toErrorResponse`
 * (in `response.ts`) is the one place that maps them, and every other error,
 * to HTTP.
 */

/** Longest part of caller-supplied text that an error message quotes. */
export const QUOTE_MAX_CHARS = 64;

/** The first `max` characters of `text`, never ending in half a surrogate pair. */
function prefixOf(text: string, max: number): string {
  return text.slice(0, /[\uD800-\uDBFF]/.test(text[max - 1] ?? '') ? max - 1 : max);
}

/**
 * Quotes caller-supplied text in an error message: `'text'`, or for longer text its first
 * {@link QUOTE_MAX_CHARS} characters and its length (`'abc…' (5000000 characters)`), so an
 * error body or log line never grows with the request. Every error that echoes a request
 * value goes through here (or {@link clip}).
 */
export function quote(text: string): string {
  return text.length <= QUOTE_MAX_CHARS ? `'${text}'` : `'${prefixOf(text, QUOTE_MAX_CHARS)}…' (${text.length} characters)`;
}

/** Like {@link quote}, for text shown without quotes (e.g. a validator's explanation that embeds request values): at most `max` characters. */
export function clip(text: string, max = QUOTE_MAX_CHARS): string {
  return text.length <= max ? text : `${prefixOf(text, max)}… (${text.length} characters)`;
}

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

/** 400: the request is malformed or does not fit the model. */
export class BadRequestError extends HttpError {
  constructor(message: string, cause?: unknown) {
    super(400, message, { cause });
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

/** 404: unknown model, version, alias or route. */
export class NotFoundError extends HttpError {
  constructor(message: string) {
    super(404, message);
  }
}

/** 405: the route exists but not with this method; the `Allow` header lists the methods it has (RFC 9110 §15.5.6). */
export class MethodNotAllowedError extends HttpError {
  constructor(method: string, path: string, allowed: readonly string[]) {
    super(405, `method ${quote(method)} is not allowed on ${quote(path)}; allowed: ${allowed.join(', ')}`, { headers: { Allow: allowed.join(', ') } });
  }
}

/** 409: the resource already exists or is in a conflicting state. */
export class ConflictError extends HttpError {
  constructor(message: string) {
    super(409, message);
  }
}

/** 412: an `If-Match` revision did not match (optimistic concurrency). */
export class PreconditionFailedError extends HttpError {
  constructor(message: string) {
    super(412, message);
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
  constructor(limitBytes: number, actualBytes: number) {
    super(413, `request body is ${actualBytes} bytes; the limit is ${limitBytes} bytes (split the request into smaller ones)`);
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
      `the response would be ${actualBytes} bytes; Lambda returns at most ${limitBytes} bytes per synchronous call: ask for fewer rows or outputs per request (bulk predictions belong to batch)`,
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

/** 422: the request is well-formed but its content cannot be processed (e.g. an artifact that does not load). */
export class UnprocessableError extends HttpError {
  constructor(message: string, cause?: unknown) {
    super(422, message, { cause });
  }
}

/** 503: a dependency (registry, S3) is unavailable or throttling; the caller should retry. */
export class DependencyUnavailableError extends HttpError {
  constructor(dependency: string, retryAfterSeconds: number, cause?: unknown) {
    super(503, `${dependency} is temporarily unavailable; retry after ${retryAfterSeconds} s`, {
      expose: true,
      headers: { 'Retry-After': String(retryAfterSeconds) },
      cause,
    });
  }
}

/**
 * 500-class error for one model version whose artifact cannot be served (sha256 mismatch,
 * missing object). Other versions keep serving. The message names the version and the
 * kind of failure, never internals (locations, hashes): those travel in `cause`, to the log.
 */
export class ModelVersionUnavailableError extends HttpError {
  constructor(model: string, version: number, reason: string, cause?: unknown) {
    super(500, `model '${model}' version ${version} cannot be served: ${reason}`, { expose: true, cause });
  }
}
