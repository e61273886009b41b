import { describe, expect, it } from 'vitest';
import { LATENCY_BUCKETS } from '../../../topology/storage-layout.js';
import { addStats, bucketUpperMs, EMPTY_STATS, latencyBucket, latencyQuantileMs, type VersionStats } from './serving-stats.js';

/** Stats of `count` requests that each took `ms`. */
const took = (ms: number, count: number, failed = 0): VersionStats => {
  const latency = [...EMPTY_STATS.latency];
  latency[latencyBucket(ms)]! += count;
  return { requests: count, rejected: 0, failed, fallbacks: 0, latency };
};

describe('serving stats', () => {
  it('puts a duration in the bucket whose upper bound is at most 25 % above it', () => {
    for (const ms of [0, 0.3, 1, 1.01, 2, 7.5, 40, 999, 12_345]) {
      const upper = bucketUpperMs(latencyBucket(ms));
      expect(upper).toBeGreaterThanOrEqual(ms);
      expect(upper).toBeLessThanOrEqual(Math.max(1, ms * 1.25 + 1e-9));
    }
    expect(latencyBucket(1e12)).toBe(LATENCY_BUCKETS - 1);
  });

  it('reads p99 from merged counts', () => {
    // Prepare: 990 fast requests and 10 slow ones.
    const merged = addStats(took(5, 990), took(800, 10));

    // Act
    const p50 = latencyQuantileMs(merged, 0.5)!;
    const p99 = latencyQuantileMs(merged, 0.99)!;
    const p999 = latencyQuantileMs(merged, 0.999)!;

    // Assess
    expect(merged.requests).toBe(1000);
    expect(p50).toBeGreaterThanOrEqual(5);
    expect(p50).toBeLessThan(6.25);
    expect(p99).toBe(p50);
    expect(p999).toBeGreaterThanOrEqual(800);
    expect(latencyQuantileMs(EMPTY_STATS, 0.99)).toBeUndefined();
  });
});
