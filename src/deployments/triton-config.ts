/**
 * The Triton Inference Server model configuration (`config.pbtxt`, protobuf text format) of an ONNX
 * version: `platform: "onnxruntime_onnx"`, no batching by Triton (`max_batch_size: 0`: a version's
 * dynamic first dimension is its batch, passed through as the predict function passes it), and
 * each input and output with its Triton datatype and dimensions (`-1` dynamic), as the version's
 * signature declares them. Shipping the configuration rather than letting Triton derive one makes
 * the served tensors exactly those the registry validated.
 */
import type { ModelSignature, TensorSpec, V2Datatype } from '../registry/types.js';

/** Triton's datatype of each KServe v2 datatype (BYTES is Triton's TYPE_STRING). */
export const TRITON_DATATYPES: Readonly<Record<V2Datatype, string>> = {
  BOOL: 'TYPE_BOOL',
  UINT8: 'TYPE_UINT8',
  UINT16: 'TYPE_UINT16',
  UINT32: 'TYPE_UINT32',
  UINT64: 'TYPE_UINT64',
  INT8: 'TYPE_INT8',
  INT16: 'TYPE_INT16',
  INT32: 'TYPE_INT32',
  INT64: 'TYPE_INT64',
  FP16: 'TYPE_FP16',
  FP32: 'TYPE_FP32',
  FP64: 'TYPE_FP64',
  BYTES: 'TYPE_STRING',
};

/**
 * A protobuf text-format string literal: `"` and `\` escaped, control characters and DEL as octal
 * escapes of their byte; other characters (UTF-8) as they are, which the text format accepts.
 */
export function textFormatString(value: string): string {
  let escaped = '';
  for (const c of value) {
    const code = c.charCodeAt(0);
    if (c === '\\' || c === '"') escaped += `\\${c}`;
    else if (code < 0x20 || code === 0x7f) escaped += `\\${code.toString(8).padStart(3, '0')}`;
    else escaped += c;
  }
  return `"${escaped}"`;
}

/** One tensor's entry. A scalar (shape `[]`) is given to Triton as `[1]` reshaped to `[]`, since dims may not be empty. */
function tensorEntry(tensor: TensorSpec): string {
  const shape = tensor.shape;
  if (shape === undefined) throw new Error(`tensor '${tensor.name}' declares no shape; Triton needs its dimensions`);
  const dims = shape.length === 0 ? '[ 1 ]' : `[ ${shape.join(', ')} ]`;
  return [
    '  {',
    `    name: ${textFormatString(tensor.name)}`,
    `    data_type: ${TRITON_DATATYPES[tensor.datatype]}`,
    `    dims: ${dims}`,
    ...(shape.length === 0 ? ['    reshape: { shape: [ ] }'] : []),
    '  }',
  ].join('\n');
}

/** The `config.pbtxt` of a version served by Triton as model `name`. */
export function tritonModelConfig(name: string, signature: ModelSignature): string {
  const list = (tensors: readonly TensorSpec[]) => tensors.map(tensorEntry).join(',\n');
  return [
    `name: ${textFormatString(name)}`,
    'platform: "onnxruntime_onnx"',
    'max_batch_size: 0',
    'input [',
    list(signature.inputs),
    ']',
    'output [',
    list(signature.outputs),
    ']',
    '',
  ].join('\n');
}
