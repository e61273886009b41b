/**
 * An Open Inference Protocol v2 answer from a backend the platform does not run in process (a
 * SageMaker endpoint), checked against what the version declares before a caller sees it: the
 * requested outputs, each once, with the declared datatype, a shape that fits the declared one and
 * as many elements as the shape holds, as JSON data or binary data (`triton-binary.ts`). An answer
 * that does not fit is the backend's failure (a model failure naming the version), never passed on.
 */
import { clip } from '../errors.js';
import { BackendFailedError } from './backend-errors.js';
import type { ModelVersion, TensorSpec } from '../registry/types.js';
import { flatten, fromOrtTensor, type V2TensorOutput } from './tensors.js';
import { binaryTensor, decodeTritonAnswer, TritonAnswerError, type AnsweredOutput, type TritonAnswer } from './triton-binary.js';

/** Whether a JSON element is a value of `datatype`: booleans for BOOL, strings for BYTES, numbers otherwise (64-bit integers and non-finite floats may come as strings). */
function elementFits(datatype: string, value: unknown): boolean {
  if (datatype === 'BOOL') return typeof value === 'boolean';
  if (datatype === 'BYTES') return typeof value === 'string';
  return typeof value === 'number' || typeof value === 'string';
}

/** The output as a response tensor, or why it does not fit its spec. */
function fitted(spec: TensorSpec, output: AnsweredOutput, binary: Uint8Array | undefined): V2TensorOutput | string {
  if (output.datatype !== spec.datatype) return `datatype ${clip(output.datatype, 16)} where the version declares ${spec.datatype}`;
  const declared = spec.shape;
  if (declared !== undefined && (output.shape.length !== declared.length || declared.some((dim, i) => dim >= 0 && output.shape[i] !== dim))) {
    return `shape [${output.shape.join(', ')}] where the version declares [${declared.join(', ')}]`;
  }
  if (binary !== undefined) {
    const tensor = binaryTensor(spec.datatype, output.shape, binary);
    return typeof tensor === 'string' ? tensor : fromOrtTensor(spec.name, tensor);
  }
  if (output.data === undefined) return 'neither data nor binary data';
  const elements = flatten(output.data);
  const expected = output.shape.reduce((a, b) => a * b, 1);
  if (elements === undefined || elements.length !== expected) return `${elements?.length ?? 'too deeply nested'} elements for shape [${output.shape.join(', ')}]`;
  if (!elements.every((value) => elementFits(spec.datatype, value))) return `elements that are not ${spec.datatype} values`;
  return { name: spec.name, datatype: spec.datatype, shape: output.shape, data: [...elements] };
}

/**
 * The outputs `fetches` of a backend's answer (its body and content type: JSON, or a JSON header
 * followed by binary outputs), in the order asked, flat; throws a {@link BackendFailedError} naming the
 * version when the answer does not fit what `version` declares.
 */
export function checkedOutputs(version: ModelVersion, body: Uint8Array, contentType: string | undefined, fetches: readonly string[]): V2TensorOutput[] {
  const fail = (what: string) =>
    new BackendFailedError(version.model, version.version, `its backend answered ${what}`, undefined, new Error(clip(new TextDecoder().decode(body.subarray(0, 500)), 500)));
  let answer: TritonAnswer;
  try {
    answer = decodeTritonAnswer(body, contentType);
  } catch (error) {
    if (error instanceof TritonAnswerError) throw fail(error.message);
    throw error;
  }
  const specs = new Map(version.signature.outputs.map((spec) => [spec.name, spec]));
  return fetches.map((name) => {
    const found = answer.outputs.flatMap((output, index) => (output.name === name ? [index] : []));
    if (found.length !== 1) throw fail(found.length === 0 ? `no output '${name}'` : `output '${name}' ${found.length} times`);
    const index = found[0]!;
    const output = fitted(specs.get(name)!, answer.outputs[index]!, answer.binary.get(index));
    if (typeof output === 'string') throw fail(`output '${name}' with ${output}`);
    return output;
  });
}
