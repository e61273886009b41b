/**
 * One circuit breaker per backend target (a SageMaker endpoint, or an inference component on
 * one) per container, with cockatiel: a policy made of
 *
 * - a bulkhead: at most `maxConcurrentCalls` calls in flight to the target from this container
 *   (more are refused at once, never queued);
 * - a breaker that opens after `consecutiveFailures` failures in a row, or when more than
 *   `failureRate` of the calls of the last `failureRateWindowMs` failed (once that window saw
 *   at least `failureRateMinimumRps` calls per second); `halfOpenAfterMs` after opening, the
 *   next call is a probe: its success closes the breaker, its failure opens it again;
 * - a timeout per call (`callTimeoutMs`) that aborts the call.
 *
 * Only the backend's failures count: 5xx, not ready, throttling, timeouts. A refusal (the
 * caller's invalid request, answered 4xx by the model) never opens a breaker, and closes one
 * whose probe it was: the endpoint answered.
 *
 * Each transition from closed to open, and back, is announced once per container
 * (`BackendCircuitOpened`, `BackendCircuitClosed`): with many containers, each announces its
 * own breaker, so an outage seen by N containers gives up to N events of each.
 */
import {
  BrokenCircuitError,
  BulkheadRejectedError,
  bulkhead,
  circuitBreaker,
  CircuitState,
  ConsecutiveBreaker,
  handleWhen,
  SamplingBreaker,
  TaskCancelledError,
  timeout,
  TimeoutStrategy,
  wrap,
  type CircuitBreakerPolicy,
  type IBreaker,
} from 'cockatiel';
import { isRefusal } from '../errors.js';
import { BackendUnavailableError } from './backend-errors.js';

/** How a target's calls are bounded and when its breaker opens. */
export interface BreakerSettings {
  /** Longest a call may take before it is aborted (a failure): well within API Gateway's 29 s, leaving time for a fallback. */
  readonly callTimeoutMs: number;
  /** Most calls in flight to one target from one container. */
  readonly maxConcurrentCalls: number;
  /** Failures in a row that open the breaker. */
  readonly consecutiveFailures: number;
  /** Share of failed calls (0–1, exclusive) over the window that opens the breaker. */
  readonly failureRate: number;
  /** The window the failure rate is measured over. */
  readonly failureRateWindowMs: number;
  /** Calls per second the window must have seen before its rate counts. */
  readonly failureRateMinimumRps: number;
  /** Time from opening to the first probe (and between probes while they fail). */
  readonly halfOpenAfterMs: number;
}

/** The defaults (README, "SageMaker-backed versions"). */
export const BREAKER_DEFAULTS: BreakerSettings = {
  callTimeoutMs: 10_000,
  maxConcurrentCalls: 16,
  consecutiveFailures: 5,
  failureRate: 0.5,
  failureRateWindowMs: 30_000,
  failureRateMinimumRps: 1,
  halfOpenAfterMs: 5_000,
};

/** What a breaker protects: a version's SageMaker endpoint (and inference component). */
export interface CircuitTarget {
  readonly model: string;
  readonly version: number;
  readonly endpointName: string;
  readonly inferenceComponentName?: string;
}

/** A breaker's transition, announced once per container. */
export interface CircuitEvent extends CircuitTarget {
  readonly type: 'BackendCircuitOpened' | 'BackendCircuitClosed';
  readonly backend: 'sagemaker';
  /** Which container's breaker (an id per container). */
  readonly container: string;
  /** For an opening: the failure that opened it. */
  readonly reason?: string;
  readonly at: string;
}

/** Opens when either breaker would: failures in a row, or a failure rate. */
class EitherBreaker implements IBreaker {
  constructor(private readonly breakers: readonly IBreaker[]) {}

  get state(): unknown {
    return this.breakers.map((breaker) => breaker.state);
  }

  set state(value: unknown) {
    (value as unknown[]).forEach((state, i) => (this.breakers[i]!.state = state));
  }

  success(state: CircuitState): void {
    for (const breaker of this.breakers) breaker.success(state);
  }

  failure(state: CircuitState): boolean {
    // Every breaker hears of every failure (no short-circuit).
    return this.breakers.map((breaker) => breaker.failure(state)).some(Boolean);
  }
}

/** Whether a failure is the backend's (it counts against the breaker): anything but a refusal. */
const countsAgainstBackend = (error: unknown): boolean => !isRefusal(error);

const describeFailure = (error: unknown): string => (error instanceof TaskCancelledError ? 'the call timed out' : error instanceof Error ? error.message : String(error));

/** One target's policy in this container (see the module documentation). */
export class BackendCircuit {
  private readonly breaker: CircuitBreakerPolicy;
  private readonly policy: { execute<T>(fn: (context: { signal: AbortSignal }) => PromiseLike<T>): Promise<T> };
  private openedAt = 0;
  private announcedOpen = false;
  private announcements: Promise<void>[] = [];

  constructor(
    private readonly target: CircuitTarget,
    private readonly settings: BreakerSettings,
    container: string,
    announce: (event: CircuitEvent) => Promise<void>,
  ) {
    this.breaker = circuitBreaker(handleWhen(countsAgainstBackend), {
      halfOpenAfter: settings.halfOpenAfterMs,
      breaker: new EitherBreaker([
        new ConsecutiveBreaker(settings.consecutiveFailures),
        new SamplingBreaker({ threshold: settings.failureRate, duration: settings.failureRateWindowMs, minimumRps: settings.failureRateMinimumRps }),
      ]),
    });
    const event = (type: CircuitEvent['type'], reason?: string): CircuitEvent => ({
      type,
      backend: 'sagemaker',
      ...target,
      container,
      ...(reason === undefined ? {} : { reason }),
      at: new Date().toISOString(),
    });
    this.breaker.onBreak((failure) => {
      this.openedAt = Date.now();
      if (this.announcedOpen) return;
      this.announcedOpen = true;
      this.announcements.push(announce(event('BackendCircuitOpened', 'error' in failure ? describeFailure(failure.error) : 'isolated')));
    });
    this.breaker.onReset(() => {
      if (!this.announcedOpen) return;
      this.announcedOpen = false;
      this.announcements.push(announce(event('BackendCircuitClosed')));
    });
    // The bulkhead outside the breaker (a refused call is not the backend's failure), the timeout inside it (a slow call is).
    this.policy = wrap(bulkhead(settings.maxConcurrentCalls), this.breaker, timeout(settings.callTimeoutMs, TimeoutStrategy.Aggressive));
  }

  /** The breaker's state. */
  get state(): CircuitState {
    return this.breaker.state;
  }

  /** Seconds until the next probe may go (at least 1). */
  private retryAfterSeconds(): number {
    return Math.max(1, Math.ceil((this.openedAt + this.settings.halfOpenAfterMs - Date.now()) / 1000));
  }

  private unavailable(reason: 'circuit-open' | 'timeout' | 'busy', detail: string, cause?: unknown): BackendUnavailableError {
    const retryAfter = reason === 'circuit-open' ? this.retryAfterSeconds() : 1;
    return new BackendUnavailableError(this.target.model, this.target.version, reason, detail, retryAfter, cause);
  }

  /**
   * Refuses at once while the breaker is open and its cooldown runs, or while a probe is under
   * way; once the cooldown is over, the next call goes through as the probe.
   */
  assertCallable(): void {
    const state = this.breaker.state;
    if (state === CircuitState.HalfOpen) throw this.unavailable('circuit-open', 'its circuit breaker is probing the endpoint');
    if (state === CircuitState.Open && Date.now() < this.openedAt + this.settings.halfOpenAfterMs) {
      throw this.unavailable('circuit-open', 'its circuit breaker is open after recent failures');
    }
  }

  /**
   * Runs a call through the policy; `call` gets the signal that aborts it at the timeout. The
   * policy's own refusals become {@link BackendUnavailableError}s; announcements of a transition
   * this call caused are published before it returns.
   */
  async execute<T>(call: (signal: AbortSignal) => Promise<T>): Promise<T> {
    try {
      return await this.policy.execute(({ signal }) => call(signal));
    } catch (error) {
      if (error instanceof BrokenCircuitError) throw this.unavailable('circuit-open', 'its circuit breaker is open after recent failures', error);
      if (error instanceof BulkheadRejectedError) throw this.unavailable('busy', `this container already has ${this.settings.maxConcurrentCalls} calls in flight to its endpoint`, error);
      if (error instanceof TaskCancelledError) throw this.unavailable('timeout', `its endpoint did not answer within ${this.settings.callTimeoutMs} ms`, error);
      throw error;
    } finally {
      const announcements = this.announcements;
      this.announcements = [];
      await Promise.all(announcements);
    }
  }
}
