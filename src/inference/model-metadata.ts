/**
 * What an ONNX model says about itself in its `metadata_props` (onnxruntime-node does not
 * expose them), read straight from the model's protobuf bytes without a protobuf library:
 * only the top level of `ModelProto` is walked, and every other field (the graph, weights)
 * is skipped by its length, so reading costs the same for a 2 KB and a 2 GB model.
 */
import { MISSING_VALUES_METADATA_KEY } from '../ml/onnx/metadata-keys.js';

/** `ModelProto.metadata_props` (repeated `StringStringEntryProto`). */
const METADATA_PROPS_FIELD = 14;
/** `ModelProto.graph`; in it `GraphProto.input` and `.output` (repeated `ValueInfoProto`). */
const GRAPH_FIELD = 7;
const GRAPH_INPUT_FIELD = 11;
const GRAPH_OUTPUT_FIELD = 12;
const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_LENGTH_DELIMITED = 2;
const WIRE_FIXED32 = 5;

/** A minimal protobuf reader over one message's bytes. */
class ProtoReader {
  private position = 0;

  constructor(private readonly bytes: Uint8Array) {}

  get done(): boolean {
    return this.position >= this.bytes.length;
  }

  varint(): number {
    let value = 0;
    for (let shift = 0; shift < 64; shift += 7) {
      if (this.position >= this.bytes.length) throw new Error('truncated varint');
      const byte = this.bytes[this.position++]!;
      value += (byte & 0x7f) * 2 ** shift;
      if ((byte & 0x80) === 0) return value;
    }
    throw new Error('varint longer than 10 bytes');
  }

  /** The next field's number and wire type. */
  tag(): { field: number; wire: number } {
    const tag = this.varint();
    return { field: Math.floor(tag / 8), wire: tag % 8 };
  }

  lengthDelimited(): Uint8Array {
    const length = this.varint();
    const end = this.position + length;
    if (end > this.bytes.length) throw new Error('field runs past the end of the message');
    const value = this.bytes.subarray(this.position, end);
    this.position = end;
    return value;
  }

  skip(wire: number): void {
    if (wire === WIRE_VARINT) this.varint();
    else if (wire === WIRE_LENGTH_DELIMITED) this.lengthDelimited();
    else if (wire === WIRE_FIXED64 || wire === WIRE_FIXED32) {
      this.position += wire === WIRE_FIXED64 ? 8 : 4;
      if (this.position > this.bytes.length) throw new Error('fixed-width field runs past the end of the message');
    } else throw new Error(`unsupported protobuf wire type ${wire}`);
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** One `StringStringEntryProto` (`key` = 1, `value` = 2). */
function readEntry(bytes: Uint8Array): [string, string] {
  const reader = new ProtoReader(bytes);
  let key = '';
  let value = '';
  while (!reader.done) {
    const { field, wire } = reader.tag();
    if ((field === 1 || field === 2) && wire === WIRE_LENGTH_DELIMITED) {
      const text = utf8.decode(reader.lengthDelimited());
      if (field === 1) key = text;
      else value = text;
    } else reader.skip(wire);
  }
  return [key, value];
}

/**
 * The `metadata_props` of an ONNX model (its protobuf bytes).
 *
 * @throws Error when the bytes are not a well-formed protobuf message.
 */
export function readOnnxMetadata(model: Uint8Array): ReadonlyMap<string, string> {
  const reader = new ProtoReader(model);
  const metadata = new Map<string, string>();
  while (!reader.done) {
    const { field, wire } = reader.tag();
    if (field === METADATA_PROPS_FIELD && wire === WIRE_LENGTH_DELIMITED) metadata.set(...readEntry(reader.lengthDelimited()));
    else reader.skip(wire);
  }
  return metadata;
}

/**
 * The inputs whose missing values (`null` in a request) a model handles, from its
 * {@link MISSING_VALUES_METADATA_KEY} metadata; none when it does not declare any.
 * Registration checks that they name inputs of the model (`inspectOnnxModel`).
 *
 * @throws Error when the declaration is not a JSON array of strings.
 */
export function missingValueInputs(metadata: ReadonlyMap<string, string>): ReadonlySet<string> {
  const declared = metadata.get(MISSING_VALUES_METADATA_KEY);
  if (declared === undefined) return new Set();
  let names: unknown;
  try {
    names = JSON.parse(declared);
  } catch {
    names = undefined;
  }
  if (!Array.isArray(names) || !names.every((name) => typeof name === 'string')) {
    throw new Error(`metadata '${MISSING_VALUES_METADATA_KEY}' must be a JSON array of input names`);
  }
  return new Set(names as string[]);
}

/** Reads the length-delimited field `field` of a message, or undefined when it has none. */
function subMessage(bytes: Uint8Array, field: number): Uint8Array | undefined {
  const reader = new ProtoReader(bytes);
  let found: Uint8Array | undefined;
  while (!reader.done) {
    const tag = reader.tag();
    if (tag.field === field && tag.wire === WIRE_LENGTH_DELIMITED) found = reader.lengthDelimited();
    else reader.skip(tag.wire);
  }
  return found;
}

/**
 * The graph inputs and outputs of an ONNX model (its protobuf bytes) that are tensors declared
 * without a shape, whose rank is therefore unknown (`ValueInfoProto.type.tensor_type` without
 * `shape`). onnxruntime reports those, like scalars, with the shape `[]`: only the model's bytes
 * tell the two apart.
 *
 * @throws Error when the bytes are not a well-formed protobuf message.
 */
export function tensorsOfUnknownRank(model: Uint8Array): ReadonlySet<string> {
  const unknown = new Set<string>();
  const graph = subMessage(model, GRAPH_FIELD);
  if (graph === undefined) return unknown;
  const reader = new ProtoReader(graph);
  while (!reader.done) {
    const { field, wire } = reader.tag();
    if ((field !== GRAPH_INPUT_FIELD && field !== GRAPH_OUTPUT_FIELD) || wire !== WIRE_LENGTH_DELIMITED) {
      reader.skip(wire);
      continue;
    }
    const valueInfo = reader.lengthDelimited();
    const name = subMessage(valueInfo, 1);
    const tensorType = subMessage(subMessage(valueInfo, 2) ?? new Uint8Array(), 1);
    if (name !== undefined && tensorType !== undefined && subMessage(tensorType, 2) === undefined) unknown.add(utf8.decode(name));
  }
  return unknown;
}
