import type { Tensor } from 'onnxruntime-node';
import { InvalidRequestError, quote } from '../errors.js';
import type { ServedSignature } from './backend.js';
import type { LoadedModel } from './model-loader.js';
import { runFailure } from './run-errors.js';
import { fromOrtTensor, toOrtTensor, type V2TensorInput, type V2TensorOutput } from './tensors.js';

/**
 * Inputs that share a named dimension of the model (`batch` in `[batch, 1]`) must give it one
 * size: the ONNX signature says they are the same dimension.
 */
function checkSharedDimensions(model: ServedSignature, feeds: ReadonlyMap<string, Tensor>): void {
  const first = new Map<string, { input: string; size: number }>();
  for (const [input, tensor] of feeds) {
    (model.dimensionNames.get(input) ?? []).forEach((dimension, i) => {
      const size = tensor.dims[i];
      if (dimension === undefined || size === undefined) return;
      const seen = first.get(dimension);
      if (seen === undefined) first.set(dimension, { input, size });
      else if (seen.size !== size) {
        throw new InvalidRequestError(
          `inputs ${quote(seen.input)} and ${quote(input)} disagree on the model's dimension '${dimension}': ${seen.size} and ${size}; send the same ${dimension} for every input`,
        );
      }
    });
  }
}

/** A request checked against a signature: its tensors converted for onnxruntime, and the outputs to fetch. */
export interface PreparedRun {
  /** Keyed by input name in a Map: an input may be named like a JavaScript built-in (`__proto__`, `constructor`). */
  readonly feeds: ReadonlyMap<string, Tensor>;
  readonly fetches: readonly string[];
}

/**
 * Checks request tensors against a served signature (every input present once, no unknown
 * names, datatypes, shapes and values that fit, shared dimensions of one size, outputs the
 * version has, each once) and converts them. Both backends check requests here, so they refuse
 * the same requests with the same words. `outputNames` selects outputs (all by default).
 */
export function prepareRun(model: ServedSignature, inputs: readonly V2TensorInput[], outputNames?: readonly string[]): PreparedRun {
  const feeds = new Map<string, Tensor>();
  for (const input of inputs) {
    const spec = model.inputs.get(input.name);
    if (spec === undefined) {
      throw new InvalidRequestError(`unknown input ${quote(input.name)}; the model's inputs are ${[...model.inputs.keys()].join(', ')}`);
    }
    if (feeds.has(input.name)) throw new InvalidRequestError(`input ${quote(input.name)} is given more than once`);
    feeds.set(input.name, toOrtTensor(spec, input, model.missingValueInputs.has(input.name)));
  }
  for (const name of model.inputs.keys()) {
    if (!feeds.has(name)) throw new InvalidRequestError(`missing input '${name}'`);
  }
  checkSharedDimensions(model, feeds);
  const known = model.outputs.map((o) => o.name);
  const fetches = outputNames ?? known;
  if (fetches.length === 0) throw new InvalidRequestError(`no outputs requested; name at least one of ${known.join(', ')}, or leave "outputs" out for all`);
  fetches.forEach((name, i) => {
    if (!known.includes(name)) throw new InvalidRequestError(`unknown output ${quote(name)}; the model's outputs are ${known.join(', ')}`);
    if (fetches.indexOf(name) !== i) throw new InvalidRequestError(`output ${quote(name)} is requested more than once`);
  });
  return { feeds, fetches };
}

/**
 * Runs request tensors on a model loaded in this container, after {@link prepareRun}'s checks.
 * Errors name the offending input or output; onnxruntime's failures are explained by `runFailure`.
 */
export async function runModel(
  model: LoadedModel,
  inputs: readonly V2TensorInput[],
  outputNames?: readonly string[],
): Promise<V2TensorOutput[]> {
  const { feeds, fetches } = prepareRun(model, inputs, outputNames);
  let results: Record<string, Tensor>;
  try {
    // Object.fromEntries defines own properties, so a `__proto__` input stays an input.
    results = await model.session.run(Object.fromEntries(feeds), [...fetches]);
  } catch (error) {
    throw runFailure(error, {
      model: model.version.model,
      version: model.version.version,
      inputShapes: new Map([...feeds].map(([name, tensor]) => [name, tensor.dims])),
      severalDynamicInputs: [...model.inputs.values()].filter((input) => input.shape?.includes(-1) ?? true).length > 1,
    });
  }
  return fetches.map((name) => fromOrtTensor(name, results[name]!));
}
