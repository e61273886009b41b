import { DeleteObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { S3Event, S3EventRecord } from 'aws-lambda';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { LakeNotificationSpec, QueueId, QueueSpec } from '../topology/spec.js';
import { LOCAL_CREDENTIALS, LOCAL_REGION, startEmulators, type Emulators } from './emulators.js';
import { createS3Dispatcher, DEFAULT_DELIVERY_RETRY, matches } from './s3-notifications.js';

/** A minimal queue spec with lake notifications (ids beyond the platform's own are fine here). */
const fn = (id: string, lakeNotifications: readonly LakeNotificationSpec[]): QueueSpec => ({
  id: id as QueueId,
  localName: id,
  visibilityTimeoutSeconds: 30,
  maxReceiveCount: 3,
  retentionDays: 1,
  urlEnv: 'QUEUE_URL',
  lakeNotifications,
});

/** Whether a queue's notifications match a record. */
const triggers = (queue: QueueSpec, r: S3EventRecord) => matches(queue.lakeNotifications ?? [], r);

/** An S3 notification record as AWS sends it (key URL-encoded, '+' for spaces). */
function record(key: string, eventName = 'ObjectCreated:Put', bucket = 'lake'): S3EventRecord {
  return {
    eventVersion: '2.1',
    eventSource: 'aws:s3',
    awsRegion: 'us-east-1',
    eventTime: '2024-01-01T00:00:00.000Z',
    eventName,
    userIdentity: { principalId: 'AWS:TEST' },
    requestParameters: { sourceIPAddress: '127.0.0.1' },
    responseElements: { 'x-amz-request-id': 'req', 'x-amz-id-2': 'id2' },
    s3: {
      s3SchemaVersion: '1.0',
      configurationId: 'test',
      bucket: { name: bucket, ownerIdentity: { principalId: 'owner' }, arn: `arn:aws:s3:::${bucket}` },
      object: { key, size: 1, eTag: 'etag', sequencer: '0' },
    },
  };
}

/** Decodes a notification key the way AWS documents it (URL-encoded, '+' for spaces). */
const decodeNotificationKey = (key: string) => decodeURIComponent(key.replace(/\+/g, ' '));

const NO_DELAY = { delaysMs: [0, 0] } as const;

describe('matches', () => {
  const raw = fn('ingest', [{ prefix: 'raw/' }]);
  const csv = fn('csv', [{ prefix: 'raw/', suffix: '.csv' }]);

  it('matches ObjectCreated events under the prefix', () => {
    // Act
    const matches = ['ObjectCreated:Put', 'ObjectCreated:Post', 'ObjectCreated:Copy', 'ObjectCreated:CompleteMultipartUpload'].map((name) =>
      triggers(raw, record('raw/data.csv', name)),
    );

    // Assess
    expect(matches).toEqual([true, true, true, true]);
  });

  it('ignores keys outside the prefix', () => {
    // Act
    const outside = [triggers(raw, record('other/data.csv')), triggers(raw, record('raw')), triggers(raw, record('RAW/data.csv'))];

    // Assess
    expect(outside).toEqual([false, false, false]);
  });

  it('checks the suffix as well as the prefix', () => {
    // Act
    const results = [triggers(csv, record('raw/data.csv')), triggers(csv, record('raw/data.json')), triggers(csv, record('other/data.csv'))];

    // Assess
    expect(results).toEqual([true, false, false]);
  });

  it.each(['ObjectRemoved:Delete', 'ObjectRemoved:DeleteMarkerCreated', 'ObjectRestore:Completed', 'ObjectTagging:Put'])('ignores %s events', (eventName) => {
    // Act
    const matched = triggers(raw, record('raw/data.csv', eventName));

    // Assess
    expect(matched).toBe(false);
  });

  it("decodes URL-encoded keys, '+' meaning a space", () => {
    // Prepare
    const spaced = fn('spaced', [{ prefix: 'raw/my file', suffix: '.csv' }]);

    // Act
    const plusForSpace = triggers(spaced, record('raw/my+file.csv'));
    const percentSpace = triggers(spaced, record('raw/my%20file.csv'));
    const literalPlus = triggers(spaced, record('raw/my%2Bfile.csv'));

    // Assess
    expect(plusForSpace).toBe(true);
    expect(percentSpace).toBe(true);
    expect(literalPlus).toBe(false);
  });

  it('decodes percent-encoded prefixes and suffixes', () => {
    // Prepare
    const dated = fn('dated', [{ prefix: 'raw/date=2024-01-01/', suffix: '(1).csv' }]);

    // Act
    const matched = triggers(dated, record('raw/date%3D2024-01-01/part%281%29.csv'));

    // Assess
    expect(matched).toBe(true);
  });

  it('falls back to the key as sent when it is not valid URL encoding', () => {
    // Prepare
    const percent = fn('percent', [{ prefix: 'raw/100%' }]);

    // Act
    const matched = triggers(percent, record('raw/100%zz.csv'));

    // Assess
    expect(matched).toBe(true);
  });

  it('matches when any of several triggers matches', () => {
    // Prepare
    const multi = fn('multi', [{ prefix: 'raw/', suffix: '.csv' }, { prefix: 'incoming/' }]);

    // Act
    const results = [triggers(multi, record('incoming/x.bin')), triggers(multi, record('raw/x.bin'))];

    // Assess
    expect(results).toEqual([true, false]);
  });
});

describe('createS3Dispatcher', () => {
  interface Invocation {
    readonly queueId: string;
    readonly event: S3Event;
  }
  /** A fake queue send that records the message (body parsed back to the S3 event). */
  const recorder = (invocations: Invocation[], outcome: () => Promise<void> = () => Promise.resolve()) => (queueId: QueueId, body: string) => {
    invocations.push({ queueId, event: JSON.parse(body) as S3Event });
    return outcome();
  };

  it('retries a failed send until it succeeds', async () => {
    // Prepare
    const invocations: Invocation[] = [];
    const failures: unknown[] = [];
    let calls = 0;
    const invoke = recorder(invocations, () => {
      calls += 1;
      return calls <= 2 ? Promise.reject(new Error(`attempt ${calls} failed`)) : Promise.resolve();
    });
    const dispatch = createS3Dispatcher([fn('ingest', [{ prefix: 'raw/' }])], invoke, (...args) => failures.push(args), NO_DELAY);
    const created = record('raw/data.csv');

    // Act
    await dispatch({ Records: [created] });

    // Assess
    expect(invocations).toHaveLength(3);
    expect(invocations.every((i) => i.queueId === 'ingest')).toBe(true);
    expect(invocations.every((i) => i.event.Records.length === 1)).toBe(true);
    expect(invocations.map((i) => i.event.Records[0])).toEqual([created, created, created]);
    expect(failures).toEqual([]);
  });

  it('reports a delivery that failed on every attempt once, with the record and the last error', async () => {
    // Prepare
    const failures: Array<[QueueId, S3EventRecord, unknown]> = [];
    let calls = 0;
    const invoke = () => {
      calls += 1;
      return Promise.reject(new Error(`attempt ${calls} failed`));
    };
    const dispatch = createS3Dispatcher([fn('ingest', [{ prefix: 'raw/' }])], invoke, (...args) => failures.push(args), NO_DELAY);
    const created = record('raw/data.csv');

    // Act
    await dispatch({ Records: [created] });

    // Assess
    expect(calls).toBe(1 + NO_DELAY.delaysMs.length);
    expect(failures).toHaveLength(1);
    const [queueId, failedRecord, error] = failures[0]!;
    expect(queueId).toBe('ingest');
    expect(failedRecord).toBe(created);
    expect((error as Error).message).toBe('attempt 3 failed');
  });

  it('makes two retries by default', () => {
    // Assess
    expect(DEFAULT_DELIVERY_RETRY.delaysMs).toHaveLength(2);
  });

  it('sends each record as its own S3 event to every queue whose notification matches', async () => {
    // Prepare
    const invocations: Invocation[] = [];
    const invoke = recorder(invocations);
    const functions = [
      fn('ingest', [{ prefix: 'raw/' }]),
      fn('csv', [{ prefix: 'raw/', suffix: '.csv' }]),
      fn('twice', [{ prefix: 'raw/' }, { prefix: 'raw/a' }]),
      fn('unrelated', [{ prefix: 'models/' }]),
    ];
    const dispatch = createS3Dispatcher(functions, invoke, () => undefined, NO_DELAY);

    // Act
    await dispatch({ Records: [record('raw/a.csv'), record('raw/b.json'), record('other/c.csv'), record('raw/d.csv', 'ObjectRemoved:Delete')] });

    // Assess
    const delivered = invocations.map((i) => `${i.queueId} ${i.event.Records.map((r) => r.s3.object.key).join(',')}`).sort();
    expect(delivered).toEqual(['csv raw/a.csv', 'ingest raw/a.csv', 'ingest raw/b.json', 'twice raw/a.csv', 'twice raw/b.json']);
  });

  it('resolves without sending anything when no notification matches', async () => {
    // Prepare
    let calls = 0;
    const invoke = () => {
      calls += 1;
      return Promise.resolve();
    };
    const dispatch = createS3Dispatcher([fn('ingest', [{ prefix: 'raw/' }])], invoke, () => undefined, NO_DELAY);

    // Act
    await dispatch({ Records: [record('other/x.csv')] });

    // Assess
    expect(calls).toBe(0);
  });
});

describe('bucket notifications from the S3 emulator', () => {
  const BUCKET = 'lake';
  let stateDir: string;
  let emulators: Emulators;
  let s3: S3Client;
  let invocations: Array<{ queueId: string; event: S3Event }>;
  let failures: unknown[];
  let dispatches: Array<Promise<void>>;
  let firstDelivery: Promise<void>;
  let delivered: () => void;

  beforeAll(async () => {
    stateDir = await mkdtemp(join(tmpdir(), 's3-notifications-'));
    emulators = await startEmulators({ stateDir, ports: { dynamodb: 0, s3: 0, sqs: 0, sagemaker: 0, kinesis: 0 }, buckets: [BUCKET] });
    s3 = new S3Client({ region: LOCAL_REGION, endpoint: emulators.endpoints.s3, credentials: LOCAL_CREDENTIALS });
    const dispatch = createS3Dispatcher(
      [fn('ingest', [{ prefix: 'raw/' }])],
      (queueId, body) => {
        invocations.push({ queueId, event: JSON.parse(body) as S3Event });
        delivered();
        return Promise.resolve();
      },
      (...args) => failures.push(args),
      NO_DELAY,
    );
    emulators.onS3Event((event) => {
      dispatches.push(dispatch(event));
    });
  });

  beforeEach(() => {
    invocations = [];
    failures = [];
    dispatches = [];
    firstDelivery = new Promise<void>((resolve) => (delivered = resolve));
  });

  afterAll(async () => {
    s3?.destroy();
    await emulators?.close();
    await rm(stateDir, { recursive: true, force: true });
  });

  /** Waits for the fake queue's first message, bounded. */
  const waitForDelivery = () =>
    Promise.race([firstDelivery, new Promise<never>((_, reject) => setTimeout(() => reject(new Error('no S3 notification within 10 s')), 10_000))]);

  it('delivers an object created under the trigger prefix, and nothing else', async () => {
    // Act
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'other/ignored.csv', Body: 'a,b\n1,2\n' }));
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'raw/data.csv', Body: 'a,b\n1,2\n' }));
    await waitForDelivery();
    await Promise.all(dispatches);

    // Assess
    expect(invocations).toHaveLength(1);
    const [invocation] = invocations;
    expect(invocation?.queueId).toBe('ingest');
    expect(invocation?.event.Records).toHaveLength(1);
    const delivered = invocation!.event.Records[0]!;
    expect(delivered.eventName).toMatch(/^ObjectCreated:/);
    expect(delivered.eventSource).toBe('aws:s3');
    expect(delivered.s3.bucket.name).toBe(BUCKET);
    expect(delivered.s3.object.key).toBe('raw/data.csv');
    expect(delivered.s3.object.size).toBe(8);
    expect(failures).toEqual([]);
  });

  it('does not deliver object deletions', async () => {
    // Prepare
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'raw/to-delete.csv', Body: 'x' }));
    await waitForDelivery();
    await Promise.all(dispatches);
    invocations = [];

    // Act
    await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: 'raw/to-delete.csv' }));
    await Promise.all(dispatches);

    // Assess
    expect(dispatches.length).toBeGreaterThanOrEqual(2);
    expect(invocations).toEqual([]);
  });

  it('URL-encodes keys in notifications as AWS does', async () => {
    // Prepare
    const key = 'raw/a+b c.csv';

    // Act
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: 'x' }));
    await waitForDelivery();
    await Promise.all(dispatches);

    // Assess
    expect(invocations).toHaveLength(1);
    expect(decodeNotificationKey(invocations[0]!.event.Records[0]!.s3.object.key)).toBe(key);
  });
});
