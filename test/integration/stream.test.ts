/**
 * Stream scoring on the local cloud: records put on kinesalite are scored by the stream function
 * through the iris model's `prod` alias, in per-shard order, written as micro-batches under
 * `predictions/stream/`, and scores above the threshold announced (logged locally: no bus).
 * Then the Kinesis event source alone against kinesalite: a record the function keeps failing on
 * is retried from its own sequence number, and given up on to the on-failure queue.
 */
import { PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { KinesisStreamEvent } from 'aws-lambda';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKinesisClient } from '../../src/aws/clients.js';
import { functionLogFile, startLocalCloud, type LocalCloud } from '../../local/cloud.js';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../local/emulators.js';
import { KinesisEventSource } from '../../local/kinesis-event-source.js';
import { SAMPLE_MODELS } from '../../local/seed.js';
import { subsetTopology } from '../../topology/spec.js';
import { topology as platformTopology } from '../../topology/topology.js';

// The control plane (to register the model) and the stream function, with the queues they use.
const topology = subsetTopology(platformTopology, ['control-plane', 'stream'], ['stream-failures']);
const sdk = (endpoint: string) => ({ region: LOCAL_REGION, endpoint, credentials: LOCAL_CREDENTIALS });
const SETOSA = { sepal_length: 5.1, sepal_width: 3.5, petal_length: 1.4, petal_width: 0.2 };
const VIRGINICA = { sepal_length: 7.7, sepal_width: 2.6, petal_length: 6.9, petal_width: 2.3 };

let cloud: LocalCloud;
let s3: S3Client;
let sqs: SQSClient;
let kinesis: ReturnType<typeof createKinesisClient>;

beforeAll(async () => {
  cloud = await startLocalCloud({
    stateDir: await mkdtemp(join(tmpdir(), 'stream-cloud-')),
    port: 0,
    topology,
    code: 'sources',
    seed: SAMPLE_MODELS.filter((model) => model.name === 'iris'),
  });
  s3 = new S3Client({ ...sdk(cloud.endpoints.s3), forcePathStyle: true });
  sqs = new SQSClient(sdk(cloud.endpoints.sqs));
  kinesis = createKinesisClient(sdk(cloud.endpoints.kinesis));
}, 120_000);
afterAll(async () => {
  s3?.destroy();
  sqs?.destroy();
  kinesis?.destroy();
  await cloud?.stop();
});

async function scoredLines(): Promise<Record<string, unknown>[]> {
  const listed = await s3.send(new ListObjectsV2Command({ Bucket: cloud.resources.bucketName, Prefix: 'predictions/stream/iris/' }));
  const bodies = await Promise.all((listed.Contents ?? []).map(async (object) => (await s3.send(new GetObjectCommand({ Bucket: cloud.resources.bucketName, Key: object.Key! }))).Body!.transformToString()));
  return bodies.flatMap((body) => body.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>));
}

async function until<T>(probe: () => Promise<T>, done: (value: T) => boolean, what: string): Promise<T> {
  for (let i = 0; i < 300; i++) {
    const value = await probe();
    if (done(value)) return value;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('stream scoring', () => {
  it('scores records of both shards in per-key order through the alias, keeps bad records with their reason, and announces scores above the threshold', async () => {
    // Prepare: 40 records over 8 keys (both shards), one of them malformed, one virginica per key.
    const keys = Array.from({ length: 8 }, (_, k) => `card-${k}`);
    const entries = Array.from({ length: 40 }, (_, i) => {
      const key = keys[i % keys.length]!;
      const features = i < 8 ? VIRGINICA : SETOSA;
      const body = i === 13 ? { id: `tx-${i}`, featurez: features } : { id: `tx-${i}`, features };
      return { PartitionKey: key, Data: Buffer.from(JSON.stringify(body)) };
    });

    // Act
    const put = await kinesis.send(new PutRecordsCommand({ StreamName: cloud.resources.streams.scoring!.name, Records: entries }));
    const lines = await until(scoredLines, (found) => found.length === 40, '40 scored lines');

    // Assess: two shards used; every record once; per key, in the order put.
    expect(put.FailedRecordCount).toBe(0);
    expect(new Set(put.Records!.map((r) => r.ShardId)).size).toBe(2);
    expect(new Set(lines.map((line) => line['id'])).size).toBe(40);
    for (const key of keys) {
      const ids = lines.filter((line) => line['key'] === key && line['error'] === undefined).map((line) => Number(String(line['id']).slice(3)));
      expect(ids).toEqual([...ids].sort((a, b) => a - b));
    }
    // The malformed record is kept, named by its sequence number, with the reason.
    const bad = lines.filter((line) => line['error'] !== undefined);
    expect(bad).toHaveLength(1);
    expect(bad[0]).toMatchObject({ key: 'card-5', id: put.Records![13]!.SequenceNumber, error: expect.stringMatching(/features/) as unknown });
    const crossed = lines.filter((line) => line['score'] !== undefined);
    expect(crossed.map((line) => line['id']).sort()).toEqual(Array.from({ length: 8 }, (_, i) => `tx-${i}`).sort());
    expect(crossed[0]).toMatchObject({ model: 'iris', version: '1' });
    const log = await readFile(functionLogFile(cloud.stateDir, 'stream'), 'utf8');
    expect(log.match(/StreamScoreAboveThreshold/g)?.length).toBeGreaterThanOrEqual(8);
  }, 120_000);
});

describe('the Kinesis event source on kinesalite', () => {
  it('retries from the failed record (the records before it once) and sends the given-up batch to the on-failure queue', async () => {
    // Prepare: a function that reports record 'poison' failed every time.
    const stream = cloud.resources.streams.scoring!;
    const seen: string[] = [];
    const invoke = async (_id: string, event: unknown) => {
      const records = (event as KinesisStreamEvent).Records;
      const texts = records.map((r) => Buffer.from(r.kinesis.data, 'base64').toString());
      seen.push(...texts);
      const poison = records.find((_, i) => texts[i] === 'poison');
      return { batchItemFailures: poison === undefined ? [] : [{ itemIdentifier: poison.kinesis.sequenceNumber }] };
    };
    const trigger = { ...platformTopology.functions.find((fn) => fn.id === 'stream')!.streamTriggers![0]!, retryAttempts: 2 };
    const source = new KinesisEventSource(kinesis, sqs, { ...stream, onFailureQueueUrl: cloud.resources.queues['stream-failures'].url }, 'probe', trigger, invoke, () => undefined);
    await kinesis.send(new PutRecordsCommand({ StreamName: stream.name, Records: ['a', 'poison', 'b'].map((text) => ({ PartitionKey: 'same-key', Data: Buffer.from(text) })) }));

    // Act
    await source.start();
    const received = await until(
      async () => (await sqs.send(new ReceiveMessageCommand({ QueueUrl: cloud.resources.queues['stream-failures'].url, WaitTimeSeconds: 1 }))).Messages ?? [],
      (messages) => messages.length > 0,
      'the on-failure record',
    );
    await source.stop();

    // Assess: 'a' once; 'poison' and 'b' in the first try and both retries; then given up on.
    const mine = seen.filter((text) => ['a', 'poison', 'b'].includes(text));
    expect(mine).toEqual(['a', 'poison', 'b', 'poison', 'b', 'poison', 'b']);
    const failure = JSON.parse(received[0]!.Body!) as { requestContext: { condition: string }; KinesisBatchInfo: { batchSize: number; streamArn: string } };
    expect(failure.requestContext.condition).toBe('RetryAttemptsExhausted');
    expect(failure.KinesisBatchInfo).toMatchObject({ batchSize: 2, streamArn: stream.arn });
  }, 120_000);
});
