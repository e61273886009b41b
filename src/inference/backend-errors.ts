import { DependencyUnavailableError, InvalidRequestError, ModelRunError } from '../errors.js';

/**
 * Why a backend cannot answer a version now (the `fallback_reason` of a fallback answer):
 * - `circuit-open`: its circuit breaker is open (recent calls failed) or a probe is under way;
 * - `not-in-service`: its SageMaker deployment is not `IN_SERVICE` (deploying, failed, deleted);
 * - `not-ready`: the endpoint answered that it is not ready (`ModelNotReadyException`, or an
 *   inference component with no copy yet: scaling up from zero);
 * - `throttled`: SageMaker throttled the call;
 * - `timeout`: the call took longer than the per-call timeout;
 * - `busy`: this container already has the most calls in flight to the endpoint (bulkhead);
 * - `unavailable`: SageMaker or the endpoint failed (5xx, connection).
 */
export type UnavailableReason = 'circuit-open' | 'not-in-service' | 'not-ready' | 'throttled' | 'timeout' | 'busy' | 'unavailable';

/**
 * A version's backend cannot answer now; the request may be answered by the alias's fallback
 * (503 with `Retry-After` without one). The message names the version and why.
 */
export class BackendUnavailableError extends DependencyUnavailableError {
  constructor(
    readonly model: string,
    readonly version: number,
    readonly reason: UnavailableReason,
    /** Why, in words, e.g. `its SageMaker deployment is DEPLOYING`. */
    detail: string,
    retryAfterSeconds: number,
    cause?: unknown,
  ) {
    super(`model '${model}' version ${version} (${detail})`, retryAfterSeconds, cause);
  }
}

/**
 * The model behind a backend refused the request itself, with a 4xx of its own (Triton's 400 for a
 * tensor it cannot take): the caller's request is at fault, and gets that status and the model's words.
 */
export class ModelRefusedError extends InvalidRequestError {
  constructor(
    model: string,
    version: number,
    said: string,
    override readonly modelStatus: number,
    cause?: unknown,
  ) {
    super(`model '${model}' version ${version} refused the request: ${said}`, cause);
  }
}

/**
 * A backend failed this request: its model's server answered a 5xx of its own (`modelStatus`), or
 * an answer that does not fit the version. The alias's fallback answers it (`fallback_reason`
 * `failed`); without one, the caller gets the model's status (500 when it gave none).
 */
export class BackendFailedError extends ModelRunError {
  readonly reason = 'failed' as const;

  constructor(
    model: string,
    version: number,
    what: string,
    override readonly modelStatus: number | undefined,
    cause?: unknown,
  ) {
    super(model, version, what, cause);
  }
}

/** Why a fallback answered: the primary's backend could not answer ({@link UnavailableReason}) or failed the request. */
export type FallbackReason = UnavailableReason | BackendFailedError['reason'];

/** Whether the alias's fallback answers instead of the version that failed with `error`: its backend could not answer, or failed the request. */
export const fallsBack = (error: unknown): error is BackendUnavailableError | BackendFailedError =>
  error instanceof BackendUnavailableError || error instanceof BackendFailedError;
