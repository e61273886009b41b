import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { apiEvent } from '../../test/support/api-event.js';
import { draftVersion } from '../../test/support/model-versions.js';
import { ArtifactStore } from '../aws/artifact-store.js';
import { toErrorResponse } from '../http/response.js';
import { dispatch } from '../http/router.js';
import type { AliasRecord, ModelRecord, ModelVersion } from '../registry/types.js';
import { ServingBackends } from './backend.js';
import { rawInferRequest } from './binary-infer.js';
import { ModelLoader } from './model-loader.js';
import { OnnxBackend } from './onnx-backend.js';
import { servingSessionOptions } from './onnx-session.js';
import { createPredictRoutes } from './predict-routes.js';
import { ModelResolver } from './resolver.js';

const s3Client = new S3Client({ region: 'us-east-1' });
const s3 = mockClient(s3Client);
let iris: Buffer;
const model: ModelRecord = { name: 'iris', description: '', defaultAlias: 'prod', tags: {}, createdAt: '', updatedAt: '' };
const prod: AliasRecord = { model: 'iris', alias: 'prod', routes: [{ version: 1, weight: 100 }], revision: 1, updatedAt: '', updatedBy: '', reason: '' };
const SETOSA = { sepal_length: 5.1, sepal_width: 3.5, petal_length: 1.4, petal_width: 0.2 };

beforeAll(async () => {
  iris = await readFile('models/iris.onnx');
  s3.on(GetObjectCommand).callsFake(() => ({ Body: { transformToByteArray: async () => new Uint8Array(iris) } }));
});

async function dataPlane() {
  const sha256 = createHash('sha256').update(iris).digest('hex');
  const versionOf = (version: number) =>
    ({ ...draftVersion('iris', { artifact: { uri: 's3://lake/iris.onnx', bucket: 'lake', key: 'iris.onnx', sha256, sizeBytes: iris.length } }), version, status: 'PENDING', createdAt: '' }) satisfies ModelVersion;
  const resolver = new ModelResolver({ findModelWithAliases: async () => ({ model, aliases: new Map([['prod', prod]]) }), getVersion: async (_, v) => versionOf(v), servableVersionNumbers: async () => [1] }, 60_000);
  const loader = new ModelLoader(new ArtifactStore(s3Client), await mkdtemp(join(tmpdir(), 'binary-infer-')), servingSessionOptions(1769));
  const routes = createPredictRoutes({ resolver, backends: new ServingBackends({ lambda: new OnnxBackend(loader) }) });
  return async (body: Buffer | string, headers: Record<string, string>, binary: boolean) => {
    const event = { ...apiEvent({ method: 'POST', resource: '/v2/models/{name}/infer', pathParameters: { name: 'iris' }, body: 'x', headers }), body: binary ? Buffer.from(body).toString('base64') : String(body), isBase64Encoded: binary };
    return dispatch(routes, event).catch((error: unknown) => toErrorResponse(error, 'c').response);
  };
}

/** A binary request as the extension lays it out: the JSON header, then each tensor's bytes. */
function binaryRequest(header: unknown, ...tensors: Uint8Array[]) {
  const json = Buffer.from(JSON.stringify(header));
  return { body: Buffer.concat([json, ...tensors]), headerLength: String(json.length) };
}
const f32 = (...values: number[]) => new Uint8Array(Float32Array.of(...values).buffer);

/** Splits a binary answer into its JSON header and the bytes after it. */
function splitAnswer(result: { body: string; headers?: Record<string, unknown> }) {
  const bytes = Buffer.from(result.body, 'base64');
  const length = Number(result.headers?.['Inference-Header-Content-Length']);
  return { header: JSON.parse(bytes.subarray(0, length).toString('utf8')) as { outputs: { name: string; datatype: string; shape: number[]; data?: unknown[]; parameters?: { binary_data_size: number } }[] }, rest: bytes.subarray(length) };
}

describe('binary tensors on the v2 infer route', () => {
  it('answers a request with binary inputs (and one JSON input) like its JSON twin', async () => {
    // Prepare
    const send = await dataPlane();
    const names = Object.keys(SETOSA) as (keyof typeof SETOSA)[];
    const json = await send(JSON.stringify({ inputs: names.map((name) => ({ name, datatype: 'FP32', shape: [1, 1], data: [SETOSA[name]] })) }), { 'content-type': 'application/json' }, false);
    const { body, headerLength } = binaryRequest(
      { inputs: names.map((name, i) => (i === 0 ? { name, datatype: 'FP32', shape: [1, 1], data: [SETOSA[name]] } : { name, datatype: 'FP32', shape: [1, 1], parameters: { binary_data_size: 4 } })) },
      ...names.slice(1).map((name) => f32(SETOSA[name])),
    );

    // Act
    const binary = await send(body, { 'content-type': 'application/octet-stream', 'Inference-Header-Content-Length': headerLength }, true);

    // Assess: JSON outputs (none asked binary), the same as the JSON request's.
    expect(binary.statusCode).toBe(200);
    expect(JSON.parse(binary.body)).toEqual(JSON.parse(json.body));
  });

  it('answers binary outputs after the JSON header when asked, to a caller that accepts application/octet-stream first', async () => {
    // Prepare
    const send = await dataPlane();
    const names = Object.keys(SETOSA) as (keyof typeof SETOSA)[];
    const { body, headerLength } = binaryRequest(
      { inputs: names.map((name) => ({ name, datatype: 'FP32', shape: [1, 1], parameters: { binary_data_size: 4 } })), outputs: [{ name: 'probabilities', parameters: { binary_data: true } }, { name: 'label' }] },
      ...names.map((name) => f32(SETOSA[name])),
    );
    const headers = { 'content-type': 'application/octet-stream', 'Inference-Header-Content-Length': headerLength };

    // Act
    const answered = await send(body, { ...headers, accept: 'application/octet-stream, application/json' }, true);
    const refused = await send(body, { ...headers, accept: 'application/json' }, true);

    // Assess
    expect(answered.statusCode).toBe(200);
    expect(answered.isBase64Encoded).toBe(true);
    expect(answered.headers?.['content-type']).toBe('application/octet-stream');
    const { header, rest } = splitAnswer(answered);
    const [probabilities, label] = header.outputs;
    expect(probabilities).toMatchObject({ name: 'probabilities', datatype: 'FP32', shape: [1, 3], parameters: { binary_data_size: 12 } });
    expect(label).toMatchObject({ name: 'label', data: [0] });
    const values = new Float32Array(new Uint8Array(rest).buffer);
    expect(values[0]).toBeGreaterThan(0.9);
    expect(rest.length).toBe(12);
    expect(refused.statusCode).toBe(406);
    expect(JSON.parse(refused.body).error).toContain('Accept: application/octet-stream');
  });

  it.each([
    ['binary without Inference-Header-Content-Length', Buffer.from([1, 2, 3]), { 'content-type': 'application/octet-stream' }, true, 400, 'needs the Inference-Header-Content-Length header'],
    ['a header length beyond the body', Buffer.from('{}'), { 'content-type': 'application/octet-stream', 'Inference-Header-Content-Length': '99' }, true, 400, 'but the body has only 2 bytes'],
    ['a header that is not JSON', Buffer.from('{nope'), { 'content-type': 'application/octet-stream', 'Inference-Header-Content-Length': '5' }, true, 400, 'does not parse'],
    ['a header that starts with a byte-order mark (as a JSON body with one is)', Buffer.from('\uFEFF{"inputs":[]}'), { 'content-type': 'application/octet-stream', 'Inference-Header-Content-Length': '16' }, true, 400, 'starts with a byte-order mark (U+FEFF)'],
    ['binary data sent as text (not application/octet-stream)', '{"inputs":[]}', { 'content-type': 'application/json', 'Inference-Header-Content-Length': '13' }, false, 415, 'must be sent with content-type application/octet-stream'],
    ['a raw binary body for a model with four inputs', Buffer.from(f32(1, 2, 3, 4)), { 'content-type': 'application/octet-stream', 'Inference-Header-Content-Length': '0', accept: 'application/octet-stream' }, true, 400, 'feeds a model with one input; this one has 4'],
  ])('refuses %s, saying so', async (_, body, headers, binary, status, message) => {
    // Act
    const refused = await (await dataPlane())(body, headers, binary);

    // Assess
    expect(refused.statusCode).toBe(status);
    expect(JSON.parse(refused.body).error).toContain(message);
  });

  it('refuses binary data sizes that do not add up, naming the input', async () => {
    // Prepare
    const send = await dataPlane();
    const { body, headerLength } = binaryRequest({ inputs: [{ name: 'sepal_length', datatype: 'FP32', shape: [1, 1], parameters: { binary_data_size: 8 } }] }, f32(1));

    // Act
    const refused = await send(body, { 'content-type': 'application/octet-stream', 'Inference-Header-Content-Length': headerLength }, true);

    // Assess
    expect(refused.statusCode).toBe(400);
    expect(JSON.parse(refused.body).error).toContain("input 'sepal_length' (inputs.0) declares binary_data_size 8, but only 4 bytes of binary data are left");
  });
});

describe('rawInferRequest', () => {
  it('deduces the one variable dimension from the byte count, and refuses what does not fill the shape', () => {
    // Prepare
    const image = [{ name: 'image', datatype: 'FP32' as const, shape: [-1, 3, 2, 2] }];

    // Act
    const two = rawInferRequest(image, new Uint8Array(2 * 12 * 4));

    // Assess
    expect(two.inputs[0]).toMatchObject({ name: 'image', datatype: 'FP32', shape: [2, 3, 2, 2] });
    expect(two.parameters).toEqual({ binary_data_output: true });
    expect(() => rawInferRequest(image, new Uint8Array(50))).toThrowError('a raw binary request of 50 bytes does not fill input \'image\' (FP32, shape [-1, 3, 2, 2]): expected a multiple of 48 bytes');
    expect(() => rawInferRequest([{ name: 'x', datatype: 'FP32', shape: [-1, -1] }], new Uint8Array(8))).toThrowError('at most one variable dimension');
  });
});
