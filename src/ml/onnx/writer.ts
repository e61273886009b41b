/**
 * Small typed helpers over the `onnx-proto` protobuf schema to write ONNX
 * models: nodes with attributes, constant initializers, value infos with a
 * symbolic batch dimension, and the model header the platform stamps on every
 * exported graph (IR 8, opset ai.onnx 13 + ai.onnx.ml 3).
 */
import onnxProto from 'onnx-proto';

/** The `onnx` protobuf namespace (message classes and enums). */
export const { onnx } = onnxProto;

/** IR version of exported models (ONNX 1.10+). */
export const IR_VERSION = 8;
/** Version of the default (`ai.onnx`) operator set. */
export const OPSET = 13;
/** Domain of the traditional-ML operators (LabelEncoder, TreeEnsembleRegressor). */
export const ML_DOMAIN = 'ai.onnx.ml';
/** Version of `ai.onnx.ml`: 3 resolves LabelEncoder to v2 and TreeEnsembleRegressor to v3 (`*_as_tensor` attributes). */
export const ML_OPSET = 3;
/** `producer_name` of every exported model. */
export const PRODUCER_NAME = 'serverless-ai-platform';
/** Name of the symbolic batch dimension of inputs and outputs. */
export const BATCH = 'batch';

/** Element types used by the exporter (values of `TensorProto.DataType`). */
export const DataType = {
  FLOAT: 1,
  INT64: 7,
  STRING: 8,
  BOOL: 9,
  DOUBLE: 11,
} as const satisfies Record<string, onnxProto.onnx.TensorProto.DataType>;
/** One of the element types of {@link DataType}. */
export type DataType = (typeof DataType)[keyof typeof DataType];

/** An attribute value: its type is inferred from the JavaScript value, or given explicitly with {@link attr}. */
export type AttributeValue = onnxProto.onnx.IAttributeProto;

const AttributeType = {
  FLOAT: 1,
  INT: 2,
  STRING: 3,
  TENSOR: 4,
  FLOATS: 6,
  INTS: 7,
  STRINGS: 8,
} as const satisfies Record<string, onnxProto.onnx.AttributeProto.AttributeType>;

const utf8 = new TextEncoder();

/** Attribute builders, one per attribute type (the name is filled in by {@link node}). */
export const attr = {
  int: (value: number): AttributeValue => ({ type: AttributeType.INT, i: checkInt(value) }),
  float: (value: number): AttributeValue => ({ type: AttributeType.FLOAT, f: value }),
  string: (value: string): AttributeValue => ({ type: AttributeType.STRING, s: utf8.encode(value) }),
  ints: (values: ArrayLike<number>): AttributeValue => ({ type: AttributeType.INTS, ints: Array.from(values, checkInt) }),
  floats: (values: ArrayLike<number>): AttributeValue => ({ type: AttributeType.FLOATS, floats: Array.from(values) }),
  strings: (values: readonly string[]): AttributeValue => ({ type: AttributeType.STRINGS, strings: values.map((v) => utf8.encode(v)) }),
  tensor: (value: onnxProto.onnx.ITensorProto): AttributeValue => ({ type: AttributeType.TENSOR, t: value }),
};

function checkInt(value: number): number {
  if (!Number.isSafeInteger(value)) throw new Error(`ONNX integer attribute must be a safe integer, got ${value}`);
  return value;
}

/** A node: `op` applied to `inputs`, producing `outputs`. Every node gets a name. */
export function node(
  op: string,
  inputs: readonly string[],
  outputs: readonly string[],
  name: string,
  attributes: Record<string, AttributeValue> = {},
  domain = '',
): onnxProto.onnx.INodeProto {
  return {
    opType: op,
    input: [...inputs],
    output: [...outputs],
    name,
    domain,
    attribute: Object.entries(attributes).map(([key, value]) => ({ ...value, name: key })),
  };
}

function littleEndian(view: ArrayBufferView): Uint8Array {
  // protobuf raw_data is little-endian; copy so the tensor owns its bytes.
  const bytes = new Uint8Array(view.buffer, view.byteOffset, view.byteLength).slice();
  if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) throw new Error('big-endian hosts are not supported');
  return bytes;
}

/** A FLOAT tensor (`values` are rounded to float32) of the given shape. */
export function floatTensor(name: string, dims: readonly number[], values: ArrayLike<number>): onnxProto.onnx.ITensorProto {
  checkSize(name, dims, values.length);
  return { name, dims: [...dims], dataType: DataType.FLOAT, rawData: littleEndian(Float32Array.from(values)) };
}

/** A DOUBLE tensor of the given shape. */
export function doubleTensor(name: string, dims: readonly number[], values: ArrayLike<number>): onnxProto.onnx.ITensorProto {
  checkSize(name, dims, values.length);
  return { name, dims: [...dims], dataType: DataType.DOUBLE, rawData: littleEndian(Float64Array.from(values)) };
}

/** An INT64 tensor of the given shape (every value must be a safe integer). */
export function int64Tensor(name: string, dims: readonly number[], values: ArrayLike<number>): onnxProto.onnx.ITensorProto {
  checkSize(name, dims, values.length);
  const data = BigInt64Array.from(Array.from(values, (v) => BigInt(checkInt(v))));
  return { name, dims: [...dims], dataType: DataType.INT64, rawData: littleEndian(data) };
}

/** A STRING tensor (UTF-8) of the given shape. */
export function stringTensor(name: string, dims: readonly number[], values: readonly string[]): onnxProto.onnx.ITensorProto {
  checkSize(name, dims, values.length);
  return { name, dims: [...dims], dataType: DataType.STRING, stringData: values.map((v) => utf8.encode(v)) };
}

function checkSize(name: string, dims: readonly number[], length: number): void {
  const size = dims.reduce((a, b) => a * b, 1);
  if (size !== length) throw new Error(`tensor '${name}': shape [${dims.join(', ')}] needs ${size} values, got ${length}`);
}

/** A dimension: a fixed size, or a symbolic name such as {@link BATCH}. */
export type Dim = number | string;

/** A tensor value info (graph input or output) of element type `type` and shape `dims`. */
export function valueInfo(name: string, type: DataType, dims: readonly Dim[], docString?: string): onnxProto.onnx.IValueInfoProto {
  return {
    name,
    ...(docString === undefined ? {} : { docString }),
    type: {
      tensorType: {
        elemType: type,
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

/** Everything a model needs besides the fixed header. */
export interface ModelParts {
  readonly graphName: string;
  readonly nodes: readonly onnxProto.onnx.INodeProto[];
  readonly initializers: readonly onnxProto.onnx.ITensorProto[];
  readonly inputs: readonly onnxProto.onnx.IValueInfoProto[];
  readonly outputs: readonly onnxProto.onnx.IValueInfoProto[];
  /** Types of intermediate values, for operators whose output type checkers cannot infer. */
  readonly valueInfos?: readonly onnxProto.onnx.IValueInfoProto[];
  /** Stored as `metadata_props`, in sorted key order so the bytes do not depend on insertion order. */
  readonly metadata?: Readonly<Record<string, string>>;
  readonly docString?: string;
  readonly graphDocString?: string;
  /** `producer_version`; defaults to none. */
  readonly producerVersion?: string;
  /** Whether the graph uses `ai.onnx.ml` operators (adds the opset import). */
  readonly usesMl?: boolean;
}

/** Assembles a model: IR 8, opset imports, producer, metadata and the graph. */
export function model(parts: ModelParts): onnxProto.onnx.IModelProto {
  const metadata = parts.metadata ?? {};
  return {
    irVersion: IR_VERSION,
    opsetImport: [{ domain: '', version: OPSET }, ...(parts.usesMl ? [{ domain: ML_DOMAIN, version: ML_OPSET }] : [])],
    producerName: PRODUCER_NAME,
    ...(parts.producerVersion === undefined ? {} : { producerVersion: parts.producerVersion }),
    modelVersion: 1,
    ...(parts.docString === undefined ? {} : { docString: parts.docString }),
    metadataProps: Object.keys(metadata)
      .sort()
      .map((key) => ({ key, value: metadata[key]! })),
    graph: {
      name: parts.graphName,
      node: [...parts.nodes],
      initializer: [...parts.initializers],
      input: [...parts.inputs],
      output: [...parts.outputs],
      valueInfo: [...(parts.valueInfos ?? [])],
      ...(parts.graphDocString === undefined ? {} : { docString: parts.graphDocString }),
    },
  };
}

/** Serializes a model to its protobuf bytes. */
export function encode(value: onnxProto.onnx.IModelProto): Uint8Array {
  return onnx.ModelProto.encode(value).finish();
}

/** Parses protobuf bytes back into a model (for tests and inspection). */
export function decode(bytes: Uint8Array): onnxProto.onnx.ModelProto {
  return onnx.ModelProto.decode(bytes);
}
