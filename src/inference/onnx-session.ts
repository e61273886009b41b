import { InferenceSession } from 'onnxruntime-node';
import { threadsForMemory } from '../aws/lambda-resources.js';
import { UnsupportedTensorError, type ModelSignature, type TensorSpec } from '../registry/types.js';
import { v2DatatypeOf } from './datatypes.js';
import { quote } from '../errors.js';
import { MISSING_VALUES_METADATA_KEY } from '../ml/onnx/metadata-keys.js';
import { missingValueInputs, readOnnxMetadata, tensorsOfUnknownRank } from './model-metadata.js';

/**
 * Session options for serving: threads follow function memory, thread spinning
 * is off (a spinning pool burns the vCPU credit Lambda bills for), sequential
 * execution, full graph optimisation.
 */
export function servingSessionOptions(memoryMb: number): InferenceSession.SessionOptions {
  return {
    intraOpNumThreads: threadsForMemory(memoryMb),
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } },
  };
}

function specOf(meta: InferenceSession.ValueMetadata, unknownRank: ReadonlySet<string>): TensorSpec {
  if (!meta.isTensor) throw new UnsupportedTensorError(`'${meta.name}' is not a tensor; only tensor inputs and outputs are supported`);
  let datatype: TensorSpec['datatype'];
  try {
    datatype = v2DatatypeOf(meta.type);
  } catch (error) {
    throw new UnsupportedTensorError(`'${meta.name}': ${(error as Error).message}`);
  }
  if (unknownRank.has(meta.name)) return { name: meta.name, datatype };
  return { name: meta.name, datatype, shape: meta.shape.map((d) => (typeof d === 'number' && d >= 0 ? d : -1)) };
}

/**
 * The input/output signature of a loaded session; symbolic dimensions become -1. onnxruntime
 * reports a tensor of unknown rank like a scalar (`[]`): `modelBytes` tell them apart
 * ({@link tensorsOfUnknownRank}), and a tensor of unknown rank has no `shape`.
 */
export function signatureOf(session: InferenceSession, modelBytes: Uint8Array): ModelSignature {
  const unknownRank = tensorsOfUnknownRank(modelBytes);
  return { inputs: session.inputMetadata.map((meta) => specOf(meta, unknownRank)), outputs: session.outputMetadata.map((meta) => specOf(meta, unknownRank)) };
}

/** The symbolic dimension names of each input (`batch` in `[batch, 4]`); `undefined` for fixed or unnamed dimensions. */
export function dimensionNamesOf(session: InferenceSession): Map<string, (string | undefined)[]> {
  return new Map(
    session.inputMetadata.map((meta) => [meta.name, meta.isTensor ? meta.shape.map((d) => (typeof d === 'string' && d !== '' ? d : undefined)) : []]),
  );
}

/** Checks that requests can feed a signature: it has inputs (a request names at least one, in both protocols). */
export function assertServable(signature: ModelSignature): void {
  if (signature.inputs.length === 0) throw new UnsupportedTensorError('the model has no inputs; a request must feed at least one input');
}

/** Checks a model's missing-value declaration (`model-metadata.ts`): a JSON array of names of its inputs. */
function assertMissingValueInputs(bytes: Uint8Array, inputNames: readonly string[]): void {
  let declared: ReadonlySet<string>;
  try {
    declared = missingValueInputs(readOnnxMetadata(bytes));
  } catch (error) {
    throw new UnsupportedTensorError((error as Error).message);
  }
  const unknown = [...declared].filter((name) => !inputNames.includes(name));
  if (unknown.length > 0) {
    throw new UnsupportedTensorError(
      `metadata '${MISSING_VALUES_METADATA_KEY}' names ${unknown.slice(0, 5).map(quote).join(', ')}, not an input of the model (its inputs: ${inputNames.slice(0, 20).map(quote).join(', ')})`,
    );
  }
}

/** Creates a session from a file path or model bytes. */
export function createSession(model: string | Uint8Array, options: InferenceSession.SessionOptions): Promise<InferenceSession> {
  // Two calls: the overloads do not accept the union.
  return typeof model === 'string' ? InferenceSession.create(model, options) : InferenceSession.create(model, options);
}

/**
 * Loads model bytes in onnxruntime to prove they are a runnable ONNX model and
 * reads their signature. Throws onnxruntime's error if they do not load, and an
 * {@link UnsupportedTensorError} if the platform could not serve them; an invalid
 * missing-value declaration (`model-metadata.ts`) throws too.
 */
export async function inspectOnnxModel(bytes: Uint8Array): Promise<ModelSignature> {
  const session = await createSession(bytes, { intraOpNumThreads: 1, interOpNumThreads: 1, graphOptimizationLevel: 'disabled' });
  try {
    const signature = signatureOf(session, bytes);
    assertServable(signature);
    assertMissingValueInputs(bytes, session.inputNames);
    return signature;
  } finally {
    await session.release();
  }
}
