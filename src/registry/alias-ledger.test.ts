import { PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestEmulators, type TestEmulators } from '../../test/support/emulators.js';
import { ConflictError, NotFoundError, RevisionMismatchError } from '../errors.js';
import { versionSk } from '../storage/version-numbers.js';
import { modelPk } from './keys.js';
import { draftVersion } from '../../test/support/model-versions.js';
import { ModelRegistry } from './registry.js';
import { RegistryTable } from '../storage/table.js';

let env: TestEmulators;
let registry: ModelRegistry;

const one = (version: number) => [{ version, weight: 100 }];

/** A model with `versions` registered versions. */
async function modelWith(name: string, versions: number): Promise<void> {
  await registry.createModel({ name });
  for (let i = 0; i < versions; i++) await registry.registerVersion(draftVersion(name));
}

beforeAll(async () => {
  env = await startTestEmulators();
  registry = new ModelRegistry(new RegistryTable(env.dynamo, env.resources.tableName));
});
afterAll(async () => env.stop());

describe('alias changes and their ledger on dynalite', () => {
  it('records every change (who, when, from, to, why) and splits traffic by weight', async () => {
    // Prepare
    await modelWith('ledgered', 3);

    // Act
    const created = await registry.setAlias('ledgered', 'prod', { routes: one(1), updatedBy: 'alice', reason: 'launch', expectedRevision: 0 });
    const split = await registry.setAlias('ledgered', 'prod', {
      routes: [
        { version: 1, weight: 90 },
        { version: 2, weight: 10 },
      ],
      updatedBy: 'bob',
      reason: 'canary',
      expectedRevision: 1,
    });
    const ledger = await registry.listAliasLedger('ledgered', 'prod');

    // Assess
    expect(created).toMatchObject({ revision: 1, routes: one(1), updatedBy: 'alice', reason: 'launch' });
    expect(split.revision).toBe(2);
    expect((await registry.findModelWithAliases('ledgered'))?.aliases.get('prod')?.routes).toEqual(split.routes);
    expect(ledger.items.map((e) => [e.revision, e.kind, e.from, e.to, e.by, e.reason])).toEqual([
      [2, 'set', one(1), split.routes, 'bob', 'canary'],
      [1, 'set', [], one(1), 'alice', 'launch'],
    ]);
    expect(ledger.items[0]!.at).toMatch(/^\d{4}-\d\d-\d\dT/);
  });

  it('lets exactly one of 50 writers that saw the same revision win, and loses or duplicates no entry', async () => {
    // Prepare
    await modelWith('contended', 2);
    await registry.setAlias('contended', 'prod', { routes: one(1), updatedBy: 'seed', reason: '', expectedRevision: 0 });

    // Act: 50 writers, all at revision 1.
    const outcomes = await Promise.allSettled(
      Array.from({ length: 50 }, (_, i) => registry.setAlias('contended', 'prod', { routes: one(1 + (i % 2)), updatedBy: `writer-${i}`, reason: '', expectedRevision: 1 })),
    );

    // Assess
    const won = outcomes.filter((o) => o.status === 'fulfilled');
    expect(won).toHaveLength(1);
    expect(outcomes.filter((o) => o.status === 'rejected').every((o) => o.reason instanceof RevisionMismatchError)).toBe(true);
    const ledger = await registry.listAliasLedger('contended', 'prod');
    expect(ledger.items.map((e) => e.revision)).toEqual([2, 1]);
    expect((await registry.getAlias('contended', 'prod')).revision).toBe(2);
  });

  it('keeps a gap-free ledger when 50 writers each retry until their change lands', async () => {
    // Prepare
    await modelWith('retried', 1);

    // Act: every writer reads, writes with If-Match, and reads again on 412.
    await Promise.all(
      Array.from({ length: 50 }, async (_, i) => {
        for (;;) {
          const seen = (await registry.findAlias('retried', 'prod'))?.revision ?? 0;
          try {
            await registry.setAlias('retried', 'prod', { routes: one(1), updatedBy: `writer-${i}`, reason: `change ${i}`, expectedRevision: seen });
            return;
          } catch (error) {
            if (!(error instanceof RevisionMismatchError)) throw error;
          }
        }
      }),
    );

    // Assess
    const entries = [];
    let cursor: string | undefined;
    do {
      const page = await registry.listAliasLedger('retried', 'prod', { limit: 100, ...(cursor === undefined ? {} : { cursor }) });
      entries.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor !== undefined);
    expect(entries.map((e) => e.revision)).toEqual(Array.from({ length: 50 }, (_, i) => 50 - i));
    expect(new Set(entries.map((e) => e.by)).size).toBe(50);
    expect((await registry.getAlias('retried', 'prod')).revision).toBe(50);
  });

  it('rolls back to the previous entry or a named one, recording the rollback as a change', async () => {
    // Prepare
    await modelWith('rolled', 3);
    for (const [i, version] of [1, 2, 3].entries()) {
      await registry.setAlias('rolled', 'prod', { routes: one(version), updatedBy: 'ci', reason: `v${version}`, expectedRevision: i });
    }

    // Act
    const previous = await registry.rollbackAlias('rolled', 'prod', { by: 'oncall', reason: 'v3 errors', expectedRevision: 3 });
    const named = await registry.rollbackAlias('rolled', 'prod', { by: 'oncall', reason: '', toRevision: 1, expectedRevision: 4 });

    // Assess
    expect(previous).toMatchObject({ revision: 4, routes: one(2), updatedBy: 'oncall', reason: 'v3 errors' });
    expect(named).toMatchObject({ revision: 5, routes: one(1), reason: 'rollback to revision 1' });
    const [latest] = (await registry.listAliasLedger('rolled', 'prod')).items;
    expect(latest).toMatchObject({ kind: 'rollback', restoredRevision: 1, from: one(2), to: one(1) });
    await expect(registry.rollbackAlias('rolled', 'prod', { by: 'x', reason: '', toRevision: 9, expectedRevision: 5 })).rejects.toThrowError(NotFoundError);
    await expect(registry.rollbackAlias('rolled', 'prod', { by: 'x', reason: '', expectedRevision: 3 })).rejects.toThrowError(RevisionMismatchError);
  });

  it('deletes an alias as a recorded change, and continues its revisions when it is created again', async () => {
    // Prepare
    await modelWith('deleted', 1);
    await registry.setAlias('deleted', 'staging', { routes: one(1), updatedBy: 'a', reason: '', expectedRevision: 0 });

    // Act
    await registry.deleteAlias('deleted', 'staging', { by: 'b', reason: 'retired', expectedRevision: 1 });
    const gone = await registry.getAlias('deleted', 'staging').catch((error: unknown) => error);
    const listed = await registry.listAliases('deleted');
    const again = await registry.setAlias('deleted', 'staging', { routes: one(1), updatedBy: 'c', reason: 'back', expectedRevision: 0 });

    // Assess
    expect(gone).toBeInstanceOf(NotFoundError);
    expect(listed.items).toEqual([]);
    expect(again.revision).toBe(3);
    expect((await registry.listAliasLedger('deleted', 'staging')).items.map((e) => e.kind)).toEqual(['set', 'delete', 'set']);
    await expect(registry.rollbackAlias('deleted', 'staging', { by: 'x', reason: '', toRevision: 2, expectedRevision: 3 })).rejects.toThrowError(ConflictError);
  });

  it('refuses to route traffic to an archived version', async () => {
    // Prepare
    await modelWith('archived', 2);
    await env.dynamo.send(
      new UpdateCommand({
        TableName: env.resources.tableName,
        Key: { pk: modelPk('archived'), sk: versionSk(2) },
        UpdateExpression: 'SET #s = :archived',
        ExpressionAttributeNames: { '#s': 'status' },
        ExpressionAttributeValues: { ':archived': 'ARCHIVED' },
      }),
    );

    // Act
    const setting = registry.setAlias('archived', 'prod', { routes: one(2), updatedBy: 'a', reason: '', expectedRevision: 0 });

    // Assess
    await expect(setting).rejects.toThrowError(ConflictError);
    await expect(setting).rejects.toThrowError('version 2 of model \'archived\' is archived');
  });

  it('brings the alias forward to a ledger entry whose writer died before updating it', async () => {
    // Prepare: revision 2 is in the ledger, the alias item still says revision 1.
    await modelWith('crashed', 2);
    await registry.setAlias('crashed', 'prod', { routes: one(1), updatedBy: 'a', reason: '', expectedRevision: 0 });
    await env.dynamo.send(
      new PutCommand({
        TableName: env.resources.tableName,
        Item: {
          pk: modelPk('crashed'),
          sk: 'LEDGER#prod#0000000002',
          type: 'LEDGER',
          model: 'crashed',
          alias: 'prod',
          revision: 2,
          kind: 'set',
          from: one(1),
          to: one(2),
          by: 'dead-writer',
          reason: 'promote',
          at: new Date().toISOString(),
        },
      }),
    );

    // Act
    const read = await registry.getAlias('crashed', 'prod');
    const next = await registry.setAlias('crashed', 'prod', { routes: one(1), updatedBy: 'b', reason: '', expectedRevision: 2 });

    // Assess
    expect(read).toMatchObject({ revision: 2, routes: one(2), updatedBy: 'dead-writer' });
    expect((await registry.findModelWithAliases('crashed'))?.aliases.get('prod')?.revision).toBe(3);
    expect(next.revision).toBe(3);
  });
});
