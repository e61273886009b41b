import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestEmulators, type TestEmulators } from '../../test/support/emulators.js';
import { ConflictError, NotFoundError, RevisionMismatchError } from '../errors.js';
import { draftVersion } from '../../test/support/model-versions.js';
import { ModelRegistry } from './registry.js';
import { RegistryTable } from '../storage/table.js';

let env: TestEmulators;
let registry: ModelRegistry;


beforeAll(async () => {
  env = await startTestEmulators();
  registry = new ModelRegistry(new RegistryTable(env.dynamo, env.resources.tableName));
});
afterAll(async () => env.stop());

describe('ModelRegistry on dynalite', () => {
  it('creates a model once and refuses a duplicate with 409', async () => {
    // Act
    const created = await registry.createModel({ name: 'dup', description: 'd' });
    // Assess
    expect(created).toMatchObject({ name: 'dup', description: 'd', defaultAlias: 'prod' });
    expect(await registry.getModel('dup')).toEqual(created);
    await expect(registry.createModel({ name: 'dup' })).rejects.toThrowError(ConflictError);
  });

  it('numbers versions 1, 2, 3… without gaps, even when registrations race', async () => {
    // Prepare
    await registry.createModel({ name: 'race' });
    // Act
    const versions = await Promise.all(Array.from({ length: 6 }, () => registry.registerVersion(draftVersion('race'))));
    // Assess
    expect(versions.map((v) => v.version).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6]);
    const stored = await registry.getVersion('race', 4);
    expect(stored).toMatchObject({ model: 'race', version: 4, status: 'PENDING', framework: 'onnx' });
    expect(stored.signature.inputs[0]).toEqual({ name: 'x', datatype: 'FP32', shape: [-1, 2] });
  });

  it('paginates versions and models with opaque cursors', async () => {
    const first = await registry.listVersions('race', { limit: 4 });
    expect(first.items.map((v) => v.version)).toEqual([1, 2, 3, 4]);
    expect(first.nextCursor).toBeDefined();
    const second = await registry.listVersions('race', { limit: 4, cursor: first.nextCursor! });
    expect(second.items.map((v) => v.version)).toEqual([5, 6]);
    const models = await registry.listModels({ limit: 1 });
    expect(models.items).toHaveLength(1);
    expect(models.nextCursor).toBeDefined();
  });

  it('lists the numbers of the versions a request may name: every version but the archived ones', async () => {
    // Prepare
    await registry.createModel({ name: 'servable' });
    for (let i = 0; i < 4; i++) await registry.registerVersion(draftVersion('servable'));
    await registry.setVersionStatus('servable', 2, { status: 'ARCHIVED', by: 'test', reason: 'old' });
    await registry.setVersionStatus('servable', 3, { status: 'REJECTED', by: 'test', reason: 'worse' });
    // Act, Assess
    expect(await registry.servableVersionNumbers('servable')).toEqual([1, 3, 4]);
    expect(await registry.servableVersionNumbers('ghost')).toEqual([]);
  });

  it('answers 404 for unknown models and versions, and refuses versions of unknown models', async () => {
    await expect(registry.getModel('ghost')).rejects.toThrowError("model 'ghost' not found");
    await expect(registry.getVersion('race', 99)).rejects.toThrowError("model 'race' has no version 99");
    await expect(registry.registerVersion(draftVersion('ghost'))).rejects.toThrowError(NotFoundError);
  });

  it('sets aliases with a revision, enforces If-Match and deletes them', async () => {
    // Prepare
    await registry.createModel({ name: 'aliased' });
    await registry.registerVersion(draftVersion('aliased'));
    await registry.registerVersion(draftVersion('aliased'));
    // Act
    const first = await registry.setAlias('aliased', 'prod', { routes: [{ version: 1, weight: 100 }], updatedBy: 'me', reason: 'launch' });
    const second = await registry.setAlias('aliased', 'prod', {
      routes: [{ version: 2, weight: 100 }],
      updatedBy: 'me',
      reason: 'upgrade',
      expectedRevision: 1,
    });
    // Assess
    expect(first).toMatchObject({ alias: 'prod', revision: 1, routes: [{ version: 1, weight: 100 }], reason: 'launch', updatedBy: 'me' });
    expect(second.revision).toBe(2);
    await expect(
      registry.setAlias('aliased', 'prod', { routes: [{ version: 1, weight: 100 }], updatedBy: 'me', reason: '', expectedRevision: 1 }),
    ).rejects.toThrowError(RevisionMismatchError);
    await expect(
      registry.setAlias('aliased', 'prod', { routes: [{ version: 7, weight: 100 }], updatedBy: 'me', reason: '' }),
    ).rejects.toThrowError("model 'aliased' has no version 7");
    expect((await registry.listAliases('aliased')).items.map((a) => a.alias)).toEqual(['prod']);
    const snapshot = await registry.findModelWithAliases('aliased');
    expect(snapshot?.model.name).toBe('aliased');
    expect([...(snapshot?.aliases.keys() ?? [])]).toEqual(['prod']);
    expect(snapshot?.aliases.get('prod')?.routes).toEqual([{ version: 2, weight: 100 }]);
    expect(await registry.findModelWithAliases('ghost')).toBeUndefined();
    await expect(registry.deleteAlias('aliased', 'prod', { by: 'me', reason: '', expectedRevision: 1 })).rejects.toThrowError(RevisionMismatchError);
    await registry.deleteAlias('aliased', 'prod', { by: 'me', reason: '', expectedRevision: 2 });
    await expect(registry.getAlias('aliased', 'prod')).rejects.toThrowError("model 'aliased' has no alias 'prod'");
    await expect(registry.deleteAlias('aliased', 'prod', { by: 'me', reason: '' })).rejects.toThrowError(NotFoundError);
  });
});
