/**
 * The Open Inference Protocol's binary tensor data extension on the platform's own infer routes,
 * as KServe and Triton define it (Triton's `docs/protocol/extension_binary_data.md`):
 *
 * - a request body is a JSON inference request of `Inference-Header-Content-Length` bytes, then
 *   the binary data of each input that has `parameters.binary_data_size`, in the order of the
 *   inputs (little-endian, row-major; BOOL one byte; each BYTES element a 4-byte length, then its
 *   bytes); inputs without it carry JSON `data` as usual;
 * - `Inference-Header-Content-Length: 0` is a raw binary request: the whole body is the data of
 *   the model's only input, its shape deduced from the byte count (at most one variable
 *   dimension; BYTES only as shape [1]), every output answered as binary data;
 * - outputs asked with `binary_data: true` (or all, with the request's `binary_data_output`,
 *   which an output's own `binary_data` overrides) come back the same way: the JSON response, its
 *   length in the response's `Inference-Header-Content-Length`, then their bytes.
 */
import { InvalidRequestError, quote } from '../errors.js';
import type { TensorSpec } from '../registry/types.js';
import { parseOwnJson, refuseByteOrderMark } from '../validation/own-json.js';
import { INFERENCE_HEADER_CONTENT_LENGTH, parseInferRequest, type InferRequest, type InferResponse } from './v2-protocol.js';
import { numberToHalf, type V2TensorOutput } from './tensors.js';


const BYTES_PER_ELEMENT: Readonly<Record<string, number>> = {
  BOOL: 1, UINT8: 1, INT8: 1, UINT16: 2, INT16: 2, FP16: 2, UINT32: 4, INT32: 4, FP32: 4, UINT64: 8, INT64: 8, FP64: 8,
};

/** A binary request split into its JSON part (parsed, prototype-free) and the bytes after it. */
export interface BinaryBody {
  readonly header: unknown;
  readonly data: Uint8Array;
}

/** The header length a request declares: a decimal number of bytes within the body. */
export function declaredHeaderLength(value: string, bodyLength: number): number {
  if (!/^\d{1,15}$/.test(value.trim())) throw new InvalidRequestError(`${INFERENCE_HEADER_CONTENT_LENGTH} must be a number of bytes, got ${quote(value)}`);
  const length = Number(value.trim());
  if (length > bodyLength) throw new InvalidRequestError(`${INFERENCE_HEADER_CONTENT_LENGTH} is ${length}, but the body has only ${bodyLength} bytes`);
  return length;
}

/** Splits a binary request body (header length > 0) into its JSON request and its binary data. */
export function splitBinaryBody(body: Uint8Array, headerLength: number): BinaryBody {
  let text: string;
  try {
    // A byte-order mark is kept (not skipped) so that it is refused as in a JSON body.
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(body.subarray(0, headerLength));
  } catch {
    throw new InvalidRequestError(`the first ${headerLength} bytes (${INFERENCE_HEADER_CONTENT_LENGTH}) are not UTF-8 JSON`);
  }
  refuseByteOrderMark(text, `the JSON inference header (the first ${headerLength} bytes, ${INFERENCE_HEADER_CONTENT_LENGTH})`);
  try {
    return { header: parseOwnJson(text), data: body.subarray(headerLength) };
  } catch (error) {
    throw new InvalidRequestError(`the JSON inference header (the first ${headerLength} bytes, ${INFERENCE_HEADER_CONTENT_LENGTH}) does not parse: ${(error as Error).message}`);
  }
}

/**
 * The request of a binary body whose JSON part is `headerLength` bytes (the
 * `Inference-Header-Content-Length` value); `undefined` for a raw body (length 0), whose request
 * depends on the model ({@link rawInferRequest}).
 */
export function binaryInferRequest(body: Uint8Array, headerLength: string): InferRequest | undefined {
  const length = declaredHeaderLength(headerLength, body.length);
  if (length === 0) return undefined;
  const { header, data } = splitBinaryBody(body, length);
  return parseInferRequest(header, data);
}

/**
 * A raw binary request (header length 0) as an inference request for `inputs`, the model's
 * input specs: one input, whose shape is its declared one with the variable dimension (at most
 * one) deduced from the byte count; a BYTES input takes one element (shape [1]). Every output is
 * answered as binary data.
 */
export function rawInferRequest(inputs: readonly TensorSpec[], body: Uint8Array): InferRequest {
  if (inputs.length !== 1) {
    throw new InvalidRequestError(`a raw binary request (${INFERENCE_HEADER_CONTENT_LENGTH}: 0) feeds a model with one input; this one has ${inputs.length} (${inputs.map((i) => i.name).join(', ')}): send a JSON inference header`);
  }
  const spec = inputs[0]!;
  const declared = spec.shape;
  const request = (shape: number[]): InferRequest => ({
    inputs: [{ name: spec.name, datatype: spec.datatype, shape, data: [], bytes: body }],
    parameters: { binary_data_output: true },
  });
  if (spec.datatype === 'BYTES') return request([1]);
  const variable = declared?.filter((d) => d < 0).length ?? Infinity;
  if (declared === undefined || variable > 1) {
    throw new InvalidRequestError(`a raw binary request needs input ${quote(spec.name)} to have at most one variable dimension; it has ${declared === undefined ? 'no declared shape' : `shape [${declared.join(', ')}]`}: send a JSON inference header`);
  }
  const fixed = declared.filter((d) => d >= 0).reduce((a, b) => a * b, 1) * BYTES_PER_ELEMENT[spec.datatype]!;
  if (fixed === 0 ? body.length !== 0 : body.length % fixed !== 0 || (variable === 0 && body.length !== fixed)) {
    throw new InvalidRequestError(`a raw binary request of ${body.length} bytes does not fill input ${quote(spec.name)} (${spec.datatype}, shape [${declared.join(', ')}]): expected ${variable === 0 ? fixed : `a multiple of ${fixed}`} bytes`);
  }
  return request(declared.map((d) => (d < 0 ? (fixed === 0 ? 0 : body.length / fixed) : d)));
}

/** The outputs an answer carries as binary data: those asked with `binary_data`, else all when the request asks `binary_data_output`. */
export function binaryOutputNames(request: InferRequest, answered: readonly V2TensorOutput[]): ReadonlySet<string> {
  const all = request.parameters?.['binary_data_output'] === true;
  const asked = new Map((request.outputs ?? []).map((o) => [o.name, o.parameters?.['binary_data']]));
  return new Set(answered.filter((o) => (asked.get(o.name) as boolean | undefined) ?? all).map((o) => o.name));
}

/** A response tensor's elements as the extension lays them out, from the JSON values the backends answer (exactly: 64-bit integers as decimal strings beyond 2^53, non-finite floats as strings). */
function outputBytes(output: V2TensorOutput): Uint8Array {
  const { datatype, data } = output;
  if (datatype === 'BYTES') {
    const elements = data.map((value) => new TextEncoder().encode(String(value)));
    const bytes = new Uint8Array(elements.reduce((sum, e) => sum + 4 + e.length, 0));
    const view = new DataView(bytes.buffer);
    let offset = 0;
    for (const element of elements) {
      view.setUint32(offset, element.length, true);
      bytes.set(element, offset + 4);
      offset += 4 + element.length;
    }
    return bytes;
  }
  const size = BYTES_PER_ELEMENT[datatype]!;
  const bytes = new Uint8Array(data.length * size);
  const view = new DataView(bytes.buffer);
  data.forEach((value, i) => {
    const at = i * size;
    switch (datatype) {
      case 'BOOL': return view.setUint8(at, value === true ? 1 : 0);
      case 'UINT8': return view.setUint8(at, Number(value));
      case 'INT8': return view.setInt8(at, Number(value));
      case 'UINT16': return view.setUint16(at, Number(value), true);
      case 'INT16': return view.setInt16(at, Number(value), true);
      case 'FP16': return view.setUint16(at, numberToHalf(Number(value)), true);
      case 'UINT32': return view.setUint32(at, Number(value), true);
      case 'INT32': return view.setInt32(at, Number(value), true);
      case 'FP32': return view.setFloat32(at, Number(value), true);
      case 'UINT64': return view.setBigUint64(at, BigInt(value as number | string), true);
      case 'INT64': return view.setBigInt64(at, BigInt(value as number | string), true);
      case 'FP64': return view.setFloat64(at, Number(value), true);
    }
  });
  return bytes;
}

/** An answer with binary outputs: the JSON response (its length for `Inference-Header-Content-Length`), then their bytes. */
export interface BinaryAnswer {
  readonly body: Buffer;
  readonly headerLength: number;
}

/** Encodes an answer whose `binary` outputs travel as binary data (the others stay JSON). */
export function encodeBinaryAnswer(response: InferResponse, binary: ReadonlySet<string>): BinaryAnswer {
  const parts: Uint8Array[] = [];
  const outputs = response.outputs.map((output) => {
    if (!binary.has(output.name)) return output;
    const bytes = outputBytes(output);
    parts.push(bytes);
    return { name: output.name, datatype: output.datatype, shape: output.shape, parameters: { binary_data_size: bytes.length } };
  });
  const header = Buffer.from(JSON.stringify({ ...response, outputs }));
  return { body: Buffer.concat([header, ...parts]), headerLength: header.length };
}
