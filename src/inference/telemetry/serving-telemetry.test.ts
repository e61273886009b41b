import { describe, expect, it } from 'vitest';
import { latencyBucket, type VersionStats } from './serving-stats.js';
import { MAX_PENDING_COPIES, MAX_PENDING_COPY_BYTES, ServingTelemetry, type TelemetrySinks } from './serving-telemetry.js';
import { SHADOW_REQUESTS_PREFIX } from '../../../topology/storage-layout.js';
import { MAX_SHADOW_COPY_BYTES, parseShadowCopy, type ShadowCopy } from './shadow-copy.js';

interface Recorded {
  stats: { model: string; alias: string | undefined; version: number; bucketStart: number; stats: VersionStats; flushId: string }[];
  objects: { key: string; body: string }[];
  errors: string[];
}

function fakeSinks(fail: { stats?: boolean; objects?: boolean } = {}): TelemetrySinks & { recorded: Recorded } {
  const recorded: Recorded = { stats: [], objects: [], errors: [] };
  return {
    recorded,
    addStats: async (model, alias, version, bucketStart, stats, flushId) => {
      if (fail.stats === true) throw new Error('throttled');
      recorded.stats.push({ model, alias, version, bucketStart, stats, flushId });
    },
    putObject: async (key, body) => {
      if (fail.objects === true) throw new Error('access denied');
      recorded.objects.push({ key, body });
    },
    onError: (what) => recorded.errors.push(what),
  };
}

const copy = (requestId: string, request: unknown = { instances: [{ x: 1 }] }): ShadowCopy => ({
  model: 'iris',
  alias: 'prod',
  requestId,
  at: '2026-11-24T00:00:01.000Z',
  protocol: 'v1',
  request,
  primary: { version: 1, response: { predictions: ['setosa'] } },
  shadowVersion: 2,
});

describe('ServingTelemetry', () => {
  it('counts per version and bucket in memory and writes them once the interval has passed', async () => {
    // Prepare
    let now = Date.parse('2026-11-24T00:00:00.000Z');
    const sinks = fakeSinks();
    const telemetry = new ServingTelemetry(sinks, () => now, 5_000);

    // Act
    telemetry.record('iris', 'prod', 1, 'ok', 3);
    telemetry.record('iris', 'prod', 1, 'rejected', 4);
    telemetry.record('iris', 'prod', 2, 'failed', 50);
    telemetry.record('iris', undefined, 2, 'ok', 1);
    await telemetry.flushIfDue();
    const writtenEarly = sinks.recorded.stats.length;
    now += 5_000;
    await telemetry.flushIfDue();
    await telemetry.flushIfDue();

    // Assess
    expect(writtenEarly).toBe(0);
    const byVersion = new Map(sinks.recorded.stats.filter((s) => s.alias === 'prod').map((s) => [s.version, s]));
    expect(sinks.recorded.stats).toHaveLength(3);
    expect(sinks.recorded.stats.find((s) => s.alias === undefined)).toMatchObject({ version: 2, stats: { requests: 1 } });
    expect(byVersion.get(1)).toMatchObject({ model: 'iris', bucketStart: Date.parse('2026-11-24T00:00:00.000Z') / 1000, stats: { requests: 2, rejected: 1, failed: 0 } });
    expect(byVersion.get(1)!.stats.latency[latencyBucket(3)]).toBe(1);
    expect(byVersion.get(2)!.stats).toMatchObject({ requests: 1, rejected: 0, failed: 1 });
    expect(byVersion.get(1)!.flushId).toBe(byVersion.get(2)!.flushId);
  });

  it('writes shadow copies as one JSON Lines object per model, and skips requests too large to copy', async () => {
    // Prepare
    const sinks = fakeSinks();
    const telemetry = new ServingTelemetry(sinks, () => 0, 5_000);

    // Act
    const kept = [telemetry.offerShadow(copy('a')), telemetry.offerShadow(copy('b')), telemetry.offerShadow(copy('big', 'x'.repeat(MAX_SHADOW_COPY_BYTES)))];
    await telemetry.flush();

    // Assess
    expect(kept).toEqual([true, true, false]);
    expect(sinks.recorded.objects).toHaveLength(1);
    const [object] = sinks.recorded.objects;
    expect(object!.key.startsWith(`${SHADOW_REQUESTS_PREFIX}iris/1970-01-01/`)).toBe(true);
    expect(object!.body.trimEnd().split('\n').map((line) => parseShadowCopy(line).requestId)).toEqual(['a', 'b']);
  });

  it('flushes early when many copies wait', async () => {
    const sinks = fakeSinks();
    const telemetry = new ServingTelemetry(sinks, () => 0, 60_000);
    for (let i = 0; i < MAX_PENDING_COPIES; i++) telemetry.offerShadow(copy(`r${i}`));
    await telemetry.flushIfDue();
    expect(sinks.recorded.objects).toHaveLength(1);
  });

  it('flushes early when the copies held reach a megabyte, so no request waits on a larger write', async () => {
    const sinks = fakeSinks();
    const telemetry = new ServingTelemetry(sinks, () => 0, 60_000);
    const big = { instances: ['x'.repeat(60 * 1024)] };
    let offered = 0;
    while (sinks.recorded.objects.length === 0) {
      telemetry.offerShadow(copy(`r${offered++}`, big));
      await telemetry.flushIfDue();
    }
    expect(offered).toBeLessThan(MAX_PENDING_COPIES);
    expect(sinks.recorded.objects[0]!.body.length).toBeGreaterThanOrEqual(MAX_PENDING_COPY_BYTES);
    expect(sinks.recorded.objects[0]!.body.length).toBeLessThan(MAX_PENDING_COPY_BYTES + MAX_SHADOW_COPY_BYTES);
  });

  it('never fails a request: failed writes are reported and their telemetry dropped', async () => {
    // Prepare
    const sinks = fakeSinks({ stats: true, objects: true });
    const telemetry = new ServingTelemetry(sinks, () => 0, 0);
    telemetry.record('iris', 'prod', 1, 'ok', 1);
    telemetry.offerShadow(copy('a'));

    // Act
    await telemetry.flushIfDue();
    await telemetry.flushIfDue();

    // Assess
    expect(sinks.recorded.errors).toEqual(['serving counters of iris v1', '1 shadow copies of iris']);
  });
});
