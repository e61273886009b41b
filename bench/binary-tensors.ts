/**
 * `npm run bench -- binary-tensors [--quick]`: binary tensors against JSON (issue 14) on a
 * batch-8 image request to `resnet_mini` (FP32) and `resnet_mini_fp16` (FP16), in one run:
 *
 * 1. the predict handler in process, JSON and binary alternating in slices, with the time spent
 *    decoding the request into tensors (the same functions the handler calls, timed alone on the
 *    same event) as a share of the handler's time (target ≤ 10 % with binary);
 * 2. the largest batches of 3×64×64 and 3×224×224 images (ResNet-18's input) that fit one
 *    synchronous call as AWS counts it (the serialized API Gateway event ≤ 6 MiB, a binary body
 *    base64-encoded in it), each checked through the local gateway, which counts the same way:
 *    that batch answers, one more is refused (413).
 */
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { MAX_PAYLOAD_BYTES } from '../topology/limits.js';
import { apiEvent } from '../test/support/api-event.js';
import { parseJsonBody, readBinaryBody } from '../src/http/request.js';
import { declaredHeaderLength, splitBinaryBody } from '../src/inference/binary-infer.js';
import { numberToHalf, toOrtTensor } from '../src/inference/tensors.js';
import { parseInferRequest, type InferRequest } from '../src/inference/v2-protocol.js';
import type { TensorSpec } from '../src/registry/types.js';
import { record, table, verdict } from './lib/record.js';
import { startBenchPlatform, withQuietStdout } from './lib/platform.js';
import { microsSince, summarize } from './lib/stats.js';

const DECODE_SHARE_TARGET = 0.1;
const BATCH = 8;
const IMAGE = 3 * 64 * 64;

/** Pixels as a client sends them: floats in [0, 1] at float32 precision (what `numpy.float32(x).tolist()` writes). */
const pixels = (n: number) => Array.from({ length: n }, (_, i) => Math.fround(((i * 2654435761) % 4294967296) / 4294967296));

interface Variant {
  readonly label: string;
  readonly model: string;
  readonly event: APIGatewayProxyEvent;
  /** What the handler does to turn the event into tensors. */
  readonly decode: () => unknown;
  readonly handler: number[];
  readonly decoding: number[];
  /** The base64 decoding of the body alone (API Gateway's form of a binary body), for binary requests. */
  readonly base64: number[];
}

const RESOURCE = '/v2/models/{name}/versions/{version}/infer';

/** The JSON and binary requests for one batch of `datatype` images, as events and their decode steps. */
function variants(model: string, datatype: 'FP32' | 'FP16', values: readonly number[]): Variant[] {
  const spec: TensorSpec = { name: 'image', datatype, shape: [-1, 3, 64, 64] };
  const shape = [BATCH, 3, 64, 64];
  const tensors = (request: InferRequest) => request.inputs.map((input) => toOrtTensor(spec, input));
  const json = apiEvent({ method: 'POST', resource: RESOURCE, pathParameters: { name: model, version: '1' }, body: JSON.stringify({ inputs: [{ name: 'image', datatype, shape, data: values }] }) });
  const bytes = Buffer.from((datatype === 'FP32' ? Float32Array.from(values) : Uint16Array.from(values, numberToHalf)).buffer);
  const header = Buffer.from(JSON.stringify({ inputs: [{ name: 'image', datatype, shape, parameters: { binary_data_size: bytes.length } }] }));
  const binary: APIGatewayProxyEvent = {
    ...apiEvent({ method: 'POST', resource: RESOURCE, pathParameters: { name: model, version: '1' }, headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(header.length) } }),
    body: Buffer.concat([header, bytes]).toString('base64'),
    isBase64Encoded: true,
  };
  return [
    { label: `${datatype} JSON`, model, event: json, decode: () => tensors(parseInferRequest(parseJsonBody(json))), handler: [], decoding: [], base64: [] },
    {
      label: `${datatype} binary`,
      model,
      event: binary,
      decode: () => {
        const body = readBinaryBody(binary, 'a binary inference request', { alignedAt: header.length });
        const { header: parsed, data } = splitBinaryBody(body, declaredHeaderLength(String(header.length), body.length));
        return tensors(parseInferRequest(parsed, data));
      },
      handler: [],
      decoding: [],
      base64: [],
    },
  ];
}

/** The serialized size of an event as Lambda counts it. */
const eventBytes = (event: APIGatewayProxyEvent) => Buffer.byteLength(JSON.stringify(event));

/** The largest batch (at most `most`) whose request event fits the payload limit, for `event(batch)`. */
function largestBatch(event: (batch: number) => APIGatewayProxyEvent, most: number): number {
  let low = 0;
  let high = most;
  while (low < high) {
    const middle = Math.ceil((low + high) / 2);
    if (eventBytes(event(middle)) <= MAX_PAYLOAD_BYTES) low = middle;
    else high = middle - 1;
  }
  return low;
}

export async function runBinaryTensorsBench(): Promise<void> {
  const quick = process.argv.includes('--quick');
  const began = performance.now();
  const platform = await startBenchPlatform([
    { name: 'resnet_mini', file: 'models/resnet_mini.onnx', description: 'FP32 image classifier' },
    { name: 'resnet_mini_fp16', file: 'models/resnet_mini_fp16.onnx', description: 'FP16 image classifier' },
  ]);
  try {
    const values = pixels(BATCH * IMAGE);
    const all = [...variants('resnet_mini', 'FP32', values), ...variants('resnet_mini_fp16', 'FP16', values)];
    // Warm-up, and every variant must answer.
    await withQuietStdout(async () => {
      for (const v of all) {
        for (let i = 0; i < 10; i++) {
          const answer = await platform.predict(v.event);
          if (answer.statusCode !== 200) throw new Error(`${v.label} answered ${answer.statusCode}: ${answer.body.slice(0, 300)}`);
        }
      }
    });
    const slices = quick ? 3 : 30;
    await withQuietStdout(async () => {
      for (let slice = 0; slice < slices; slice++) {
        for (const v of slice % 2 === 0 ? all : [...all].reverse()) {
          for (let i = 0; i < 5; i++) {
            let start = process.hrtime.bigint();
            await platform.predict(v.event);
            v.handler.push(microsSince(start));
            start = process.hrtime.bigint();
            v.decode();
            v.decoding.push(microsSince(start));
            if (v.event.isBase64Encoded) {
              start = process.hrtime.bigint();
              Buffer.from(v.event.body ?? '', 'base64');
              v.base64.push(microsSince(start));
            }
          }
        }
      }
    });
    const ms = (micros: number) => `${(micros / 1000).toFixed(2)} ms`;
    const rows = all.map((v) => {
      const handler = summarize(v.handler).p50;
      const decoding = summarize(v.decoding).p50;
      const base64 = v.base64.length === 0 ? '—' : ms(summarize(v.base64).p50);
      return [v.model, `batch ${BATCH}, ${v.label}`, `${(Buffer.from(v.event.body ?? '', v.event.isBase64Encoded ? 'base64' : 'utf8').length / 1e6).toFixed(2)} MB`, ms(handler), ms(decoding), base64, `${((decoding / handler) * 100).toFixed(1)} %`];
    });
    const share = (label: string) => {
      const v = all.find((x) => x.label === label)!;
      return summarize(v.decoding).p50 / summarize(v.handler).p50;
    };

    // Largest batches in one synchronous call, checked through the local gateway.
    const sizes = [
      { label: '3×64×64', pixels: IMAGE, model: 'resnet_mini' },
      { label: '3×224×224 (ResNet-18\'s input)', pixels: 3 * 224 * 224, model: undefined },
    ];
    const limits: string[][] = [];
    const checks: string[] = [];
    for (const size of sizes) {
      for (const [datatype, width] of [['FP32', 4], ['FP16', 2]] as const) {
        const binaryEvent = (batch: number) => ({
          ...apiEvent({ method: 'POST', resource: RESOURCE, pathParameters: { name: 'm', version: '1' }, headers: { 'content-type': 'application/octet-stream', 'x-api-key': platform.cloud.apiKey, 'inference-header-content-length': '0' } }),
          body: Buffer.alloc(batch * size.pixels * width).toString('base64'),
          isBase64Encoded: true,
        });
        const jsonValues = pixels(size.pixels);
        const jsonEvent = (batch: number) =>
          apiEvent({ method: 'POST', resource: RESOURCE, pathParameters: { name: 'm', version: '1' }, headers: { 'x-api-key': platform.cloud.apiKey }, body: `{"inputs":[{"name":"image","datatype":"${datatype}","shape":[${batch},3,${Math.sqrt(size.pixels / 3)},${Math.sqrt(size.pixels / 3)}],"data":[${Array.from({ length: batch }, () => jsonValues.join(',')).join(',')}]}]}` });
        // No encoding takes less than a byte per element.
        const most = Math.ceil(MAX_PAYLOAD_BYTES / size.pixels);
        const binaryBatch = largestBatch(binaryEvent, most);
        const jsonBatch = largestBatch(jsonEvent, most);
        limits.push([size.label, datatype, String(jsonBatch), String(binaryBatch), `${(binaryBatch / Math.max(jsonBatch, 1)).toFixed(1)}×`]);
        if (size.model === 'resnet_mini' && datatype === 'FP32') {
          const raw = (batch: number) =>
            fetch(`${platform.cloud.baseUrl}/v2/models/${size.model}/versions/1/infer`, {
              method: 'POST',
              headers: { 'x-api-key': platform.cloud.apiKey, 'content-type': 'application/octet-stream', accept: 'application/octet-stream', 'inference-header-content-length': '0' },
              body: Buffer.from(Float32Array.from(pixels(batch * size.pixels)).buffer),
            });
          const fits = await raw(binaryBatch);
          const over = await raw(binaryBatch + 1);
          checks.push(`through the local gateway, a raw FP32 body of ${binaryBatch} images of ${size.label} answered ${fits.status}, one more image ${over.status}`);
        }
      }
    }

    const body = [
      ...(quick ? ['**Quick run**: not a measurement, nothing recorded.', ''] : []),
      `The predict handler in process (functions' code loaded from source), the same batch of ${BATCH} images (3×64×64, floats in [0, 1] at float32 precision) as JSON and as binary tensors, alternating in ${slices} slices of 5 calls. Decoding: the functions the handler calls to turn the event into tensors (body read, JSON parse or binary split, request validation, tensor conversion), timed alone on the same event right after each call.`,
      '',
      table(['model', 'request', 'body', 'handler p50', 'decoding p50', 'of which base64 p50', 'decoding share'], rows),
      '',
      `- Decoding share with binary (target ≤ ${DECODE_SHARE_TARGET * 100} %): FP32 ${(share('FP32 binary') * 100).toFixed(1)} %, FP16 ${(share('FP16 binary') * 100).toFixed(1)} %: ${verdict(share('FP32 binary') <= DECODE_SHARE_TARGET && share('FP16 binary') <= DECODE_SHARE_TARGET)} (JSON: ${(share('FP32 JSON') * 100).toFixed(1)} % and ${(share('FP16 JSON') * 100).toFixed(1)} %).`,
      '',
      `**Largest batch in one synchronous call** (the serialized API Gateway event ≤ ${MAX_PAYLOAD_BYTES} bytes, as Lambda counts it; JSON with the same float32-precision pixels, binary as a raw body, base64 in the event):`,
      '',
      table(['image', 'datatype', 'JSON', 'binary', 'binary / JSON'], limits),
      '',
      `- Checked: ${checks.join('; ')}.`,
      '',
      `Took ${((performance.now() - began) / 1000).toFixed(0)} s.`,
    ].join('\n');
    console.log(body);
    if (!quick) await record('Binary tensors against JSON: decoding share and the largest batch per call', 'npm run bench -- binary-tensors', body);
  } finally {
    await platform.stop();
  }
}
