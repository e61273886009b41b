import { DependencyUnavailableError } from '../errors.js';

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
