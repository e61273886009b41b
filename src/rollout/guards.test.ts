import { describe, expect, it } from 'vitest';
import { draftVersion } from '../../test/support/model-versions.js';
import type { ModelVersion } from '../registry/types.js';
import { checkMetricGuard, judgeStep } from './guards.js';
import { EMPTY_STATS, latencyBucket, type VersionStats } from '../inference/telemetry/serving-stats.js';

const START = '2026-11-24T00:00:00.000Z';
const rollout = { plan: { steps: [10, 50, 100], bakeSeconds: 60, maxStepSeconds: 600 }, guards: { maxErrorRate: 0.05, minRequests: 20, maxP99Ms: 100 }, stepStartedAt: START };
const at = (seconds: number) => new Date(Date.parse(START) + seconds * 1000);
const stats = (requests: number, failed: number, ms = 5, rejected = 0): VersionStats => {
  const latency = [...EMPTY_STATS.latency];
  latency[latencyBucket(ms)] = requests;
  return { requests, failed, rejected, fallbacks: 0, latency };
};
const NO_BASELINE = EMPTY_STATS;
const version = (n: number, metrics: Record<string, number>): ModelVersion => ({ ...draftVersion('m', { metrics }), version: n, status: 'PENDING', createdAt: START });

describe('judgeStep', () => {
  it('waits for the bake time and the minimum requests, then advances a healthy step', () => {
    expect(judgeStep(rollout, stats(5, 0), NO_BASELINE, at(120))).toMatchObject({ action: 'wait', reason: expect.stringContaining('waiting for traffic: 5 of 20') });
    expect(judgeStep(rollout, stats(50, 1), NO_BASELINE, at(30))).toMatchObject({ action: 'wait', reason: expect.stringContaining('baking: 30 of 60 s') });
    expect(judgeStep(rollout, stats(50, 1), NO_BASELINE, at(61))).toMatchObject({ action: 'advance', reason: expect.stringContaining('healthy after 61 s: 1 of 50 requests failed (1 errors, 0 refused)') });
  });

  it('rolls back a failing candidate as soon as the limit cannot be met, before the minimum requests', () => {
    // 1 failure of 20 allowed (5 %): the second one decides.
    expect(judgeStep(rollout, stats(1, 1), NO_BASELINE, at(1)).action).toBe('wait');
    const decision = judgeStep(rollout, stats(2, 2), NO_BASELINE, at(1));
    expect(decision).toEqual({ action: 'rollback', reason: 'error rate above 5.0 %: 2 of 2 requests failed (2 errors, 0 refused)', failures: 2 });
  });

  it('counts refused requests (4xx after the version was picked) as failures', () => {
    expect(judgeStep(rollout, stats(30, 0, 5, 3), NO_BASELINE, at(100))).toMatchObject({ action: 'rollback', reason: expect.stringContaining('(0 errors, 3 refused)') });
  });

  it('does not count refusals the baseline makes as often: only those beyond its refusal rate', () => {
    // The baseline refuses 10 % of the alias's requests (callers sending bad input).
    const baseline = stats(1000, 0, 5, 100);
    expect(judgeStep(rollout, stats(30, 0, 5, 3), baseline, at(100))).toMatchObject({
      action: 'advance',
      reason: "healthy after 100 s: 0 of 30 requests failed (0 errors, 0 refused; 3 more refused, within the baseline's refusal rate of 10.0 %), p99 ≤ 6.0 ms",
    });
    expect(judgeStep(rollout, stats(30, 0, 5, 9), baseline, at(100))).toMatchObject({ action: 'rollback', reason: expect.stringContaining('6 of 30 requests failed (0 errors, 6 refused;') });
  });

  it('does not let a baseline with too few requests excuse refusals, and counts expected refusals exactly', () => {
    // Two refused baseline requests say nothing about its refusal rate.
    expect(judgeStep(rollout, stats(200, 0, 5, 200), stats(2, 0, 5, 2), at(100))).toMatchObject({ action: 'rollback', failures: 200 });
    // Equal rates (1 in 49): the candidate's one refusal is within the baseline's rate.
    const strict = { ...rollout, guards: { maxErrorRate: 0, minRequests: 49 } };
    expect(judgeStep(strict, stats(49, 0, 5, 1), stats(49, 0, 5, 1), at(100))).toMatchObject({ action: 'advance', failures: 0 });
  });

  it('rolls back a step that never gets the traffic to judge it', () => {
    expect(judgeStep(rollout, stats(3, 0), NO_BASELINE, at(599)).action).toBe('wait');
    expect(judgeStep(rollout, stats(3, 0), NO_BASELINE, at(600))).toEqual({
      action: 'rollback',
      reason: 'not enough traffic to judge the step within 600 s: 3 of 20 requests, 600 of 60 s',
      failures: 0,
    });
  });

  it('rolls back when p99 latency is above the guard once there are enough requests', () => {
    expect(judgeStep(rollout, stats(10, 0, 400), NO_BASELINE, at(100)).action).toBe('wait');
    expect(judgeStep(rollout, stats(30, 0, 400), NO_BASELINE, at(100))).toMatchObject({ action: 'rollback', reason: expect.stringMatching(/^p99 latency ≤ .* ms \(bucket bound\) above 100 ms over 30 requests$/) });
  });
});

describe('checkMetricGuard', () => {
  it('needs the candidate better by minDelta, in the metric\'s direction', () => {
    expect(() => checkMetricGuard({ name: 'accuracy', minDelta: 0 }, version(1, { accuracy: 0.9 }), version(2, { accuracy: 0.91 }))).not.toThrow();
    expect(() => checkMetricGuard({ name: 'accuracy', minDelta: 0.02 }, version(1, { accuracy: 0.9 }), version(2, { accuracy: 0.91 }))).toThrowError(
      'candidate version 2 has accuracy 0.91 against 0.9 for version 1; the guard needs it higher by at least 0.02',
    );
    expect(() => checkMetricGuard({ name: 'rmse', minDelta: 0 }, version(1, { rmse: 3 }), version(2, { rmse: 2.5 }))).not.toThrow();
    expect(() => checkMetricGuard({ name: 'rmse', minDelta: 0 }, version(1, { rmse: 3 }), version(2, { rmse: 3.5 }))).toThrowError(/lower by at least 0/);
  });

  it('refuses to compare a metric a version does not record', () => {
    expect(() => checkMetricGuard({ name: 'f1Macro', minDelta: 0 }, version(1, {}), version(2, { f1Macro: 1 }))).toThrowError(
      "metric 'f1Macro' is not recorded for version 1; the minMetric guard cannot compare them",
    );
  });
});

describe('judgeStep with fallback answers', () => {
  const withFallbacks = (answered: number, failed: number, fallbacks: number): VersionStats => ({ ...stats(answered, failed), requests: answered + fallbacks, fallbacks });

  it('leaves the requests the fallback answered out of the candidate\'s: they neither pass nor fail it', () => {
    // 10 answered (all well) and 90 answered by the fallback while the endpoint woke: not yet 20 judged requests.
    expect(judgeStep(rollout, withFallbacks(10, 0, 90), NO_BASELINE, at(100))).toMatchObject({
      action: 'wait',
      reason: "waiting for traffic: 10 of 20 requests, 100 of 60 s; 90 more answered by the alias's fallback, not judged",
    });
    expect(judgeStep(rollout, withFallbacks(30, 0, 90), NO_BASELINE, at(100))).toMatchObject({ action: 'advance', reason: expect.stringContaining("0 of 30 requests failed (0 errors, 0 refused); 90 more answered by the alias's fallback") });
  });

  it('rolls back a candidate that never answers itself once the step runs out of time', () => {
    expect(judgeStep(rollout, withFallbacks(0, 0, 500), NO_BASELINE, at(600))).toMatchObject({ action: 'rollback', reason: expect.stringContaining('not enough traffic to judge the step within 600 s: 0 of 20 requests') });
  });
});
