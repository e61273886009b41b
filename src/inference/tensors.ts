import { Tensor } from 'onnxruntime-node';
import { InvalidRequestError, quote } from '../errors.js';
import { jsonNumber } from '../json-number.js';
import { loneSurrogate } from '../validation/unicode.js';
import type { TensorSpec, V2Datatype } from '../registry/types.js';
import { INTEGER_RANGES, v2DatatypeOf, type OrtType } from './datatypes.js';
import { binaryTensor } from './triton-binary.js';
import { MISSING_VALUES_METADATA_KEY } from '../ml/onnx/metadata-keys.js';

/** One tensor of a KServe v2 request (`inputs[i]`), after structural validation. */
export interface V2TensorInput {
  readonly name: string;
  readonly datatype: string;
  readonly shape: readonly number[];
  readonly data: readonly unknown[];
  /**
   * The tensor's bytes, when it came as binary data (the binary tensor data extension:
   * little-endian, row-major; `data` is then empty).
   */
  readonly bytes?: Uint8Array;
  /**
   * How an element is named in an error, by its row-major index (KServe v1 names instances).
   *
   * @default - `element <index>`
   */
  readonly elementName?: (index: number) => string;
}

/** One tensor of a KServe v2 response (`outputs[i]`). */
export interface V2TensorOutput {
  readonly name: string;
  readonly datatype: V2Datatype;
  readonly shape: number[];
  readonly data: unknown[];
}

/** Deepest nesting accepted in `data` (ONNX tensors have far fewer dimensions). */
const MAX_NESTING = 32;
/** Largest dimension accepted in a shape (onnxruntime's int32 limit). */
const MAX_DIMENSION = 2 ** 31 - 1;

/**
 * Flattens row-major nested arrays (the v2 JSON encoding allows both flat and
 * nested data), iteratively and at most {@link MAX_NESTING} deep; `undefined`
 * when the nesting is deeper.
 */
export function flatten(data: readonly unknown[]): readonly unknown[] | undefined {
  if (!data.some(Array.isArray)) return data;
  const out: unknown[] = [];
  const stack: { items: readonly unknown[]; next: number }[] = [{ items: data, next: 0 }];
  while (stack.length > 0) {
    const top = stack[stack.length - 1]!;
    if (top.next === top.items.length) {
      stack.pop();
      continue;
    }
    const value = top.items[top.next++];
    if (!Array.isArray(value)) out.push(value);
    else if (stack.length === MAX_NESTING) return undefined;
    else stack.push({ items: value, next: 0 });
  }
  return out;
}

const product = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

const formatShape = (shape: readonly number[]): string => `[${shape.join(', ')}]`;

function checkShape(spec: TensorSpec, shape: readonly number[]): void {
  if (shape.length > MAX_NESTING || !shape.every((d) => Number.isSafeInteger(d) && d >= 0 && d <= MAX_DIMENSION)) {
    throw new InvalidRequestError(`input ${quote(spec.name)}: shape must hold at most ${MAX_NESTING} integers between 0 and ${MAX_DIMENSION}`);
  }
  // No model shape means the ONNX file does not declare the input's rank: anything goes.
  const declared = spec.shape;
  if (declared === undefined) return;
  const expected = `[${declared.map((d) => (d < 0 ? '-1' : String(d))).join(', ')}]${declared.length === 0 ? ' (a scalar)' : ''}`;
  if (shape.length !== declared.length) {
    throw new InvalidRequestError(`input ${quote(spec.name)}: shape ${formatShape(shape)} has rank ${shape.length}; the model expects ${expected}`);
  }
  declared.forEach((dim, i) => {
    if (dim >= 0 && shape[i] !== dim) {
      throw new InvalidRequestError(`input ${quote(spec.name)}: dimension ${i} is ${shape[i]}; the model expects ${expected}`);
    }
  });
}

/**
 * The elements of a tensor's `data` in row-major order. Flat data must hold exactly as many
 * elements as the shape; nested data must follow the shape exactly: the outer array as long as
 * dimension 0, each array at depth d as long as dimension d, values only at the last depth.
 * Errors say where the data differs (`data[1]`, the dimension and both lengths).
 */
function elementsOf(spec: TensorSpec, data: readonly unknown[], shape: readonly number[]): readonly unknown[] {
  const fail = (message: string): never => {
    throw new InvalidRequestError(`input ${quote(spec.name)}: ${message}`);
  };
  if (!data.some(Array.isArray)) {
    const expected = product(shape);
    if (data.length !== expected) fail(`data has ${data.length} elements but shape ${formatShape(shape)} needs ${expected}`);
    return data;
  }
  if (shape.length === 0) fail('data is nested but shape [] is a scalar');
  const out: unknown[] = [];
  // Indices of the arrays being walked, for error messages only.
  const path: number[] = [];
  const where = () => `data${path.map((i) => `[${i}]`).join('')}`;
  const walk = (items: readonly unknown[], depth: number): void => {
    if (items.length !== shape[depth]) {
      fail(`${where()} has ${items.length} elements; shape ${formatShape(shape)} needs ${shape[depth]} at dimension ${depth}`);
    }
    const last = depth === shape.length - 1;
    for (let i = 0; i < items.length; i++) {
      const item = items[i];
      path.push(i);
      if (last) {
        if (Array.isArray(item)) fail(`${where()} is an array; shape ${formatShape(shape)} has ${shape.length} dimension(s), so values belong at depth ${shape.length}`);
        out.push(item);
      } else if (!Array.isArray(item)) {
        fail(`${where()} is a value; shape ${formatShape(shape)} needs an array of ${shape[depth + 1]} there (dimension ${depth + 1})`);
      } else {
        walk(item, depth + 1);
      }
      path.pop();
    }
  };
  walk(data, 0);
  return out;
}

/** How an element that does not fit is shown in an error: bounded, and saying what JSON made of it. */
function describe(value: unknown): string {
  if (typeof value === 'number' && !Number.isFinite(value)) return 'a number beyond the range of JSON numbers (±1.8e308)';
  if (typeof value === 'string') return `the string ${quote(value)}`;
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object' && value !== null) return 'an object';
  return String(value);
}

/** An element that does not fit its input, by index (named by the protocol in {@link toOrtTensor}). */
class ElementError extends Error {
  constructor(
    readonly index: number,
    readonly problem: string,
  ) {
    super(`element ${index} ${problem}`);
  }
}

function fail(index: number, what: string): never {
  throw new ElementError(index, what);
}

function refuseNull(index: number, expected: string): never {
  return fail(
    index,
    `is null, but the model does not declare missing-value handling for this input (ONNX metadata '${MISSING_VALUES_METADATA_KEY}'); send ${expected}`,
  );
}

/** JSON has no NaN: `null` in a float input marks a missing value, which reaches the model as NaN, in inputs whose model declares it handles them (trained models impute them). */
function toFloats(spec: TensorSpec, data: readonly unknown[], array: Float32Array | Float64Array, acceptsMissing: boolean): Float32Array | Float64Array {
  for (let i = 0; i < data.length; i++) {
    const value = data[i];
    if (value === null) {
      if (!acceptsMissing) refuseNull(i, 'a number');
      array[i] = NaN;
      continue;
    }
    if (typeof value !== 'number' || !Number.isFinite(value)) fail(i, `is ${describe(value)}; expected a finite number${acceptsMissing ? ' or null' : ''}`);
    array[i] = value;
    // A finite JSON number can still overflow FP32 (1e39 becomes Infinity).
    if (!Number.isFinite(array[i]!)) fail(i, `is ${value}; out of range for ${spec.datatype}`);
  }
  return array;
}

/**
 * An integer element: a JSON number that is a safe integer, or a decimal string (the only exact
 * form beyond ±2^53). A JSON number beyond ±2^53 has already been rounded by the JSON parser, so
 * the message never quotes it (it would not be the number that was sent).
 */
function toInteger(spec: TensorSpec, index: number, value: unknown): bigint {
  const [min, max] = INTEGER_RANGES[spec.datatype]!;
  const range = `${min} to ${max}`;
  let parsed: bigint | undefined;
  if (typeof value === 'number' && Number.isSafeInteger(value)) parsed = BigInt(value);
  else if (typeof value === 'string' && /^-?\d+$/.test(value)) parsed = BigInt(value);
  else if (typeof value === 'number' && Number.isInteger(value)) {
    fail(
      index,
      max > BigInt(Number.MAX_SAFE_INTEGER)
        ? `is an integer beyond ±2^53 (${Number.MAX_SAFE_INTEGER}): as a JSON number it loses precision (it no longer reads as the number sent); send ${spec.datatype} values that large as decimal strings, e.g. "${max}"`
        : `is an integer beyond ±2^53; out of range for ${spec.datatype} (${range})`,
    );
  }
  if (parsed === undefined) fail(index, `is ${describe(value)}; expected an integer`);
  if (parsed < min || parsed > max) fail(index, `is ${typeof value === 'string' ? quote(value) : value}; out of range for ${spec.datatype} (${range})`);
  return parsed;
}

/** FP16 elements as onnxruntime-node takes them without Float16Array: their IEEE 754 half-precision bits, each number rounded to the nearest half. */
function toHalves(spec: TensorSpec, data: readonly unknown[], acceptsMissing: boolean): Uint16Array {
  // Read as doubles, so each number is rounded once, straight to a half.
  const floats = toFloats(spec, data, new Float64Array(data.length), acceptsMissing);
  const halves = new Uint16Array(floats.length);
  for (let i = 0; i < floats.length; i++) {
    halves[i] = numberToHalf(floats[i]!);
    if (!Number.isNaN(floats[i]!) && (halves[i]! & 0x7c00) === 0x7c00) fail(i, `is ${data[i] as number}; out of range for FP16 (±65504)`);
  }
  return halves;
}

type SmallIntArray = Int8Array | Int16Array | Int32Array | Uint8Array | Uint16Array | Uint32Array;

function toSmallInts(spec: TensorSpec, data: readonly unknown[], array: SmallIntArray): SmallIntArray {
  for (let i = 0; i < data.length; i++) array[i] = Number(toInteger(spec, i, data[i]));
  return array;
}

function toBigInts(spec: TensorSpec, data: readonly unknown[], array: BigInt64Array | BigUint64Array): BigInt64Array | BigUint64Array {
  for (let i = 0; i < data.length; i++) array[i] = toInteger(spec, i, data[i]);
  return array;
}

function toBools(spec: TensorSpec, data: readonly unknown[]): Uint8Array {
  const array = new Uint8Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const value = data[i];
    if (typeof value !== 'boolean') fail(i, `is ${describe(value)}; expected true or false`);
    array[i] = value ? 1 : 0;
  }
  return array;
}

/**
 * Why a string cannot reach the model intact, if it cannot: onnxruntime-node hands string
 * elements to the runtime as NUL-terminated UTF-8, so a U+0000 would cut the string short and an
 * unpaired surrogate (no UTF-8 encoding) would become U+FFFD.
 */
function unsendable(value: string): string | undefined {
  const nul = value.indexOf('\u0000');
  if (nul >= 0) return `contains U+0000 at position ${nul}`;
  const lone = loneSurrogate(value);
  if (lone !== undefined) return `contains an unpaired surrogate (${lone.unit}) at position ${lone.index}`;
  return undefined;
}

/** `null` in a string input marks a missing value and becomes `""`, in inputs whose model declares it handles them (trained models map it to their unknown category). */
function toStrings(spec: TensorSpec, data: readonly unknown[], acceptsMissing: boolean): string[] {
  return data.map((value, i) => {
    if (value === null) {
      if (!acceptsMissing) refuseNull(i, 'a string');
      return '';
    }
    if (typeof value !== 'string') fail(i, `is ${describe(value)}; expected a string${acceptsMissing ? ' or null' : ''}`);
    const problem = unsendable(value);
    if (problem !== undefined) {
      fail(i, `${problem}; ONNX Runtime takes strings as NUL-terminated UTF-8, so it would not reach the model intact (BYTES elements may not contain U+0000 or unpaired surrogates)`);
    }
    return value;
  });
}

function typedData(spec: TensorSpec, data: readonly unknown[], acceptsMissing: boolean): { type: OrtType; values: Tensor['data'] } {
  const n = data.length;
  switch (spec.datatype) {
    case 'FP32': return { type: 'float32', values: toFloats(spec, data, new Float32Array(n), acceptsMissing) };
    case 'FP64': return { type: 'float64', values: toFloats(spec, data, new Float64Array(n), acceptsMissing) };
    case 'INT8': return { type: 'int8', values: toSmallInts(spec, data, new Int8Array(n)) };
    case 'INT16': return { type: 'int16', values: toSmallInts(spec, data, new Int16Array(n)) };
    case 'INT32': return { type: 'int32', values: toSmallInts(spec, data, new Int32Array(n)) };
    case 'INT64': return { type: 'int64', values: toBigInts(spec, data, new BigInt64Array(n)) };
    case 'UINT8': return { type: 'uint8', values: toSmallInts(spec, data, new Uint8Array(n)) };
    case 'UINT16': return { type: 'uint16', values: toSmallInts(spec, data, new Uint16Array(n)) };
    case 'UINT32': return { type: 'uint32', values: toSmallInts(spec, data, new Uint32Array(n)) };
    case 'UINT64': return { type: 'uint64', values: toBigInts(spec, data, new BigUint64Array(n)) };
    case 'BOOL': return { type: 'bool', values: toBools(spec, data) };
    case 'BYTES': return { type: 'string', values: toStrings(spec, data, acceptsMissing) };
    case 'FP16': return { type: 'float16', values: toHalves(spec, data, acceptsMissing) };
  }
}

/**
 * Converts one v2 request tensor into an onnxruntime tensor, checking it against
 * the model's input spec: datatype, rank and fixed dimensions, data that follows the
 * shape (flat with its element count, or nested exactly like it) and every element's
 * type and range. `null` elements are accepted only when `acceptsMissing` (the model
 * declares missing-value handling for this input). Errors name the input.
 */
export function toOrtTensor(spec: TensorSpec, input: V2TensorInput, acceptsMissing = false): Tensor {
  if (input.datatype !== spec.datatype) {
    throw new InvalidRequestError(`input ${quote(spec.name)}: datatype ${quote(input.datatype)} does not match the model's ${spec.datatype}`);
  }
  checkShape(spec, input.shape);
  if (input.bytes !== undefined) return binaryOrtTensor(spec, input.shape, input.bytes, acceptsMissing);
  const data = elementsOf(spec, input.data, input.shape);
  let typed: ReturnType<typeof typedData>;
  try {
    typed = typedData(spec, data, acceptsMissing);
  } catch (error) {
    if (!(error instanceof ElementError)) throw error;
    const name = input.elementName?.(error.index) ?? `element ${error.index}`;
    throw new InvalidRequestError(`input ${quote(spec.name)}: ${name} ${error.problem}`);
  }
  const { type, values } = typed;
  try {
    return new Tensor(type, values, input.shape);
  } catch (error) {
    throw new InvalidRequestError(`input ${quote(spec.name)}: ${(error as Error).message}`, error);
  }
}

/** `x` rounded to the nearest integer, ties to even (IEEE 754's default rounding). */
function roundHalfEven(x: number): number {
  const floor = Math.floor(x);
  const rest = x - floor;
  return rest > 0.5 ? floor + 1 : rest < 0.5 ? floor : floor + (floor % 2);
}

/**
 * A number as IEEE 754 half-precision bits, rounded once from the double to the nearest half
 * (ties to even): beyond the largest half's rounding range (±65520) it is ±Infinity; NaN stays NaN.
 */
export function numberToHalf(value: number): number {
  if (Number.isNaN(value)) return 0x7e00;
  const sign = value < 0 || Object.is(value, -0) ? 0x8000 : 0;
  const magnitude = Math.abs(value);
  if (magnitude >= 65520) return sign | 0x7c00;
  // Subnormal halves are multiples of 2^-24; 1024 of them is the smallest normal half, whose bits are 1024 too.
  if (magnitude < 2 ** -14) return sign | roundHalfEven(magnitude * 2 ** 24);
  // A normal half: the double's exponent, and its 52-bit fraction rounded to 10 bits, ties to even.
  DOUBLE.setFloat64(0, magnitude);
  const high = DOUBLE.getUint32(0);
  const low = DOUBLE.getUint32(4);
  const exponent = (high >>> 20) - 1023 + 15;
  const fraction = (high >>> 10) & 0x3ff;
  const halfway = (high & 0x200) !== 0;
  const sticky = (high & 0x1ff) !== 0 || low !== 0;
  // A carry out of the fraction moves to the next exponent, as the bits add up.
  return sign | (((exponent << 10) | fraction) + (halfway && (sticky || (fraction & 1) === 1) ? 1 : 0));
}

/** Scratch space for reading a double's bits. */
const DOUBLE = new DataView(new ArrayBuffer(8));

/**
 * A binary input (the binary tensor data extension) as an onnxruntime tensor: as many bytes as
 * the shape holds, and values held to the same rules as JSON ones: floats finite (NaN only where
 * the model handles missing values), strings that reach the model intact.
 */
function binaryOrtTensor(spec: TensorSpec, shape: readonly number[], bytes: Uint8Array, acceptsMissing: boolean): Tensor {
  const tensor = binaryTensor(spec.datatype, shape, bytes);
  if (typeof tensor === 'string') throw new InvalidRequestError(`input ${quote(spec.name)}: binary data of ${tensor}`);
  const values = tensor.data;
  const bad = (index: number, problem: string): never => {
    throw new InvalidRequestError(`input ${quote(spec.name)}: element ${index} ${problem}`);
  };
  /** A NaN is a missing value where the model handles them; an infinity never fits. */
  const nonFinite = (index: number, nan: boolean): void => {
    if (!nan) bad(index, 'is infinite; expected a finite number');
    else if (!acceptsMissing) bad(index, `is NaN, but the model does not declare missing-value handling for this input (ONNX metadata '${MISSING_VALUES_METADATA_KEY}')`);
  };
  if (values instanceof Float32Array || values instanceof Float64Array) {
    for (let i = 0; i < values.length; i++) {
      const value = values[i]!;
      if (value - value !== 0) nonFinite(i, Number.isNaN(value));
    }
  } else if (spec.datatype === 'FP16') {
    // All exponent bits set: infinity (fraction 0) or NaN.
    const bits = values as Uint16Array;
    for (let i = 0; i < bits.length; i++) if ((bits[i]! & 0x7c00) === 0x7c00) nonFinite(i, (bits[i]! & 0x3ff) !== 0);
  } else if (Array.isArray(values)) {
    values.forEach((value: string, i: number) => {
      const problem = unsendable(value);
      if (problem !== undefined) bad(i, `${problem}; ONNX Runtime takes strings as NUL-terminated UTF-8, so it would not reach the model intact`);
    });
  } else if (spec.datatype === 'BOOL' && (values as Uint8Array).some((byte) => byte > 1)) {
    bad((values as Uint8Array).findIndex((byte) => byte > 1), 'is a BOOL byte other than 0 or 1');
  }
  return tensor;
}

/** An IEEE 754 half-precision value (its 16 bits) as a number. */
export function halfToNumber(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024);
  if (exponent === 0x1f) return fraction === 0 ? sign * Infinity : NaN;
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}

/** `values` mapped by `map` into an array: a loop, 3–6× faster than `Array.from(values, map)` on typed arrays (Node 20). */
function mapped<T>(values: ArrayLike<T>, map: (value: T) => unknown): unknown[] {
  const out = new Array<unknown>(values.length);
  for (let i = 0; i < values.length; i++) out[i] = map(values[i]!);
  return out;
}

/** JSON has no 64-bit integers: exact as numbers up to 2^53, as decimal strings beyond. */
const jsonInteger = (value: bigint): number | string => (value >= -9007199254740991n && value <= 9007199254740991n ? Number(value) : value.toString());

function jsonValues(tensor: Tensor): unknown[] {
  const data = tensor.data;
  if (tensor.type === 'bool') return mapped(data as Uint8Array, (v) => v !== 0);
  // Without Float16Array (Node < 24), onnxruntime hands FP16 data over as raw bits.
  if (tensor.type === 'float16' && data instanceof Uint16Array) return mapped(data, (bits) => jsonNumber(halfToNumber(bits)));
  if (data instanceof BigInt64Array || data instanceof BigUint64Array) return mapped<bigint>(data, jsonInteger);
  if (tensor.type === 'float16' || tensor.type === 'float32' || tensor.type === 'float64') return mapped(data as ArrayLike<number>, jsonNumber);
  return Array.from(data as ArrayLike<unknown>);
}

/** Converts an onnxruntime output tensor into a v2 response tensor (non-finite floats as {@link jsonNumber} strings). */
export function fromOrtTensor(name: string, tensor: Tensor): V2TensorOutput {
  return { name, datatype: v2DatatypeOf(tensor.type), shape: [...tensor.dims], data: jsonValues(tensor) };
}
