import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestEmulators, type TestEmulators } from '../../test/support/emulators.js';
import { DependencyUnavailableError, InvalidRequestError } from '../errors.js';
import type { Serving } from '../inference/serving.js';
import { RegistryTable } from '../storage/table.js';
import type { AsyncInferenceEvent } from './async-events.js';
import { expiresAtFor } from './async-request.js';
import { AsyncRequestStore } from './async-store.js';
import { runAsyncRequest, type RunAsyncDeps } from './run-async-request.js';

let env: TestEmulators;
let store: AsyncRequestStore;
let n = 0;
const events: AsyncInferenceEvent[] = [];
const IRIS = { inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 1], data: [1] }] };

/** A served answer from version 2, or `failure` thrown. */
const serving = (failure?: Error): Serving =>
  ({
    infer: async (target: { routingKey?: string }) => {
      if (failure !== undefined) throw failure;
      return { model: { version: { version: 2 }, backend: 'lambda' }, body: { model_name: 'iris', model_version: '2', outputs: [{ name: 'y', datatype: 'FP32', shape: [1], data: [target.routingKey === 'user-7' ? 7 : 0] }] } };
    },
  }) as unknown as Serving;

const deps = (failure?: Error): RunAsyncDeps => ({
  store,
  serving: serving(failure),
  s3: env.s3,
  lakeBucket: env.resources.bucketName,
  events: { publish: async (event) => void events.push(event) },
  maxReceives: 3,
});

/** A queued request with an inline JSON input. */
async function queued(): Promise<string> {
  const id = `00000000-0000-4000-8000-${String(++n).padStart(12, '0')}`;
  const key = `predictions/async/inputs/${id}`;
  await env.s3.send(new PutObjectCommand({ Bucket: env.resources.bucketName, Key: key, Body: JSON.stringify(IRIS) }));
  await store.create({ id, status: 'queued', model: 'iris', routingKey: 'user-7', input: { key, sizeBytes: 1 }, createdAt: new Date().toISOString(), attempts: 0, expiresAt: expiresAtFor(Date.now()) });
  return id;
}

beforeAll(async () => {
  env = await startTestEmulators();
  store = new AsyncRequestStore(new RegistryTable(env.dynamo, env.resources.tableName));
});
afterAll(async () => env.stop());

describe('runAsyncRequest', () => {
  it('serves with the request’s routing key, writes the result, ends succeeded and announces it', async () => {
    const id = await queued();
    expect(await runAsyncRequest(deps(), id, 1)).toEqual({ kind: 'succeeded' });
    expect(await store.get(id)).toMatchObject({ status: 'succeeded', attempts: 1, answeredBy: { version: 2, backend: 'lambda' }, result: { key: `predictions/async/results/${id}`, contentType: 'application/json' } });
    const result = await env.s3.send(new GetObjectCommand({ Bucket: env.resources.bucketName, Key: `predictions/async/results/${id}` }));
    // The fake answers 7 only for the request's own routing key: sticky across attempts.
    expect(JSON.parse(await result.Body!.transformToString())).toMatchObject({ model_version: '2', outputs: [{ data: [7] }] });
    expect(events.at(-1)).toMatchObject({ type: 'AsyncInferenceSucceeded', requestId: id, version: 2 });
    expect(await runAsyncRequest(deps(), id, 2)).toEqual({ kind: 'duplicate' });
  });

  it('ends a refused request as failed at once, without a dead letter', async () => {
    const id = await queued();
    const outcome = await runAsyncRequest(deps(new InvalidRequestError('unknown input')), id, 1);
    expect(outcome).toEqual({ kind: 'failed', reason: 'unknown input', deadLetter: false });
    expect(await store.get(id)).toMatchObject({ status: 'failed', error: 'unknown input' });
    expect(events.at(-1)).toMatchObject({ type: 'AsyncInferenceFailed', requestId: id, reason: 'unknown input' });
  });

  it('retries a transient failure with its reason recorded, and ends it at the last receive for the DLQ', async () => {
    const id = await queued();
    const unavailable = new DependencyUnavailableError('model artifact store', 1);
    expect((await runAsyncRequest(deps(unavailable), id, 1)).kind).toBe('retry');
    expect(await store.get(id)).toMatchObject({ status: 'running', lastError: 'model artifact store is temporarily unavailable; retry after 1 s' });
    expect((await runAsyncRequest(deps(unavailable), id, 2)).kind).toBe('retry');
    const last = await runAsyncRequest(deps(unavailable), id, 3);
    expect(last).toMatchObject({ kind: 'failed', deadLetter: true });
    expect(await store.get(id)).toMatchObject({ status: 'failed', attempts: 3, error: 'failed 3 times; last failure: model artifact store is temporarily unavailable; retry after 1 s' });
  });
});
