import {
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  type Message,
  type MessageAttributeValue,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent, SQSMessageAttributes, SQSRecord } from 'aws-lambda';
import { DEFAULT_MAX_CONCURRENCY, type QueueTriggerSpec } from '../topology/spec.js';
import { LOCAL_REGION } from './emulators.js';
import type { Invoke } from './gateway.js';

/** The queue a source polls. */
export interface PolledQueue {
  readonly url: string;
  readonly arn: string;
}

function attributesOf(attributes: Record<string, MessageAttributeValue> | undefined): SQSMessageAttributes {
  const out: SQSMessageAttributes = {};
  for (const [name, value] of Object.entries(attributes ?? {})) {
    out[name] = {
      dataType: value.DataType ?? 'String',
      stringListValues: [],
      binaryListValues: [],
      ...(value.StringValue === undefined ? {} : { stringValue: value.StringValue }),
      ...(value.BinaryValue === undefined ? {} : { binaryValue: Buffer.from(value.BinaryValue).toString('base64') }),
    };
  }
  return out;
}

/** An SQS message as Lambda's event source mapping presents it. */
export function toSqsRecord(message: Message, queue: PolledQueue): SQSRecord {
  const a = message.Attributes ?? {};
  return {
    messageId: message.MessageId ?? '',
    receiptHandle: message.ReceiptHandle ?? '',
    body: message.Body ?? '',
    attributes: {
      ApproximateReceiveCount: a.ApproximateReceiveCount ?? '1',
      SentTimestamp: a.SentTimestamp ?? String(Date.now()),
      SenderId: a.SenderId ?? 'local',
      ApproximateFirstReceiveTimestamp: a.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
    },
    messageAttributes: attributesOf(message.MessageAttributes),
    md5OfBody: message.MD5OfBody ?? '',
    eventSource: 'aws:sqs',
    eventSourceARN: queue.arn,
    awsRegion: LOCAL_REGION,
  };
}

/**
 * Which messages of a batch to delete after an invocation: all when it succeeded,
 * all but the reported `batchItemFailures` with partial batch responses, none when
 * it failed or reported an identifier that is not a message of the batch (they return after the visibility timeout; the redrive policy moves
 * them to the DLQ after `maxReceiveCount` receives).
 */
export function messagesToDelete(records: readonly SQSRecord[], outcome: { ok: true; result: unknown } | { ok: false }, reportBatchItemFailures: boolean): SQSRecord[] {
  if (!outcome.ok) return [];
  if (!reportBatchItemFailures) return [...records];
  const failures = (outcome.result as SQSBatchResponse | undefined)?.batchItemFailures;
  if (!Array.isArray(failures)) return [...records];
  const ids = new Set(records.map((r) => r.messageId));
  // Lambda treats an empty, null or unknown itemIdentifier as a failure of the whole batch.
  if (failures.some((f) => typeof f?.itemIdentifier !== 'string' || !ids.has(f.itemIdentifier))) return [];
  const failed = new Set(failures.map((f) => f.itemIdentifier));
  return records.filter((r) => !failed.has(r.messageId));
}

/**
 * A local event source mapping: long-polls a queue and invokes a function with
 * batches, with Lambda's semantics for batch size, visibility timeout, partial
 * batch responses and redrive to the DLQ, and up to the trigger's `maxConcurrency`
 * batches at once (Lambda's `MaximumConcurrency`, the stack's default when it has none).
 */
export class SqsEventSource {
  private running = false;
  private loops: Promise<void>[] = [];
  private readonly abort = new AbortController();

  constructor(
    private readonly sqs: SQSClient,
    private readonly queue: PolledQueue,
    private readonly functionId: string,
    private readonly trigger: QueueTriggerSpec,
    private readonly invoke: Invoke,
    private readonly onError: (error: unknown) => void,
  ) {}

  /** Starts polling: one poller per concurrent batch. */
  start(): void {
    this.running = true;
    this.loops = Array.from({ length: this.trigger.maxConcurrency ?? DEFAULT_MAX_CONCURRENCY }, () => this.poll());
  }

  /** Stops polling and waits for the batches in flight. */
  async stop(): Promise<void> {
    this.running = false;
    this.abort.abort();
    await Promise.all(this.loops);
  }

  /** Receives one batch and processes it; resolves with the number of messages received. */
  async pollOnce(waitSeconds: number): Promise<number> {
    const received = await this.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: this.queue.url,
        MaxNumberOfMessages: Math.min(this.trigger.batchSize, 10),
        WaitTimeSeconds: waitSeconds,
        MessageSystemAttributeNames: ['All'],
        // local-aws-sqs reads only the older parameter; AWS accepts both.
        AttributeNames: ['All'],
        MessageAttributeNames: ['All'],
      }),
      { abortSignal: this.abort.signal },
    );
    const messages = received.Messages ?? [];
    if (messages.length === 0) return 0;
    const records = messages.map((m) => toSqsRecord(m, this.queue));
    const event: SQSEvent = { Records: records };
    let outcome: { ok: true; result: unknown } | { ok: false };
    try {
      outcome = { ok: true, result: await this.invoke(this.functionId, event) };
    } catch (error) {
      // A batch cut short by stopping is no failure worth reporting: its messages come back.
      if (!this.abort.signal.aborted) this.onError(error);
      outcome = { ok: false };
    }
    const done = messagesToDelete(records, outcome, this.trigger.reportBatchItemFailures);
    if (done.length > 0) {
      await this.sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: this.queue.url,
          Entries: done.map((r, i) => ({ Id: String(i), ReceiptHandle: r.receiptHandle })),
        }),
      );
    }
    return messages.length;
  }

  private async poll(): Promise<void> {
    while (this.running) {
      try {
        await this.pollOnce(1);
      } catch (error) {
        if (!this.running) return;
        this.onError(error);
        await new Promise((resolve) => setTimeout(resolve, 1_000));
      }
    }
  }
}
