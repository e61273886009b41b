import * as z from 'zod/mini';
import { BadRequestError, quote } from '../http/errors.js';
import { parseWith } from '../http/request.js';
import type { TensorSpec } from '../registry/types.js';
import type { LoadedModel } from './model-loader.js';
import { runModel } from './predictor.js';
import type { V2TensorInput, V2TensorOutput } from './tensors.js';

const predictRequestSchema = z.object({
  instances: z.array(z.unknown()).check(z.minLength(1, 'at least one instance is required')),
});

/** A KServe v1 `:predict` response; `model_version` attributes the answer. */
export interface PredictResponse {
  readonly model_name: string;
  readonly model_version: string;
  readonly predictions: unknown[];
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** The per-instance shape of an input: its model shape without the batch dimension; `[1]` counts as a scalar. */
function featureShape(spec: TensorSpec): readonly number[] {
  const rest = spec.shape.slice(1);
  return rest.length === 1 && rest[0] === 1 ? [] : rest;
}

/** Shape of one instance's value, read from its nesting (`[[1,2],[3,4]]` → `[2, 2]`). */
function shapeOfValue(value: unknown): number[] {
  const shape: number[] = [];
  let current = value;
  while (Array.isArray(current)) {
    shape.push(current.length);
    current = current[0];
  }
  return shape;
}

/** Stacks per-instance values into one batched tensor for `spec`. */
function stack(spec: TensorSpec, values: readonly unknown[]): V2TensorInput {
  const perInstance = featureShape(spec);
  const valueShape = perInstance.length === 0 ? [] : shapeOfValue(values[0]);
  const batchShape = [values.length, ...valueShape];
  // A `[batch, 1]` input takes scalars per instance; keep the model's rank.
  const shape = spec.shape.length === 2 && spec.shape[1] === 1 && valueShape.length === 0 ? [values.length, 1] : batchShape;
  return { name: spec.name, datatype: spec.datatype, shape, data: values };
}

/**
 * Maps KServe v1 `instances` to model inputs through the model's signature:
 * - records (`{"feature": value}`): each key names a model input (one per feature);
 * - plain values or arrays: the model must have exactly one input, instances are stacked on the batch dimension.
 */
export function instancesToInputs(model: LoadedModel, instances: readonly unknown[]): V2TensorInput[] {
  const specs = [...model.inputs.values()];
  if (instances.every(isRecord)) {
    instances.forEach((instance, i) => {
      for (const key of Object.keys(instance)) {
        if (!model.inputs.has(key)) {
          throw new BadRequestError(`instance ${i} has unknown feature ${quote(key)}; the model's inputs are ${specs.map((s) => s.name).join(', ')}`);
        }
      }
      for (const spec of specs) {
        // Own properties only: a feature may be named like a built-in (`constructor`) that every object inherits.
        if (!Object.hasOwn(instance, spec.name)) throw new BadRequestError(`instance ${i} is missing feature '${spec.name}'`);
      }
    });
    return specs.map((spec) => stack(spec, instances.map((instance) => instance[spec.name])));
  }
  if (instances.some(isRecord)) throw new BadRequestError('instances mix records and plain values; use one form');
  if (specs.length !== 1) {
    throw new BadRequestError(
      `this model has ${specs.length} inputs (${specs.map((s) => s.name).join(', ')}); send instances as records keyed by input name`,
    );
  }
  return [stack(specs[0]!, instances)];
}

/** Row `i` of an output: a scalar for `[batch]` or `[batch, 1]` outputs, else the row's values. */
function row(output: V2TensorOutput, i: number): unknown {
  const rowSize = output.shape.slice(1).reduce((a, b) => a * b, 1);
  if (rowSize === 1) return output.data[i];
  return output.data.slice(i * rowSize, (i + 1) * rowSize);
}

/** One prediction per instance: the single output's row, or a record of every output's row. */
export function outputsToPredictions(outputs: readonly V2TensorOutput[], count: number): unknown[] {
  return Array.from({ length: count }, (_, i) =>
    outputs.length === 1 ? row(outputs[0]!, i) : Object.fromEntries(outputs.map((o) => [o.name, row(o, i)])),
  );
}

/** Runs a KServe v1 `:predict` request body on a loaded model. */
export async function predict(model: LoadedModel, body: unknown): Promise<PredictResponse> {
  const { instances } = parseWith(predictRequestSchema, body, 'predict request');
  const outputs = await runModel(model, instancesToInputs(model, instances));
  return {
    model_name: model.version.model,
    model_version: String(model.version.version),
    predictions: outputsToPredictions(outputs, instances.length),
  };
}
