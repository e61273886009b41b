/**
 * The platform's failures as domain types. Each says what kind of failure it is ({@link FailureKind}),
 * never how a transport shows it: the HTTP layer maps kinds to statuses in one place
 * (`src/http/response.ts`), and the SQS workers keep the message as a job's or an ingest's reason.
 * Every message is written for the caller (it never holds locations, hashes or stack traces: those
 * travel in `cause`, to the log), and every message that echoes caller-supplied text bounds it with
 * {@link quote} or {@link clip}.
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

/**
 * What kind of failure a {@link PlatformError} is. The first five are refusals: the request, or
 * the state it met, is at fault, and the caller can change something to succeed. The others are
 * failures the caller cannot fix: a dependency (retry later) or a model version.
 */
export type FailureKind =
  | 'invalid-request'
  | 'not-found'
  | 'conflict'
  | 'revision-mismatch'
  | 'unusable-artifact'
  | 'dependency-unavailable'
  | 'version-unservable'
  | 'model-failed';

const REFUSALS: ReadonlySet<FailureKind> = new Set(['invalid-request', 'not-found', 'conflict', 'revision-mismatch', 'unusable-artifact']);

/** A failure of the platform's domain: its kind, and a message written for the caller. */
export abstract class PlatformError extends Error {
  /** What kind of failure this is. */
  abstract readonly kind: FailureKind;
  /**
   * The HTTP status a model's own server answered, for a refusal or failure it made itself (Triton
   * behind a SageMaker endpoint): passed on to the caller as the model said it, instead of the
   * kind's. A 4xx for a refusal, a 5xx for a failure.
   */
  declare readonly modelStatus?: number;

  constructor(message: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = new.target.name;
  }

  /** Whether the request, or the state it met, is at fault: changing the request (or reading again) can succeed. */
  get refusal(): boolean {
    return REFUSALS.has(this.kind);
  }
}

/** Whether `error` is a {@link PlatformError} that refuses the request (see {@link PlatformError.refusal}). */
export function isRefusal(error: unknown): error is PlatformError {
  return error instanceof PlatformError && error.refusal;
}

/** The request is malformed, or does not fit what it addresses (a model's inputs, a dataset's schema). */
export class InvalidRequestError extends PlatformError {
  readonly kind = 'invalid-request';
}

/** An unknown model, version, alias, dataset, job or rollout. */
export class NotFoundError extends PlatformError {
  readonly kind = 'not-found';
}

/** The resource already exists, or is in a state that does not allow the change. */
export class ConflictError extends PlatformError {
  readonly kind = 'conflict';
}

/** The resource is not at the revision the change was based on (optimistic concurrency): read it again and retry. */
export class RevisionMismatchError extends PlatformError {
  readonly kind = 'revision-mismatch';
}

/** The request is well-formed but the artifact it names cannot be used (not ONNX, does not load). */
export class UnusableArtifactError extends PlatformError {
  readonly kind = 'unusable-artifact';
}

/** A dependency (the registry table, S3, a queue) is unavailable or throttling: retry after {@link retryAfterSeconds}. */
export class DependencyUnavailableError extends PlatformError {
  readonly kind = 'dependency-unavailable';

  constructor(
    /** What was unavailable, as the message names it. */
    readonly dependency: string,
    /** How long the caller should wait before retrying. */
    readonly retryAfterSeconds: number,
    cause?: unknown,
  ) {
    super(`${dependency} is temporarily unavailable; retry after ${retryAfterSeconds} s`, cause);
  }
}

/**
 * One model version whose artifact cannot be served (sha256 mismatch, missing object, no longer
 * loads). Other versions keep serving. The message names the version and the kind of failure.
 */
export class ModelVersionUnavailableError extends PlatformError {
  readonly kind = 'version-unservable';

  constructor(model: string, version: number, reason: string, cause?: unknown) {
    super(`model '${model}' version ${version} cannot be served: ${reason}`, cause);
  }
}

/** The model failed on inputs it accepts (an operator error unrelated to its inputs, memory): the model is at fault. */
export class ModelRunError extends PlatformError {
  readonly kind = 'model-failed';

  constructor(model: string, version: number, what: string, cause: unknown) {
    super(`model '${model}' version ${version} failed while running: ${what}`, cause);
  }
}
