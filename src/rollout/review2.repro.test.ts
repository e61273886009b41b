import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startTestEmulators, type TestEmulators } from '../../test/support/emulators.js';
import { draftVersion } from '../../test/support/model-versions.js';
import { DependencyUnavailableError } from '../http/errors.js';
import { ModelRegistry, type AliasChange } from '../registry/registry.js';
import { RegistryTable } from '../registry/table.js';
import { judgeStep } from './guards.js';
import { RolloutStore } from './rollout-store.js';
import { Rollouts, type RolloutRegistry } from './rollouts.js';
import { EMPTY_STATS, type VersionStats } from './serving-stats.js';
import { bucketOf, ServingStatsStore } from './serving-stats-store.js';

let env: TestEmulators;
let registry: ModelRegistry;
let store: RolloutStore;
let stats: ServingStatsStore;
let now: Date;
beforeAll(async () => {
  env = await startTestEmulators();
  const table = new RegistryTable(env.dynamo, env.resources.tableName, 'rollouts');
  registry = new ModelRegistry(env.dynamo, env.resources.tableName, () => now);
  store = new RolloutStore(table);
  stats = new ServingStatsStore(table);
});
afterAll(async () => env.stop());
beforeEach(() => { now = new Date('2026-11-24T02:00:03.000Z'); });

const make = (reg: RolloutRegistry = registry) =>
  new Rollouts({ registry: reg, rollouts: store, stats: (...a) => stats.window(...a), events: { publish: async () => {} }, now: () => now });
async function model(name: string) {
  await registry.createModel({ name });
  for (const accuracy of [0.9, 0.95]) await registry.registerVersion(draftVersion(name, { metrics: { accuracy } }));
  return (await registry.setAlias(name, 'prod', { routes: [{ version: 1, weight: 100 }], updatedBy: 'alice', reason: '', expectedRevision: 0 })).revision;
}
const start = (revision: number) => ({ candidate: 2, plan: { steps: [10, 50, 100], bakeSeconds: 30, maxStepSeconds: 600 }, guards: { maxErrorRate: 0.1, minRequests: 10 }, by: 'alice', reason: '', expectedRevision: revision });

describe('review 2 repros', () => {
  it('window: a tick in the same 10 s bucket as the start queries BETWEEN with from > to', async () => {
    const revision = await model('early');
    const rollouts = make();
    await rollouts.start('early', 'prod', start(revision)); // 02:00:03
    now = new Date('2026-11-24T02:00:05.000Z');
    const errors: unknown[] = [];
    await rollouts.advanceAll((_, e) => errors.push(e));
    console.log('tick errors:', errors.map((e) => String(e)));
    // direct
    const direct = await stats.window('early', 'prod', 2, new Date('2026-11-24T02:00:10Z'), new Date('2026-11-24T02:00:05Z')).catch((e: unknown) => String(e));
    console.log('direct window from>to:', direct);
  });

  it('start: the alias moved but the move reported a transient failure -> rollout ABORTED, alias left split', async () => {
    const revision = await model('halfway');
    const flaky: RolloutRegistry = {
      getAlias: (m, a) => registry.getAlias(m, a),
      getVersion: (m, v) => registry.getVersion(m, v),
      setAlias: async (m: string, a: string, c: AliasChange) => { await registry.setAlias(m, a, c); throw new DependencyUnavailableError('model registry', new Error('timeout after the write')); },
    };
    await expect(make(flaky).start('halfway', 'prod', start(revision))).rejects.toThrow();
    now = new Date(now.getTime() + 60_000);
    const changed = await make().advanceAll(() => undefined);
    console.log('rollout:', (await store.find('halfway', 'prod'))?.state, 'alias:', JSON.stringify((await registry.getAlias('halfway', 'prod')).routes), 'advancer changed', changed.length);
    expect((await store.find('halfway', 'prod'))?.state).toBe('ABORTED');
    expect((await registry.getAlias('halfway', 'prod')).routes).toEqual([{ version: 1, weight: 90 }, { version: 2, weight: 10 }]);
  });

  it('guards: two refused baseline requests excuse a candidate that refuses everything', () => {
    const s = (requests: number, rejected: number): VersionStats => ({ ...EMPTY_STATS, requests, rejected });
    const r = { guards: { maxErrorRate: 0.01, minRequests: 100 }, plan: { steps: [10, 100], bakeSeconds: 60, maxStepSeconds: 600 }, stepStartedAt: '2026-11-24T02:00:00Z' };
    const d = judgeStep(r, s(200, 200), s(2, 2), new Date('2026-11-24T02:05:00Z'));
    console.log(d);
    expect(d.action).toBe('advance');
  });

  it('guards: equal refusal rates count as a failure through float rounding', () => {
    const s = (requests: number, rejected: number): VersionStats => ({ ...EMPTY_STATS, requests, rejected });
    const r = { guards: { maxErrorRate: 0, minRequests: 49 }, plan: { steps: [10, 100], bakeSeconds: 60, maxStepSeconds: 600 }, stepStartedAt: '2026-11-24T02:00:00Z' };
    const d = judgeStep(r, s(49, 1), s(49, 1), new Date('2026-11-24T02:05:00Z'));
    console.log(d);
    expect(d.action).toBe('rollback');
  });
});
void bucketOf;
