/**
 * A local Kinesis event source mapping, following Lambda's rules for Kinesis: one poller per
 * shard, one batch in flight per shard (per-shard order), batches of at most `batchSize`
 * records; a batch is checkpointed by `batchItemFailures` (the shard resumes from the lowest
 * failed sequence number; an unknown identifier fails the whole batch); a failed invocation is
 * split in two halves when `bisectBatchOnError` (a split does not count as a retry), retried up to
 * `retryAttempts` times, and records older than `maxRecordAgeSeconds` are not processed; a batch
 * given up on has its metadata (shard, first and last sequence numbers, condition) sent to the
 * on-failure queue, and the shard moves on.
 */
import { GetRecordsCommand, GetShardIteratorCommand, ListShardsCommand, type KinesisClient, type _Record } from '@aws-sdk/client-kinesis';
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { KinesisStreamBatchResponse, KinesisStreamEvent, KinesisStreamRecord } from 'aws-lambda';
import type { StreamTriggerSpec } from '../topology/spec.js';
import { LOCAL_REGION } from './emulators.js';
import type { Invoke } from './gateway.js';

/** The stream a source polls, and where batches given up on go. */
export interface PolledStream {
  readonly name: string;
  readonly arn: string;
  readonly onFailureQueueUrl: string;
}

/** How an invocation ended. */
export type Outcome = { readonly ok: true; readonly result: unknown } | { readonly ok: false };

/**
 * Index of the first record to process again after an invocation: `records.length` when all are
 * done, the lowest reported failure with partial batch responses, or 0 (the whole batch) when the
 * function failed or reported an identifier that is not a sequence number of the batch.
 */
export function resumeIndex(records: readonly KinesisStreamRecord[], outcome: Outcome): number {
  if (!outcome.ok) return 0;
  const failures = (outcome.result as KinesisStreamBatchResponse | undefined | null)?.batchItemFailures;
  if (!Array.isArray(failures) || failures.length === 0) return records.length;
  const positions = failures.map((f) => records.findIndex((r) => r.kinesis.sequenceNumber === f?.itemIdentifier));
  return positions.some((p) => p < 0) ? 0 : Math.min(...positions);
}

/** A Kinesis record as Lambda's event source mapping presents it. */
export function toKinesisRecord(record: _Record, shardId: string, stream: Pick<PolledStream, 'arn'>): KinesisStreamRecord {
  const sequenceNumber = record.SequenceNumber ?? '';
  return {
    kinesis: {
      kinesisSchemaVersion: '1.0',
      partitionKey: record.PartitionKey ?? '',
      sequenceNumber,
      data: Buffer.from(record.Data ?? new Uint8Array()).toString('base64'),
      approximateArrivalTimestamp: (record.ApproximateArrivalTimestamp ?? new Date()).getTime() / 1000,
    },
    eventSource: 'aws:kinesis',
    eventVersion: '1.0',
    eventID: `${shardId}:${sequenceNumber}`,
    eventName: 'aws:kinesis:record',
    invokeIdentityArn: 'arn:aws:iam::000000000000:role/local-stream',
    awsRegion: LOCAL_REGION,
    eventSourceARN: stream.arn,
  };
}

/** Why a batch was given up on (the on-failure record's `requestContext.condition`). */
export type GiveUpCondition = 'RetryAttemptsExhausted' | 'RecordAgeExceeded';

/** The on-failure record Lambda sends for a Kinesis batch: its metadata, never its data. */
export function failureRecord(records: readonly KinesisStreamRecord[], shardId: string, stream: Pick<PolledStream, 'arn'>, functionId: string, condition: GiveUpCondition, invokes: number) {
  const first = records[0]!.kinesis;
  const last = records.at(-1)!.kinesis;
  const at = (seconds: number) => new Date(seconds * 1000).toISOString();
  return {
    requestContext: { requestId: crypto.randomUUID(), functionArn: `arn:aws:lambda:${LOCAL_REGION}:000000000000:function:${functionId}`, condition, approximateInvokeCount: invokes },
    responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
    version: '1.0',
    timestamp: new Date().toISOString(),
    KinesisBatchInfo: {
      shardId,
      startSequenceNumber: first.sequenceNumber,
      endSequenceNumber: last.sequenceNumber,
      approximateArrivalOfFirstRecord: at(first.approximateArrivalTimestamp),
      approximateArrivalOfLastRecord: at(last.approximateArrivalTimestamp),
      batchSize: records.length,
      streamArn: stream.arn,
    },
  };
}

/** Time between polls of a shard that had no records. */
const IDLE_POLL_MS = 100;

/** A local Kinesis event source mapping of one function on one stream. */
export class KinesisEventSource {
  private running = false;
  private loops: Promise<void>[] = [];

  constructor(
    private readonly kinesis: KinesisClient,
    private readonly sqs: SQSClient,
    private readonly stream: PolledStream,
    private readonly functionId: string,
    private readonly trigger: StreamTriggerSpec,
    private readonly invoke: Invoke,
    private readonly onError: (error: unknown) => void,
    private readonly now: () => number = Date.now,
  ) {}

  /** Starts one poller per shard, from the shards' oldest records. */
  async start(): Promise<void> {
    this.running = true;
    const shards = (await this.kinesis.send(new ListShardsCommand({ StreamName: this.stream.name }))).Shards ?? [];
    this.loops = shards.map((shard) => this.pollShard(shard.ShardId!));
  }

  /** Stops polling and waits for the batches in flight. */
  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }

  private async pollShard(shardId: string): Promise<void> {
    let iterator: string | undefined;
    while (this.running) {
      try {
        iterator ??= (await this.kinesis.send(new GetShardIteratorCommand({ StreamName: this.stream.name, ShardId: shardId, ShardIteratorType: 'TRIM_HORIZON' }))).ShardIterator;
        const got = await this.kinesis.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: this.trigger.batchSize }));
        iterator = got.NextShardIterator;
        const records = (got.Records ?? []).map((r) => toKinesisRecord(r, shardId, this.stream));
        if (records.length === 0) await new Promise((resolve) => setTimeout(resolve, IDLE_POLL_MS));
        else await this.process(records, shardId);
        if (iterator === undefined) return; // a closed shard
      } catch (error) {
        if (!this.running) return;
        this.onError(error);
        await new Promise((resolve) => setTimeout(resolve, 1_000));
      }
    }
  }

  /** Delivers a batch until every record is done or given up on; resolves when the shard may move on. */
  async process(batch: readonly KinesisStreamRecord[], shardId: string): Promise<void> {
    let remaining = [...batch];
    let retries = 0;
    let invokes = 0;
    while (remaining.length > 0) {
      const maxAgeMs = this.trigger.maxRecordAgeSeconds * 1000;
      const fresh = remaining.findIndex((r) => this.now() - r.kinesis.approximateArrivalTimestamp * 1000 <= maxAgeMs);
      const expired = fresh < 0 ? remaining.length : fresh;
      if (expired > 0) {
        await this.giveUp(remaining.slice(0, expired), shardId, 'RecordAgeExceeded', invokes);
        remaining = remaining.slice(expired);
        continue;
      }
      invokes += 1;
      const event: KinesisStreamEvent = { Records: remaining };
      let outcome: Outcome;
      try {
        outcome = { ok: true, result: await this.invoke(this.functionId, event) };
      } catch (error) {
        if (!this.running) return;
        this.onError(error);
        outcome = { ok: false };
      }
      const resume = resumeIndex(remaining, outcome);
      if (resume === remaining.length) return;
      if (!outcome.ok && this.trigger.bisectBatchOnError && remaining.length > 1) {
        const half = Math.ceil(remaining.length / 2);
        await this.process(remaining.slice(0, half), shardId);
        await this.process(remaining.slice(half), shardId);
        return;
      }
      remaining = remaining.slice(resume);
      retries += 1;
      if (retries > this.trigger.retryAttempts) {
        await this.giveUp(remaining, shardId, 'RetryAttemptsExhausted', invokes);
        return;
      }
    }
  }

  private async giveUp(records: readonly KinesisStreamRecord[], shardId: string, condition: GiveUpCondition, invokes: number): Promise<void> {
    const body = failureRecord(records, shardId, this.stream, this.functionId, condition, invokes);
    await this.sqs.send(new SendMessageCommand({ QueueUrl: this.stream.onFailureQueueUrl, MessageBody: JSON.stringify(body) }));
  }
}
