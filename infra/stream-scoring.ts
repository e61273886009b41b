/**
 * Stream scoring: the topology's Kinesis Data Streams (encrypted with the AWS managed key) and
 * the Kinesis event sources of the functions that score them, with Lambda's semantics from the
 * topology's stream triggers: batch size, partial batch responses, bisect on error, retry limit,
 * maximum record age, and the metadata of batches given up on sent to an SQS queue.
 */
import { Duration } from 'aws-cdk-lib';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { KinesisEventSource, SqsDlq } from 'aws-cdk-lib/aws-lambda-event-sources';
import { Construct } from 'constructs';
import type { StreamId, StreamSpec, StreamTriggerSpec } from '../topology/spec.js';
import type { JobQueue } from './job-queue.js';
import { pascalCase } from './names.js';
import type { PlatformFunction } from './platform-function.js';
import { assertIntegerInRange } from './validation.js';

/** Kinesis and Lambda limits of a stream and its event source. */
const LIMITS = { batchSize: [1, 10_000], retryAttempts: [0, 10_000], maxRecordAgeSeconds: [60, 604_800], retentionHours: [24, 8_760], shardCount: [1, 500] } as const;

/** Properties of {@link ScoringStreams}. */
export interface ScoringStreamsProps {
  /** The topology's streams. */
  readonly streams: readonly StreamSpec[];
}

/** The platform's scored Kinesis streams, by topology id. */
export class ScoringStreams extends Construct {
  /** The streams, by topology id. */
  public readonly streams: ReadonlyMap<StreamId, kinesis.Stream>;

  constructor(scope: Construct, id: string, props: ScoringStreamsProps) {
    super(scope, id);
    this.streams = new Map(
      props.streams.map((spec) => {
        const where = `${this.node.path} (stream '${spec.id}')`;
        assertIntegerInRange(`${where} shardCount`, spec.shardCount, ...LIMITS.shardCount);
        assertIntegerInRange(`${where} retentionHours`, spec.retentionHours, ...LIMITS.retentionHours);
        const stream = new kinesis.Stream(this, `${pascalCase(spec.id)}Stream`, {
          shardCount: spec.shardCount,
          retentionPeriod: Duration.hours(spec.retentionHours),
          encryption: kinesis.StreamEncryption.MANAGED,
        });
        return [spec.id, stream] as const;
      }),
    );
  }

  /**
   * Adds a function's Kinesis event sources (its `spec.streamTriggers`). The event source grants
   * the function read access to its stream (GetRecords, GetShardIterator, DescribeStream,
   * ListShards…), and send access to the on-failure queue; nothing else.
   */
  addTriggers(fn: PlatformFunction, queueFor: (queueId: string) => JobQueue): void {
    for (const trigger of fn.spec.streamTriggers ?? []) {
      const where = `${fn.node.path} streamTriggers['${trigger.stream}']`;
      const stream = this.streams.get(trigger.stream);
      if (stream === undefined) throw new Error(`${where} names no stream of the topology; streams: [${[...this.streams.keys()].join(', ')}]`);
      fn.function.addEventSource(new KinesisEventSource(stream, eventSourceProps(where, trigger, queueFor(trigger.onFailure))));
    }
  }
}

/** A trigger's event source settings, validated against Lambda's limits. */
function eventSourceProps(where: string, trigger: StreamTriggerSpec, onFailure: JobQueue) {
  assertIntegerInRange(`${where}.batchSize`, trigger.batchSize, ...LIMITS.batchSize);
  assertIntegerInRange(`${where}.retryAttempts`, trigger.retryAttempts, ...LIMITS.retryAttempts);
  assertIntegerInRange(`${where}.maxRecordAgeSeconds`, trigger.maxRecordAgeSeconds, ...LIMITS.maxRecordAgeSeconds);
  return {
    startingPosition: lambda.StartingPosition.TRIM_HORIZON,
    batchSize: trigger.batchSize,
    bisectBatchOnError: trigger.bisectBatchOnError,
    retryAttempts: trigger.retryAttempts,
    maxRecordAge: Duration.seconds(trigger.maxRecordAgeSeconds),
    // The function reports the first record it could not score; Lambda resumes the shard there.
    reportBatchItemFailures: true,
    onFailure: new SqsDlq(onFailure.queue),
  };
}
