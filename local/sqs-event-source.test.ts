import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SQSClient,
  type Message,
} from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { QueueTriggerSpec, Topology } from '../topology/spec.js';
import { LOCAL_CREDENTIALS, LOCAL_REGION, startEmulators, type Emulators } from './emulators.js';
import { provisionResources, type ProvisionedQueue } from './provision.js';
import { messagesToDelete, SqsEventSource, toSqsRecord } from './sqs-event-source.js';

const MAX_RECEIVE_COUNT = 2;

let stateDir: string;
let emulators: Emulators;
let sqs: SQSClient;
let dynamo: DynamoDBClient;

/** A small topology with one queue: visibility 1 s by default so redelivery happens within a test. */
const topologyWithQueue = (localName: string, visibilityTimeoutSeconds: number): Topology => ({
  lake: { localName: 'lake' },
  registry: { localName: 'registry-test' },
  queues: [{ id: 'training', localName, visibilityTimeoutSeconds, maxReceiveCount: MAX_RECEIVE_COUNT, retentionDays: 1, urlEnv: 'TRAINING_QUEUE_URL' }],
  functions: [],
});

/** Provisions a queue (with DLQ and redrive) of its own for one test. */
async function freshQueue(localName: string, visibilityTimeoutSeconds = 1): Promise<ProvisionedQueue> {
  const resources = await provisionResources(topologyWithQueue(localName, visibilityTimeoutSeconds), { dynamo, sqs });
  return resources.queues.training;
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/*
 * local-aws-sqs honours short visibility timeouts (redelivery after 1 s, redrive to the
 * DLQ when the timeout of the maxReceiveCount-th receive ends), but a long poll
 * (WaitTimeSeconds > 0) waits to fill the whole batch and, when the wait is at least the
 * visibility timeout, adds messages that became visible again during the wait a second
 * time to the same response. The tests therefore short-poll (pollOnce(0)) in bounded
 * loops on 1 s queues, and long-poll only queues with a long visibility timeout.
 */
const POLL_ATTEMPTS = 40;
const POLL_PAUSE_MS = 250;

/** Short-polls until `done()` or the attempts run out; resolves with the messages received. */
async function pollUntil(source: SqsEventSource, done: () => boolean | Promise<boolean>): Promise<number> {
  let total = 0;
  for (let attempt = 0; attempt < POLL_ATTEMPTS && !(await done()); attempt++) {
    const received = await source.pollOnce(0);
    total += received;
    if (received === 0) await pause(POLL_PAUSE_MS);
  }
  return total;
}

/** Short-polls a queue directly until it returns messages or the attempts run out. */
async function receiveSoon(url: string): Promise<Message[]> {
  for (let attempt = 0; attempt < POLL_ATTEMPTS; attempt++) {
    const result = await sqs.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }));
    if ((result.Messages ?? []).length > 0) return result.Messages ?? [];
    await pause(POLL_PAUSE_MS);
  }
  return [];
}

const bodiesOf = (messages: readonly Message[]) => messages.map((m) => m.Body);

const trigger = (batchSize: number, reportBatchItemFailures = false): QueueTriggerSpec => ({ queue: 'training', batchSize, reportBatchItemFailures });

/**
 * Message counts of a queue. local-aws-sqs counts in-flight messages in
 * ApproximateNumberOfMessages too (AWS does not), so tests only rely on both being 0
 * for an empty queue, or on the count of a queue nobody receives from (the DLQ).
 */
async function messagesIn(url: string): Promise<{ visible: number; inFlight: number }> {
  const result = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }),
  );
  return {
    visible: Number(result.Attributes?.ApproximateNumberOfMessages),
    inFlight: Number(result.Attributes?.ApproximateNumberOfMessagesNotVisible),
  };
}

async function sendBodies(url: string, bodies: readonly string[]): Promise<void> {
  await sqs.send(new SendMessageBatchCommand({ QueueUrl: url, Entries: bodies.map((body, i) => ({ Id: String(i), MessageBody: body })) }));
}

/** An in-process function: records each event and answers with `reply`. */
function recordingInvoke(reply: (event: SQSEvent) => unknown) {
  const events: SQSEvent[] = [];
  const invoke = (_functionId: string, event: unknown) => {
    events.push(event as SQSEvent);
    try {
      return Promise.resolve(reply(event as SQSEvent));
    } catch (error) {
      return Promise.reject(error);
    }
  };
  return { events, invoke };
}

beforeAll(async () => {
  stateDir = await mkdtemp(join(tmpdir(), 'sqs-event-source-'));
  emulators = await startEmulators({ stateDir, ports: { dynamodb: 0, s3: 0, sqs: 0, sagemaker: 0, kinesis: 0 }, buckets: ['lake'] });
  const config = (endpoint: string) => ({ region: LOCAL_REGION, endpoint, credentials: LOCAL_CREDENTIALS });
  sqs = new SQSClient(config(emulators.endpoints.sqs));
  dynamo = new DynamoDBClient(config(emulators.endpoints.dynamodb));
});

afterAll(async () => {
  sqs?.destroy();
  dynamo?.destroy();
  await emulators?.close();
  await rm(stateDir, { recursive: true, force: true });
});

describe('provisionResources (queues)', () => {
  it('creates the queue with its visibility timeout and a redrive policy to its DLQ', async () => {
    // Act
    const queue = await freshQueue('provisioned');

    // Assess
    const attributes = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queue.url, AttributeNames: ['All'] }))).Attributes ?? {};
    const dlqArn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queue.dlqUrl, AttributeNames: ['QueueArn'] }))).Attributes?.QueueArn;
    expect(attributes['QueueArn']).toBe(queue.arn);
    expect(queue.arn).toMatch(/^arn:aws:sqs:us-east-1:\d+:provisioned$/);
    expect(attributes['VisibilityTimeout']).toBe('1');
    expect(JSON.parse(attributes['RedrivePolicy'] ?? '{}')).toEqual({ maxReceiveCount: MAX_RECEIVE_COUNT, deadLetterTargetArn: dlqArn });
    expect(dlqArn).toMatch(/:provisioned-dlq$/);
  });

  it('is idempotent', async () => {
    // Prepare
    const first = await freshQueue('twice');

    // Act
    const second = await freshQueue('twice');

    // Assess
    expect(second).toEqual(first);
  });
});

describe('SqsEventSource.pollOnce', () => {
  it('invokes with Lambda-shaped records, honours the batch size and deletes successful batches', async () => {
    // Prepare
    const queue = await freshQueue('success');
    await sendBodies(queue.url, ['m1', 'm2', 'm3', 'm4', 'm5']);
    await sqs.send(
      new SendMessageCommand({ QueueUrl: queue.url, MessageBody: 'm6', MessageAttributes: { tenant: { DataType: 'String', StringValue: 'acme' } } }),
    );
    const { events, invoke } = recordingInvoke(() => undefined);
    const errors: unknown[] = [];
    const source = new SqsEventSource(sqs, queue, 'trainer', trigger(2), invoke, (error) => errors.push(error));

    // Act
    const first = await source.pollOnce(0);
    const total = first + (await pollUntil(source, () => events.flatMap((e) => e.Records).length >= 6));

    // Assess
    expect(first).toBeGreaterThan(0);
    expect(first).toBeLessThanOrEqual(2);
    expect(total).toBe(6);
    expect(events.every((e) => e.Records.length >= 1 && e.Records.length <= 2)).toBe(true);
    const records = events.flatMap((e) => e.Records);
    expect(records.map((r) => r.body).sort()).toEqual(['m1', 'm2', 'm3', 'm4', 'm5', 'm6']);
    for (const record of records) {
      expect(record.eventSource).toBe('aws:sqs');
      expect(record.eventSourceARN).toBe(queue.arn);
      expect(record.awsRegion).toBe(LOCAL_REGION);
      expect(record.attributes.ApproximateReceiveCount).toBe('1');
      expect(record.messageId).not.toBe('');
      expect(record.receiptHandle).not.toBe('');
      expect(record.md5OfBody).toMatch(/^[0-9a-f]{32}$/);
    }
    const withAttribute = records.find((r) => r.body === 'm6');
    expect(withAttribute?.messageAttributes['tenant']).toMatchObject({ dataType: 'String', stringValue: 'acme' });
    expect(await messagesIn(queue.url)).toEqual({ visible: 0, inFlight: 0 });
    expect(errors).toEqual([]);
  });

  it('resolves with 0 and does not invoke when the queue is empty', async () => {
    // Prepare
    const queue = await freshQueue('empty');
    const { events, invoke } = recordingInvoke(() => undefined);
    const source = new SqsEventSource(sqs, queue, 'trainer', trigger(10), invoke, () => undefined);

    // Act
    const received = await source.pollOnce(0);

    // Assess
    expect(received).toBe(0);
    expect(events).toEqual([]);
  });

  it('keeps only the messages a partial batch response reports as failed', async () => {
    // Prepare
    const queue = await freshQueue('partial');
    await sendBodies(queue.url, ['keep-me', 'done-1', 'done-2']);
    const { events, invoke } = recordingInvoke(
      (event): SQSBatchResponse => ({
        batchItemFailures: event.Records.filter((r) => r.body === 'keep-me').map((r) => ({ itemIdentifier: r.messageId })),
      }),
    );
    const source = new SqsEventSource(sqs, queue, 'trainer', trigger(10, true), invoke, () => undefined);

    // Act
    const total = await pollUntil(source, () => events.length > 0);

    // Assess: the failed message comes back after its visibility timeout, and it was all that was left.
    expect(total).toBe(3);
    expect(events).toHaveLength(1);
    const kept = await receiveSoon(queue.url);
    expect(bodiesOf(kept)).toEqual(['keep-me']);
    await sqs.send(new DeleteMessageCommand({ QueueUrl: queue.url, ReceiptHandle: kept[0]?.ReceiptHandle }));
    expect(await messagesIn(queue.url)).toEqual({ visible: 0, inFlight: 0 });
  });

  it('deletes the whole batch when the function does not report batch item failures', async () => {
    // Prepare
    const queue = await freshQueue('not-partial');
    await sendBodies(queue.url, ['a', 'b']);
    const { events, invoke } = recordingInvoke(
      (event): SQSBatchResponse => ({ batchItemFailures: event.Records.map((r) => ({ itemIdentifier: r.messageId })) }),
    );
    const source = new SqsEventSource(sqs, queue, 'trainer', trigger(10, false), invoke, () => undefined);

    // Act
    const total = await pollUntil(source, () => events.length > 0);

    // Assess
    expect(total).toBe(2);
    expect(events).toHaveLength(1);
    expect(await messagesIn(queue.url)).toEqual({ visible: 0, inFlight: 0 });
  });

  it('leaves the batch when the function throws, redelivers it after the visibility timeout and redrives it to the DLQ', async () => {
    // Prepare
    const queue = await freshQueue('failing');
    await sendBodies(queue.url, ['poison']);
    const { events, invoke } = recordingInvoke(() => {
      throw new Error('handler failed');
    });
    const errors: unknown[] = [];
    const source = new SqsEventSource(sqs, queue, 'trainer', trigger(10), invoke, (error) => errors.push(error));

    // Act: poll until the message reaches the DLQ (bounded).
    await pollUntil(source, async () => (await messagesIn(queue.dlqUrl)).visible > 0);

    // Assess
    expect((await messagesIn(queue.dlqUrl)).visible).toBe(1);
    expect(events).toHaveLength(MAX_RECEIVE_COUNT);
    expect(events.map((e) => e.Records.map((r) => r.body))).toEqual([['poison'], ['poison']]);
    expect(errors.map((e) => (e as Error).message)).toEqual(['handler failed', 'handler failed']);
    expect(await messagesIn(queue.url)).toEqual({ visible: 0, inFlight: 0 });
    expect(bodiesOf(await receiveSoon(queue.dlqUrl))).toEqual(['poison']);
  });

  it('counts receives in ApproximateReceiveCount on redelivery', async () => {
    // Prepare
    const queue = await freshQueue('receive-count');
    await sendBodies(queue.url, ['again']);
    const { events, invoke } = recordingInvoke(() => {
      throw new Error('retry me');
    });
    const source = new SqsEventSource(sqs, queue, 'trainer', trigger(10), invoke, () => undefined);

    // Act
    await pollUntil(source, () => events.length >= 2);

    // Assess
    expect(events.map((e) => e.Records[0]?.attributes.ApproximateReceiveCount)).toEqual(['1', '2']);
  });
});

describe('SqsEventSource.start/stop', () => {
  it('polls in the background until stopped, then leaves new messages alone', async () => {
    // Prepare
    // A long visibility timeout: the background loop long-polls (see the note on local-aws-sqs above).
    const queue = await freshQueue('background', 30);
    let delivered!: (event: SQSEvent) => void;
    const firstDelivery = new Promise<SQSEvent>((resolve) => (delivered = resolve));
    const invoke = (_functionId: string, event: unknown) => {
      delivered(event as SQSEvent);
      return Promise.resolve(undefined);
    };
    const source = new SqsEventSource(sqs, queue, 'trainer', trigger(10), invoke, () => undefined);

    // Act
    source.start();
    await sendBodies(queue.url, ['background-1']);
    const event = await Promise.race([
      firstDelivery,
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error('no delivery within 10 s')), 10_000)),
    ]);
    await source.stop();
    await sendBodies(queue.url, ['after-stop']);

    // Assess
    expect(event.Records.map((r) => r.body)).toEqual(['background-1']);
    const left = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queue.url, WaitTimeSeconds: 1, MaxNumberOfMessages: 10 }));
    expect(left.Messages?.map((m) => m.Body)).toEqual(['after-stop']);
  });
});

describe('SqsEventSource concurrency', () => {
  it('runs up to the trigger\'s maxConcurrency batches at once, as Lambda\'s MaximumConcurrency', async () => {
    // Prepare: each invocation waits until three are running together.
    const queue = await freshQueue('concurrent', 30);
    let running = 0;
    let release!: () => void;
    const allRunning = new Promise<void>((resolve) => (release = resolve));
    const bodies: string[] = [];
    const invoke = async (_functionId: string, event: unknown) => {
      bodies.push(...(event as SQSEvent).Records.map((r) => r.body));
      if (++running === 3) release();
      await allRunning;
    };
    const source = new SqsEventSource(sqs, queue, 'scorer', { ...trigger(1), maxConcurrency: 3 }, invoke, () => undefined);

    // Act
    await sendBodies(queue.url, ['c-1', 'c-2', 'c-3']);
    source.start();
    const together = await Promise.race([allRunning.then(() => true), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 15_000))]);
    await source.stop();

    // Assess
    expect(together).toBe(true);
    expect(bodies.sort()).toEqual(['c-1', 'c-2', 'c-3']);
  });
});

describe('messagesToDelete', () => {
  const record = (messageId: string): SQSRecord => toSqsRecord({ MessageId: messageId, ReceiptHandle: `rh-${messageId}`, Body: messageId }, { url: 'u', arn: 'arn:q' });
  const batch = [record('a'), record('b'), record('c')];
  const ids = (records: readonly SQSRecord[]) => records.map((r) => r.messageId);

  it('deletes the whole batch after a success', () => {
    // Act
    const done = messagesToDelete(batch, { ok: true, result: { statusCode: 200 } }, false);

    // Assess
    expect(ids(done)).toEqual(['a', 'b', 'c']);
  });

  it('deletes nothing after a failure', () => {
    // Act
    const done = messagesToDelete(batch, { ok: false }, true);

    // Assess
    expect(done).toEqual([]);
  });

  it('keeps the reported failures with partial batch responses', () => {
    // Act
    const done = messagesToDelete(batch, { ok: true, result: { batchItemFailures: [{ itemIdentifier: 'b' }] } }, true);

    // Assess
    expect(ids(done)).toEqual(['a', 'c']);
  });

  it('ignores batchItemFailures when the trigger does not report them', () => {
    // Act
    const done = messagesToDelete(batch, { ok: true, result: { batchItemFailures: [{ itemIdentifier: 'b' }] } }, false);

    // Assess
    expect(ids(done)).toEqual(['a', 'b', 'c']);
  });

  it.each([
    ['no result', undefined],
    ['a null result', null],
    ['an empty object', {}],
    ['an empty list', { batchItemFailures: [] }],
    ['a null list', { batchItemFailures: null }],
  ])('treats %s as complete success with partial batch responses', (_label, result) => {
    // Act
    const done = messagesToDelete(batch, { ok: true, result }, true);

    // Assess
    expect(ids(done)).toEqual(['a', 'b', 'c']);
  });

  it('keeps every message when every one is reported', () => {
    // Act
    const done = messagesToDelete(batch, { ok: true, result: { batchItemFailures: batch.map((r) => ({ itemIdentifier: r.messageId })) } }, true);

    // Assess
    expect(done).toEqual([]);
  });

  it.each([
    ['an unknown message id', { batchItemFailures: [{ itemIdentifier: 'not-in-batch' }] }],
    ['an empty itemIdentifier', { batchItemFailures: [{ itemIdentifier: '' }] }],
    ['a missing itemIdentifier', { batchItemFailures: [{}] }],
  ])('treats %s as a complete failure, as Lambda does', (_label, result) => {
    // Act
    const done = messagesToDelete(batch, { ok: true, result }, true);

    // Assess
    expect(done).toEqual([]);
  });
});

describe('toSqsRecord', () => {
  it('maps system and message attributes as Lambda presents them', () => {
    // Prepare
    const message = {
      MessageId: 'id-1',
      ReceiptHandle: 'rh',
      Body: '{"job":1}',
      MD5OfBody: 'abc',
      Attributes: { ApproximateReceiveCount: '3', SentTimestamp: '1000', SenderId: 'sender', ApproximateFirstReceiveTimestamp: '2000' },
      MessageAttributes: {
        kind: { DataType: 'String', StringValue: 'train' },
        blob: { DataType: 'Binary', BinaryValue: new Uint8Array([1, 2, 3]) },
      },
    };

    // Act
    const record = toSqsRecord(message, { url: 'http://q', arn: 'arn:aws:sqs:us-east-1:1:q' });

    // Assess
    expect(record).toMatchObject({
      messageId: 'id-1',
      receiptHandle: 'rh',
      body: '{"job":1}',
      md5OfBody: 'abc',
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:us-east-1:1:q',
      attributes: { ApproximateReceiveCount: '3', SentTimestamp: '1000', SenderId: 'sender', ApproximateFirstReceiveTimestamp: '2000' },
    });
    expect(record.messageAttributes['kind']).toEqual({ dataType: 'String', stringValue: 'train', stringListValues: [], binaryListValues: [] });
    expect(record.messageAttributes['blob']?.binaryValue).toBe(Buffer.from([1, 2, 3]).toString('base64'));
  });
});
