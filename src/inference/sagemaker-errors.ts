/**
 * SageMaker Runtime's `InvokeEndpoint` failures in the platform's words (SageMaker Runtime API
 * reference, "InvokeEndpoint", Errors; Triton's SageMaker server, `src/sagemaker_server.cc`):
 *
 * | SageMaker answer                                        | domain error                     | HTTP        |
 * | ------------------------------------------------------- | -------------------------------- | ----------- |
 * | `ModelError` (424), container answered 4xx              | the model refused, its message   | its 4xx     |
 * | `ModelError` (424), container answered 401, 403, 404, 405 or 407 (not the model: the deployment is not what the platform set up) | backend failed | fallback / 500 |
 * | `ModelError` (424), container answered 408 or 503       | unavailable                      | 503 / fallback |
 * | `ModelError` (424), container answered another 5xx      | backend failed, its message      | fallback / its 5xx |
 * | `ModelError` (424), no answer from the container (`OriginalStatusCode` 0 or none: it crashed or is being replaced) | unavailable | 503 / fallback |
 * | `ModelNotReadyException` (429)                          | not ready                        | 503 / fallback |
 * | `ValidationError` "… no capacity …" (component at zero) | not ready (scaling from zero)    | 503 / fallback |
 * | `ValidationError` endpoint/component not found          | not in service                   | 503 / fallback |
 * | `ThrottlingException`                                   | throttled                        | 503 / fallback |
 * | `ServiceUnavailable`, `InternalFailure`, `InternalDependencyException`, 5xx, network | unavailable | 503 / fallback |
 * | anything else (`AccessDeniedException`, other `ValidationError`s) | version cannot be served | 500     |
 *
 * Throttling is a 503, not a 429: SageMaker throttles the platform's account or endpoint, not the
 * caller, whose own rate API Gateway's usage plans limit (429 there). Triton answers every
 * failed inference 400 (507 when out of memory) with `{"error": "…"}`: the message is read out.
 */
import { isTransientAwsError } from '../aws/dependency-errors.js';
import { clip, ModelVersionUnavailableError, type PlatformError } from '../errors.js';
import { BackendFailedError, BackendUnavailableError, ModelRefusedError, type UnavailableReason } from './backend-errors.js';
import type { CircuitTarget } from './circuit-breaker.js';

/** Longest part of a container's message quoted in an answer. */
const MAX_MESSAGE_CHARS = 300;

/** Seconds to wait before retrying, by reason. */
const RETRY_AFTER_SECONDS: Readonly<Record<Exclude<UnavailableReason, 'circuit-open' | 'timeout' | 'busy'>, number>> = {
  'not-in-service': 30,
  'not-ready': 5,
  throttled: 1,
  unavailable: 1,
};

const THROTTLING_NAMES = new Set(['ThrottlingException', 'Throttling', 'TooManyRequestsException']);

/** Container 4xx that are not the model refusing a request: what answered is not serving the model as the platform set it up. */
const NOT_THE_MODEL = new Set([401, 403, 404, 405, 407]);

/** Container answers that mean "not now": the request may succeed later, or from the fallback. */
const NOT_NOW = new Set([408, 503]);

interface SdkError {
  readonly name?: string;
  readonly message?: string;
  readonly OriginalStatusCode?: number;
  readonly OriginalMessage?: string;
}

/** The container's message: Triton's `{"error": "…"}` read out, clipped. */
function containerMessage(original: string | undefined): string {
  if (original === undefined || original.trim() === '') return 'no message';
  try {
    const parsed = JSON.parse(original) as unknown;
    if (typeof parsed === 'object' && parsed !== null && typeof (parsed as { error?: unknown }).error === 'string') {
      return clip((parsed as { error: string }).error, MAX_MESSAGE_CHARS);
    }
  } catch {
    // Not JSON: the text itself.
  }
  return clip(original.trim(), MAX_MESSAGE_CHARS);
}

/** The platform's error for a failed `InvokeEndpoint` of `target` (see the module documentation). */
export function sageMakerFailure(error: unknown, target: CircuitTarget): PlatformError {
  const e = (typeof error === 'object' && error !== null ? error : {}) as SdkError;
  const { model, version } = target;
  const where = target.inferenceComponentName === undefined ? `SageMaker endpoint '${target.endpointName}'` : `inference component '${target.inferenceComponentName}'`;
  const unavailable = (reason: keyof typeof RETRY_AFTER_SECONDS, detail: string) =>
    new BackendUnavailableError(model, version, reason, detail, RETRY_AFTER_SECONDS[reason], error);
  const message = e.message ?? String(error);

  if (e.name === 'ModelError') {
    const status = e.OriginalStatusCode;
    const said = containerMessage(e.OriginalMessage);
    if (status === 429) return unavailable('throttled', `its ${where} is overloaded: ${said}`);
    // No status: SageMaker got no answer from the container (it crashed, or is being replaced).
    if (status === undefined || status === 0) return unavailable('unavailable', `its ${where} gave no answer: ${said}`);
    if (NOT_NOW.has(status)) return unavailable('unavailable', `its ${where} answered ${status}: ${said}`);
    if (NOT_THE_MODEL.has(status)) return new BackendFailedError(model, version, `its ${where} answered ${status}, not the model: ${said}`, undefined, error);
    if (status >= 400 && status < 500) return new ModelRefusedError(model, version, said, status, error);
    return new BackendFailedError(model, version, `its ${where} answered ${status}: ${said}`, status >= 500 && status < 600 ? status : undefined, error);
  }
  if (e.name === 'ModelNotReadyException') return unavailable('not-ready', `its ${where} is not ready yet`);
  if (e.name === 'ValidationError') {
    if (/no capacity/i.test(message)) return unavailable('not-ready', `its ${where} has no capacity yet: it is scaling up from zero`);
    if (/not found|could not find|does not exist/i.test(message)) return unavailable('not-in-service', `its ${where} does not exist`);
    return new ModelVersionUnavailableError(model, version, `SageMaker refused the call to its ${where}: ${clip(message, MAX_MESSAGE_CHARS)}`, error);
  }
  if (e.name !== undefined && THROTTLING_NAMES.has(e.name)) return unavailable('throttled', `SageMaker is throttling calls to its ${where}`);
  // SageMaker's 5xx (ServiceUnavailable, InternalFailure, InternalDependencyException 530), timeouts, connection failures.
  if (isTransientAwsError(error)) return unavailable('unavailable', `its ${where} is unavailable`);
  return new ModelVersionUnavailableError(model, version, `the call to its ${where} failed (${e.name ?? 'error'})`, error);
}
