import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestEmulators, type TestEmulators } from '../../test/support/emulators.js';
import { NotFoundError, RevisionMismatchError } from '../errors.js';
import { DatasetStore, DEFAULT_REJECT_THRESHOLD } from './dataset-store.js';
import { versionSk } from '../storage/version-numbers.js';
import { datasetPk } from './keys.js';
import type { SourceObject } from './types.js';
import { RegistryTable } from '../storage/table.js';

let env: TestEmulators;
let store: DatasetStore;

const source = (key: string, eTag = `etag of ${key}`): SourceObject => ({ bucket: 'lake', key, eTag, sizeBytes: 10 });
const HOUR = 3_600_000;
const outcome = { status: 'READY' as const, rowsRead: 2, rowsAccepted: 2, rowsRejected: 0, statistics: [], notes: [], curatedKeys: ['curated/x'] };

beforeAll(async () => {
  env = await startTestEmulators();
  store = new DatasetStore(new RegistryTable(env.dynamo, env.resources.tableName));
});
afterAll(async () => env.stop());

describe('DatasetStore definitions on dynalite', () => {
  it('creates a definition at revision 1, updates it with If-Match and refuses a stale revision with 412', async () => {
    // Act
    const created = await store.putDataset('defs', { description: 'first', rejectThreshold: 0.2 });
    const updated = await store.putDataset('defs', { description: 'second', rejectThreshold: 0.3 }, 1);
    const stale = store.putDataset('defs', { description: 'third', rejectThreshold: 0.3 }, 1);
    const mustNotExist = store.putDataset('defs', { description: 'again', rejectThreshold: 0.3 }, 0);
    // Both handled before any assertion awaits one, so the other's rejection is never unhandled.
    await Promise.allSettled([stale, mustNotExist]);

    // Assess
    expect(created).toMatchObject({ name: 'defs', revision: 1, description: 'first' });
    expect(updated).toMatchObject({ revision: 2, description: 'second', createdAt: created.createdAt });
    await expect(stale).rejects.toThrowError(RevisionMismatchError);
    await expect(stale).rejects.toThrowError("dataset 'defs' is at revision 2, not 1");
    await expect(mustNotExist).rejects.toThrowError(RevisionMismatchError);
    await expect(mustNotExist).rejects.toThrowError(`dataset 'defs' already exists, at revision 2 (If-Match "0" means it must not exist)`);
    await expect(store.putDataset('defs-missing', { description: '', rejectThreshold: 0.1 }, 3)).rejects.toThrowError("dataset 'defs-missing' does not exist");
    expect(await store.getDataset('defs')).toEqual(updated);
  });

  it('creates a dataset on its first file with the default threshold, once even when drops race', async () => {
    // Act
    const ensured = await Promise.all(Array.from({ length: 5 }, () => store.ensureDataset('fresh')));

    // Assess
    expect(new Set(ensured.map((d) => d.revision))).toEqual(new Set([1]));
    expect(ensured[0]).toMatchObject({ name: 'fresh', rejectThreshold: DEFAULT_REJECT_THRESHOLD, description: '' });
  });

  it('lists definitions by name and answers 404 for an unknown dataset', async () => {
    // Prepare
    await store.ensureDataset('list-a');
    await store.ensureDataset('list-b');

    // Act
    const names = (await store.listDatasets({ limit: 100 })).items.map((d) => d.name);

    // Assess
    expect(names).toEqual([...names].sort());
    expect(names).toEqual(expect.arrayContaining(['list-a', 'list-b']));
    await expect(store.getDataset('nope')).rejects.toThrowError(NotFoundError);
    await expect(store.listVersions('nope')).rejects.toThrowError(NotFoundError);
  });
});

describe('DatasetStore claims on dynalite', () => {
  it('claims a new object as the next version, and a duplicate delivery finds it busy, then done', async () => {
    // Prepare
    await store.ensureDataset('dup');
    const object = source('raw/dup/a.csv');

    // Act
    const first = await store.claimSource('dup', object, HOUR, 1);
    const whileRunning = await store.claimSource('dup', object, HOUR, 1);
    await store.completeVersion('dup', object, 1, outcome);
    const afterwards = await store.claimSource('dup', object, HOUR, 1);

    // Assess
    expect(first).toEqual({ kind: 'claimed', version: 1, attempt: 1 });
    expect(whileRunning).toEqual({ kind: 'busy', version: 1 });
    expect(afterwards).toEqual({ kind: 'done', version: 1 });
    expect((await store.listVersions('dup')).items).toHaveLength(1);
    expect(await store.getVersion('dup', 1)).toMatchObject({ status: 'READY', rowsAccepted: 2, source: object, attempts: 1 });
  });

  it('gives the same key with another ETag (an overwrite) its own version', async () => {
    // Prepare
    await store.ensureDataset('overwrite');

    // Act
    const a = await store.claimSource('overwrite', source('raw/overwrite/f.csv', 'etag-a'), HOUR, 1);
    const b = await store.claimSource('overwrite', source('raw/overwrite/f.csv', 'etag-b'), HOUR, 1);

    // Assess
    expect([a, b]).toEqual([
      { kind: 'claimed', version: 1, attempt: 1 },
      { kind: 'claimed', version: 2, attempt: 1 },
    ]);
  });

  it('records a drop of the latest version\'s bytes on that version instead of making a new one, as its redeliveries', async () => {
    // Prepare: version 1 from a.csv
    await store.ensureDataset('same');
    const a = source('raw/same/a.csv', 'etag-x');
    await store.claimSource('same', a, HOUR, 1);
    await store.completeVersion('same', a, 1, outcome);
    const again = { ...a, versionId: 'second-upload' };
    const copy = source('raw/same/copy.csv', 'etag-x');

    // Act: the same bytes uploaded again to the same key, and under another name; then redelivered
    const first = await store.claimSource('same', again, HOUR, 1);
    const second = await store.claimSource('same', copy, HOUR, 1);
    const redelivered = await store.claimSource('same', copy, HOUR, 1);

    // Assess
    expect([first, second, redelivered]).toEqual([
      { kind: 'unchanged', version: 1 },
      { kind: 'unchanged', version: 1 },
      { kind: 'done', version: 1 },
    ]);
    const version = await store.getVersion('same', 1);
    expect(version).toMatchObject({ duplicateDrops: 2, lastDuplicateDrop: { source: copy } });
    expect((await store.listVersions('same')).items).toHaveLength(1);
  });

  it('makes a new version of bytes that were an earlier version but not the latest, or under a changed definition', async () => {
    // Prepare
    await store.ensureDataset('back');
    const [x, y, xAgain, xRules] = [source('raw/back/x.csv', 'etag-x'), source('raw/back/y.csv', 'etag-y'), source('raw/back/x2.csv', 'etag-x'), source('raw/back/x3.csv', 'etag-x')];

    // Act
    const claims = [];
    for (const [object, revision] of [[x, 1], [y, 1], [xAgain, 1], [xRules, 2]] as const) claims.push(await store.claimSource('back', object, HOUR, revision));

    // Assess
    expect(claims.map((c) => [c.kind, c.version])).toEqual([
      ['claimed', 1],
      ['claimed', 2],
      ['claimed', 3],
      ['claimed', 4],
    ]);
  });

  it('gives concurrent drops of the same bytes one version; the others wait for it (busy), then are duplicates', async () => {
    // Prepare
    await store.ensureDataset('same-race');
    const objects = Array.from({ length: 10 }, (_, i) => source(`raw/same-race/${i}.csv`, 'etag-same'));

    // Act
    const claims = await Promise.all(objects.map((o) => store.claimSource('same-race', o, HOUR, 1)));
    const winner = claims.findIndex((c) => c.kind === 'claimed');
    await store.completeVersion('same-race', objects[winner] as SourceObject, 1, outcome);
    const retried = await Promise.all(objects.filter((_, i) => i !== winner).map((o) => store.claimSource('same-race', o, HOUR, 1)));

    // Assess
    expect(claims.filter((c) => c.kind === 'claimed')).toEqual([{ kind: 'claimed', version: 1, attempt: 1 }]);
    expect(claims.filter((c) => c.kind === 'busy')).toEqual(Array.from({ length: 9 }, () => ({ kind: 'busy', version: 1 })));
    expect(retried).toEqual(Array.from({ length: 9 }, () => ({ kind: 'unchanged', version: 1 })));
    expect((await store.getVersion('same-race', 1)).duplicateDrops).toBe(9);
  });

  it('lets a drop of the bytes of a RETRYING version ingest that version, and records it as a duplicate drop once done', async () => {
    // Prepare: version 1's attempt failed; its redelivery is lost
    await store.ensureDataset('resume');
    const first = source('raw/resume/a.csv', 'etag-resume');
    await store.claimSource('resume', first, HOUR, 1);
    await store.recordAttemptFailure('resume', first, 1, 'attempt 1 failed: lost');
    const again = source('raw/resume/b.csv', 'etag-resume');

    // Act
    const claim = await store.claimSource('resume', again, HOUR, 1);

    // Assess
    expect(claim).toEqual({ kind: 'claimed', version: 1, attempt: 2, resumes: first });
  });

  it('numbers concurrent drops 1..n with no gap and no repeat', async () => {
    // Prepare
    await store.ensureDataset('race');
    const objects = Array.from({ length: 30 }, (_, i) => source(`raw/race/${i}.csv`));

    // Act
    const claims = await Promise.all(objects.map((o) => store.claimSource('race', o, HOUR, 1)));

    // Assess
    const versions = claims.map((c) => (c.kind === 'claimed' ? c.version : -1)).sort((x, y) => x - y);
    expect(versions).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
  });

  it('lets a redelivery take over an expired claim (a crashed attempt) and ingest the same version again', async () => {
    // Prepare
    await store.ensureDataset('crash');
    const object = source('raw/crash/a.csv');
    await store.claimSource('crash', object, 0, 1); // the lease expires at once: the attempt "crashed"

    // Act
    const retry = await store.claimSource('crash', object, HOUR, 1);
    await store.completeVersion('crash', object, 1, outcome);

    // Assess
    expect(retry).toEqual({ kind: 'claimed', version: 1, attempt: 2 });
    expect(await store.getVersion('crash', 1)).toMatchObject({ status: 'READY', attempts: 2 });
    expect((await store.listVersions('crash')).items).toHaveLength(1);
  });

  it('records a failed attempt as RETRYING with its reason, releases the claim, and clears the reason on success', async () => {
    // Prepare
    await store.ensureDataset('retry');
    const object = source('raw/retry/a.csv');
    await store.claimSource('retry', object, HOUR, 1);

    // Act
    await store.recordAttemptFailure('retry', object, 1, 'attempt 1 failed: S3 is down');
    const failed = await store.getVersion('retry', 1);
    const retry = await store.claimSource('retry', object, HOUR, 1);
    await store.completeVersion('retry', object, 1, outcome);

    // Assess
    expect(failed).toMatchObject({ status: 'RETRYING', lastError: 'attempt 1 failed: S3 is down' });
    expect(retry).toEqual({ kind: 'claimed', version: 1, attempt: 2 });
    const done = await store.getVersion('retry', 1);
    expect(done.status).toBe('READY');
    expect(done.lastError).toBeUndefined();
  });

  it('closes a claim whose version was recorded just before a crash, without ingesting again', async () => {
    // Prepare: the version is READY but the claim was never closed, and its lease has expired.
    await store.ensureDataset('half');
    const object = source('raw/half/a.csv');
    await store.claimSource('half', object, 0, 1);
    await env.dynamo.send(
      new UpdateCommand({
        TableName: env.resources.tableName,
        Key: { pk: datasetPk('half'), sk: versionSk(1) },
        UpdateExpression: 'SET #s = :ready',
        ExpressionAttributeNames: { '#s': 'status' },
        ExpressionAttributeValues: { ':ready': 'READY' },
      }),
    );

    // Act
    const redelivery = await store.claimSource('half', object, HOUR, 1);
    const again = await store.claimSource('half', object, HOUR, 1);

    // Assess
    expect(redelivery).toEqual({ kind: 'done', version: 1 });
    expect(again).toEqual({ kind: 'done', version: 1 });
  });

  it('records a version only once: a second completion leaves the first outcome', async () => {
    // Prepare
    await store.ensureDataset('once');
    const object = source('raw/once/a.csv');
    await store.claimSource('once', object, HOUR, 1);
    await store.completeVersion('once', object, 1, outcome);

    // Act
    await store.completeVersion('once', object, 1, { ...outcome, status: 'FAILED', reason: 'late duplicate' });

    // Assess
    expect(await store.getVersion('once', 1)).toMatchObject({ status: 'READY' });
  });

  it('lists versions newest first without internal claim attributes', async () => {
    // Act
    const listed = (await store.listVersions('race', { limit: 100 })).items;

    // Assess
    expect(listed.map((v) => v.version)).toEqual(Array.from({ length: 30 }, (_, i) => 30 - i));
    expect(listed.every((v) => !('sourceSk' in v))).toBe(true);
    await expect(store.getVersion('race', 99)).rejects.toThrowError(NotFoundError);
  });
});

describe('DatasetStore statistics beyond the numbers DynamoDB holds', () => {
  it('completes a version whose statistics hold 1e200, 1e-320 and NaN: READY, those numbers kept as text', async () => {
    // Prepare
    await store.ensureDataset('extreme');
    const object = source('raw/extreme/a.csv');
    await store.claimSource('extreme', object, HOUR, 1);
    const statistics = [
      { name: 'v', type: 'float' as const, nullable: false, nulls: 0, min: -1e200, max: 1e200, mean: 5 / 3, std: 1.1547005383792516e200 },
      { name: 'w', type: 'float' as const, nullable: false, nulls: 0, min: 1e-320, max: 5, mean: 3.3333333333333335, std: Number.NaN },
    ];

    // Act
    await store.completeVersion('extreme', object, 1, { ...outcome, statistics });

    // Assess
    expect(await store.getVersion('extreme', 1)).toMatchObject({
      status: 'READY',
      statistics: [
        { name: 'v', min: '-1e+200', max: '1e+200', mean: 5 / 3, std: '1.1547005383792516e+200' },
        { name: 'w', min: '1e-320', max: 5, std: 'NaN' },
      ],
    });
  });
});
