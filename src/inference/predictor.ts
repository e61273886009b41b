import type { Tensor } from 'onnxruntime-node';
import { BadRequestError } from '../http/errors.js';
import type { LoadedModel } from './model-loader.js';
import { fromOrtTensor, toOrtTensor, type V2TensorInput, type V2TensorOutput } from './tensors.js';

/**
 * Checks request tensors against the model's inputs (every input present once,
 * no unknown names), converts them and runs the session. `outputNames` selects
 * outputs (all by default). Errors name the offending input or output.
 */
export async function runModel(
  model: LoadedModel,
  inputs: readonly V2TensorInput[],
  outputNames?: readonly string[],
): Promise<V2TensorOutput[]> {
  const feeds: Record<string, Tensor> = {};
  for (const input of inputs) {
    const spec = model.inputs.get(input.name);
    if (spec === undefined) {
      throw new BadRequestError(`unknown input '${input.name}'; the model's inputs are ${[...model.inputs.keys()].join(', ')}`);
    }
    if (feeds[input.name] !== undefined) throw new BadRequestError(`input '${input.name}' is given more than once`);
    feeds[input.name] = toOrtTensor(spec, input);
  }
  for (const name of model.inputs.keys()) {
    if (feeds[name] === undefined) throw new BadRequestError(`missing input '${name}'`);
  }
  const known = model.outputs.map((o) => o.name);
  const fetches = outputNames ?? known;
  for (const name of fetches) {
    if (!known.includes(name)) throw new BadRequestError(`unknown output '${name}'; the model's outputs are ${known.join(', ')}`);
  }
  let results: Record<string, Tensor>;
  try {
    results = await model.session.run(feeds, [...fetches]);
  } catch (error) {
    // Inputs passed every static check; what remains (e.g. inputs whose batch sizes differ) is
    // the request's fault. onnxruntime's own text (node names, source lines) goes to the log only.
    throw new BadRequestError('the model rejected the inputs: check that they agree on their dynamic dimensions (e.g. batch size)', error);
  }
  return fetches.map((name) => fromOrtTensor(name, results[name]!));
}
