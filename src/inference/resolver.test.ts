import { describe, expect, it, vi } from 'vitest';
import { ConflictError, NotFoundError } from '../errors.js';
import type { AliasRecord, ModelRecord, ModelVersion } from '../registry/types.js';
import { ModelResolver, WARM_LIMIT_MS, type RegistryReader } from './resolver.js';

const model: ModelRecord = { name: 'iris', description: '', defaultAlias: 'prod', tags: {}, createdAt: '', updatedAt: '' };
const alias = (version: number): AliasRecord => ({
  model: 'iris',
  alias: 'prod',
  routes: [{ version, weight: 100 }],
  revision: version,
  updatedAt: '',
  updatedBy: '',
  reason: '',
});
const SIGNATURE = { inputs: [{ name: 'x', datatype: 'FP32' as const, shape: [-1, 4] }], outputs: [{ name: 'y', datatype: 'FP32' as const, shape: [-1, 3] }] };
const versionOf = (version: number) => ({ model: 'iris', version, signature: SIGNATURE }) as unknown as ModelVersion;
/** Lets pending refreshes and loads run. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

function fakeRegistry(aliases: Record<string, AliasRecord>) {
  return {
    findModelWithAliases: vi.fn(async (name: string) =>
      name === 'iris' ? { model, aliases: new Map(Object.entries(aliases)) } : undefined,
    ),
    getVersion: vi.fn(async (_: string, version: number) => {
      if (version > 5) throw new NotFoundError(`model 'iris' has no version ${version}`);
      return versionOf(version);
    }),
    servableVersionNumbers: vi.fn(async () => [1, 2, 3, 4, 5]),
  } satisfies RegistryReader;
}

describe('ModelResolver', () => {
  it('resolves no version to the default alias, an alias by name and a number directly', async () => {
    const registry = fakeRegistry({ prod: alias(2), staging: alias(3) });
    const resolver = new ModelResolver(registry, 1000);
    expect((await resolver.resolve('iris', undefined)).version.version).toBe(2);
    expect((await resolver.resolve('iris', { kind: 'alias', alias: 'staging' })).version.version).toBe(3);
    expect((await resolver.resolve('iris', { kind: 'number', version: 4 })).version.version).toBe(4);
  });

  it('describes a split alias by its primary route, the same for every call, and lists the servable versions (cached)', async () => {
    // Prepare
    const canary = { ...alias(1), routes: [{ version: 1, weight: 90 }, { version: 3, weight: 10 }] };
    const registry = fakeRegistry({ prod: canary });
    const resolver = new ModelResolver(registry, 1000);
    // Act
    const described = await Promise.all(Array.from({ length: 50 }, () => resolver.primary('iris', undefined)));
    const servable = [await resolver.servableVersions('iris'), await resolver.servableVersions('iris')];
    // Assess
    expect(new Set(described.map((r) => r.version.version))).toEqual(new Set([1]));
    expect((await resolver.primary('iris', { kind: 'number', version: 3 })).version.version).toBe(3);
    expect(servable).toEqual([[1, 2, 3, 4, 5], [1, 2, 3, 4, 5]]);
    expect(registry.servableVersionNumbers).toHaveBeenCalledTimes(1);
  });

  it('caches a model and its aliases for the TTL and sees a change after it', async () => {
    // Prepare
    let now = 0;
    const aliases = { prod: alias(1), staging: { ...alias(2), alias: 'staging' } };
    const registry = fakeRegistry(aliases);
    const resolver = new ModelResolver(registry, 1000, () => now);
    await resolver.resolve('iris', undefined);
    aliases.prod = alias(2);
    // Act
    now = 999;
    const cached = await resolver.resolve('iris', undefined);
    now = 1001;
    const fresh = await resolver.resolve('iris', undefined);
    // Assess: version 2 was already routed (by staging), so prod moves at once.
    expect(cached.version.version).toBe(1);
    expect(fresh.version.version).toBe(2);
    expect(registry.findModelWithAliases).toHaveBeenCalledTimes(2);
  });

  it('loads a version before it gets traffic: the previous aliases serve until the load is done', async () => {
    // Prepare
    let now = 0;
    const aliases = { prod: alias(1) };
    const registry = fakeRegistry(aliases);
    let finishLoad!: () => void;
    const warm = vi.fn(() => new Promise<void>((resolve) => (finishLoad = resolve)));
    const resolver = new ModelResolver(registry, 1000, () => now, warm);
    await resolver.resolve('iris', undefined);
    aliases.prod = alias(2);
    now = 1001;
    // Act
    await resolver.resolve('iris', undefined);
    await settle();
    const whileLoading = await resolver.resolve('iris', undefined);
    finishLoad();
    await settle();
    const loaded = await resolver.resolve('iris', undefined);
    // Assess
    expect(warm).toHaveBeenCalledTimes(1);
    expect(warm).toHaveBeenCalledWith(expect.objectContaining({ version: 2 }));
    expect(whileLoading.version.version).toBe(1);
    expect(loaded.version.version).toBe(2);
  });

  it('switches after WARM_LIMIT_MS when a load takes longer', async () => {
    // Prepare
    vi.useFakeTimers();
    try {
      let now = 0;
      const aliases = { prod: alias(1) };
      const registry = fakeRegistry(aliases);
      const resolver = new ModelResolver(registry, 1000, () => now, () => new Promise(() => {}));
      await resolver.resolve('iris', undefined);
      aliases.prod = alias(2);
      now = 1001;
      // Act
      const before = await resolver.resolve('iris', undefined);
      await vi.advanceTimersByTimeAsync(WARM_LIMIT_MS);
      const after = await resolver.resolve('iris', undefined);
      // Assess
      expect(before.version.version).toBe(1);
      expect(after.version.version).toBe(2);
    } finally {
      vi.useRealTimers();
    }
  });

  it('switches even when the new version fails to load', async () => {
    // Prepare
    let now = 0;
    const aliases = { prod: alias(1) };
    const registry = fakeRegistry(aliases);
    const resolver = new ModelResolver(registry, 1000, () => now, () => Promise.reject(new Error('artifact gone')));
    await resolver.resolve('iris', undefined);
    aliases.prod = alias(2);
    now = 1001;
    // Act
    await resolver.resolve('iris', undefined);
    await settle();
    const switched = await resolver.resolve('iris', undefined);
    // Assess
    expect(switched.version.version).toBe(2);
  });

  it('answers an alias new to this container by waiting for the version it routes to, rather than with 404', async () => {
    // Prepare
    let now = 0;
    const aliases: Record<string, AliasRecord> = { prod: alias(1) };
    const registry = fakeRegistry(aliases);
    const resolver = new ModelResolver(registry, 1000, () => now);
    await resolver.resolve('iris', undefined);
    aliases['canary'] = { ...alias(3), alias: 'canary' };
    now = 1001;
    // Act
    const canary = await resolver.resolve('iris', { kind: 'alias', alias: 'canary' });
    // Assess
    expect(canary.version.version).toBe(3);
  });

  it('caches versions for the TTL, then sees their status change: an archived version is no longer served', async () => {
    let now = 0;
    const registry = fakeRegistry({});
    const resolver = new ModelResolver(registry, 1000, () => now);
    await resolver.resolve('iris', { kind: 'number', version: 1 });
    await resolver.resolve('iris', { kind: 'number', version: 1 });
    expect(registry.getVersion).toHaveBeenCalledTimes(1);
    registry.getVersion.mockImplementation(async (_: string, version: number) => ({ ...versionOf(version), status: 'ARCHIVED' as const }));
    now = 1001;
    await expect(resolver.resolve('iris', { kind: 'number', version: 1 })).rejects.toThrowError("version 1 of model 'iris' is archived");
  });

  it('answers 404 for an unknown model, alias or version and does not cache failures', async () => {
    const registry = fakeRegistry({});
    const resolver = new ModelResolver(registry, 1000);
    await expect(resolver.resolve('nope', undefined)).rejects.toThrowError("model 'nope' not found");
    await expect(resolver.resolve('iris', { kind: 'alias', alias: 'beta' })).rejects.toThrowError("model 'iris' has no alias 'beta'");
    await expect(resolver.resolve('iris', { kind: 'number', version: 9 })).rejects.toThrowError(NotFoundError);
    await expect(resolver.resolve('iris', { kind: 'number', version: 9 })).rejects.toThrowError(NotFoundError);
    expect(registry.getVersion).toHaveBeenCalledTimes(2);
  });
});

describe('ModelResolver fallbacks', () => {
  it('returns an alias\'s fallback with the version it picked, and resolves it: a version, or what the fallback alias picks for the caller', async () => {
    // Prepare
    const registry = fakeRegistry({
      prod: { ...alias(2), fallback: { version: 1 } },
      gpu: { ...alias(3), alias: 'gpu', fallback: { alias: 'cpu' } },
      cpu: { ...alias(4), alias: 'cpu', routes: [{ version: 4, weight: 50 }, { version: 5, weight: 50 }] },
    });
    const resolver = new ModelResolver(registry, 1000);

    // Act
    const prod = await resolver.resolve('iris', undefined);
    const gpu = await resolver.resolve('iris', { kind: 'alias', alias: 'gpu' });
    const byVersion = await resolver.fallbackVersion(prod.version, prod.fallback!);
    const byAlias = await Promise.all(['a', 'b', 'c', 'd'].map(async (key) => [await resolver.fallbackVersion(gpu.version, gpu.fallback!, key), await resolver.fallbackVersion(gpu.version, gpu.fallback!, key)]));

    // Assess
    expect(prod).toMatchObject({ version: { version: 2 }, alias: 'prod', fallback: { version: 1 } });
    expect(gpu.fallback).toEqual({ alias: 'cpu' });
    expect(byVersion.version).toBe(1);
    // The fallback alias's split is sticky per routing key, like any alias.
    for (const [first, second] of byAlias) expect(second!.version).toBe(first!.version);
    expect(byAlias.every(([first]) => [4, 5].includes(first!.version))).toBe(true);
    expect((await resolver.resolve('iris', { kind: 'number', version: 2 })).fallback).toBeUndefined();
  });

  it('refuses a fallback that can no longer stand in (changed between reads): on SageMaker, or other tensors', async () => {
    // Prepare: prod → 2 falls back to version 4 (now on SageMaker) or alias cpu → 5 (other tensors).
    const registry = fakeRegistry({ prod: { ...alias(2), fallback: { version: 4 } }, gpu: { ...alias(2), alias: 'gpu', fallback: { alias: 'cpu' } }, cpu: { ...alias(5), alias: 'cpu' } });
    registry.getVersion.mockImplementation(async (_: string, version: number) => {
      const base = versionOf(version);
      if (version === 4) return { ...base, backend: { kind: 'sagemaker' as const, instanceType: 'ml.g5.xlarge', minInstances: 1, maxInstances: 1 } };
      if (version === 5) return { ...base, signature: { inputs: [{ name: 'image', datatype: 'UINT8' as const, shape: [1] }], outputs: SIGNATURE.outputs } };
      return base;
    });
    const resolver = new ModelResolver(registry, 1000);
    const prod = await resolver.resolve('iris', undefined);
    const gpu = await resolver.resolve('iris', { kind: 'alias', alias: 'gpu' });

    // Act, Assess
    await expect(resolver.fallbackVersion(prod.version, prod.fallback!)).rejects.toThrowError(
      new ConflictError("version 4 of model 'iris' cannot stand in for version 2: version 4 is served by a SageMaker endpoint"),
    );
    await expect(resolver.fallbackVersion(gpu.version, gpu.fallback!)).rejects.toThrowError("version 5 of model 'iris' cannot stand in for version 2: inputs x FP32 against image UINT8");
  });

  it('loads a new fallback version before the aliases that name it switch', async () => {
    // Prepare
    let now = 0;
    const aliases: Record<string, AliasRecord> = { prod: alias(2) };
    const warm = vi.fn(async () => undefined);
    const resolver = new ModelResolver(fakeRegistry(aliases), 1000, () => now, warm);
    await resolver.resolve('iris', undefined);
    aliases['prod'] = { ...alias(2), revision: 3, fallback: { version: 1 } };
    now = 1001;

    // Act
    await resolver.resolve('iris', undefined);
    await settle();

    // Assess
    expect(warm).toHaveBeenCalledWith(expect.objectContaining({ version: 1 }));
    expect((await resolver.resolve('iris', undefined)).fallback).toEqual({ version: 1 });
  });
});
