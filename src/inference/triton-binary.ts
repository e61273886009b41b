/**
 * Tensors to and from Triton Inference Server on SageMaker with the Open Inference Protocol's
 * binary tensor data extension, as `src/sagemaker_server.cc` takes it on `/invocations`: a JSON
 * header whose length travels in the content type
 * (`application/vnd.sagemaker-triton.binary+json;json-header-size=<N>`, because `InvokeEndpoint`
 * strips other request headers), then each input's raw bytes in the header's order; outputs asked
 * with `binary_data: true` come back the same way, their header length read back from the
 * answer's content type.
 *
 * Raw bytes cost no number formatting or parsing on either side (12,288 floats of an image are
 * ~1.3 ms of `JSON.stringify` here, and Triton's JSON decoding on the endpoint), and carry every
 * value exactly: 64-bit integers beyond ±2^53, NaN and infinities. Bytes are little-endian
 * row-major (the extension's order, and that of typed arrays on Lambda's x86_64 and arm64); BOOL
 * one byte per element; each BYTES element a 4-byte little-endian length, then its UTF-8 bytes.
 */
import { Tensor } from 'onnxruntime-node';
import * as z from 'zod/mini';
import '../validation/zod.js';
import type { V2Datatype } from '../registry/types.js';
import { v2DatatypeOf } from './datatypes.js';

/** The content type of a binary body, before the JSON header's length. */
export const TRITON_BINARY_CONTENT_TYPE = 'application/vnd.sagemaker-triton.binary+json;json-header-size=';

/** An encoded request: the body and its content type. */
export interface TritonRequest {
  readonly body: Uint8Array;
  readonly contentType: string;
}

const textEncoder = new TextEncoder();

/** A tensor's elements as the extension lays them out. */
function tensorBytes(tensor: Tensor): Uint8Array {
  if (tensor.type !== 'string') {
    const view = tensor.data as ArrayBufferView;
    return new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
  }
  const elements = (tensor.data as string[]).map((value) => textEncoder.encode(value));
  const bytes = new Uint8Array(elements.reduce((sum, element) => sum + 4 + element.length, 0));
  const view = new DataView(bytes.buffer);
  let offset = 0;
  for (const element of elements) {
    view.setUint32(offset, element.length, true);
    bytes.set(element, offset + 4);
    offset += 4 + element.length;
  }
  return bytes;
}

/**
 * Encodes checked inputs (onnxruntime tensors) and the outputs to fetch: every input as binary
 * data, every output asked as binary data.
 */
export function encodeTritonRequest(feeds: ReadonlyMap<string, Tensor>, fetches: readonly string[]): TritonRequest {
  const tensors = [...feeds].map(([name, tensor]) => ({ name, tensor, bytes: tensorBytes(tensor) }));
  const header = textEncoder.encode(
    JSON.stringify({
      inputs: tensors.map(({ name, tensor, bytes }) => ({ name, datatype: v2DatatypeOf(tensor.type), shape: tensor.dims, parameters: { binary_data_size: bytes.length } })),
      outputs: fetches.map((name) => ({ name, parameters: { binary_data: true } })),
    }),
  );
  const body = new Uint8Array(header.length + tensors.reduce((sum, { bytes }) => sum + bytes.length, 0));
  body.set(header, 0);
  let offset = header.length;
  for (const { bytes } of tensors) {
    body.set(bytes, offset);
    offset += bytes.length;
  }
  return { body, contentType: `${TRITON_BINARY_CONTENT_TYPE}${header.length}` };
}

const answerHeaderSchema = z.object({
  outputs: z.array(
    z.object({
      name: z.string(),
      datatype: z.string(),
      shape: z.array(z.number().check(z.int(), z.nonnegative())),
      data: z.optional(z.array(z.unknown())),
      parameters: z.optional(z.record(z.string(), z.unknown())),
    }),
  ),
});

/** One output of an answer's JSON header. */
export type AnsweredOutput = z.infer<typeof answerHeaderSchema>['outputs'][number];

/** A decoded answer: its header's outputs, and the bytes each binary output carries. */
export interface TritonAnswer {
  readonly outputs: readonly AnsweredOutput[];
  /** Per output (by its index in `outputs`), its binary data; absent for outputs sent as JSON. */
  readonly binary: ReadonlyMap<number, Uint8Array>;
}

/** An answer that is not an Open Inference Protocol response; its message says what is wrong. */
export class TritonAnswerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TritonAnswerError';
  }
}

/** The JSON header's length: from a binary content type, else the whole body. */
function headerLength(contentType: string | undefined, bodyLength: number): number {
  if (contentType?.startsWith(TRITON_BINARY_CONTENT_TYPE) !== true) return bodyLength;
  const text = contentType.slice(TRITON_BINARY_CONTENT_TYPE.length);
  const length = /^\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!(length <= bodyLength)) throw new TritonAnswerError(`a content type whose header size '${text.slice(0, 20)}' does not fit its ${bodyLength}-byte body`);
  return length;
}

/** Splits an answer (JSON, or a JSON header followed by binary outputs) into its header and each binary output's bytes. */
export function decodeTritonAnswer(body: Uint8Array, contentType: string | undefined): TritonAnswer {
  const length = headerLength(contentType, body.length);
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(body.subarray(0, length)));
  } catch {
    throw new TritonAnswerError('something that is not JSON');
  }
  const parsed = answerHeaderSchema.safeParse(json);
  if (!parsed.success) throw new TritonAnswerError('something that is not an Open Inference Protocol response');
  const binary = new Map<number, Uint8Array>();
  let offset = length;
  parsed.data.outputs.forEach((output, index) => {
    const size = output.parameters?.['binary_data_size'];
    if (size === undefined) return;
    if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) throw new TritonAnswerError(`output '${output.name}' with a binary_data_size that is not a byte count`);
    if (offset + size > body.length) throw new TritonAnswerError(`output '${output.name}' with binary_data_size ${size} beyond the ${body.length - offset} bytes left`);
    binary.set(index, body.subarray(offset, offset + size));
    offset += size;
  });
  if (offset !== body.length) throw new TritonAnswerError(`${body.length - offset} bytes after the last binary output`);
  return { outputs: parsed.data.outputs, binary };
}

type ElementArray = { new (buffer: ArrayBuffer, byteOffset?: number, length?: number): Tensor['data']; readonly BYTES_PER_ELEMENT: number };

/** The element storage of each fixed-size datatype (FP16 as its raw bits, as onnxruntime-node hands it over). */
const ARRAYS: Readonly<Record<Exclude<V2Datatype, 'BYTES'>, readonly [Tensor.Type, ElementArray]>> = {
  BOOL: ['bool', Uint8Array],
  UINT8: ['uint8', Uint8Array],
  INT8: ['int8', Int8Array],
  UINT16: ['uint16', Uint16Array],
  INT16: ['int16', Int16Array],
  UINT32: ['uint32', Uint32Array],
  INT32: ['int32', Int32Array],
  UINT64: ['uint64', BigUint64Array],
  INT64: ['int64', BigInt64Array],
  FP16: ['float16', Uint16Array],
  FP32: ['float32', Float32Array],
  FP64: ['float64', Float64Array],
};

function bytesElements(bytes: Uint8Array): string[] | undefined {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const decoder = new TextDecoder('utf-8', { fatal: true });
  const values: string[] = [];
  for (let offset = 0; offset < bytes.length; ) {
    if (offset + 4 > bytes.length) return undefined;
    const length = view.getUint32(offset, true);
    if (offset + 4 + length > bytes.length) return undefined;
    try {
      values.push(decoder.decode(bytes.subarray(offset + 4, offset + 4 + length)));
    } catch {
      return undefined;
    }
    offset += 4 + length;
  }
  return values;
}

/**
 * A binary output's bytes as an onnxruntime tensor of `datatype` and `shape` (so it becomes a
 * response tensor exactly as the ONNX backend's outputs do), or why the bytes do not fit.
 */
export function binaryTensor(datatype: V2Datatype, shape: readonly number[], bytes: Uint8Array): Tensor | string {
  const elements = shape.reduce((a, b) => a * b, 1);
  if (datatype === 'BYTES') {
    const values = bytesElements(bytes);
    if (values === undefined) return `${bytes.length} bytes that are not length-prefixed UTF-8 elements`;
    if (values.length !== elements) return `${values.length} elements for shape [${shape.join(', ')}]`;
    return new Tensor('string', values, shape);
  }
  const [type, array] = ARRAYS[datatype];
  if (bytes.length !== elements * array.BYTES_PER_ELEMENT) return `${bytes.length} bytes where shape [${shape.join(', ')}] of ${datatype} needs ${elements * array.BYTES_PER_ELEMENT}`;
  // A view where the bytes are aligned for the element type; else a copy of exactly these bytes
  // (`Uint8Array`'s own `slice`: a Buffer's would share its memory).
  const aligned = bytes.byteOffset % array.BYTES_PER_ELEMENT === 0;
  const data = aligned ? new array(bytes.buffer as ArrayBuffer, bytes.byteOffset, elements) : new array(Uint8Array.prototype.slice.call(bytes).buffer);
  return new Tensor(type, data as never, shape);
}
