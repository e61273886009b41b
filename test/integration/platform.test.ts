/**
 * The platform end to end on the local cloud: real emulators (DynamoDB, S3, SQS
 * protocols), the real handlers in their own processes, HTTP through the gateway.
 */
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../local/emulators.js';
import { startLocalCloud, type LocalCloud } from '../../local/cloud.js';

let cloud: LocalCloud;
let s3: S3Client;
let iris: Buffer;
let dtypes: Buffer;

interface Reply {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
}

async function request(method: string, path: string, options: { body?: unknown; headers?: Record<string, string>; raw?: string } = {}): Promise<Reply> {
  const hasBody = options.body !== undefined || options.raw !== undefined;
  const response = await fetch(`${cloud.baseUrl}${path}`, {
    method,
    headers: { 'x-api-key': cloud.apiKey, ...(hasBody ? { 'content-type': 'application/json' } : {}), ...options.headers },
    ...(hasBody ? { body: options.raw ?? JSON.stringify(options.body) } : {}),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>) };
}

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

async function putLake(key: string, bytes: Buffer): Promise<string> {
  await s3.send(new PutObjectCommand({ Bucket: cloud.resources.bucketName, Key: key, Body: bytes }));
  return `s3://${cloud.resources.bucketName}/${key}`;
}

const irisInputs = (rows: number[][]) =>
  ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'].map((name, i) => ({
    name,
    shape: [rows.length, 1],
    datatype: 'FP32',
    data: rows.map((r) => r[i]),
  }));
const SETOSA = [5.1, 3.5, 1.4, 0.2];
const VIRGINICA = [6.7, 3.0, 5.2, 2.3];

beforeAll(async () => {
  cloud = await startLocalCloud({
    stateDir: await mkdtemp(join(tmpdir(), 'local-cloud-')),
    port: 0,
    // Alias changes are seen at once (the default caches them for 10 s per container).
    functionEnvironment: { ALIAS_CACHE_TTL_MS: '0' },
  });
  s3 = new S3Client({ region: LOCAL_REGION, endpoint: cloud.endpoints.s3, credentials: LOCAL_CREDENTIALS });
  iris = await readFile('models/iris.onnx');
  dtypes = await readFile('models/dtypes.onnx');
});
afterAll(async () => {
  s3?.destroy();
  await cloud?.stop();
});

describe('register → alias → infer', () => {
  it('registers from a presigned upload and from the lake, routes by alias and names the answering version', async () => {
    // Prepare: a model, v1 uploaded through a presigned URL, v2 already in the lake.
    expect((await request('POST', '/models', { body: { name: 'flow', description: 'iris copy' } })).status).toBe(201);
    const upload = await request('POST', '/models/flow/uploads');
    expect(upload.status).toBe(201);
    const put = await fetch(upload.body['uploadUrl'] as string, { method: 'PUT', body: iris });
    expect(put.status).toBe(200);
    const v1 = await request('POST', '/models/flow/versions', { body: { artifactUri: upload.body['artifactUri'], sha256: sha256(iris) } });
    const v2 = await request('POST', '/models/flow/versions', { body: { artifactUri: await putLake('models/flow/v2.onnx', iris), tags: { stage: 'candidate' } } });

    // Act
    const prod1 = await request('PUT', '/models/flow/aliases/prod', { body: { version: 1, reason: 'launch' }, headers: { 'if-match': '"0"' } });
    const first = await request('POST', '/v2/models/flow/infer', { body: { id: 'a', inputs: irisInputs([SETOSA, VIRGINICA]) } });
    const prod2 = await request('PUT', '/models/flow/aliases/prod', { body: { version: 2 }, headers: { 'if-match': prod1.headers.get('etag')! } });
    // Version 2 is new to the predict container: it gets traffic once loaded (warm before traffic).
    const predictVirginica = () =>
      request('POST', '/v1/models/flow:predict', {
        body: { instances: [Object.fromEntries(['sepal_length', 'sepal_width', 'petal_length', 'petal_width'].map((k, i) => [k, VIRGINICA[i]]))] },
      });
    let second = await predictVirginica();
    for (const deadline = Date.now() + 20_000; second.headers.get('x-model-version') !== '2' && Date.now() < deadline; ) second = await predictVirginica();
    const pinned = await request('POST', '/v2/models/flow/versions/1/infer', { body: { inputs: irisInputs([SETOSA]) } });

    // Assess
    expect(v1.status).toBe(201);
    expect(v1.body).toMatchObject({ model: 'flow', version: 1, status: 'PENDING', framework: 'onnx', artifact: { sha256: sha256(iris), sizeBytes: iris.length } });
    expect((v1.body['signature'] as { inputs: unknown[] }).inputs).toHaveLength(4);
    expect(v2.body).toMatchObject({ version: 2, tags: { stage: 'candidate' } });
    expect(prod1.body).toMatchObject({ alias: 'prod', revision: 1, routes: [{ version: 1, weight: 100 }], reason: 'launch' });
    expect(prod1.headers.get('etag')).toBe('"1"');
    expect(first.status).toBe(200);
    expect(first.headers.get('x-model-version')).toBe('1');
    expect(first.body).toMatchObject({ model_name: 'flow', model_version: '1', id: 'a' });
    const outputs = first.body['outputs'] as { name: string; datatype: string; shape: number[]; data: number[] }[];
    expect(outputs[0]).toEqual({ name: 'label', datatype: 'INT64', shape: [2], data: [0, 2] });
    expect(outputs[1]).toMatchObject({ name: 'probabilities', datatype: 'FP32', shape: [2, 3] });
    expect(prod2.status).toBe(200);
    expect(second.headers.get('x-model-version')).toBe('2');
    expect(second.body).toMatchObject({ model_version: '2', predictions: [{ label: 2 }] });
    expect(pinned.body).toMatchObject({ model_version: '1' });
  });

  it('serves every tensor type of a multi-input, multi-output model', async () => {
    // Prepare
    await request('POST', '/models', { body: { name: 'types' } });
    const version = await request('POST', '/models/types/versions', { body: { artifactUri: await putLake('models/types/1.onnx', dtypes) } });
    await request('PUT', '/models/types/aliases/prod', { body: { version: version.body['version'] }, headers: { 'if-match': '"0"' } });
    // Act
    const reply = await request('POST', '/v2/models/types/versions/prod/infer', {
      body: {
        inputs: [
          { name: 'f64', shape: [2, 2], datatype: 'FP64', data: [[1.5, 2], [3, 4]] },
          { name: 'i32', shape: [2], datatype: 'INT32', data: [1, -1] },
          { name: 'i64', shape: [2], datatype: 'INT64', data: [5, '9007199254740993'] },
          { name: 'flag', shape: [2], datatype: 'BOOL', data: [true, false] },
          { name: 'text', shape: [2], datatype: 'BYTES', data: ['hello', 'wörld'] },
        ],
        outputs: [{ name: 'i64_negated' }, { name: 'flag_not' }, { name: 'text_echo' }, { name: 'f64_doubled' }, { name: 'i32_plus_one' }, { name: 'f32_sum' }],
      },
    });
    // Assess
    expect(reply.status).toBe(200);
    const byName = Object.fromEntries((reply.body['outputs'] as { name: string }[]).map((o) => [o.name, o]));
    expect(byName['i64_negated']).toEqual({ name: 'i64_negated', datatype: 'INT64', shape: [2], data: [-5, '-9007199254740993'] });
    expect(byName['flag_not']).toEqual({ name: 'flag_not', datatype: 'BOOL', shape: [2], data: [false, true] });
    expect(byName['text_echo']).toEqual({ name: 'text_echo', datatype: 'BYTES', shape: [2], data: ['hello', 'wörld'] });
    expect(byName['f64_doubled']).toMatchObject({ datatype: 'FP64', data: [3, 4, 6, 8] });
    expect(byName['i32_plus_one']).toMatchObject({ datatype: 'INT32', data: [2, 0] });
    expect(byName['f32_sum']).toMatchObject({ datatype: 'FP32', data: [3.5, 7] });
  });

  it('replaces a model\'s tags, and refuses a body with unknown fields, naming them', async () => {
    await request('POST', '/models', { body: { name: 'tags', tags: { team: 'risk' } } });
    const tagged = await request('PUT', '/models/tags/tags', { body: { tags: { team: 'growth' } } });
    const typo = await request('PUT', '/models/tags/tags', { body: { tag: { team: 'growth' } } });
    expect(tagged.status).toBe(200);
    expect((await request('GET', '/models/tags')).body['tags']).toEqual({ team: 'growth' });
    expect(typo.status).toBe(400);
    expect(typo.body['error']).toContain('tag');
  });

  it('answers health, metadata and readiness', async () => {
    expect((await request('GET', '/v2')).body).toEqual({ name: 'serverless-ai-platform', version: '0.1.0', extensions: [] });
    expect((await request('GET', '/v2/health/live')).body).toEqual({ live: true });
    expect((await request('GET', '/v2/health/ready')).body).toEqual({ ready: true });
    const metadata = await request('GET', '/v2/models/flow/versions/1');
    expect(metadata.body).toMatchObject({ name: 'flow', versions: ['1', '2'], platform: 'onnxruntime_onnx' });
    expect((metadata.body['inputs'] as unknown[])[0]).toEqual({ name: 'sepal_length', datatype: 'FP32', shape: [-1, 1] });
    const ready = await request('GET', '/v2/models/flow/ready');
    expect(ready.body).toEqual({ name: 'flow', version: '2', ready: true });
    const v1Status = await request('GET', '/v1/models/flow');
    expect([v1Status.status, v1Status.body]).toEqual([200, { name: 'flow', ready: true }]);
  });

  it('answers KServe v1 predictions of a named version', async () => {
    const reply = await request('POST', '/v1/models/flow/versions/1:predict', { body: { instances: [{ sepal_length: 5.1, sepal_width: 3.5, petal_length: 1.4, petal_width: 0.2 }] } });
    expect(reply.status).toBe(200);
    expect(reply.headers.get('x-model-version')).toBe('1');
    expect(reply.body).toMatchObject({ model_name: 'flow', model_version: '1' });
  });
});

describe('bad input gets a 4xx naming the problem', () => {
  const infer = (body: unknown, path = '/v2/models/flow/infer') => request('POST', path, { body });

  it.each([
    ['a missing input', irisInputs([SETOSA]).slice(1), 400, "missing input 'sepal_length'"],
    ['a wrong input name', [...irisInputs([SETOSA]), { name: 'petal_colour', shape: [1], datatype: 'FP32', data: [1] }], 400, "unknown input 'petal_colour'"],
    ['a wrong shape', irisInputs([SETOSA]).map((i) => ({ ...i, shape: [1, 2], data: [1, 2] })), 400, "input 'sepal_length': dimension 1 is 2"],
    ['a wrong datatype', irisInputs([SETOSA]).map((i) => ({ ...i, datatype: 'FP64' })), 400, "input 'sepal_length': datatype 'FP64' does not match the model's FP32"],
    ['data length ≠ product of shape', irisInputs([SETOSA]).map((i) => ({ ...i, shape: [2, 1] })), 400, "input 'sepal_length': data has 1 elements but shape [2, 1] needs 2"],
    ['a NaN where a number is needed', irisInputs([SETOSA]).map((i) => ({ ...i, data: ['NaN'] })), 400, "input 'sepal_length': element 0 is the string 'NaN'; expected a finite number"],
    ['null in a model without missing-value handling', irisInputs([SETOSA]).map((i) => ({ ...i, data: [null] })), 400, "input 'sepal_length': element 0 is null, but the model does not declare missing-value handling"],
    ['ragged nested data', irisInputs([SETOSA]).map((i) => ({ ...i, shape: [3, 1], data: [[1, 2], [3]] })), 400, "input 'sepal_length': data has 2 elements; shape [3, 1] needs 3 at dimension 0"],
  ])('%s', async (_, inputs, status, message) => {
    const reply = await infer({ inputs });
    expect(reply.status).toBe(status);
    expect(reply.body['error']).toContain(message);
    expect(reply.body['correlation_id']).toEqual(expect.any(String));
  });

  it('malformed JSON → 400, wrong content type → 415', async () => {
    const malformed = await request('POST', '/v2/models/flow/infer', { raw: '{"inputs": [' });
    const plain = await request('POST', '/v2/models/flow/infer', { raw: '{}', headers: { 'content-type': 'text/plain' } });
    expect(malformed.status).toBe(400);
    expect(malformed.body['error']).toMatch(/^malformed JSON body/);
    expect(plain.status).toBe(415);
    expect(plain.body['error']).toBe("content-type must be application/json, got 'text/plain'");
  });

  it('unknown model, version or alias → 404', async () => {
    const body = { inputs: irisInputs([SETOSA]) };
    expect((await infer(body, '/v2/models/ghost/infer')).body['error']).toBe("model 'ghost' not found");
    expect((await infer(body, '/v2/models/flow/versions/42/infer')).status).toBe(404);
    expect((await infer(body, '/v2/models/flow/versions/42/infer')).body['error']).toBe("model 'flow' has no version 42");
    expect((await infer(body, '/v2/models/flow/versions/canary/infer')).body['error']).toBe("model 'flow' has no alias 'canary'");
    expect((await request('POST', '/v1/models/flow:explain', { body: { instances: [1] } })).status).toBe(404);
  });

  it('a body over 6 MB → 413', async () => {
    const reply = await request('POST', '/v2/models/flow/infer', { raw: JSON.stringify({ pad: 'x'.repeat(6 * 1024 * 1024) }) });
    expect(reply.status).toBe(413);
    expect(reply.body['error']).toMatch(/the limit is 6291456 bytes/);
  });

  it('a missing API key → 401, a wrong one → 403, on data and control plane alike', async () => {
    for (const path of ['/v2/models/flow/infer', '/models']) {
      const method = path === '/models' ? 'GET' : 'POST';
      const missing = await fetch(`${cloud.baseUrl}${path}`, { method });
      const wrong = await fetch(`${cloud.baseUrl}${path}`, { method, headers: { 'x-api-key': 'guess' } });
      expect(missing.status).toBe(401);
      expect(wrong.status).toBe(403);
      expect(await wrong.json()).toEqual({ error: 'invalid API key', correlation_id: expect.any(String) });
    }
  });

  it('an artifact whose sha256 no longer matches fails that version only', async () => {
    // Prepare: v3 registered (bytes no container has cached yet), then the registry's own copy of it overwritten.
    const uri = await putLake('models/flow/v3.onnx', await readFile('models/mlp.onnx'));
    const v3 = await request('POST', '/models/flow/versions', { body: { artifactUri: uri } });
    await putLake((v3.body['artifact'] as { key: string }).key, iris);
    // Act
    const broken = await request('POST', `/v2/models/flow/versions/${v3.body['version']}/infer`, { body: { inputs: irisInputs([SETOSA]) } });
    const healthy = await request('POST', '/v2/models/flow/versions/1/infer', { body: { inputs: irisInputs([SETOSA]) } });
    // Assess
    expect(broken.status).toBe(500);
    expect(broken.body['error']).toBe("model 'flow' version 3 cannot be served: artifact integrity check failed");
    expect(healthy.status).toBe(200);
  });
});

describe('control plane', () => {
  it('refuses artifacts that do not load, do not match, do not exist or live outside the lake, registering nothing', async () => {
    // Prepare
    await request('POST', '/models', { body: { name: 'strict' } });
    const garbage = await putLake('models/strict/garbage.onnx', Buffer.from('this is not an onnx model'));
    // Act
    const notOnnx = await request('POST', '/models/strict/versions', { body: { artifactUri: garbage } });
    const wrongSha = await request('POST', '/models/strict/versions', { body: { artifactUri: await putLake('models/strict/ok.onnx', iris), sha256: '0'.repeat(64) } });
    const missing = await request('POST', '/models/strict/versions', { body: { artifactUri: `s3://${cloud.resources.bucketName}/models/strict/none.onnx` } });
    const elsewhere = await request('POST', '/models/strict/versions', { body: { artifactUri: 's3://other-bucket/m.onnx' } });
    const badBody = await request('POST', '/models/strict/versions', { body: { artifact: 'x' } });
    // Assess
    expect(notOnnx.status).toBe(422);
    expect(notOnnx.body['error']).toMatch(/is not an ONNX model: could not parse its 25 bytes as an ONNX ModelProto \(protobuf\)$/);
    expect(wrongSha.status).toBe(400);
    expect(wrongSha.body['error']).toMatch(/^artifact sha256 is [0-9a-f]{64}, not the expected 0{64}$/);
    expect(missing.status).toBe(400);
    expect(missing.body['error']).toMatch(/^artifact not found/);
    expect(elsewhere.status).toBe(400);
    expect(elsewhere.body['error']).toMatch(/must be in the lake bucket/);
    expect(badBody.status).toBe(400);
    expect(badBody.body['error']).toMatch(/artifactUri/);
    expect((await request('GET', '/models/strict/versions')).body['versions']).toEqual([]);
  });

  it('guards aliases with If-Match (428 without it, 412 on a stale revision) and deletes them', async () => {
    const blind = await request('PUT', '/models/flow/aliases/prod', { body: { version: 1 } });
    expect(blind.status).toBe(428);
    expect(blind.body['error']).toMatch(/needs If-Match/);
    const stale = await request('PUT', '/models/flow/aliases/prod', { body: { version: 1 }, headers: { 'if-match': '"1"' } });
    expect(stale.status).toBe(412);
    const current = await request('GET', '/models/flow/aliases/prod');
    expect(current.body).toMatchObject({ revision: 2, routes: [{ version: 2, weight: 100 }] });
    await request('PUT', '/models/flow/aliases/staging', { body: { version: 1 }, headers: { 'if-match': '"0"' } });
    expect(((await request('GET', '/models/flow/aliases')).body['aliases'] as { alias: string }[]).map((a) => a.alias)).toEqual(['prod', 'staging']);
    expect((await request('DELETE', '/models/flow/aliases/staging')).status).toBe(428);
    expect((await request('DELETE', '/models/flow/aliases/staging', { headers: { 'if-match': '"1"' } })).status).toBe(204);
    expect((await request('GET', '/models/flow/aliases/staging')).status).toBe(404);
  });

  it('paginates model lists and rejects duplicates and bad names', async () => {
    const first = await request('GET', '/models?limit=1');
    expect((first.body['models'] as unknown[]).length).toBe(1);
    const next = await request('GET', `/models?limit=1&cursor=${first.body['nextCursor'] as string}`);
    expect((next.body['models'] as { name: string }[])[0]!.name).not.toBe((first.body['models'] as { name: string }[])[0]!.name);
    expect((await request('POST', '/models', { body: { name: 'flow' } })).status).toBe(409);
    expect((await request('POST', '/models', { body: { name: 'bad name' } })).status).toBe(400);
    expect((await request('GET', '/models?limit=0')).status).toBe(400);
    expect((await request('GET', '/models?limit=101')).status).toBe(400);
    const versions = await request('GET', '/models/flow/versions?limit=1');
    const foreign = await request('GET', `/models/types/versions?cursor=${versions.body['nextCursor'] as string}`);
    expect(foreign.status).toBe(400);
    expect(foreign.body['error']).toBe('invalid pagination cursor');
    const bigTags = Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, 'v']));
    const tooMany = await request('POST', '/models', { body: { name: 'tagged', tags: bigTags } });
    expect(tooMany.status).toBe(400);
    expect(tooMany.body['error']).toMatch(/tags: at most 50 entries/);
    expect((await request('GET', '/models/flow/versions/x')).status).toBe(400);
  });
});
