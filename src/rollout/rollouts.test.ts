import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startTestEmulators, type TestEmulators } from '../../test/support/emulators.js';
import { draftVersion } from '../../test/support/model-versions.js';
import { ConflictError, DependencyUnavailableError, RevisionMismatchError } from '../errors.js';
import type { RegistryEvent } from '../registry/events.js';
import type { RolloutChanged } from './rollout.js';
import { ModelRegistry, type AliasChange } from '../registry/registry.js';
import { RegistryTable } from '../storage/table.js';
import { RolloutStore } from './rollout-store.js';
import { Rollouts, type RolloutRegistry, type StartRollout } from './rollouts.js';
import { EMPTY_STATS, type VersionStats } from '../inference/telemetry/serving-stats.js';
import { bucketOf, ServingStatsStore } from '../inference/telemetry/serving-stats-store.js';

let env: TestEmulators;
let registry: ModelRegistry;
let store: RolloutStore;
let stats: ServingStatsStore;
let events: (RegistryEvent | RolloutChanged)[];
let now: Date;
let rollouts: Rollouts;
let flushes = 0;

beforeAll(async () => {
  env = await startTestEmulators();
  const table = new RegistryTable(env.dynamo, env.resources.tableName);
  registry = new ModelRegistry(new RegistryTable(env.dynamo, env.resources.tableName), () => now);
  store = new RolloutStore(table);
  stats = new ServingStatsStore(table);
});
afterAll(async () => env.stop());
beforeEach(() => {
  events = [];
  now = new Date('2026-11-24T02:00:00.000Z');
  rollouts = new Rollouts({
    registry,
    rollouts: store,
    stats: (...args) => stats.window(...args),
    events: { publish: async (event) => void events.push(event) },
    now: () => now,
  });
});

/** A model with versions 1 (serving `prod`) and 2, with the given accuracies. */
async function modelWithCandidate(name: string, accuracies: [number, number] = [0.9, 0.95]): Promise<number> {
  await registry.createModel({ name });
  for (const accuracy of accuracies) await registry.registerVersion(draftVersion(name, { metrics: { accuracy } }));
  return (await registry.setAlias(name, 'prod', { routes: [{ version: 1, weight: 100 }], updatedBy: 'alice', reason: 'first', expectedRevision: 0 })).revision;
}

const plan = (revision: number, overrides: Partial<StartRollout> = {}): StartRollout => ({
  candidate: 2,
  plan: { steps: [10, 50, 100], bakeSeconds: 30, maxStepSeconds: 600 },
  guards: { maxErrorRate: 0.1, minRequests: 10 },
  by: 'alice',
  reason: 'ship v2',
  expectedRevision: revision,
  ...overrides,
});

/** Rollouts over another registry or store (to inject races and crashes). */
const rolloutsWith = (deps: { registry?: RolloutRegistry; rollouts?: RolloutStore }) =>
  new Rollouts({ registry: deps.registry ?? registry, rollouts: deps.rollouts ?? store, stats: (...args) => stats.window(...args), events: { publish: async () => {} }, now: () => now });

/** The candidate answers `requests` requests now, `failed` of them with errors. */
const traffic = (model: string, requests: number, failed = 0) => {
  const counts: VersionStats = { ...EMPTY_STATS, requests, failed, latency: EMPTY_STATS.latency.map((_, i) => (i === 10 ? requests : 0)) };
  return stats.add(model, 'prod', 2, bucketOf(now), counts, `test-${++flushes}`);
};
const later = (seconds: number) => (now = new Date(now.getTime() + seconds * 1000));
const routes = async (model: string) => (await registry.getAlias(model, 'prod')).routes;

describe('rollouts on dynalite', () => {
  it('takes a healthy candidate through every step to 100 % by itself', async () => {
    // Prepare
    const revision = await modelWithCandidate('good');

    // Act
    const started = await rollouts.start('good', 'prod', plan(revision));
    const atStart = await routes('good');
    later(40);
    await traffic('good', 20);
    const [step2] = await rollouts.advanceAll(() => undefined);
    const atStep2 = await routes('good');
    later(40);
    await traffic('good', 20);
    await rollouts.advanceAll(() => undefined);
    const atStep3 = await routes('good');
    later(40);
    await traffic('good', 20);
    await rollouts.advanceAll(() => undefined);
    const done = await rollouts.get('good', 'prod');
    const ledger = await registry.listAliasLedger('good', 'prod');

    // Assess
    expect(started).toMatchObject({ state: 'RUNNING', step: 0, baseline: 1, candidate: 2, baseRevision: revision, aliasRevision: revision + 1 });
    expect(atStart).toEqual([{ version: 1, weight: 90 }, { version: 2, weight: 10 }]);
    expect(step2).toMatchObject({ state: 'RUNNING', step: 1 });
    expect(atStep2).toEqual([{ version: 1, weight: 50 }, { version: 2, weight: 50 }]);
    expect(atStep3).toEqual([{ version: 2, weight: 100 }]);
    expect(done).toMatchObject({ state: 'SUCCEEDED', outcome: expect.stringContaining('v2 serves all traffic') });
    expect(ledger.items.map((e) => [e.kind, e.by])).toEqual([
      ['set', `rollout ${started.id}`],
      ['set', `rollout ${started.id}`],
      ['set', `rollout ${started.id}`],
      ['set', 'alice'],
    ]);
    expect(events.filter((e) => e.type === 'RolloutChanged').map((e) => (e.type === 'RolloutChanged' ? [e.action, e.percent] : []))).toEqual([
      ['started', 10],
      ['advanced', 50],
      ['advanced', 100],
      ['succeeded', 100],
    ]);
  });

  it('rolls a failing candidate back at its first step, with the reason in the ledger', async () => {
    // Prepare
    const revision = await modelWithCandidate('bad');
    const started = await rollouts.start('bad', 'prod', plan(revision));

    // Act
    later(5);
    await traffic('bad', 3, 3);
    await rollouts.advanceAll(() => undefined);
    const rolledBack = await rollouts.get('bad', 'prod');
    const [latest] = (await registry.listAliasLedger('bad', 'prod')).items;

    // Assess
    expect(rolledBack).toMatchObject({ state: 'ROLLED_BACK', step: 0, lastCheck: { requests: 3, failures: 3 } });
    expect(await routes('bad')).toEqual([{ version: 1, weight: 100 }]);
    expect(latest).toMatchObject({
      kind: 'rollback',
      restoredRevision: revision,
      by: `rollout ${started.id}`,
      reason: 'rolled back automatically at step 1 of 3 (10 %): error rate above 10.0 %: 3 of 3 requests failed (3 errors, 0 refused)',
    });
    expect(await store.listActive()).not.toContainEqual(expect.objectContaining({ model: 'bad' }));
  });

  it('stops, leaving the alias alone, when someone else changes the alias', async () => {
    // Prepare
    const revision = await modelWithCandidate('manual');
    await rollouts.start('manual', 'prod', plan(revision));
    await registry.setAlias('manual', 'prod', { routes: [{ version: 1, weight: 100 }], updatedBy: 'bob', reason: 'hotfix', expectedRevision: revision + 1 });

    // Act
    await rollouts.advanceAll(() => undefined);

    // Assess
    expect(await rollouts.get('manual', 'prod')).toMatchObject({ state: 'ABORTED', outcome: expect.stringContaining(`revision ${revision + 2} by bob: hotfix`) });
    expect((await registry.getAlias('manual', 'prod')).revision).toBe(revision + 2);
  });

  it('pauses, resumes with a new bake, and aborts back to the baseline', async () => {
    // Prepare
    const revision = await modelWithCandidate('held');
    await rollouts.start('held', 'prod', plan(revision));

    // Act
    const paused = await rollouts.pause('held', 'prod', { by: 'carol', reason: 'incident elsewhere' });
    later(60);
    await traffic('held', 50);
    await rollouts.advanceAll(() => undefined);
    const whilePaused = await rollouts.get('held', 'prod');
    const resumed = await rollouts.resume('held', 'prod', { by: 'carol', reason: '' });
    const aborted = await rollouts.abort('held', 'prod', { by: 'carol', reason: 'changed my mind' });

    // Assess
    expect(paused.state).toBe('PAUSED');
    expect(whilePaused).toMatchObject({ state: 'PAUSED', step: 0 });
    expect(resumed).toMatchObject({ state: 'RUNNING', stepStartedAt: now.toISOString() });
    expect(aborted).toMatchObject({ state: 'ABORTED', outcome: 'aborted by carol: changed my mind' });
    expect(await routes('held')).toEqual([{ version: 1, weight: 100 }]);
    await expect(rollouts.resume('held', 'prod', { by: 'carol', reason: '' })).rejects.toThrowError('the rollout of alias \'prod\' is ABORTED; it cannot resume');
  });

  it('applies a step whose writer died after recording it and before moving the alias', async () => {
    // Prepare: the rollout says step 2, the alias is still at step 1.
    const revision = await modelWithCandidate('crash');
    const started = await rollouts.start('crash', 'prod', plan(revision));
    expect(await store.update({ ...started, step: 1, revision: started.revision + 1 })).toBe(true);

    // Act
    await rollouts.advanceAll(() => undefined);

    // Assess
    expect(await routes('crash')).toEqual([{ version: 1, weight: 50 }, { version: 2, weight: 50 }]);
    expect(await rollouts.get('crash', 'prod')).toMatchObject({ state: 'RUNNING', step: 1, aliasRevision: revision + 2 });
  });

  it('refuses rollouts that cannot start, naming why', async () => {
    // Prepare
    const revision = await modelWithCandidate('refused', [0.9, 0.85]);

    // Act / Assess
    await expect(rollouts.start('refused', 'prod', plan(revision + 5))).rejects.toThrowError(RevisionMismatchError);
    await expect(rollouts.start('refused', 'prod', plan(revision, { candidate: 1 }))).rejects.toThrowError("version 1 already serves alias 'prod'");
    await expect(rollouts.start('refused', 'prod', plan(revision, { guards: { maxErrorRate: 0.1, minRequests: 10, minMetric: { name: 'accuracy', minDelta: 0 } } }))).rejects.toThrowError(
      'candidate version 2 has accuracy 0.85 against 0.9 for version 1',
    );
    await rollouts.start('refused', 'prod', plan(revision));
    await expect(rollouts.start('refused', 'prod', plan(revision + 1))).rejects.toThrowError(ConflictError);
    const split = await registry.setAlias('refused', 'canary', { routes: [{ version: 1, weight: 50 }, { version: 2, weight: 50 }], updatedBy: 'a', reason: '', expectedRevision: 0 });
    await expect(rollouts.start('refused', 'canary', plan(split.revision))).rejects.toThrowError("alias 'canary' splits traffic between v1, v2; point it at one version before a rollout");
  });

  it('aborts back to the baseline when a pause landed while the advancer moved the alias', async () => {
    // Prepare: a person's pause lands during the advancer's move to step 2.
    const revision = await modelWithCandidate('race');
    let onMove: (() => Promise<unknown>) | undefined;
    const racing: RolloutRegistry = {
      getAlias: (model, alias) => registry.getAlias(model, alias),
      getVersion: (model, version) => registry.getVersion(model, version),
      setAlias: async (model, alias, change: AliasChange) => {
        const hook = onMove;
        onMove = undefined;
        await hook?.();
        return registry.setAlias(model, alias, change);
      },
    };
    const advancer = rolloutsWith({ registry: racing });
    await advancer.start('race', 'prod', plan(revision));
    later(40);
    await traffic('race', 20);
    onMove = () => rollouts.pause('race', 'prod', { by: 'bob', reason: 'incident' });
    const errors: unknown[] = [];
    await advancer.advanceAll((_, error) => errors.push(error));

    // Act
    const aborted = await rollouts.abort('race', 'prod', { by: 'bob', reason: 'stop it' });

    // Assess
    expect(errors).toHaveLength(1);
    expect(aborted).toMatchObject({ state: 'ABORTED', outcome: 'aborted by bob: stop it' });
    expect(await routes('race')).toEqual([{ version: 1, weight: 100 }]);
  });

  it('ends, saying why, when the alias cannot be moved back (the baseline was archived) instead of retrying for ever', async () => {
    // Prepare: at 100 % the baseline is no longer routed, so it may be archived; then the candidate fails.
    const revision = await modelWithCandidate('stuck');
    await rollouts.start('stuck', 'prod', plan(revision, { plan: { steps: [50, 100], bakeSeconds: 30, maxStepSeconds: 600 } }));
    later(40);
    await traffic('stuck', 20);
    await rollouts.advanceAll(() => undefined);
    await registry.setVersionStatus('stuck', 1, { status: 'ARCHIVED', by: 'ops', reason: 'cleanup' });
    later(40);
    await traffic('stuck', 20, 20);

    // Act
    await rollouts.advanceAll(() => undefined);

    // Assess
    expect(await rollouts.get('stuck', 'prod')).toMatchObject({
      state: 'ABORTED',
      outcome: expect.stringMatching(/^rolled back automatically at step 2 of 2 \(100 %\): .*; but the alias could not be put back on v1: version 1 of model 'stuck' is archived.*move it yourself$/),
    });
    expect(await routes('stuck')).toEqual([{ version: 2, weight: 100 }]);
  });

  it('ends when the alias is deleted during the rollout', async () => {
    const revision = await modelWithCandidate('gone');
    const started = await rollouts.start('gone', 'prod', plan(revision));
    await registry.deleteAlias('gone', 'prod', { by: 'bob', reason: '', expectedRevision: started.aliasRevision });
    await rollouts.advanceAll(() => undefined);
    expect(await rollouts.get('gone', 'prod')).toMatchObject({ state: 'ABORTED', outcome: 'the alias was deleted; the rollout stopped' });
  });

  it('records an automatic rollback whose writer died before recording it as ROLLED_BACK', async () => {
    // Prepare: saving ROLLED_BACK fails once, after the alias was moved back.
    const revision = await modelWithCandidate('rbcrash');
    const crashing = new RolloutStore(new RegistryTable(env.dynamo, env.resources.tableName));
    const update = crashing.update.bind(crashing);
    let crash = true;
    crashing.update = async (next) => {
      if (crash && next.state === 'ROLLED_BACK') {
        crash = false;
        throw new Error('container died');
      }
      return update(next);
    };
    const dying = rolloutsWith({ rollouts: crashing });
    await dying.start('rbcrash', 'prod', plan(revision));
    later(5);
    await traffic('rbcrash', 5, 5);

    // Act
    await dying.advanceAll(() => undefined);
    await dying.advanceAll(() => undefined);

    // Assess
    expect(await rollouts.get('rbcrash', 'prod')).toMatchObject({ state: 'ROLLED_BACK', outcome: expect.stringContaining('rolled back automatically at step 1 of 3') });
  });

  it('judges a step on counts from after it began: failures just before the rollout do not count', async () => {
    // Prepare: v2 failed requests of this alias 8 s before the rollout starts (e.g. the previous rollout's).
    const revision = await modelWithCandidate('early');
    now = new Date('2026-11-24T02:00:01.000Z');
    await traffic('early', 5, 5);
    now = new Date('2026-11-24T02:00:09.000Z');
    await rollouts.start('early', 'prod', plan(revision));

    // Act
    later(1);
    await rollouts.advanceAll(() => undefined);

    // Assess
    expect(await rollouts.get('early', 'prod')).toMatchObject({ state: 'RUNNING', lastCheck: { requests: 0 } });
  });

  it('refuses to roll out the version that shadows the alias', async () => {
    const revision = await modelWithCandidate('shadowed');
    const shadowed = await registry.setAlias('shadowed', 'prod', { routes: [{ version: 1, weight: 100 }], shadow: { version: 2, percent: 10 }, updatedBy: 'a', reason: '', expectedRevision: revision });
    await expect(rollouts.start('shadowed', 'prod', plan(shadowed.revision))).rejects.toThrowError("version 2 shadows alias 'prod'; remove the shadow");
  });

  it('keeps a rollout whose first move failed after it was written, and lets the next run take it over', async () => {
    // Prepare: the registry writes the move, then the call fails (a timeout after the write).
    const revision = await modelWithCandidate('halfway');
    const flaky: RolloutRegistry = {
      getAlias: (model, alias) => registry.getAlias(model, alias),
      getVersion: (model, version) => registry.getVersion(model, version),
      setAlias: async (model, alias, change) => {
        await registry.setAlias(model, alias, change);
        throw new DependencyUnavailableError('model registry', 1, new Error('timed out'));
      },
    };

    // Act
    const failed = await rolloutsWith({ registry: flaky }).start('halfway', 'prod', plan(revision)).catch((error: unknown) => error);
    const errors: unknown[] = [];
    await rollouts.advanceAll((_, error) => errors.push(error));

    // Assess
    expect(failed).toBeInstanceOf(DependencyUnavailableError);
    expect(errors).toEqual([]);
    expect(await rollouts.get('halfway', 'prod')).toMatchObject({ state: 'RUNNING', step: 0, aliasRevision: revision + 1 });
    expect(await routes('halfway')).toEqual([{ version: 1, weight: 90 }, { version: 2, weight: 10 }]);
  });

  it('moves a step once when two advancer runs overlap (the rollouts function reserves no concurrency)', async () => {
    // Prepare
    const revision = await modelWithCandidate('overlap');
    await rollouts.start('overlap', 'prod', plan(revision));
    later(40);
    await traffic('overlap', 20);
    const failures: unknown[] = [];
    const run = () => rolloutsWith({}).advanceAll((_rollout, error) => failures.push(error));

    // Act
    const [first, second] = await Promise.all([run(), run()]);
    const rollout = await rollouts.get('overlap', 'prod');
    const ledger = await registry.listAliasLedger('overlap', 'prod');

    // Assess
    expect(rollout).toMatchObject({ state: 'RUNNING', step: 1 });
    expect(await routes('overlap')).toEqual([{ version: 1, weight: 50 }, { version: 2, weight: 50 }]);
    // The start, then exactly one move to step 2 (after alice's first setting).
    expect(ledger.items.map((entry) => entry.reason).filter((reason) => reason.includes('step 2'))).toHaveLength(1);
    expect(ledger.items).toHaveLength(3);
    expect([...first, ...second].filter((changed) => changed.step === 1).length).toBeGreaterThanOrEqual(1);
    expect(failures.every((error) => error instanceof ConflictError)).toBe(true);
  });

  it('checks a step in the same counter bucket it began in without an error', async () => {
    const revision = await modelWithCandidate('sameBucket');
    now = new Date('2026-11-24T02:00:03.000Z');
    await rollouts.start('sameBucket', 'prod', plan(revision));
    now = new Date('2026-11-24T02:00:05.000Z');
    const errors: unknown[] = [];
    await rollouts.advanceAll((_, error) => errors.push(error));
    expect(errors).toEqual([]);
    expect(await rollouts.get('sameBucket', 'prod')).toMatchObject({ state: 'RUNNING', lastCheck: { requests: 0 } });
  });

  it('records an abort whose writer died after moving the alias back as ABORTED', async () => {
    // Prepare: saving ABORTED fails once, after the alias was moved back.
    const revision = await modelWithCandidate('abortcrash');
    const crashing = new RolloutStore(new RegistryTable(env.dynamo, env.resources.tableName));
    const update = crashing.update.bind(crashing);
    let crash = true;
    crashing.update = async (next) => {
      if (crash && next.state === 'ABORTED') {
        crash = false;
        throw new Error('container died');
      }
      return update(next);
    };
    const dying = rolloutsWith({ rollouts: crashing });
    await dying.start('abortcrash', 'prod', plan(revision));
    await dying.abort('abortcrash', 'prod', { by: 'dave', reason: 'wrong build' }).catch(() => undefined);

    // Act
    await rollouts.advanceAll(() => undefined);

    // Assess
    expect(await rollouts.get('abortcrash', 'prod')).toMatchObject({ state: 'ABORTED', outcome: 'aborted by dave: wrong build' });
    expect(await routes('abortcrash')).toEqual([{ version: 1, weight: 100 }]);
  });
});
