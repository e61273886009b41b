/**
 * One invocation of the stream function: a Lambda batch of one shard is scored
 * ({@link scoreBatch}), its micro-batch written to the lake, the scores above the threshold
 * announced, and the first failed record reported as the batch's checkpoint
 * (`batchItemFailures`: Lambda resumes the shard from the lowest failed sequence number).
 */
import type { KinesisStreamBatchResponse, KinesisStreamEvent } from 'aws-lambda';
import type { EventSink, PlatformEvent } from '../registry/events.js';
import type { Serving } from '../inference/serving.js';
import type { StreamScoringSpec } from '../../topology/spec.js';
import { microBatchBody, microBatchKey, scoreBatch, type VariantOf } from './score-batch.js';
import { thresholdEvents } from './stream-events.js';

/** What a batch needs. */
export interface StreamBatchDeps {
  readonly serving: Pick<Serving, 'predict' | 'flushIfDue'>;
  readonly scoring: StreamScoringSpec;
  /** Which variant of the alias a partition key is served by (`routedVariant`). */
  readonly variantOf: VariantOf;
  /** Writes a lake object (JSON Lines). */
  readonly putObject: (key: string, body: string) => Promise<unknown>;
  readonly events: EventSink<PlatformEvent>;
}

/** The shard of a Kinesis event record, from its `eventID` (`shardId-000000000000:<sequence number>`). */
export const shardOf = (eventId: string): string => eventId.slice(0, eventId.lastIndexOf(':'));

/** Scores a batch; an empty batch is a no-op. */
export async function handleStreamBatch(event: KinesisStreamEvent, deps: StreamBatchDeps): Promise<KinesisStreamBatchResponse> {
  const records = event.Records;
  if (records.length === 0) return { batchItemFailures: [] };
  const { lines, failedAt } = await scoreBatch(deps.serving, deps.scoring, records.map((r) => r.kinesis), deps.variantOf);
  if (lines.length > 0) {
    const key = microBatchKey(deps.scoring.model, shardOf(records[0]!.eventID), lines[0]!.sequenceNumber, lines.at(-1)!.sequenceNumber);
    await deps.putObject(key, microBatchBody(lines));
    if (deps.scoring.threshold !== undefined) {
      for (const announced of thresholdEvents(lines, deps.scoring.threshold.above)) await deps.events.publish(announced);
    }
  }
  await deps.serving.flushIfDue();
  return { batchItemFailures: failedAt === undefined ? [] : [{ itemIdentifier: failedAt }] };
}
