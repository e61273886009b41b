/**
 * The rollout guards as pure decisions over a step's counters, so they are tested without AWS.
 */
import { ConflictError } from '../errors.js';
import type { ModelVersion } from '../registry/types.js';
import type { Rollout, MetricGuard } from './rollout.js';
import { latencyQuantileMs, type VersionStats } from '../inference/telemetry/serving-stats.js';

/** What a step should do now, why, and how many of the candidate's requests counted as failures. */
export interface StepDecision {
  readonly action: 'advance' | 'wait' | 'rollback';
  readonly reason: string;
  readonly failures: number;
}

const percent = (rate: number): string => `${(rate * 100).toFixed(1)} %`;

/**
 * Judges a step from the counters of the requests the alias sent to the candidate since the step
 * began (`stats`), and to the baseline since the rollout began (`baseline`).
 *
 * - Failures are the candidate's errors (5xx) plus its refusals (4xx) beyond the baseline's
 *   refusal rate: callers whose requests every version refuses do not hold a rollout back, a
 *   candidate that refuses what the baseline accepts (a changed signature) fails.
 * - Once failures exceed `maxErrorRate` of `max(requests, minRequests)`, no amount of further
 *   traffic can bring the step under the limit, so it rolls back at once (a candidate that fails
 *   every request rolls back at its first step after a handful of requests).
 * - With `minRequests` answered: a failure rate above `maxErrorRate`, or a p99 above `maxP99Ms`,
 *   rolls back; otherwise the step advances once its bake time is over.
 * - Otherwise it waits for traffic and time, up to `maxStepSeconds`: a step that never gets the
 *   traffic to judge it (or whose candidate never answers) rolls back then.
 * - Requests the alias's fallback answered because the candidate's backend could not (not ready,
 *   breaker open) are not the candidate's answers: they are left out of its requests, so they
 *   neither pass nor fail it. A candidate that stays unable to answer (a GPU endpoint that never
 *   wakes) gets no judged traffic and rolls back at `maxStepSeconds`; one that wakes is judged on
 *   its own answers. The calls that failed and opened its breaker were answered by the fallback
 *   too; 5xx the candidate itself answered count as errors as always.
 */
export function judgeStep(rollout: Pick<Rollout, 'guards' | 'plan' | 'stepStartedAt'>, candidate: VersionStats, baselineStats: VersionStats, now: Date): StepDecision {
  const { guards, plan } = rollout;
  const stats = answeredOnly(candidate);
  const baseline = answeredOnly(baselineStats);
  const fellBack = candidate.fallbacks === 0 ? '' : `; ${candidate.fallbacks} more answered by the alias's fallback, not judged`;
  // The baseline's refusal rate excuses refusals only once it rests on `minRequests` requests.
  const judged = baseline.requests > 0 && baseline.requests >= guards.minRequests;
  const baselineRefusal = judged ? baseline.rejected / baseline.requests : 0;
  const expectedRefusals = judged ? Math.min(stats.rejected, Math.floor((baseline.rejected * stats.requests) / baseline.requests)) : 0;
  const failures = stats.failed + stats.rejected - expectedRefusals;
  const within = expectedRefusals === 0 ? '' : `; ${expectedRefusals} more refused, within the baseline's refusal rate of ${percent(baselineRefusal)}`;
  const what = `${failures} of ${stats.requests} requests failed (${stats.failed} errors, ${stats.rejected - expectedRefusals} refused${within})${fellBack}`;
  if (failures > guards.maxErrorRate * Math.max(stats.requests, guards.minRequests)) {
    return { action: 'rollback', reason: `error rate above ${percent(guards.maxErrorRate)}: ${what}`, failures };
  }
  const baked = (now.getTime() - Date.parse(rollout.stepStartedAt)) / 1000;
  if (stats.requests < guards.minRequests) {
    const waited = `${stats.requests} of ${guards.minRequests} requests, ${Math.floor(baked)} of ${plan.bakeSeconds} s${fellBack}`;
    if (baked >= plan.maxStepSeconds) return { action: 'rollback', reason: `not enough traffic to judge the step within ${plan.maxStepSeconds} s: ${waited}`, failures };
    return { action: 'wait', reason: `waiting for traffic: ${waited}`, failures };
  }
  const rate = failures / stats.requests;
  if (rate > guards.maxErrorRate) return { action: 'rollback', reason: `error rate ${percent(rate)} above ${percent(guards.maxErrorRate)}: ${what}`, failures };
  const p99 = latencyQuantileMs(stats, 0.99);
  if (guards.maxP99Ms !== undefined && p99 !== undefined && p99 > guards.maxP99Ms) {
    return { action: 'rollback', reason: `p99 latency ≤ ${p99.toFixed(1)} ms (bucket bound) above ${guards.maxP99Ms} ms over ${stats.requests} requests`, failures };
  }
  if (baked < plan.bakeSeconds) return { action: 'wait', reason: `baking: ${Math.floor(baked)} of ${plan.bakeSeconds} s, ${what}`, failures };
  return { action: 'advance', reason: `healthy after ${Math.floor(baked)} s: ${what}${p99 === undefined ? '' : `, p99 ≤ ${p99.toFixed(1)} ms`}`, failures };
}

/** The requests a version answered itself: those the alias's fallback answered left out. */
const answeredOnly = (stats: VersionStats): VersionStats => ({ ...stats, requests: stats.requests - stats.fallbacks, fallbacks: 0 });

/** Metrics where lower is better (training's regression and probabilistic losses). */
const LOWER_IS_BETTER = new Set(['rmse', 'mae', 'logLoss']);

/**
 * Checks a candidate's registry metric against the baseline's; a ConflictError naming both values when it
 * falls short or either version lacks the metric.
 */
export function checkMetricGuard(guard: MetricGuard, baseline: ModelVersion, candidate: ModelVersion): void {
  const base = baseline.metrics[guard.name];
  const cand = candidate.metrics[guard.name];
  if (base === undefined || cand === undefined) {
    const missing = [base === undefined ? `version ${baseline.version}` : undefined, cand === undefined ? `version ${candidate.version}` : undefined].filter(Boolean).join(' and ');
    throw new ConflictError(`metric '${guard.name}' is not recorded for ${missing}; the minMetric guard cannot compare them`);
  }
  const lower = LOWER_IS_BETTER.has(guard.name);
  const gain = lower ? base - cand : cand - base;
  if (gain < guard.minDelta) {
    throw new ConflictError(
      `candidate version ${candidate.version} has ${guard.name} ${cand} against ${base} for version ${baseline.version}; the guard needs it ${lower ? 'lower' : 'higher'} by at least ${guard.minDelta}`,
    );
  }
}
