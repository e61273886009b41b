/**
 * ONNX models whose tensors live in separate files ("external data", the format of large
 * exports): the platform serves a model from its one artifact, so such a model cannot load.
 */
import onnxProto from 'onnx-proto';

type Graph = onnxProto.onnx.IGraphProto;
type Tensor = onnxProto.onnx.ITensorProto;
type Attribute = onnxProto.onnx.IAttributeProto;

const EXTERNAL = onnxProto.onnx.TensorProto.DataLocation.EXTERNAL;

/** Where a tensor's data is, as its `external_data` names it. */
const locationOf = (tensor: Tensor): string => tensor.externalData?.find((entry) => entry.key === 'location')?.value ?? '(no location)';

/** Every tensor an attribute holds, subgraphs included. */
function attributeTensors(attribute: Attribute): Tensor[] {
  const sparse = [attribute.sparseTensor, ...(attribute.sparseTensors ?? [])].flatMap((s) => (s === null || s === undefined ? [] : [s.values, s.indices]));
  const graphs = [attribute.g, ...(attribute.graphs ?? [])].filter((g): g is Graph => g !== null && g !== undefined);
  return [attribute.t, ...(attribute.tensors ?? []), ...sparse, ...graphs.flatMap(graphTensors)].filter((t): t is Tensor => t !== null && t !== undefined);
}

/** Every tensor of a graph: initializers (dense and sparse) and node attributes, subgraphs included. */
function graphTensors(graph: Graph): Tensor[] {
  const sparse = (graph.sparseInitializer ?? []).flatMap((s) => [s.values, s.indices]).filter((t): t is Tensor => t !== null && t !== undefined);
  return [...(graph.initializer ?? []), ...sparse, ...(graph.node ?? []).flatMap((node) => (node.attribute ?? []).flatMap(attributeTensors))];
}

/** Bytes that are not an ONNX model: the message says why in user terms; the decoder's own words are the `cause`. */
export class NotAnOnnxModelError extends Error {
  constructor(reason: string, cause?: unknown) {
    super(reason, cause === undefined ? undefined : { cause });
    this.name = 'NotAnOnnxModelError';
  }
}

/** Decodes an ONNX `ModelProto`; {@link NotAnOnnxModelError} when the bytes are not one (or hold no graph). */
function decodeModel(bytes: Uint8Array): onnxProto.onnx.ModelProto {
  let model;
  try {
    model = onnxProto.onnx.ModelProto.decode(bytes);
  } catch (error) {
    throw new NotAnOnnxModelError(`could not parse its ${bytes.byteLength} bytes as an ONNX ModelProto (protobuf)`, error);
  }
  if (model.graph === null || model.graph === undefined) throw new NotAnOnnxModelError('it parses as protobuf but holds no ONNX graph');
  return model;
}

/**
 * The tensors of an ONNX model stored outside its file, as `name → location`; empty when the
 * model is self-contained. {@link NotAnOnnxModelError} if the bytes are not an ONNX model.
 */
export function externalDataTensors(bytes: Uint8Array): { readonly name: string; readonly location: string }[] {
  const model = decodeModel(bytes);
  const functionTensors = (model.functions ?? []).flatMap((f) => (f.node ?? []).flatMap((node) => (node.attribute ?? []).flatMap(attributeTensors)));
  return [...graphTensors(model.graph!), ...functionTensors]
    .filter((tensor) => tensor.dataLocation === EXTERNAL)
    .map((tensor) => ({ name: tensor.name ?? '(unnamed)', location: locationOf(tensor) }));
}
