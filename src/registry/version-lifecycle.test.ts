import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestEmulators, type TestEmulators } from '../../test/support/emulators.js';
import { ConflictError } from '../errors.js';
import { versionSk } from '../storage/version-numbers.js';
import { modelPk } from './keys.js';
import { draftVersion } from '../../test/support/model-versions.js';
import { ModelRegistry } from './registry.js';
import { RegistryTable } from '../storage/table.js';

let env: TestEmulators;
let registry: ModelRegistry;

const one = (version: number) => [{ version, weight: 100 }];

beforeAll(async () => {
  env = await startTestEmulators();
  registry = new ModelRegistry(new RegistryTable(env.dynamo, env.resources.tableName));
});
afterAll(async () => env.stop());

describe('version lifecycle on dynalite', () => {
  it('registers versions PENDING, approves or rejects them, and refuses moves the lifecycle does not allow', async () => {
    // Prepare
    await registry.createModel({ name: 'life' });
    const v1 = await registry.registerVersion(draftVersion('life'));
    const v2 = await registry.registerVersion(draftVersion('life'));

    // Act
    const approved = await registry.setVersionStatus('life', 1, { status: 'APPROVED', by: 'reviewer', reason: 'offline eval ok' });
    const rejected = await registry.setVersionStatus('life', 2, { status: 'REJECTED', by: 'reviewer', reason: 'bias' });

    // Assess
    expect([v1.status, v2.status]).toEqual(['PENDING', 'PENDING']);
    expect(approved).toMatchObject({ status: 'APPROVED', statusChange: { by: 'reviewer', reason: 'offline eval ok' } });
    expect((await registry.getVersion('life', 1)).status).toBe('APPROVED');
    expect(rejected.status).toBe('REJECTED');
    await expect(registry.setVersionStatus('life', 1, { status: 'REJECTED', by: 'r', reason: '' })).rejects.toThrowError(
      "version 1 of model 'life' is APPROVED; it cannot become REJECTED",
    );
  });

  it('archives a version only once no alias routes to it', async () => {
    // Prepare
    await registry.createModel({ name: 'archive' });
    await registry.registerVersion(draftVersion('archive'));
    await registry.registerVersion(draftVersion('archive'));
    await registry.setAlias('archive', 'prod', { routes: one(1), updatedBy: 'a', reason: '', expectedRevision: 0 });

    // Act
    const refused = registry.setVersionStatus('archive', 1, { status: 'ARCHIVED', by: 'a', reason: '' });
    await expect(refused).rejects.toThrowError(ConflictError);
    await expect(refused).rejects.toThrowError("serves (or shadows) alias(es) 'prod'");
    await registry.setAlias('archive', 'prod', { routes: one(2), updatedBy: 'a', reason: '', expectedRevision: 1 });
    const archived = await registry.setVersionStatus('archive', 1, { status: 'ARCHIVED', by: 'a', reason: 'superseded' });

    // Assess
    expect(archived.status).toBe('ARCHIVED');
    await expect(registry.setAlias('archive', 'prod', { routes: one(1), updatedBy: 'a', reason: '' })).rejects.toThrowError('is archived');
  });

  it('keeps an alias that requires approval on APPROVED versions, and remembers the setting', async () => {
    // Prepare
    await registry.createModel({ name: 'gated' });
    await registry.registerVersion(draftVersion('gated'));
    await registry.registerVersion(draftVersion('gated'));
    await registry.setVersionStatus('gated', 1, { status: 'APPROVED', by: 'r', reason: '' });

    // Act
    const gated = await registry.setAlias('gated', 'prod', { routes: one(1), requireApproved: true, updatedBy: 'a', reason: '', expectedRevision: 0 });
    const pending = registry.setAlias('gated', 'prod', { routes: one(2), updatedBy: 'a', reason: '', expectedRevision: 1 });

    // Assess
    expect(gated.requireApproved).toBe(true);
    await expect(pending).rejects.toThrowError("alias 'prod' only routes to APPROVED versions; version 2 of model 'gated' is PENDING");
    await registry.setVersionStatus('gated', 2, { status: 'APPROVED', by: 'r', reason: '' });
    expect((await registry.setAlias('gated', 'prod', { routes: one(2), updatedBy: 'a', reason: '', expectedRevision: 1 })).requireApproved).toBe(true);
  });

  it('reads versions registered before the lifecycle (stored READY) as PENDING, and moves them on', async () => {
    // Prepare
    await registry.createModel({ name: 'legacy' });
    await registry.registerVersion(draftVersion('legacy'));
    await env.dynamo.send(
      new UpdateCommand({
        TableName: env.resources.tableName,
        Key: { pk: modelPk('legacy'), sk: versionSk(1) },
        UpdateExpression: 'SET #s = :ready',
        ExpressionAttributeNames: { '#s': 'status' },
        ExpressionAttributeValues: { ':ready': 'READY' },
      }),
    );

    // Act
    const read = await registry.getVersion('legacy', 1);
    const pendingList = await registry.listVersions('legacy', {}, { status: 'PENDING' });
    const approved = await registry.setVersionStatus('legacy', 1, { status: 'APPROVED', by: 'r', reason: '' });

    // Assess
    expect(read.status).toBe('PENDING');
    expect(pendingList.items.map((v) => v.version)).toEqual([1]);
    expect(approved.status).toBe('APPROVED');
  });

  it('tags versions and finds them by status, tag and metric', async () => {
    // Prepare
    await registry.createModel({ name: 'search' });
    await registry.registerVersion(draftVersion('search', { metrics: { accuracy: 0.81 }, tags: { team: 'risk' } }));
    await registry.registerVersion(draftVersion('search', { metrics: { accuracy: 0.93 } }));
    await registry.registerVersion(draftVersion('search', { metrics: { accuracy: 0.95 }, tags: { team: 'growth' } }));
    await registry.setVersionStatus('search', 3, { status: 'APPROVED', by: 'r', reason: '' });

    // Act
    const tagged = await registry.setVersionTags('search', 2, { team: 'risk', dataset: 'v7' });
    const find = async (filter: Parameters<ModelRegistry['listVersions']>[2]) => (await registry.listVersions('search', {}, filter)).items.map((v) => v.version);

    // Assess
    expect(tagged.tags).toEqual({ team: 'risk', dataset: 'v7' });
    expect(await find({ tag: { key: 'team', value: 'risk' } })).toEqual([1, 2]);
    expect(await find({ tag: { key: 'dataset' } })).toEqual([2]);
    expect(await find({ metric: { name: 'accuracy', min: 0.9 } })).toEqual([2, 3]);
    expect(await find({ status: 'APPROVED', metric: { name: 'accuracy', min: 0.9 } })).toEqual([3]);
    expect(await find({ status: 'PENDING' })).toEqual([1, 2]);
  });

  it('replaces a model\'s tags, and answers 404 for an unknown model', async () => {
    await registry.createModel({ name: 'tagged', tags: { team: 'risk' } });
    const updated = await registry.setModelTags('tagged', { team: 'growth', tier: 'gold' });
    expect(updated.tags).toEqual({ team: 'growth', tier: 'gold' });
    expect((await registry.getModel('tagged')).tags).toEqual({ team: 'growth', tier: 'gold' });
    await expect(registry.setModelTags('nope', {})).rejects.toThrowError("model 'nope' not found");
  });
});
