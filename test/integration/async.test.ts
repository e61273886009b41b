/**
 * Async inference end to end on the local cloud: `Prefer: respond-async` → 202 with a Location →
 * polling the status resource → the result (inline, or a presigned link); a large binary input
 * the synchronous route refuses (413) uploaded through a presigned URL; a refusal ending as failed
 * at once; a poison request (its model cannot be served) retried, dead-lettered and failed with a
 * readable reason; idempotent resubmission. The async queue's visibility timeout and receive count
 * are shortened so redeliveries happen within the test.
 */
import { DeleteObjectCommand } from '@aws-sdk/client-s3';
import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { readFile, mkdtemp } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalCloud, type LocalCloud } from '../../local/cloud.js';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../local/emulators.js';
import { topology } from '../../topology/topology.js';
import { lakeApi } from '../support/lake-api.js';

let cloud: LocalCloud;
let api: ReturnType<typeof lakeApi>;
let sqs: SQSClient;

const quickRetries = {
  ...topology,
  queues: topology.queues.map((q) => (q.id === 'async' ? { ...q, visibilityTimeoutSeconds: 1, maxReceiveCount: 2 } : q)),
};

const IRIS = {
  inputs: [
    { name: 'sepal_length', datatype: 'FP32', shape: [1, 1], data: [5.1] },
    { name: 'sepal_width', datatype: 'FP32', shape: [1, 1], data: [3.5] },
    { name: 'petal_length', datatype: 'FP32', shape: [1, 1], data: [1.4] },
    { name: 'petal_width', datatype: 'FP32', shape: [1, 1], data: [0.2] },
  ],
};
const ASYNC = { prefer: 'respond-async' };

interface Status {
  id: string;
  status: string;
  modelVersion?: string;
  attempts: number;
  error?: string;
  result?: { model_name: string; outputs: Array<{ name: string; data: number[] }> };
  resultUrl?: string;
  resultContentType?: string;
  resultHeaderLength?: number;
}

async function register(model: string, file: string): Promise<void> {
  expect((await api.request('POST', '/models', { name: model, description: file })).status).toBe(201);
  const upload = await api.request<{ uploadUrl: string; artifactUri: string }>('POST', `/models/${model}/uploads`);
  await fetch(upload.body.uploadUrl, { method: 'PUT', body: await readFile(file) });
  expect((await api.request('POST', `/models/${model}/versions`, { artifactUri: upload.body.artifactUri })).status).toBe(201);
}

/** Polls the status resource until the request has ended (bounded). */
async function settled(location: string): Promise<Status> {
  const deadline = Date.now() + 45_000;
  for (;;) {
    const reply = await api.request<Status>('GET', location);
    expect(reply.status).toBe(200);
    if (reply.body.status !== 'queued' && reply.body.status !== 'running') return reply.body;
    if (Date.now() > deadline) throw new Error(`async request still ${reply.body.status}: ${JSON.stringify(reply.body)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const messagesIn = async (url: string) => {
  const result = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['ApproximateNumberOfMessages'] }));
  return Number(result.Attributes?.ApproximateNumberOfMessages ?? 0);
};

beforeAll(async () => {
  cloud = await startLocalCloud({ stateDir: await mkdtemp(join(tmpdir(), 'async-cloud-')), port: 0, topology: quickRetries });
  api = lakeApi(cloud);
  sqs = new SQSClient({ region: LOCAL_REGION, endpoint: cloud.endpoints.sqs, credentials: LOCAL_CREDENTIALS });
  await register('iris', 'models/iris.onnx');
  await register('vision', 'models/resnet_mini.onnx');
}, 120_000);

afterAll(async () => {
  sqs?.destroy();
  api?.s3.destroy();
  await cloud?.stop();
});

describe('async inference through the local cloud', { timeout: 90_000 }, () => {
  it('answers 202 with a Location, then the status resource carries the same answer as the synchronous route', async () => {
    // Act
    const accepted = await api.request<{ id: string; status: string; location: string }>('POST', '/v2/models/iris/versions/1/infer', IRIS, ASYNC);
    const sync = await api.request<{ outputs: unknown }>('POST', '/v2/models/iris/versions/1/infer', IRIS);
    const done = await settled(accepted.headers.get('location')!);

    // Assess
    expect(accepted.status).toBe(202);
    expect(accepted.headers.get('preference-applied')).toBe('respond-async');
    expect(accepted.body).toMatchObject({ status: 'queued', location: `/v2/async/${accepted.body.id}` });
    expect(done).toMatchObject({ id: accepted.body.id, status: 'succeeded', modelVersion: '1', attempts: 1 });
    expect(done.result?.outputs).toEqual(sync.body.outputs);
  });

  it('serves a large binary input uploaded through a presigned URL, which the synchronous route refuses with 413', async () => {
    // Prepare: 176 images of 3×64×64 FP32 (8.6 MB), as a raw binary body.
    const pixels = new Float32Array(176 * 3 * 64 * 64).map((_, i) => ((i * 7) % 256) / 255);
    const bytes = new Uint8Array(pixels.buffer);
    const binary = { 'content-type': 'application/octet-stream', accept: 'application/octet-stream', 'inference-header-content-length': '0' };
    const sync = await fetch(`${cloud.baseUrl}/v2/models/vision/versions/1/infer`, { method: 'POST', headers: { 'x-api-key': cloud.apiKey, ...binary }, body: bytes });

    // Act
    const upload = await api.request<{ uploadUrl: string; inputRef: string; maxBytes: number }>('POST', '/v2/async/uploads');
    expect((await fetch(upload.body.uploadUrl, { method: 'PUT', body: bytes })).status).toBe(200);
    const accepted = await api.request<{ id: string }>('POST', '/v2/models/vision/versions/1/infer', undefined, { ...ASYNC, ...binary, 'x-input-location': upload.body.inputRef });
    const done = await settled(`/v2/async/${accepted.body.id}`);
    const result = new Uint8Array(await (await fetch(done.resultUrl!)).arrayBuffer());

    // Assess
    expect(sync.status, await sync.text()).toBe(413);
    expect(upload.status).toBe(201);
    expect(upload.body.maxBytes).toBe(1024 ** 3);
    expect(accepted.status).toBe(202);
    expect(done).toMatchObject({ status: 'succeeded', modelVersion: '1', resultContentType: 'application/octet-stream' });
    // The answer to a raw body, as the synchronous route gives it: a JSON header, then every output as bytes (logits [176, 10] FP32).
    const header = JSON.parse(new TextDecoder().decode(result.subarray(0, done.resultHeaderLength))) as { outputs: Array<{ shape: number[] }> };
    expect(header.outputs[0]!.shape).toEqual([176, 10]);
    expect(result.length).toBe(done.resultHeaderLength! + 176 * 10 * 4);
  });

  it('refuses a reference outside its upload prefix, and one nothing was uploaded to', async () => {
    const outside = await api.request('POST', '/v2/models/iris/versions/1/infer', undefined, { ...ASYNC, 'x-input-location': `s3://${cloud.resources.bucketName}/models/iris/x.onnx` });
    const empty = await api.request('POST', '/v2/models/iris/versions/1/infer', undefined, {
      ...ASYNC,
      'x-input-location': `s3://${cloud.resources.bucketName}/predictions/async/uploads/00000000-0000-4000-8000-000000000000`,
    });
    expect([outside.status, empty.status]).toEqual([400, 400]);
    expect(outside.body['error']).toMatch(/x-input-location must be an inputRef/);
    expect(empty.body['error']).toMatch(/nothing was uploaded/);
  });

  it('ends a request the model refuses as failed at once, with the reason', async () => {
    const bad = { inputs: IRIS.inputs.map((input) => ({ ...input, shape: [1, 2], data: [1, 2] })) };
    const accepted = await api.request<{ id: string }>('POST', '/v2/models/iris/versions/1/infer', { inputs: [{ ...bad.inputs[0], name: 'nope' }, ...bad.inputs.slice(1)] }, ASYNC);
    const done = await settled(`/v2/async/${accepted.body.id}`);
    expect(done.status).toBe('failed');
    expect(done.attempts).toBe(1);
    expect(done.error).toMatch(/nope/);
    // The version was resolved before the model refused: the failed status names it.
    expect(done.modelVersion).toBe('1');
  });

  it('pins an uploaded input at submission: replaced after the 202, it never answers for the new data, and a replay under the same key is a 409', async () => {
    // Prepare: 176 images uploaded, the request accepted, then 1 image PUT to the same (still valid) URL.
    const image = 3 * 64 * 64 * 4;
    const binary = { 'content-type': 'application/octet-stream', 'inference-header-content-length': '0' };
    const upload = await api.request<{ uploadUrl: string; inputRef: string }>('POST', '/v2/async/uploads');
    expect((await fetch(upload.body.uploadUrl, { method: 'PUT', body: new Uint8Array(176 * image).fill(1) })).status).toBe(200);
    const headers = { ...ASYNC, ...binary, 'x-input-location': upload.body.inputRef, 'idempotency-key': 'pinned-1' };
    const accepted = await api.request<{ id: string }>('POST', '/v2/models/vision/versions/1/infer', undefined, headers);

    // Act
    expect((await fetch(upload.body.uploadUrl, { method: 'PUT', body: new Uint8Array(image).fill(2) })).status).toBe(200);
    const replay = await api.request<{ error: string }>('POST', '/v2/models/vision/versions/1/infer', undefined, headers);
    const done = await settled(`/v2/async/${accepted.body.id}`);

    // Assess: answered for the data it was accepted with (read before the PUT), or refused at once saying why; never for the new data.
    expect(accepted.status).toBe(202);
    expect(replay.status).toBe(409);
    expect(replay.body.error).toContain("Idempotency-Key 'pinned-1' was already used for a different async request");
    if (done.status === 'succeeded') {
      const result = new Uint8Array(await (await fetch(done.resultUrl!)).arrayBuffer());
      const header = JSON.parse(new TextDecoder().decode(result.subarray(0, done.resultHeaderLength))) as { outputs: Array<{ shape: number[] }> };
      expect(header.outputs[0]!.shape).toEqual([176, 10]);
    } else {
      expect(done, JSON.stringify(done)).toMatchObject({ status: 'failed', attempts: 1 });
      expect(done.error).toMatch(/^the uploaded input changed after the request was accepted \(ETag "[0-9a-f]+", now "[0-9a-f]+"\); upload it again and resubmit$/);
    }
  });

  it('refuses an upload described in a charset other than UTF-8 with 415, as an inline body, queueing nothing', async () => {
    const upload = await api.request<{ uploadUrl: string; inputRef: string }>('POST', '/v2/async/uploads');
    await fetch(upload.body.uploadUrl, { method: 'PUT', body: JSON.stringify(IRIS) });
    const latin1 = { 'content-type': 'application/json; charset=iso-8859-1' };
    const uploaded = await api.request<{ error: string }>('POST', '/v2/models/iris/versions/1/infer', undefined, { ...ASYNC, ...latin1, 'x-input-location': upload.body.inputRef });
    const inline = await fetch(`${cloud.baseUrl}/v2/models/iris/versions/1/infer`, { method: 'POST', headers: { 'x-api-key': cloud.apiKey, ...ASYNC, ...latin1 }, body: JSON.stringify(IRIS) });
    expect([uploaded.status, inline.status]).toEqual([415, 415]);
    expect(uploaded.body.error).toContain("charset 'iso-8859-1' is not supported");
  });

  it('answers x-input-location without Prefer: respond-async with a 400 naming the header', async () => {
    const reply = await api.request<{ error: string }>('POST', '/v2/models/iris/versions/1/infer', undefined, { 'x-input-location': `s3://${cloud.resources.bucketName}/predictions/async/uploads/00000000-0000-4000-8000-000000000000` });
    expect(reply.status).toBe(400);
    expect(reply.body.error).toContain('x-input-location names an uploaded input, which is served asynchronously: send the request with "Prefer: respond-async"');
  });

  it('refuses two Idempotency-Key headers (as curl -H twice sends them) with a 400, and quotes a non-ASCII key as sent', async () => {
    const send = (keys: string[]) =>
      new Promise<{ status: number; error: string }>((resolve, reject) => {
        const url = new URL('/v2/models/iris/versions/1/infer', cloud.baseUrl);
        const call = httpRequest(url, { method: 'POST' }, (response) => {
          let text = '';
          response.setEncoding('utf8').on('data', (chunk: string) => (text += chunk)).on('end', () => resolve({ status: response.statusCode!, error: (JSON.parse(text) as { error: string }).error }));
        });
        call.on('error', reject);
        call.setHeader('x-api-key', cloud.apiKey);
        call.setHeader('content-type', 'application/json');
        call.setHeader('prefer', 'respond-async');
        // Each key its own header line; a non-ASCII key travels as its UTF-8 bytes.
        call.setHeader('idempotency-key', keys.map((key) => Buffer.from(key, 'utf8').toString('latin1')));
        // A Buffer: with a string, Node writes the header block in the body's encoding (UTF-8), not byte for byte.
        call.end(Buffer.from(JSON.stringify(IRIS)));
      });
    const twice = await send(['x1', 'x2']);
    const accented = await send(['clé']);
    expect(twice).toEqual({ status: 400, error: "idempotency-key was sent 2 times ('x1', 'x2'); send it once" });
    expect(accented).toEqual({ status: 400, error: "idempotency-key must be 1-255 visible ASCII characters (a UUID, say), got 'clé'" });
  });

  it('dead-letters a poison request after its receives, and its status names the reason', async () => {
    // Prepare: a version whose artifact is gone cannot be served (not a refusal: retried).
    // (A model no function has loaded yet: a cached copy would still serve.)
    await register('ghost', 'models/mlp.onnx');
    const version = await api.request<{ artifact: { key: string } }>('GET', '/models/ghost/versions/1');
    await api.s3.send(new DeleteObjectCommand({ Bucket: cloud.resources.bucketName, Key: version.body.artifact.key }));
    const { dlqUrl } = cloud.resources.queues.async!;
    const before = await messagesIn(dlqUrl);

    // Act
    const accepted = await api.request<{ id: string }>('POST', '/v2/models/ghost/versions/1/infer', IRIS, ASYNC);
    const done = await settled(`/v2/async/${accepted.body.id}`);
    const deadline = Date.now() + 30_000;
    while ((await messagesIn(dlqUrl)) === before && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));

    // Assess
    expect(done.status, JSON.stringify(done)).toBe('failed');
    expect(done.attempts, JSON.stringify(done)).toBe(2);
    expect(done.error).toMatch(/^failed 2 times; last failure: .*ghost/);
    expect(await messagesIn(dlqUrl)).toBe(before + 1);
  });

  it('answers a resubmission under the same Idempotency-Key with the same request, and a different body under it with 409', async () => {
    const first = await api.request<{ id: string }>('POST', '/v2/models/iris/versions/1/infer', IRIS, { ...ASYNC, 'idempotency-key': 'order-17' });
    const again = await api.request<{ id: string }>('POST', '/v2/models/iris/versions/1/infer', IRIS, { ...ASYNC, 'idempotency-key': 'order-17' });
    const other = await api.request('POST', '/v2/models/iris/versions/1/infer', { inputs: IRIS.inputs.map((input) => ({ ...input, data: [9] })) }, { ...ASYNC, 'idempotency-key': 'order-17' });
    expect([first.status, again.status, other.status]).toEqual([202, 202, 409]);
    expect(again.body.id).toBe(first.body.id);
    expect((await settled(`/v2/async/${first.body.id}`)).status).toBe('succeeded');
  });

  it('answers 404 for an unknown request and a 400 for a malformed inline body, without queueing it', async () => {
    expect((await api.request('GET', '/v2/async/00000000-0000-4000-8000-000000000000')).status).toBe(404);
    expect((await api.request('GET', '/v2/async/nope')).status).toBe(404);
    expect((await api.request('POST', '/v2/models/iris/versions/1/infer', { inputs: 'x' }, ASYNC)).status).toBe(400);
  });

  it('answers 404 for an unknown model, alias or version at submission, as a synchronous call does, queueing nothing', async () => {
    const replies = await Promise.all(
      ['/v2/models/nope/infer', '/v2/models/iris/versions/nope/infer', '/v2/models/iris/versions/99/infer'].map((path) => api.request<{ error: string }>('POST', path, IRIS, ASYNC)),
    );
    expect(replies.map((reply) => reply.status)).toEqual([404, 404, 404]);
    expect(replies[0]!.body.error).toContain("model 'nope' not found");
  });
});
