import { DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestEmulators, type TestEmulators } from '../../test/support/emulators.js';
import { DependencyUnavailableError, InvalidRequestError } from '../errors.js';
import type { ServedModel } from '../inference/backend.js';
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

/** Answers with version 2; or `failure` thrown before any version takes the request, or (`failsIn: 'run'`) by version 2. */
const serving = (failure?: Error, failsIn: 'resolve' | 'run' = 'resolve'): Serving =>
  ({
    serve: async (target: { routingKey?: string }, _protocol: unknown, _request: unknown, answer: (model: ServedModel) => Promise<unknown>) => {
      if (failure !== undefined && failsIn === 'resolve') throw failure;
      const model = {
        version: { model: 'iris', version: 2 },
        backend: 'lambda',
        run: async () => {
          if (failure !== undefined) throw failure;
          return [{ name: 'y', datatype: 'FP32', shape: [1], data: [target.routingKey === 'user-7' ? 7 : 0] }];
        },
      } as unknown as ServedModel;
      return { model, body: await answer(model) };
    },
  }) as unknown as Serving;

const deps = (failure?: Error, failsIn?: 'resolve' | 'run'): RunAsyncDeps => ({
  store,
  serving: serving(failure, failsIn),
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

/** A queued request whose input was uploaded (`body`), pinned to the upload's ETag as submission pins it. */
async function queuedUpload(body: string): Promise<{ id: string; key: string; etag: string }> {
  const id = `00000000-0000-4000-8000-${String(++n).padStart(12, '0')}`;
  const key = `predictions/async/uploads/${id}`;
  const { ETag } = await env.s3.send(new PutObjectCommand({ Bucket: env.resources.bucketName, Key: key, Body: body }));
  const input = { key, sizeBytes: Buffer.byteLength(body), etag: ETag!, contentType: 'application/json' };
  await store.create({ id, status: 'queued', model: 'iris', routingKey: 'user-7', input, createdAt: new Date().toISOString(), attempts: 0, expiresAt: expiresAtFor(Date.now()) });
  return { id, key, etag: ETag! };
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

  it('names the version a request failed on in the failed request', async () => {
    const id = await queued();
    const outcome = await runAsyncRequest(deps(new InvalidRequestError('input x: expected shape [1, 4]'), 'run'), id, 1);
    expect(outcome).toMatchObject({ kind: 'failed', deadLetter: false });
    expect(await store.get(id)).toMatchObject({ status: 'failed', answeredBy: { version: 2, backend: 'lambda' } });
    expect(events.at(-1)).toMatchObject({ type: 'AsyncInferenceFailed', requestId: id, version: 2 });
  });

  it('serves an uploaded input that is still the object it was accepted with', async () => {
    const { id } = await queuedUpload(JSON.stringify(IRIS));
    expect(await runAsyncRequest(deps(), id, 1)).toEqual({ kind: 'succeeded' });
  });

  it('refuses at once an uploaded input replaced after the request was accepted, naming both ETags', async () => {
    // Prepare: the presigned URL is still valid after the 202, and the same key is uploaded again.
    const { id, key, etag } = await queuedUpload(JSON.stringify(IRIS));
    const { ETag: now } = await env.s3.send(new PutObjectCommand({ Bucket: env.resources.bucketName, Key: key, Body: JSON.stringify({ inputs: [] }) }));

    // Act
    const outcome = await runAsyncRequest(deps(), id, 1);

    // Assess: a refusal (not retried), whatever the store does with If-Match.
    const reason = `the uploaded input changed after the request was accepted (ETag ${etag}, now ${now}); upload it again and resubmit`;
    expect(outcome).toEqual({ kind: 'failed', reason, deadLetter: false });
    expect(await store.get(id)).toMatchObject({ status: 'failed', error: reason });
  });

  it('refuses an uploaded input S3 answers 412 for (If-Match on the pinned ETag), naming the ETag it has now', async () => {
    // Prepare: s3rver ignores If-Match; S3 answers PreconditionFailed (a fault only a mock produces here).
    const { id, etag } = await queuedUpload(JSON.stringify(IRIS));
    const s3 = new S3Client({ region: 'us-east-1' });
    const mocked = mockClient(s3);
    const preconditionFailed = Object.assign(new Error('At least one of the pre-conditions you specified did not hold'), { name: 'PreconditionFailed', $metadata: { httpStatusCode: 412 } });
    mocked.on(GetObjectCommand).rejects(preconditionFailed);
    mocked.on(HeadObjectCommand).resolves({ ETag: '"0123"' });

    // Act
    const outcome = await runAsyncRequest({ ...deps(), s3 }, id, 1);

    // Assess
    expect(mocked.commandCalls(GetObjectCommand)[0]!.args[0].input).toMatchObject({ IfMatch: etag });
    expect(outcome).toMatchObject({ kind: 'failed', reason: `the uploaded input changed after the request was accepted (ETag ${etag}, now "0123"); upload it again and resubmit`, deadLetter: false });
  });

  it.each([
    ['was replaced meanwhile: refused at once, naming the change', '"0123"', { kind: 'failed', deadLetter: false }, /^the uploaded input changed after the request was accepted/],
    ['is unchanged: retried, the reason naming the cause', undefined, { kind: 'retry' }, /^lake is temporarily unavailable; retry after 1 s \(Error: aborted\)$/],
  ])('tells a read cut short because its upload %s', async (_, etagNow, expected, reason) => {
    // Prepare: s3rver rewrites an object in place, so a GET during a PUT to the same key is cut
    // short (ECONNRESET "aborted", a transient failure); the store's current ETag tells why.
    const { id, etag } = await queuedUpload(JSON.stringify(IRIS));
    const s3 = new S3Client({ region: 'us-east-1' });
    const mocked = mockClient(s3);
    mocked.on(GetObjectCommand).rejects(Object.assign(new Error('aborted'), { code: 'ECONNRESET' }));
    mocked.on(HeadObjectCommand).resolves({ ETag: etagNow ?? etag });

    // Act
    const outcome = await runAsyncRequest({ ...deps(), s3 }, id, 1);

    // Assess
    expect(outcome).toMatchObject(expected);
    const stored = await store.get(id);
    expect(stored?.error ?? stored?.lastError).toMatch(reason);
  });

  it('refuses an uploaded input deleted after the request was accepted the same way', async () => {
    const { id, key } = await queuedUpload(JSON.stringify(IRIS));
    await env.s3.send(new DeleteObjectCommand({ Bucket: env.resources.bucketName, Key: key }));
    expect(await runAsyncRequest(deps(), id, 1)).toMatchObject({ kind: 'failed', reason: expect.stringMatching(/changed after the request was accepted \(ETag "[0-9a-f]+", now deleted\)/), deadLetter: false });
  });

  it('refuses a JSON input that starts with a byte-order mark, as an inline JSON body with one', async () => {
    const { id } = await queuedUpload(`\uFEFF${JSON.stringify(IRIS)}`);
    expect(await runAsyncRequest(deps(), id, 1)).toMatchObject({ kind: 'failed', reason: expect.stringMatching(/^the request's input starts with a byte-order mark \(U\+FEFF\)/) });
  });

  it('records what caused a transient failure, not only that the dependency was unavailable', async () => {
    const id = await queued();
    const reset = Object.assign(new Error('socket hang up'), { name: 'Error', code: 'ECONNRESET' });
    expect((await runAsyncRequest(deps(new DependencyUnavailableError('lake', 1, reset)), id, 1)).kind).toBe('retry');
    expect((await store.get(id))?.lastError).toBe('lake is temporarily unavailable; retry after 1 s (Error: socket hang up)');
  });
});
