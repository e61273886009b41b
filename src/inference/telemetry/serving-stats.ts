/**
 * Per-version serving counters: requests, failures and a latency histogram per time bucket.
 * The predict function counts in memory and adds its counts to DynamoDB every few seconds
 * (`serving-telemetry.ts`); rollouts read them back for a version over a time window
 * (`serving-stats-store.ts`).
 *
 * Latency buckets grow by 25 %: bucket 0 holds ≤ 1 ms, bucket i holds (1.25^(i-1), 1.25^i] ms,
 * and the last one everything above ~1.25^62 ms. A percentile read from them is the upper bound
 * of its bucket: at most 25 % above the true value, never below it.
 */
import { LATENCY_BUCKETS } from '../../../topology/storage-layout.js';

/** Width of a counter bucket. */
export const STATS_BUCKET_SECONDS = 10;

const GROWTH = 1.25;
const LOG_GROWTH = Math.log(GROWTH);

/**
 * How a request a version was picked for ended: answered (`ok`), refused (4xx), failed (5xx), or
 * answered by the alias's fallback because the version's backend could not answer (`fallback`).
 */
export type Outcome = 'ok' | 'rejected' | 'failed' | 'fallback';

/** Counts of one version over some time. */
export interface VersionStats {
  readonly requests: number;
  /** Answered 4xx after the version was picked: inputs this version refused. */
  readonly rejected: number;
  /** Answered 5xx after the version was picked. */
  readonly failed: number;
  /** Answered by the alias's fallback: the version's backend could not answer (not ready, breaker open). */
  readonly fallbacks: number;
  /** Requests per latency bucket (`LATENCY_BUCKETS` entries). */
  readonly latency: readonly number[];
}

/** No requests. */
export const EMPTY_STATS: VersionStats = { requests: 0, rejected: 0, failed: 0, fallbacks: 0, latency: new Array<number>(LATENCY_BUCKETS).fill(0) };

/** The latency bucket of a duration. */
export function latencyBucket(ms: number): number {
  if (!(ms > 1)) return 0;
  return Math.min(LATENCY_BUCKETS - 1, Math.ceil(Math.log(ms) / LOG_GROWTH - 1e-9));
}

/** The upper bound of a latency bucket, in ms (the last bucket reports its lower bound). */
export function bucketUpperMs(bucket: number): number {
  return GROWTH ** Math.min(bucket, LATENCY_BUCKETS - 2);
}

/** The sum of two counts. */
export function addStats(a: VersionStats, b: VersionStats): VersionStats {
  return {
    requests: a.requests + b.requests,
    rejected: a.rejected + b.rejected,
    failed: a.failed + b.failed,
    fallbacks: a.fallbacks + b.fallbacks,
    latency: a.latency.map((count, i) => count + (b.latency[i] ?? 0)),
  };
}

/** The latency at quantile `q` (0–1), as its bucket's upper bound; `undefined` without requests. */
export function latencyQuantileMs(stats: VersionStats, q: number): number | undefined {
  const total = stats.latency.reduce((sum, count) => sum + count, 0);
  if (total === 0) return undefined;
  const rank = Math.ceil(q * total);
  let seen = 0;
  for (let bucket = 0; bucket < stats.latency.length; bucket++) {
    seen += stats.latency[bucket]!;
    if (seen >= rank) return bucketUpperMs(bucket);
  }
  return bucketUpperMs(LATENCY_BUCKETS - 1);
}
