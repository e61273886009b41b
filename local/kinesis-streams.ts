/** The topology's Kinesis streams on kinesalite, created idempotently (stream scoring). */
import { CreateStreamCommand, DescribeStreamSummaryCommand, type KinesisClient } from '@aws-sdk/client-kinesis';
import type { StreamId, Topology } from '../topology/spec.js';

/** A stream's name and ARN. */
export interface ProvisionedStream {
  readonly name: string;
  readonly arn: string;
}

/** Time a created stream gets to become ACTIVE. */
const ACTIVE_TIMEOUT_MS = 10_000;

async function summary(kinesis: KinesisClient, name: string) {
  try {
    return (await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: name }))).StreamDescriptionSummary;
  } catch (error) {
    if ((error as { name?: string }).name === 'ResourceNotFoundException') return undefined;
    throw error;
  }
}

/** Creates each stream of the topology (its shard count) unless it exists, and waits until it is ACTIVE. */
export async function ensureStreams(topology: Topology, kinesis: KinesisClient): Promise<Partial<Record<StreamId, ProvisionedStream>>> {
  const streams: Partial<Record<StreamId, ProvisionedStream>> = {};
  for (const spec of topology.streams ?? []) {
    if ((await summary(kinesis, spec.localName)) === undefined) {
      await kinesis.send(new CreateStreamCommand({ StreamName: spec.localName, ShardCount: spec.shardCount }));
    }
    const deadline = Date.now() + ACTIVE_TIMEOUT_MS;
    let found = await summary(kinesis, spec.localName);
    while (found?.StreamStatus !== 'ACTIVE') {
      if (Date.now() > deadline) throw new Error(`stream ${spec.localName} is not ACTIVE after ${ACTIVE_TIMEOUT_MS} ms (${found?.StreamStatus ?? 'missing'})`);
      await new Promise((resolve) => setTimeout(resolve, 50));
      found = await summary(kinesis, spec.localName);
    }
    streams[spec.id] = { name: spec.localName, arn: found.StreamARN! };
  }
  return streams;
}
