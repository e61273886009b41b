import type { KinesisClient } from '@aws-sdk/client-kinesis';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { KinesisStreamEvent, KinesisStreamRecord } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { KinesisEventSource, resumeIndex } from './kinesis-event-source.js';

const NOW = 1_800_000_000_000;
const record = (seq: string, arrivedMsAgo = 0): KinesisStreamRecord =>
  ({ kinesis: { sequenceNumber: seq, partitionKey: 'k', data: '', approximateArrivalTimestamp: (NOW - arrivedMsAgo) / 1000, kinesisSchemaVersion: '1.0' }, eventID: `shardId-0:${seq}` }) as KinesisStreamRecord;
const batch = (...seqs: string[]) => seqs.map((s) => record(s));
const trigger = { stream: 'scoring' as const, batchSize: 10, bisectBatchOnError: false, retryAttempts: 2, maxRecordAgeSeconds: 60, onFailure: 'stream-failures' as const };

describe('resumeIndex', () => {
  it('is the batch length when the function succeeded with no failures', () => {
    expect(resumeIndex(batch('1', '2'), { ok: true, result: undefined })).toBe(2);
    expect(resumeIndex(batch('1', '2'), { ok: true, result: { batchItemFailures: [] } })).toBe(2);
  });

  it('is the lowest reported failure, whatever order they are reported in', () => {
    expect(resumeIndex(batch('1', '2', '3', '4'), { ok: true, result: { batchItemFailures: [{ itemIdentifier: '4' }, { itemIdentifier: '2' }] } })).toBe(1);
  });

  it('is the whole batch when the function failed, or reported an identifier not in the batch', () => {
    expect(resumeIndex(batch('1', '2'), { ok: false })).toBe(0);
    expect(resumeIndex(batch('1', '2'), { ok: true, result: { batchItemFailures: [{ itemIdentifier: '9' }] } })).toBe(0);
    expect(resumeIndex(batch('1', '2'), { ok: true, result: { batchItemFailures: [{ itemIdentifier: null }] } })).toBe(0);
  });
});

/** A source whose function answers with `answer` (throwing fails the invocation); sent on-failure records are collected. */
function sourceWith(answer: (seqs: string[]) => unknown, overrides: Partial<typeof trigger> = {}) {
  const invocations: string[][] = [];
  const failures: Record<string, unknown>[] = [];
  const sqs = { send: async (command: { input: { MessageBody: string } }) => failures.push(JSON.parse(command.input.MessageBody) as Record<string, unknown>) } as unknown as SQSClient;
  const invoke = async (_id: string, event: unknown) => {
    const seqs = (event as KinesisStreamEvent).Records.map((r) => r.kinesis.sequenceNumber);
    invocations.push(seqs);
    return answer(seqs);
  };
  const source = new KinesisEventSource({} as KinesisClient, sqs, { name: 's', arn: 'arn:s', onFailureQueueUrl: 'q' }, 'stream', { ...trigger, ...overrides }, invoke, () => undefined, () => NOW);
  (source as unknown as { running: boolean }).running = true;
  return { source, invocations, failures };
}

describe('KinesisEventSource.process', () => {
  it('resumes from the lowest failed sequence number until the records after it succeed', async () => {
    // Prepare: '3' fails once.
    let failedOnce = false;
    const { source, invocations, failures } = sourceWith((seqs) => (seqs.includes('3') && !failedOnce ? ((failedOnce = true), { batchItemFailures: [{ itemIdentifier: '3' }] }) : { batchItemFailures: [] }));

    // Act
    await source.process(batch('1', '2', '3', '4'), 'shardId-0');

    // Assess
    expect(invocations).toEqual([['1', '2', '3', '4'], ['3', '4']]);
    expect(failures).toEqual([]);
  });

  it('sends the metadata of the remaining records to the on-failure destination once the retries are exhausted, and moves on', async () => {
    // Prepare
    const { source, invocations, failures } = sourceWith(() => ({ batchItemFailures: [{ itemIdentifier: '2' }] }));

    // Act
    await source.process(batch('1', '2', '3'), 'shardId-0');

    // Assess: one invocation and two retries.
    expect(invocations).toEqual([['1', '2', '3'], ['2', '3'], ['2', '3']]);
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({
      requestContext: { condition: 'RetryAttemptsExhausted', approximateInvokeCount: 3 },
      KinesisBatchInfo: { shardId: 'shardId-0', startSequenceNumber: '2', endSequenceNumber: '3', batchSize: 2, streamArn: 'arn:s' },
    });
  });

  it('bisects a batch the function fails on until the bad record is alone, and gives up on it alone', async () => {
    // Prepare: the function fails whenever '3' is in the batch.
    const { source, invocations, failures } = sourceWith((seqs) => {
      if (seqs.includes('3')) throw new Error('boom');
      return undefined;
    }, { bisectBatchOnError: true, retryAttempts: 1 });

    // Act
    await source.process(batch('1', '2', '3', '4'), 'shardId-0');

    // Assess
    expect(invocations).toEqual([['1', '2', '3', '4'], ['1', '2'], ['3', '4'], ['3'], ['3'], ['4']]);
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({ KinesisBatchInfo: { startSequenceNumber: '3', endSequenceNumber: '3', batchSize: 1 } });
  });

  it('does not process records older than the maximum record age: their metadata goes to the on-failure destination', async () => {
    // Prepare
    const { source, invocations, failures } = sourceWith(() => undefined);

    // Act
    await source.process([record('1', 120_000), record('2', 61_000), record('3', 1_000)], 'shardId-0');

    // Assess
    expect(invocations).toEqual([['3']]);
    expect(failures).toMatchObject([{ requestContext: { condition: 'RecordAgeExceeded' }, KinesisBatchInfo: { startSequenceNumber: '1', endSequenceNumber: '2' } }]);
  });
});
