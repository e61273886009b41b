import { PutObjectCommand } from '@aws-sdk/client-s3';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { apiEvent } from '../../test/support/api-event.js';
import { startTestEmulators, type TestEmulators } from '../../test/support/emulators.js';
import { RegistryTable } from '../storage/table.js';
import { createAsyncApi, INLINE_RESULT_MAX_BYTES, type AsyncApi } from './async-routes.js';
import { ASYNC_RETENTION_MS } from './async-request.js';
import { AsyncRequestStore } from './async-store.js';

let env: TestEmulators;
let api: AsyncApi;
let store: AsyncRequestStore;
let clock = Date.parse('2026-12-04T10:00:00Z');
const sent: string[] = [];
const IRIS = { inputs: [{ name: 'sepal_length', datatype: 'FP32', shape: [1, 1], data: [5.1] }] };

const submit = (headers: Record<string, string> = {}, body: unknown = IRIS) =>
  api.submit(apiEvent({ method: 'POST', resource: '/v2/models/{name}/infer', pathParameters: { name: 'iris' }, headers: { prefer: 'respond-async', ...headers }, body }), { model: 'iris' }, () => {});
const status = (id: string) => api.routes['GET /v2/async/{id}']!(apiEvent({ method: 'GET', resource: '/v2/async/{id}', pathParameters: { id } }));

/** Submits, and ends the request with a result of `bytes` of `contentType`. */
async function succeeded(bytes: Buffer, contentType: string): Promise<string> {
  const { id } = JSON.parse((await submit()).body) as { id: string };
  const key = `predictions/async/results/${id}`;
  await env.s3.send(new PutObjectCommand({ Bucket: env.resources.bucketName, Key: key, Body: bytes }));
  await store.claim(id);
  await store.succeed(id, { version: 1, backend: 'lambda' }, { key, sizeBytes: bytes.length, contentType });
  return id;
}

beforeAll(async () => {
  env = await startTestEmulators();
  store = new AsyncRequestStore(new RegistryTable(env.dynamo, env.resources.tableName), () => new Date(clock));
  api = createAsyncApi({
    store,
    s3: env.s3,
    lakeBucket: env.resources.bucketName,
    queue: async (id) => void sent.push(id),
    signPut: async (key) => `https://signed.example/put/${key}`,
    signGet: async (key) => `https://signed.example/get/${key}`,
    now: () => clock,
  });
});
afterAll(async () => env.stop());
beforeEach(() => {
  sent.length = 0;
});

describe('async routes', () => {
  it('answers 202 with Location and Preference-Applied, and queues a pointer to the request', async () => {
    const response = await submit({ 'x-routing-key': 'user-7' });
    const body = JSON.parse(response.body) as { id: string; status: string; location: string };
    expect(response.statusCode).toBe(202);
    expect(response.headers).toMatchObject({ location: `/v2/async/${body.id}`, 'preference-applied': 'respond-async' });
    expect(body).toMatchObject({ status: 'queued', model: 'iris', location: `/v2/async/${body.id}` });
    expect(sent).toEqual([body.id]);
    expect(await store.get(body.id)).toMatchObject({ routingKey: 'user-7', input: { key: `predictions/async/inputs/${body.id}` } });
  });

  it('keeps the request id as the routing key when the caller sends none (sticky across retries)', async () => {
    const { id } = JSON.parse((await submit()).body) as { id: string };
    expect((await store.get(id))?.routingKey).toBe(id);
  });

  it('queues an idempotent resubmission once', async () => {
    const first = JSON.parse((await submit({ 'idempotency-key': 'r-1' })).body) as { id: string };
    const again = JSON.parse((await submit({ 'idempotency-key': 'r-1' })).body) as { id: string };
    expect(again.id).toBe(first.id);
    expect(sent).toEqual([first.id]);
  });

  it.each([
    ['empty', ''],
    ['too long', 'k'.repeat(256)],
    ['with a space', 'my key'],
  ])('refuses an Idempotency-Key that is %s, queueing nothing', async (_, key) => {
    await expect(submit({ 'idempotency-key': key })).rejects.toThrow(/idempotency-key must be 1-255 visible ASCII characters/);
    expect(sent).toEqual([]);
  });

  it('quotes a non-ASCII Idempotency-Key as the client wrote it (header bytes arrive as Latin-1)', async () => {
    await expect(submit({ 'idempotency-key': Buffer.from('clé', 'utf8').toString('latin1') })).rejects.toThrow("idempotency-key must be 1-255 visible ASCII characters (a UUID, say), got 'clé'");
  });

  it('carries a JSON result of up to 256 KB inline, and links a larger or binary one', async () => {
    // Prepare
    const small = Buffer.from(JSON.stringify({ outputs: [{ name: 'y', data: 'x'.repeat(INLINE_RESULT_MAX_BYTES - 40) }] }));
    const large = Buffer.from(JSON.stringify({ outputs: [{ name: 'y', data: 'x'.repeat(INLINE_RESULT_MAX_BYTES) }] }));
    expect(small.length).toBeLessThanOrEqual(INLINE_RESULT_MAX_BYTES);
    // Act
    const inline = JSON.parse((await status(await succeeded(small, 'application/json'))).body) as Record<string, unknown>;
    const linked = JSON.parse((await status(await succeeded(large, 'application/json'))).body) as Record<string, unknown>;
    const binary = JSON.parse((await status(await succeeded(Buffer.from([1, 2, 3]), 'application/octet-stream'))).body) as Record<string, unknown>;
    // Assess
    expect(inline).toMatchObject({ status: 'succeeded', modelVersion: '1', backend: 'lambda', result: { outputs: [{ name: 'y' }] } });
    expect(inline['resultUrl']).toBeUndefined();
    expect(linked['result']).toBeUndefined();
    expect(linked['resultUrl']).toMatch(/^https:\/\/signed\.example\/get\/predictions\/async\/results\//);
    expect(binary).toMatchObject({ resultContentType: 'application/octet-stream', resultSizeBytes: 3 });
    expect(binary['resultUrl']).toBeDefined();
  });

  it('shows a request past its retention as expired, without its result', async () => {
    const id = await succeeded(Buffer.from('{}'), 'application/json');
    clock += ASYNC_RETENTION_MS;
    try {
      const body = JSON.parse((await status(id)).body) as Record<string, unknown>;
      expect(body['status']).toBe('expired');
      expect(body['result']).toBeUndefined();
    } finally {
      clock -= ASYNC_RETENTION_MS;
    }
  });

  it('signs an upload URL for a fresh key under the upload prefix, with its reference and limit', async () => {
    const response = await api.routes['POST /v2/async/uploads']!(apiEvent({ method: 'POST', resource: '/v2/async/uploads' }));
    const body = JSON.parse(response.body) as { uploadUrl: string; inputRef: string; maxBytes: number };
    expect(response.statusCode).toBe(201);
    expect(body.uploadUrl).toMatch(/^https:\/\/signed\.example\/put\/predictions\/async\/uploads\/[0-9a-f-]{36}$/);
    expect(body.inputRef).toBe(`s3://${env.resources.bucketName}/${body.uploadUrl.slice('https://signed.example/put/'.length)}`);
    expect(body.maxBytes).toBe(1024 ** 3);
  });

  describe('an input uploaded beforehand', () => {
    const uploaded = async (bytes: Buffer) => {
      const key = `predictions/async/uploads/${randomUUID()}`;
      await env.s3.send(new PutObjectCommand({ Bucket: env.resources.bucketName, Key: key, Body: bytes }));
      return `s3://${env.resources.bucketName}/${key}`;
    };
    const submitUploaded = (ref: string, headers: Record<string, string>) =>
      api.submit(apiEvent({ method: 'POST', resource: '/v2/models/{name}/infer', pathParameters: { name: 'iris' }, headers: { prefer: 'respond-async', 'x-input-location': ref, ...headers } }), { model: 'iris' }, () => {});

    it.each([
      ['compressed', { 'content-type': 'application/json', 'content-encoding': 'gzip' }, /Content-Encoding 'gzip' is not supported/],
      ['described as CSV', { 'content-type': 'text/csv' }, /content-type must describe the uploaded input/],
      ['with a negative header length', { 'content-type': 'application/octet-stream', 'inference-header-content-length': '-5' }, /must be a number of bytes/],
      ['with a header length beyond the object', { 'content-type': 'application/octet-stream', 'inference-header-content-length': '99' }, /the body has only 4 bytes/],
    ])('is refused at submission when %s, queueing nothing', async (_, headers, message) => {
      await expect(submitUploaded(await uploaded(Buffer.from('{}  ')), headers)).rejects.toThrow(message);
      expect(sent).toEqual([]);
    });

    it.each([
      ['declared JSON in another charset', { 'content-type': 'application/json; charset=iso-8859-1' }, "charset 'iso-8859-1' is not supported; send an uploaded input as UTF-8"],
    ])('is refused with 415 at submission when %s, as an inline body would be', async (_, headers, message) => {
      await expect(submitUploaded(await uploaded(Buffer.from('{}')), headers)).rejects.toMatchObject({ statusCode: 415, message: expect.stringContaining(message) });
      expect(sent).toEqual([]);
    });

    it.each([
      ['in another charset', { ContentType: 'application/json; charset=iso-8859-1' }, "charset 'iso-8859-1' is not supported; send the upload (the PUT to its uploadUrl) as UTF-8"],
      ['compressed', { ContentEncoding: 'gzip' }, "Content-Encoding 'gzip' is not supported; send the upload (the PUT to its uploadUrl) uncompressed"],
    ])('is refused with 415 at submission when it was uploaded %s', async (_, metadata, message) => {
      const key = `predictions/async/uploads/${randomUUID()}`;
      await env.s3.send(new PutObjectCommand({ Bucket: env.resources.bucketName, Key: key, Body: '{}', ...metadata }));
      await expect(submitUploaded(`s3://${env.resources.bucketName}/${key}`, { 'content-type': 'application/json' })).rejects.toMatchObject({ statusCode: 415, message: expect.stringContaining(message) });
      expect(sent).toEqual([]);
    });

    it('is pinned to its ETag, and an Idempotency-Key resubmission after the upload changed is another request (409), not the old one', async () => {
      // Prepare
      const ref = await uploaded(Buffer.from(JSON.stringify(IRIS)));
      const headers = { 'content-type': 'application/json', 'idempotency-key': `up-${randomUUID()}` };
      const first = JSON.parse((await submitUploaded(ref, headers)).body) as { id: string };
      const again = JSON.parse((await submitUploaded(ref, headers)).body) as { id: string };
      await env.s3.send(new PutObjectCommand({ Bucket: env.resources.bucketName, Key: ref.slice(`s3://${env.resources.bucketName}/`.length), Body: '{"inputs":[]}' }));

      // Act, Assess
      await expect(submitUploaded(ref, headers)).rejects.toMatchObject({ kind: 'conflict', message: expect.stringContaining('was already used for a different async request') });
      expect(again.id).toBe(first.id);
      expect((await store.get(first.id))?.input.etag).toMatch(/^"[0-9a-f]{32}"$/);
    });

    it('is refused at submission when empty', async () => {
      await expect(submitUploaded(await uploaded(Buffer.alloc(0)), { 'content-type': 'application/json' })).rejects.toThrow(/is empty/);
      expect(sent).toEqual([]);
    });
  });
});
