/**
 * An Open Inference Protocol v2 answer from a backend the platform does not run in process (a
 * SageMaker endpoint), checked against what the version declares before a caller sees it: the
 * requested outputs, each once, with the declared datatype, a shape that fits the declared one and
 * as many JSON elements as the shape holds. An answer that does not fit is the backend's failure
 * (a model failure naming the version), never passed on.
 */
import * as z from 'zod/mini';
import '../validation/zod.js';
import { clip, ModelRunError } from '../errors.js';
import type { ModelVersion, TensorSpec } from '../registry/types.js';
import { flatten, type V2TensorOutput } from './tensors.js';

const answerSchema = z.object({
  outputs: z.array(
    z.object({
      name: z.string(),
      datatype: z.string(),
      shape: z.array(z.number().check(z.int(), z.nonnegative())),
      data: z.array(z.unknown()),
      parameters: z.optional(z.record(z.string(), z.unknown())),
    }),
  ),
});

/** Whether a JSON element is a value of `datatype`: booleans for BOOL, strings for BYTES, numbers otherwise (64-bit integers and non-finite floats may come as strings). */
function elementFits(datatype: string, value: unknown): boolean {
  if (datatype === 'BOOL') return typeof value === 'boolean';
  if (datatype === 'BYTES') return typeof value === 'string';
  return typeof value === 'number' || typeof value === 'string';
}

/** Why one answered output does not fit its spec, or `undefined` when it does. */
function misfit(spec: TensorSpec, output: z.infer<typeof answerSchema>['outputs'][number]): string | undefined {
  if (output.parameters?.['binary_data_size'] !== undefined) return 'binary data where JSON was asked for';
  if (output.datatype !== spec.datatype) return `datatype ${clip(output.datatype, 16)} where the version declares ${spec.datatype}`;
  const declared = spec.shape;
  if (declared !== undefined && (output.shape.length !== declared.length || declared.some((dim, i) => dim >= 0 && output.shape[i] !== dim))) {
    return `shape [${output.shape.join(', ')}] where the version declares [${declared.join(', ')}]`;
  }
  const elements = flatten(output.data);
  const expected = output.shape.reduce((a, b) => a * b, 1);
  if (elements === undefined || elements.length !== expected) return `${elements?.length ?? 'too deeply nested'} elements for shape [${output.shape.join(', ')}]`;
  if (!elements.every((value) => elementFits(spec.datatype, value))) return `elements that are not ${spec.datatype} values`;
  return undefined;
}

/**
 * The outputs `fetches` of a backend's answer (`text`, JSON), in the order asked, flat; throws a
 * {@link ModelRunError} naming the version when the answer does not fit what `version` declares.
 */
export function checkedOutputs(version: ModelVersion, text: string, fetches: readonly string[]): V2TensorOutput[] {
  const fail = (what: string) => new ModelRunError(version.model, version.version, `its backend answered ${what}`, new Error(clip(text, 500)));
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw fail('something that is not JSON');
  }
  const answer = answerSchema.safeParse(parsed);
  if (!answer.success) throw fail('something that is not an Open Inference Protocol response');
  const specs = new Map(version.signature.outputs.map((spec) => [spec.name, spec]));
  return fetches.map((name) => {
    const found = answer.data.outputs.filter((output) => output.name === name);
    if (found.length !== 1) throw fail(found.length === 0 ? `no output '${name}'` : `output '${name}' ${found.length} times`);
    const output = found[0]!;
    const spec = specs.get(name)!;
    const problem = misfit(spec, output);
    if (problem !== undefined) throw fail(`output '${name}' with ${problem}`);
    return { name, datatype: spec.datatype, shape: output.shape, data: [...flatten(output.data)!] };
  });
}
