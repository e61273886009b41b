/**
 * What the predict function tells the rest of the platform about its traffic, without making
 * callers wait for it: per-version counters (for rollout guards) and sampled shadow copies.
 * Both are held in memory and written at most every `flushIntervalMs` by the request that finds
 * them due (one conditional counter update per version and bucket, one S3 object per model with
 * shadow copies), so a request pays nothing but a few in-memory additions, except one request
 * per interval per container.
 *
 * Telemetry never fails a prediction: a write that fails is logged and its counts are dropped.
 * Counts a container holds when it is shut down are lost (at most one interval's worth).
 */
import { randomUUID } from 'node:crypto';
import { LATENCY_BUCKETS } from '../../../topology/storage-layout.js';
import { latencyBucket, type Outcome, type VersionStats } from './serving-stats.js';
import { bucketOf } from './serving-stats-store.js';
import { MAX_SHADOW_COPY_BYTES, shadowRequestsKey, type ShadowCopy } from './shadow-copy.js';

/** Where telemetry goes. */
export interface TelemetrySinks {
  /** Adds counts to a version's bucket (per alias; none for requests that named the version), once per flush id (`ServingStatsStore.add`). */
  addStats(model: string, alias: string | undefined, version: number, bucketStart: number, stats: VersionStats, flushId: string): Promise<unknown>;
  /** Writes an object to the lake (shadow copies as JSON Lines). */
  putObject(key: string, body: string): Promise<unknown>;
  /** Reports a failed write (the telemetry it carried is dropped). */
  onError(what: string, error: unknown): void;
}

/** Default time between flushes. */
export const FLUSH_INTERVAL_MS = 5_000;

/** Most shadow copies held before a flush is due regardless of time. */
export const MAX_PENDING_COPIES = 100;

/** Most bytes of shadow copies held before a flush is due regardless of time (bounds the one write a request may wait for). */
export const MAX_PENDING_COPY_BYTES = 1024 * 1024;

interface Counter {
  readonly model: string;
  readonly alias: string | undefined;
  readonly version: number;
  readonly bucketStart: number;
  requests: number;
  rejected: number;
  failed: number;
  fallbacks: number;
  readonly latency: number[];
}

/** One container's telemetry buffer. */
export class ServingTelemetry {
  private counters = new Map<string, Counter>();
  private copies: { model: string; line: string }[] = [];
  private copyBytes = 0;
  private pendingSince: number | undefined;
  private sequence = 0;
  private readonly container = randomUUID().slice(0, 8);

  constructor(
    private readonly sinks: TelemetrySinks,
    private readonly now: () => number = () => Date.now(),
    private readonly flushIntervalMs = FLUSH_INTERVAL_MS,
  ) {}

  /**
   * Counts a request a version was picked for, by the alias that picked it (`undefined` when the
   * request named the version), with the time the version took to answer (`undefined` when it
   * never got to answer, e.g. it failed to load or the fallback answered: no latency sample).
   */
  record(model: string, alias: string | undefined, version: number, outcome: Outcome, ms: number | undefined): void {
    const at = this.now();
    const bucketStart = bucketOf(at);
    const key = `${model}\u0000${alias ?? ''}\u0000${version}\u0000${bucketStart}`;
    let counter = this.counters.get(key);
    if (counter === undefined) {
      counter = { model, alias, version, bucketStart, requests: 0, rejected: 0, failed: 0, fallbacks: 0, latency: new Array<number>(LATENCY_BUCKETS).fill(0) };
      this.counters.set(key, counter);
    }
    counter.requests += 1;
    if (outcome === 'rejected') counter.rejected += 1;
    else if (outcome === 'failed') counter.failed += 1;
    else if (outcome === 'fallback') counter.fallbacks += 1;
    if (ms !== undefined) counter.latency[latencyBucket(ms)]! += 1;
    this.pendingSince ??= at;
  }

  /** Keeps a shadow copy; returns false when the request is too large to copy. */
  offerShadow(copy: ShadowCopy): boolean {
    const line = JSON.stringify(copy);
    const bytes = Buffer.byteLength(line);
    if (bytes > MAX_SHADOW_COPY_BYTES) return false;
    this.copies.push({ model: copy.model, line });
    this.copyBytes += bytes;
    this.pendingSince ??= this.now();
    return true;
  }

  /** Writes what is held if the interval has passed (or many copies wait). Never throws. */
  async flushIfDue(): Promise<void> {
    if (this.pendingSince === undefined) return;
    if (this.now() - this.pendingSince < this.flushIntervalMs && this.copies.length < MAX_PENDING_COPIES && this.copyBytes < MAX_PENDING_COPY_BYTES) return;
    await this.flush();
  }

  /** Writes everything held now. Never throws. */
  async flush(): Promise<void> {
    const counters = [...this.counters.values()];
    const copies = this.copies;
    this.counters = new Map();
    this.copies = [];
    this.copyBytes = 0;
    this.pendingSince = undefined;
    const flushId = `${this.container}-${++this.sequence}`;
    const byModel = new Map<string, string[]>();
    for (const copy of copies) {
      const lines = byModel.get(copy.model);
      if (lines === undefined) byModel.set(copy.model, [copy.line]);
      else lines.push(copy.line);
    }
    const at = new Date(this.now());
    await Promise.all([
      ...counters.map((c) =>
        this.sinks
          .addStats(c.model, c.alias, c.version, c.bucketStart, { requests: c.requests, rejected: c.rejected, failed: c.failed, fallbacks: c.fallbacks, latency: c.latency }, flushId)
          .catch((error: unknown) => this.sinks.onError(`serving counters of ${c.model} v${c.version}`, error)),
      ),
      ...[...byModel].map(([model, lines]) =>
        this.sinks
          .putObject(shadowRequestsKey(model, at, this.container, this.sequence), `${lines.join('\n')}\n`)
          .catch((error: unknown) => this.sinks.onError(`${lines.length} shadow copies of ${model}`, error)),
      ),
    ]);
  }
}
