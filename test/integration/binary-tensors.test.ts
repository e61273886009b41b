/**
 * Binary tensors (the Open Inference Protocol's binary data extension) end to end on the local
 * cloud, through the local gateway as API Gateway passes binary media types: an FP32 image batch
 * and an FP16 one answer like their JSON twins, as a JSON header with binary data or as a raw body.
 * The requests are written from the extension's text (Triton's `extension_binary_data.md`), not
 * with the platform's codec.
 */
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalCloud, type LocalCloud } from '../../local/cloud.js';
import { halfToNumber, numberToHalf } from '../../src/inference/tensors.js';
import { lakeApi } from '../support/lake-api.js';

let cloud: LocalCloud;
let api: ReturnType<typeof lakeApi>;

const BATCH = 8;
/** A batch of 3×64×64 images (any values: the model is untrained), flat. */
const PIXELS = Array.from({ length: BATCH * 3 * 64 * 64 }, (_, i) => ((i * 7) % 256) / 255);
const SHAPE = [BATCH, 3, 64, 64];

interface Output {
  readonly name: string;
  readonly datatype: string;
  readonly shape: number[];
  readonly data?: unknown[];
  readonly parameters?: { binary_data_size?: number };
}

async function register(model: string, file: string): Promise<void> {
  expect((await api.request('POST', '/models', { name: model, description: file })).status).toBe(201);
  const upload = await api.request<{ uploadUrl: string; artifactUri: string }>('POST', `/models/${model}/uploads`);
  await fetch(upload.body.uploadUrl, { method: 'PUT', body: await readFile(file) });
  expect((await api.request('POST', `/models/${model}/versions`, { artifactUri: upload.body.artifactUri })).status).toBe(201);
}

/** POSTs bytes to a version's v2 infer route. */
async function post(model: string, body: Uint8Array, headers: Record<string, string>) {
  const response = await fetch(`${cloud.baseUrl}/v2/models/${model}/versions/1/infer`, { method: 'POST', headers: { 'x-api-key': cloud.apiKey, ...headers }, body });
  return { status: response.status, headers: response.headers, bytes: new Uint8Array(await response.arrayBuffer()) };
}

/** A body in the extension's layout: the JSON header, then each tensor's bytes; and its header length. */
function binaryBody(header: unknown, ...tensors: Uint8Array[]) {
  const json = new TextEncoder().encode(JSON.stringify(header));
  const body = new Uint8Array(json.length + tensors.reduce((n, t) => n + t.length, 0));
  body.set(json);
  let offset = json.length;
  for (const tensor of tensors) {
    body.set(tensor, offset);
    offset += tensor.length;
  }
  return { body, headerLength: String(json.length) };
}

/** An answer's outputs, binary ones read from the bytes after the JSON header (little-endian, as the extension says). */
function outputsOf(reply: { headers: Headers; bytes: Uint8Array }): Map<string, number[]> {
  const headerLength = Number(reply.headers.get('inference-header-content-length') ?? reply.bytes.length);
  const header = JSON.parse(new TextDecoder().decode(reply.bytes.subarray(0, headerLength))) as { outputs: Output[] };
  const view = new DataView(reply.bytes.buffer, reply.bytes.byteOffset + headerLength);
  let offset = 0;
  return new Map(
    header.outputs.map((output) => {
      if (output.parameters?.binary_data_size === undefined) return [output.name, output.data as number[]];
      const size = output.parameters.binary_data_size;
      const values: number[] = [];
      const step = output.datatype === 'FP16' ? 2 : 4;
      for (let at = offset; at < offset + size; at += step) values.push(output.datatype === 'FP16' ? halfToNumber(view.getUint16(at, true)) : view.getFloat32(at, true));
      offset += size;
      return [output.name, values];
    }),
  );
}

const float32Bytes = (values: readonly number[]) => {
  const bytes = new Uint8Array(values.length * 4);
  const view = new DataView(bytes.buffer);
  values.forEach((value, i) => view.setFloat32(i * 4, value, true));
  return bytes;
};
const float16Bytes = (values: readonly number[]) => {
  const bytes = new Uint8Array(values.length * 2);
  const view = new DataView(bytes.buffer);
  values.forEach((value, i) => view.setUint16(i * 2, numberToHalf(value), true));
  return bytes;
};

beforeAll(async () => {
  cloud = await startLocalCloud({ stateDir: await mkdtemp(join(tmpdir(), 'binary-cloud-')), port: 0 });
  api = lakeApi(cloud);
  await register('vision', 'models/resnet_mini.onnx');
  await register('vision16', 'models/resnet_mini_fp16.onnx');
});

afterAll(async () => {
  api?.s3.destroy();
  await cloud?.stop();
});

describe('binary tensors through the local gateway', { timeout: 60_000 }, () => {
  it('answers an FP32 image batch sent as binary data, or as a raw body, like its JSON twin', async () => {
    // Prepare
    const jsonRequest = new TextEncoder().encode(JSON.stringify({ inputs: [{ name: 'image', datatype: 'FP32', shape: SHAPE, data: PIXELS }] }));
    const { body, headerLength } = binaryBody(
      { inputs: [{ name: 'image', datatype: 'FP32', shape: SHAPE, parameters: { binary_data_size: PIXELS.length * 4 } }], parameters: { binary_data_output: true } },
      float32Bytes(PIXELS),
    );
    const binaryHeaders = { 'content-type': 'application/octet-stream', accept: 'application/octet-stream' };

    // Act
    const json = await post('vision', jsonRequest, { 'content-type': 'application/json' });
    const binary = await post('vision', body, { ...binaryHeaders, 'inference-header-content-length': headerLength });
    const raw = await post('vision', float32Bytes(PIXELS), { ...binaryHeaders, 'inference-header-content-length': '0' });
    const notAccepted = await post('vision', body, { 'content-type': 'application/octet-stream', 'inference-header-content-length': headerLength });

    // Assess
    expect([json.status, binary.status, raw.status]).toEqual([200, 200, 200]);
    expect(binary.headers.get('content-type')).toBe('application/octet-stream');
    const expected = outputsOf(json).get('logits')!;
    expect(expected).toHaveLength(BATCH * 10);
    expect(outputsOf(binary).get('logits')).toEqual(expected);
    expect(outputsOf(raw).get('logits')).toEqual(expected);
    expect(notAccepted.status).toBe(406);
  });

  it('answers an FP16 image batch (JSON numbers or binary halves) alike, with FP16 outputs', async () => {
    // Prepare
    const jsonRequest = new TextEncoder().encode(JSON.stringify({ inputs: [{ name: 'image', datatype: 'FP16', shape: SHAPE, data: PIXELS }] }));
    const { body, headerLength } = binaryBody(
      { inputs: [{ name: 'image', datatype: 'FP16', shape: SHAPE, parameters: { binary_data_size: PIXELS.length * 2 } }], outputs: [{ name: 'logits', parameters: { binary_data: true } }] },
      float16Bytes(PIXELS),
    );

    // Act
    const json = await post('vision16', jsonRequest, { 'content-type': 'application/json' });
    const binary = await post('vision16', body, { 'content-type': 'application/octet-stream', accept: 'application/octet-stream', 'inference-header-content-length': headerLength });
    const fp32 = await post('vision', new TextEncoder().encode(JSON.stringify({ inputs: [{ name: 'image', datatype: 'FP32', shape: SHAPE, data: PIXELS.map((p) => halfToNumber(numberToHalf(p))) }] })), { 'content-type': 'application/json' });

    // Assess: the same halves in, the same halves out; and the FP32 model's answer for those pixels, rounded to halves.
    expect([json.status, binary.status, fp32.status]).toEqual([200, 200, 200]);
    const halves = outputsOf(json).get('logits')!;
    expect(outputsOf(binary).get('logits')).toEqual(halves);
    expect(halves).toEqual(outputsOf(fp32).get('logits')!.map((value) => halfToNumber(numberToHalf(value))));
  });
});
