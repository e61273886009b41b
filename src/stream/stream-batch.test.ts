import type { KinesisStreamEvent } from 'aws-lambda';
import { describe, expect, it, vi } from 'vitest';
import { DependencyUnavailableError } from '../errors.js';
import type { Serving } from '../inference/serving.js';
import type { PlatformEvent } from '../registry/events.js';
import { handleStreamBatch, shardOf } from './stream-batch.js';

const scoring = { model: 'fraud', alias: 'prod', threshold: { index: 1, above: 0.9 } };
const event = (...records: [seq: string, key: string, x: number][]): KinesisStreamEvent => ({
  Records: records.map(([seq, key, x]) => ({
    kinesis: { partitionKey: key, sequenceNumber: seq, data: Buffer.from(JSON.stringify({ id: `t${seq}`, features: { x } })).toString('base64'), kinesisSchemaVersion: '1.0', approximateArrivalTimestamp: 0 },
    eventID: `shardId-000000000001:${seq}`,
  })) as KinesisStreamEvent['Records'],
});

function deps(down: readonly string[] = []) {
  const objects = new Map<string, string>();
  const published: PlatformEvent[] = [];
  const predict = vi.fn<Serving['predict']>(async (target, body) => {
    if (down.includes(target.routingKey!)) throw new DependencyUnavailableError('the registry', 1);
    const instances = (body as { instances: { x: number }[] }).instances;
    return { model: { version: { model: 'fraud', version: 2 } }, body: { model_name: 'fraud', model_version: '2', predictions: instances.map((i) => [1 - i.x, i.x]) } } as never;
  });
  return {
    objects,
    published,
    deps: {
      serving: { predict, flushIfDue: async () => undefined },
      scoring,
      variantOf: async (key: string) => key,
      putObject: async (key: string, body: string) => objects.set(key, body),
      events: { publish: async (e: PlatformEvent) => void published.push(e) },
    },
  };
}

describe('handleStreamBatch', () => {
  it('writes one micro-batch named by the shard and the first and last sequence numbers, and announces the scores above the threshold', async () => {
    // Prepare
    const { deps: d, objects, published } = deps();

    // Act
    const response = await handleStreamBatch(event(['10', 'a', 0.2], ['11', 'b', 0.95]), d);

    // Assess
    expect(response).toEqual({ batchItemFailures: [] });
    expect([...objects.keys()]).toEqual(['predictions/stream/fraud/shard=shardId-000000000001/10-11.jsonl']);
    expect(objects.get('predictions/stream/fraud/shard=shardId-000000000001/10-11.jsonl')!.trim().split('\n')).toHaveLength(2);
    expect(published).toEqual([{ type: 'StreamScoreAboveThreshold', model: 'fraud', version: '2', id: 't11', key: 'b', sequenceNumber: '11', score: 0.95, above: 0.9 }]);
  });

  it('reports the first record it could not score as the checkpoint, and writes only the records before it', async () => {
    // Prepare
    const { deps: d, objects } = deps(['b']);

    // Act
    const response = await handleStreamBatch(event(['10', 'a', 0.2], ['11', 'b', 0.3], ['12', 'a', 0.4]), d);

    // Assess
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: '11' }] });
    expect([...objects.keys()]).toEqual(['predictions/stream/fraud/shard=shardId-000000000001/10-10.jsonl']);
  });
});

describe('shardOf', () => {
  it('is the part of the event id before the sequence number', () => {
    expect(shardOf('shardId-000000000001:4968')).toBe('shardId-000000000001');
  });
});
