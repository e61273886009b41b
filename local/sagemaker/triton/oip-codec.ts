/**
 * Triton's HTTP/REST request and response bodies on SageMaker's `/invocations`: Open Inference
 * Protocol v2 JSON (`application/json`), and the binary tensor data extension, whose JSON header
 * is followed by raw tensor bytes and whose size SageMaker carries in the content type
 * (`application/vnd.sagemaker-triton.binary+json;json-header-size=<N>`), as
 * `src/sagemaker_server.cc` reads and answers it.
 */
import type { Tensor } from 'onnxruntime-node';
import * as z from 'zod/mini';
import { flatten, halfToNumber } from '../../../src/inference/tensors.js';
import { jsonNumber } from '../../../src/json-number.js';

/** The content type of binary bodies, before the JSON header's size. */
export const BINARY_CONTENT_TYPE = 'application/vnd.sagemaker-triton.binary+json;json-header-size=';

/** An error Triton answers with `{"error": message}` and an HTTP status (400 for invalid arguments). */
export class TritonError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'TritonError';
  }
}

const invalid = (message: string) => new TritonError(400, message);

type TypedArray = Uint8Array | Int8Array | Uint16Array | Int16Array | Uint32Array | Int32Array | BigUint64Array | BigInt64Array | Float32Array | Float64Array;
type TypedArrayConstructor = { new (buffer: ArrayBuffer): TypedArray; readonly BYTES_PER_ELEMENT: number };

/** A protocol datatype's onnxruntime type and element storage (BYTES: strings). */
interface Datatype {
  readonly ort: Tensor.Type;
  readonly array?: TypedArrayConstructor;
}

/** The Open Inference Protocol datatypes and their onnxruntime tensor types. */
export const DATATYPES: Readonly<Record<string, Datatype>> = {
  BOOL: { ort: 'bool', array: Uint8Array },
  UINT8: { ort: 'uint8', array: Uint8Array },
  INT8: { ort: 'int8', array: Int8Array },
  UINT16: { ort: 'uint16', array: Uint16Array },
  INT16: { ort: 'int16', array: Int16Array },
  UINT32: { ort: 'uint32', array: Uint32Array },
  INT32: { ort: 'int32', array: Int32Array },
  UINT64: { ort: 'uint64', array: BigUint64Array },
  INT64: { ort: 'int64', array: BigInt64Array },
  FP16: { ort: 'float16', array: Uint16Array },
  FP32: { ort: 'float32', array: Float32Array },
  FP64: { ort: 'float64', array: Float64Array },
  BYTES: { ort: 'string' },
};

/** The protocol datatype of an onnxruntime tensor type. */
export function datatypeOf(type: Tensor.Type): string | undefined {
  return Object.entries(DATATYPES).find(([, datatype]) => datatype.ort === type)?.[0];
}

const parameters = z.optional(z.record(z.string(), z.unknown()));
const headerSchema = z.object({
  id: z.optional(z.string()),
  parameters,
  inputs: z.array(
    z.object({
      name: z.string(),
      datatype: z.string(),
      shape: z.array(z.number().check(z.int(), z.nonnegative())),
      parameters,
      data: z.optional(z.array(z.unknown())),
    }),
  ),
  outputs: z.optional(z.array(z.object({ name: z.string(), parameters }))),
});

/** One decoded input tensor: values ready for an onnxruntime tensor. */
export interface DecodedInput {
  readonly name: string;
  readonly datatype: string;
  readonly shape: readonly number[];
  readonly values: TypedArray | string[];
}

/** A decoded inference request. */
export interface DecodedRequest {
  readonly id?: string;
  readonly inputs: readonly DecodedInput[];
  /** Requested outputs and whether each travels as binary data; `undefined`: all, {@link binaryByDefault}. */
  readonly outputs?: readonly { readonly name: string; readonly binary: boolean }[];
  readonly binaryByDefault: boolean;
}

/** One output tensor of an answer. */
export interface ResponseOutput {
  readonly name: string;
  readonly datatype: string;
  readonly shape: readonly number[];
  readonly data: Tensor['data'];
  readonly binary: boolean;
}

const elementCount = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

function binarySwitch(where: string, value: unknown): boolean {
  if (value === undefined) return false;
  if (typeof value !== 'boolean') throw invalid(`parameter '${where}' must be a boolean`);
  return value;
}

/** The JSON header's length from a request's content type (the whole body when it is not binary). */
function headerLength(contentType: string | undefined, bodyLength: number): number {
  if (contentType === undefined) return bodyLength;
  const at = contentType.indexOf(BINARY_CONTENT_TYPE);
  if (at === -1) return bodyLength;
  if (at !== 0) throw invalid(`expect MIME type for binary data starts with '${BINARY_CONTENT_TYPE}', got: ${contentType}`);
  const text = contentType.slice(BINARY_CONTENT_TYPE.length);
  const value = Number.parseInt(text, 10);
  if (Number.isNaN(value)) throw invalid(`Unable to parse inference header size, got: ${text}`);
  if (value < 0 || value > bodyLength) throw invalid(`inference header size should be in range (0, ${bodyLength}), got: ${text}`);
  return value;
}

function bytesElements(name: string, bytes: Buffer): string[] {
  const values: string[] = [];
  let offset = 0;
  while (offset < bytes.length) {
    if (offset + 4 > bytes.length) throw invalid(`unexpected end of BYTES data for input '${name}'`);
    const length = bytes.readUInt32LE(offset);
    if (offset + 4 + length > bytes.length) throw invalid(`unexpected end of BYTES data for input '${name}'`);
    values.push(bytes.toString('utf8', offset + 4, offset + 4 + length));
    offset += 4 + length;
  }
  return values;
}

function binaryValues(name: string, datatype: Datatype, shape: readonly number[], bytes: Buffer): TypedArray | string[] {
  if (datatype.array === undefined) return bytesElements(name, bytes);
  const expected = elementCount(shape) * datatype.array.BYTES_PER_ELEMENT;
  if (bytes.length !== expected) throw invalid(`unexpected size ${bytes.length} for input '${name}', expecting ${expected} bytes`);
  // A copy: the body's bytes may not be aligned for the element type.
  return new datatype.array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length) as ArrayBuffer);
}

function jsonElement(datatypeName: string, value: unknown): number | bigint | string | undefined {
  switch (datatypeName) {
    case 'BOOL':
      return typeof value === 'boolean' ? Number(value) : undefined;
    case 'BYTES':
      return typeof value === 'string' ? value : undefined;
    case 'INT64':
    case 'UINT64':
      return typeof value === 'number' && Number.isInteger(value) ? BigInt(value) : undefined;
    case 'FP32':
    case 'FP64':
      return typeof value === 'number' ? value : value === 'NaN' || value === 'Infinity' || value === '-Infinity' ? Number(value) : undefined;
    default:
      return typeof value === 'number' && Number.isInteger(value) ? value : undefined;
  }
}

function jsonValues(name: string, datatypeName: string, datatype: Datatype, shape: readonly number[], data: readonly unknown[]): TypedArray | string[] {
  if (datatypeName === 'FP16') throw invalid(`input '${name}': the emulated Triton takes FP16 tensors as binary data only`);
  const flat = flatten(data);
  if (flat === undefined || flat.length !== elementCount(shape)) throw invalid(`unable to parse 'data': Shape does not match true shape of 'data' field`);
  const values = flat.map((value) => jsonElement(datatypeName, value));
  const bad = values.findIndex((value) => value === undefined);
  if (bad !== -1) throw invalid(`unable to parse 'data': expected ${datatypeName} data for input '${name}', got ${JSON.stringify(flat[bad])} at element ${bad}`);
  if (datatype.array === undefined) return values as string[];
  const array = new datatype.array(new ArrayBuffer(values.length * datatype.array.BYTES_PER_ELEMENT));
  values.forEach((value, i) => (array[i] = value as never));
  return array;
}

/** Decodes a `/invocations` body: JSON, or a JSON header followed by binary tensor data. */
export function decodeInferRequest(body: Buffer, contentType: string | undefined): DecodedRequest {
  const length = headerLength(contentType, body.length);
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8', 0, length));
  } catch (error) {
    throw invalid(`failed to parse the request JSON buffer: ${(error as Error).message}`);
  }
  const parsed = headerSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw invalid(`invalid inference request: '${issue.path.join('.')}': ${issue.message}`);
  }
  const header = parsed.data;
  const binaryByDefault = binarySwitch('binary_data_output', header.parameters?.['binary_data_output']);
  let offset = length;
  const inputs = header.inputs.map((input): DecodedInput => {
    const datatype = DATATYPES[input.datatype];
    if (datatype === undefined) throw invalid(`invalid datatype '${input.datatype}' for input '${input.name}'`);
    const size = input.parameters?.['binary_data_size'];
    if (size !== undefined) {
      if (typeof size !== 'number' || !Number.isInteger(size) || size < 0) throw invalid(`parameter 'binary_data_size' of input '${input.name}' must be a non-negative integer`);
      if (input.data !== undefined) throw invalid(`input '${input.name}' has both 'data' and 'binary_data_size'`);
      if (offset + size > body.length) throw invalid(`unexpected end of binary data for input '${input.name}'`);
      const values = binaryValues(input.name, datatype, input.shape, body.subarray(offset, offset + size));
      offset += size;
      return { name: input.name, datatype: input.datatype, shape: input.shape, values };
    }
    if (input.data === undefined) throw invalid(`must specify valid 'data' field for input '${input.name}'`);
    return { name: input.name, datatype: input.datatype, shape: input.shape, values: jsonValues(input.name, input.datatype, datatype, input.shape, input.data) };
  });
  if (offset !== body.length) throw invalid(`unexpected additional input data, expecting ${offset - length} additional bytes but got ${body.length - length}`);
  const outputs = header.outputs?.map((output) => {
    if (output.parameters?.['classification'] !== undefined) throw invalid(`the emulated Triton does not support the classification extension (output '${output.name}')`);
    const binary = output.parameters?.['binary_data'];
    return { name: output.name, binary: binary === undefined ? binaryByDefault : binarySwitch(`outputs.${output.name}.binary_data`, binary) };
  });
  return { ...(header.id === undefined ? {} : { id: header.id }), inputs, ...(outputs === undefined ? {} : { outputs }), binaryByDefault };
}

function jsonData(datatype: string, data: Tensor['data']): unknown[] {
  if (datatype === 'BOOL') return Array.from(data as Uint8Array, (v) => v !== 0);
  if (datatype === 'FP16') return Array.from(data as Uint16Array, (bits) => jsonNumber(halfToNumber(bits)));
  if (data instanceof BigInt64Array || data instanceof BigUint64Array) {
    return Array.from(data, (v) => (v >= -9007199254740991n && v <= 9007199254740991n ? Number(v) : v.toString()));
  }
  if (data instanceof Float32Array || data instanceof Float64Array) return Array.from(data, jsonNumber);
  return Array.from(data as ArrayLike<unknown>);
}

function binaryData(datatype: string, data: Tensor['data']): Buffer {
  if (datatype !== 'BYTES') {
    const view = data as TypedArray;
    return Buffer.from(view.buffer, view.byteOffset, view.byteLength);
  }
  return Buffer.concat(
    (data as string[]).flatMap((value) => {
      const bytes = Buffer.from(value, 'utf8');
      const length = Buffer.alloc(4);
      length.writeUInt32LE(bytes.length);
      return [length, bytes];
    }),
  );
}

/** An encoded answer: its body and content type (binary when an output travels as binary data). */
export interface EncodedResponse {
  readonly contentType: string;
  readonly body: Buffer;
}

/** Encodes an inference response, answering in kind: JSON, or a JSON header followed by binary outputs. */
export function encodeInferResponse(model: { readonly name: string; readonly version: string }, id: string | undefined, outputs: readonly ResponseOutput[]): EncodedResponse {
  const binaries: Buffer[] = [];
  const described = outputs.map((output) => {
    const head = { name: output.name, datatype: output.datatype, shape: output.shape };
    if (!output.binary) return { ...head, data: jsonData(output.datatype, output.data) };
    const bytes = binaryData(output.datatype, output.data);
    binaries.push(bytes);
    return { ...head, parameters: { binary_data_size: bytes.length } };
  });
  const header = Buffer.from(JSON.stringify({ ...(id === undefined ? {} : { id }), model_name: model.name, model_version: model.version, outputs: described }));
  if (binaries.length === 0) return { contentType: 'application/json', body: header };
  return { contentType: `${BINARY_CONTENT_TYPE}${header.length}`, body: Buffer.concat([header, ...binaries]) };
}
