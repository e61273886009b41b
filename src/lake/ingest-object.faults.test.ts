import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { mkdir, mkdtemp, readdir, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startTestEmulators, type TestEmulators } from '../../test/support/emulators.js';
import { DatasetStore } from './dataset-store.js';
import { IngestAttemptError, ingestObject, removeAbandonedWorkDirs, type IngestDeps } from './ingest-object.js';
import type { SourceObject } from './types.js';
import { RegistryTable } from '../storage/table.js';

// Faults the S3 emulator cannot produce (5xx, throttling, timeouts), on a real registry table.
const s3 = new S3Client({ region: 'us-east-1' });
const s3Mock = mockClient(s3);
let env: TestEmulators;
let deps: IngestDeps;

const object = (key: string): SourceObject => ({ bucket: 'lake', key, eTag: 'abc', sizeBytes: 100 });

beforeAll(async () => {
  env = await startTestEmulators();
  deps = {
    store: new DatasetStore(new RegistryTable(env.dynamo, env.resources.tableName)),
    s3,
    lakeBucket: 'lake',
    scratchDir: await mkdtemp(join(tmpdir(), 'ingest-faults-')),
    engine: { memoryLimitMb: 128, threads: 1, maxLineBytes: 1 << 20 },
    leaseMs: 60_000,
  };
});
afterAll(async () => env.stop());
beforeEach(() => s3Mock.reset());

describe('ingestObject when S3 fails', () => {
  it.each([
    ['a 503', Object.assign(new Error('Service Unavailable'), { name: 'ServiceUnavailable', $metadata: { httpStatusCode: 503 } })],
    ['throttling', Object.assign(new Error('Please reduce your request rate.'), { name: 'SlowDown', $metadata: { httpStatusCode: 503 } })],
    ['a timeout', Object.assign(new Error('socket hang up'), { name: 'TimeoutError' })],
  ])('records %s as a RETRYING version with the reason and rethrows, so the event is retried', async (what, fault) => {
    // Prepare
    const dataset = `faults-${what.replaceAll(' ', '-')}`;
    s3Mock.on(GetObjectCommand).rejects(fault);

    // Act
    const attempt = ingestObject(deps, object(`raw/${dataset}/data.csv`));

    // Assess
    await expect(attempt).rejects.toThrowError(IngestAttemptError);
    const version = await deps.store.getVersion(dataset, 1);
    expect(version).toMatchObject({ status: 'RETRYING', attempts: 1 });
    expect(version.lastError).toBe(`attempt 1 failed: ${fault.message}`);
    expect(await readdir(deps.scratchDir)).toEqual([]);
  });

  it('records a request S3 refuses as sent (a 400) as FAILED with the reason at once, never retried', async () => {
    // Prepare
    s3Mock.on(GetObjectCommand).rejects(Object.assign(new Error('Invalid Argument'), { name: 'InvalidArgument', $metadata: { httpStatusCode: 400 } }));

    // Act
    const outcome = await ingestObject(deps, object('raw/refused/data.csv'));

    // Assess
    const reason = 'S3 or DynamoDB refused a request as sent, so it is not retried: Invalid Argument';
    expect(outcome).toEqual({ kind: 'ingested', dataset: 'refused', version: 1, status: 'FAILED', reason });
    expect(await deps.store.getVersion('refused', 1)).toMatchObject({ status: 'FAILED', reason, attempts: 1 });
  });

  it('takes the version over on the next delivery, once S3 is back', async () => {
    // Prepare
    const key = 'raw/recovers/data.csv';
    s3Mock.on(GetObjectCommand).rejects(Object.assign(new Error('down'), { name: 'InternalError', $metadata: { httpStatusCode: 500 } }));
    await expect(ingestObject(deps, object(key))).rejects.toThrowError(IngestAttemptError);
    s3Mock.on(GetObjectCommand).rejects(Object.assign(new Error('gone'), { name: 'NoSuchKey', $metadata: { httpStatusCode: 404 } }));

    // Act
    const outcome = await ingestObject(deps, object(key));

    // Assess
    expect(outcome).toEqual({ kind: 'ingested', dataset: 'recovers', version: 1, status: 'FAILED', reason: 'the object was deleted before it could be read' });
    expect(await deps.store.getVersion('recovers', 1)).toMatchObject({ status: 'FAILED', attempts: 2 });
  });

  it('ignores objects outside the lake bucket or outside any dataset, without touching S3', async () => {
    // Act
    const outcomes = await Promise.all([
      ingestObject(deps, { ...object('raw/x/data.csv'), bucket: 'someone-else' }),
      ingestObject(deps, object('raw/top-level.csv')),
      ingestObject(deps, object('raw/bad name!/data.csv')),
      ingestObject(deps, object('raw/folder/')),
    ]);

    // Assess
    expect(outcomes.map((o) => o.kind)).toEqual(['ignored', 'ignored', 'ignored', 'ignored']);
    expect(s3Mock.calls()).toHaveLength(0);
  });
});

describe('removeAbandonedWorkDirs', () => {
  it('removes work folders older than the longest invocation and keeps recent ones and other files', async () => {
    // Prepare
    const scratch = await mkdtemp(join(tmpdir(), 'scratch-'));
    await mkdir(join(scratch, 'ingest-old-1'));
    await mkdir(join(scratch, 'ingest-new-2'));
    await mkdir(join(scratch, 'model-cache'));
    const created = (await stat(join(scratch, 'ingest-old-1'))).birthtimeMs || (await stat(join(scratch, 'ingest-old-1'))).ctimeMs;

    // Act: the clock is 1 minute after the folders were made, then 16 minutes after.
    await removeAbandonedWorkDirs(scratch, created + 60_000);
    const afterOneMinute = (await readdir(scratch)).sort();
    await removeAbandonedWorkDirs(scratch, created + 16 * 60_000);
    const afterSixteen = (await readdir(scratch)).sort();

    // Assess
    expect(afterOneMinute).toEqual(['ingest-new-2', 'ingest-old-1', 'model-cache']);
    expect(afterSixteen).toEqual(['model-cache']);
  });
});
