import { describe, expect, it, vi } from 'vitest';
import { DependencyUnavailableError, InvalidRequestError } from '../errors.js';
import type { Serving } from '../inference/serving.js';
import { microBatchKey, routedVariant, scoreBatch } from './score-batch.js';

/** Every key its own variant (a split alias with one key per variant). */
const byKey = async (key: string) => key;

const scoring = { model: 'fraud', alias: 'prod', threshold: { output: 'p', index: 1, above: 0.9 } };
const record = (seq: string, key: string, value: unknown) => ({ partitionKey: key, sequenceNumber: seq, data: Buffer.from(JSON.stringify(value)).toString('base64') });

/** A serving that answers each instance `{p: [1 - x, x]}`, refuses a negative `x` and fails for the keys in `down`. */
function fakeServing(down: readonly string[] = []) {
  const predict = vi.fn<Serving['predict']>(async (target, body) => {
    if (down.includes(target.routingKey!)) throw new DependencyUnavailableError('the registry', 1);
    const instances = (body as { instances: { x: number }[] }).instances;
    if (instances.some((i) => i.x < 0)) throw new InvalidRequestError('x must not be negative');
    return { model: { version: { model: target.model, version: 3 } }, body: { model_name: target.model, model_version: '3', predictions: instances.map((i) => ({ p: [1 - i.x, i.x] })) } } as never;
  });
  return { predict };
}

describe('scoreBatch', () => {
  it('scores each partition key in one model call through the alias, routed by the key, in shard order, and marks scores above the threshold', async () => {
    // Prepare
    const serving = fakeServing();
    const batch = [record('1', 'a', { id: 't1', features: { x: 0.1 } }), record('2', 'b', { id: 't2', features: { x: 0.95 } }), record('3', 'a', { id: 't3', features: { x: 0.2 } })];

    // Act
    const scored = await scoreBatch(serving, scoring, batch, byKey);

    // Assess
    expect(serving.predict).toHaveBeenCalledTimes(2);
    expect(serving.predict.mock.calls[0]![0]).toMatchObject({ model: 'fraud', version: 'prod', routingKey: 'a' });
    expect(serving.predict.mock.calls[0]![1]).toEqual({ instances: [{ x: 0.1 }, { x: 0.2 }] });
    expect(scored.failedAt).toBeUndefined();
    expect(scored.lines.map((l) => l.id)).toEqual(['t1', 't2', 't3']);
    expect(scored.lines[1]).toEqual({ id: 't2', key: 'b', sequenceNumber: '2', model: 'fraud', version: '3', prediction: { p: [0.050000000000000044, 0.95] }, score: 0.95 });
    expect(scored.lines[0]).not.toHaveProperty('score');
  });

  it('rejects a bad record alone (undecodable, or refused by the model) with its reason, and scores the rest of its key', async () => {
    // Prepare
    const serving = fakeServing();
    const batch = [record('1', 'a', { features: { x: 0.3 } }), record('2', 'a', { features: { x: -1 } }), { partitionKey: 'a', sequenceNumber: '3', data: Buffer.from('nope').toString('base64') }];

    // Act
    const scored = await scoreBatch(serving, scoring, batch, byKey);

    // Assess
    expect(scored.failedAt).toBeUndefined();
    expect(scored.lines).toMatchObject([{ sequenceNumber: '1', version: '3' }, { sequenceNumber: '2', error: 'x must not be negative' }, { sequenceNumber: '3', error: expect.stringMatching(/not JSON/) }]);
  });

  it('stops at the first record a failure leaves unscored: only the records before it are kept, so a retry from it duplicates nothing', async () => {
    // Prepare
    const serving = fakeServing(['b']);
    const batch = [record('1', 'a', { features: { x: 0.1 } }), record('2', 'b', { features: { x: 0.2 } }), record('3', 'a', { features: { x: 0.3 } })];

    // Act
    const scored = await scoreBatch(serving, scoring, batch, byKey);

    // Assess
    expect(scored.failedAt).toBe('2');
    expect(scored.lines.map((l) => l.sequenceNumber)).toEqual(['1']);
  });
});

describe('scoreBatch with routedVariant', () => {
  it('makes one model call for the keys the alias routes to one version, and one per version of a split', async () => {
    // Prepare: keys 'a' and 'c' go to v3, 'b' to v4.
    const serving = fakeServing();
    const resolve = vi.fn(async (_model: string, _selector: unknown, key?: string) => ({ version: { version: key === 'b' ? 4 : 3 } }) as never);
    const batch = [record('1', 'a', { features: { x: 0.1 } }), record('2', 'b', { features: { x: 0.2 } }), record('3', 'c', { features: { x: 0.3 } })];

    // Act
    const scored = await scoreBatch(serving, scoring, batch, routedVariant({ resolve }, scoring));

    // Assess
    expect(serving.predict).toHaveBeenCalledTimes(2);
    expect(serving.predict.mock.calls[0]![1]).toEqual({ instances: [{ x: 0.1 }, { x: 0.3 }] });
    expect(scored.lines.map((l) => l.sequenceNumber)).toEqual(['1', '2', '3']);
  });

  it('lets a key whose routing cannot be read form its own group', async () => {
    const variant = routedVariant({ resolve: async () => Promise.reject(new Error('throttled')) }, scoring);
    expect(await variant('k')).toBe('key:k');
  });
});

describe('microBatchKey', () => {
  it('names the model, the shard and the first and last sequence numbers under predictions/stream/', () => {
    expect(microBatchKey('fraud', 'shardId-000000000001', '10', '20')).toBe('predictions/stream/fraud/shard=shardId-000000000001/10-20.jsonl');
  });
});
