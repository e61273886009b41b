import type { Tensor } from 'onnxruntime-node';
import { UnsupportedTensorError, type V2Datatype } from '../registry/types.js';

/** onnxruntime tensor element types. */
export type OrtType = Tensor.Type;

const ORT_TO_V2: Readonly<Record<OrtType, V2Datatype | undefined>> = {
  bool: 'BOOL',
  uint8: 'UINT8',
  uint16: 'UINT16',
  uint32: 'UINT32',
  uint64: 'UINT64',
  int8: 'INT8',
  int16: 'INT16',
  int32: 'INT32',
  int64: 'INT64',
  float16: 'FP16',
  float32: 'FP32',
  float64: 'FP64',
  string: 'BYTES',
  // Packed two per byte; KServe v2 has no 4-bit types.
  int4: undefined,
  uint4: undefined,
};

/** The KServe v2 datatype of an onnxruntime element type; throws for types v2 cannot carry. */
export function v2DatatypeOf(type: OrtType): V2Datatype {
  const datatype = ORT_TO_V2[type];
  if (datatype === undefined) throw new UnsupportedTensorError(`element type ${type} has no KServe v2 datatype`);
  return datatype;
}

/** Integer datatypes and their inclusive ranges (64-bit ones as bigint). */
export const INTEGER_RANGES: Readonly<Partial<Record<V2Datatype, readonly [bigint, bigint]>>> = {
  INT8: [-128n, 127n],
  INT16: [-32768n, 32767n],
  INT32: [-2147483648n, 2147483647n],
  INT64: [-9223372036854775808n, 9223372036854775807n],
  UINT8: [0n, 255n],
  UINT16: [0n, 65535n],
  UINT32: [0n, 4294967295n],
  UINT64: [0n, 18446744073709551615n],
};
