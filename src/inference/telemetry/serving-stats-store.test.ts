import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestEmulators, type TestEmulators } from '../../../test/support/emulators.js';
import { RegistryTable } from '../../storage/table.js';
import { EMPTY_STATS, latencyBucket, latencyQuantileMs, type VersionStats } from './serving-stats.js';
import { bucketOf, ServingStatsStore } from './serving-stats-store.js';

let env: TestEmulators;
let store: ServingStatsStore;

beforeAll(async () => {
  env = await startTestEmulators();
  store = new ServingStatsStore(new RegistryTable(env.dynamo, env.resources.tableName));
});
afterAll(async () => env.stop());

const stats = (requests: number, failed: number, ms: number): VersionStats => {
  const latency = [...EMPTY_STATS.latency];
  latency[latencyBucket(ms)] = requests;
  return { requests, rejected: 0, failed, fallbacks: 0, latency };
};

describe('ServingStatsStore on dynalite', () => {
  it('adds each flush once and sums the buckets of a window', async () => {
    // Prepare
    const t0 = new Date('2026-11-24T01:00:00.000Z');
    const later = new Date(t0.getTime() + 25_000);

    // Act
    const first = await store.add('iris', 'prod', 2, bucketOf(t0), stats(10, 1, 4), 'c1-1');
    const again = await store.add('iris', 'prod', 2, bucketOf(t0), stats(10, 1, 4), 'c1-1');
    await store.add('iris', 'prod', 2, bucketOf(t0), stats(5, 0, 4), 'c2-1');
    await store.add('iris', 'prod', 2, bucketOf(later), stats(5, 0, 300), 'c1-2');
    await store.add('iris', 'prod', 3, bucketOf(t0), stats(7, 7, 4), 'c1-1');
    await store.add('iris', 'prod', 2, bucketOf(new Date(t0.getTime() + 3_600_000)), stats(99, 99, 4), 'c1-9');
    const window = await store.window('iris', 'prod', 2, t0, later);

    // Assess
    expect([first, again]).toEqual([true, false]);
    expect(window).toMatchObject({ requests: 20, failed: 1, rejected: 0 });
    expect(latencyQuantileMs(window, 0.99)).toBeGreaterThanOrEqual(300);
    expect(await store.window('iris', 'prod', 2, later, later)).toMatchObject({ requests: 5 });
    expect(await store.window('iris', 'prod', 4, t0, later)).toEqual(EMPTY_STATS);
  });
});
