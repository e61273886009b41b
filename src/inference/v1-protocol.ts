import * as z from 'zod/mini';
import { InvalidRequestError, quote } from '../errors.js';
import { parseWith } from '../validation/strict-parse.js';
import type { TensorSpec } from '../registry/types.js';
import type { ServedModel, ServedSignature } from './backend.js';
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
  const rest = (spec.shape ?? []).slice(1);
  return rest.length === 1 && rest[0] === 1 ? [] : rest;
}

/** Shape of one instance's value, read from its nesting (`[[1,2],[3,4]]` → `[2, 2]`), at most `limit` deep. */
function shapeOfValue(value: unknown, limit: number): number[] {
  const shape: number[] = [];
  let current = value;
  while (Array.isArray(current) && shape.length <= limit) {
    shape.push(current.length);
    current = current[0];
  }
  return shape;
}

/** Deepest per-instance nesting (an ONNX tensor has at most 32 dimensions, one of them the batch). */
const MAX_INSTANCE_RANK = 31;

/**
 * The shape every instance of `spec` must have: the model's per-instance dimensions, with the
 * dynamic ones (and all of them when the model does not declare the input's rank) read from instance 0.
 */
function instanceShape(spec: TensorSpec, first: unknown): readonly number[] {
  const perInstance = featureShape(spec);
  const sent = shapeOfValue(first, MAX_INSTANCE_RANK);
  if (spec.shape === undefined) {
    if (sent.length > MAX_INSTANCE_RANK) throw new InvalidRequestError(`instance 0 is nested more than ${MAX_INSTANCE_RANK} deep; the model's input ${quote(spec.name)} takes at most ${MAX_INSTANCE_RANK}`);
    return sent;
  }
  return perInstance.map((dim, i) => (dim >= 0 ? dim : (sent[i] ?? dim)));
}

/** How an instance of shape `shape` is described: `one value`, `256 values`, `[2, 3] values`. */
function describeInstance(shape: readonly number[]): string {
  if (shape.length === 0) return 'one value';
  if (shape.length === 1) return shape[0]! < 0 ? 'an array of values' : `${shape[0]} value${shape[0] === 1 ? '' : 's'}`;
  return `values nested as [${shape.map((d) => (d < 0 ? '-1' : String(d))).join(', ')}]`;
}

/** Checks that each instance is nested exactly like `shape`, saying in v1 terms (instance, values) where one differs. */
function checkInstances(spec: TensorSpec, values: readonly unknown[], shape: readonly number[]): void {
  const takes = `the model's input ${quote(spec.name)} takes ${describeInstance(shape)} per instance`;
  values.forEach((value, instance) => {
    const pending: { item: unknown; depth: number; at: string }[] = [{ item: value, depth: 0, at: '' }];
    for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
      const { item, depth, at } = next;
      const where = `instance ${instance}${at}`;
      if (depth === shape.length) {
        if (Array.isArray(item)) throw new InvalidRequestError(`${where} is an array; ${takes}`);
        continue;
      }
      if (!Array.isArray(item)) throw new InvalidRequestError(`${where} is a single value; ${takes}`);
      const expected = shape[depth]!;
      if (expected >= 0 && item.length !== expected) throw new InvalidRequestError(`${where} has ${item.length} values; ${takes}`);
      for (let i = item.length - 1; i >= 0; i--) pending.push({ item: item[i], depth: depth + 1, at: `${at}[${i}]` });
    }
  });
}

/**
 * Stacks per-instance values into one batched tensor for `spec`, after checking each instance
 * against the input's per-instance shape; errors name instances and values, never `data`.
 */
function stack(spec: TensorSpec, values: readonly unknown[]): V2TensorInput {
  // A `[batch, 1]` input takes a scalar per instance, or a one-value array.
  const oneValue = spec.shape?.length === 2 && spec.shape[1] === 1 && Array.isArray(values[0]);
  const shape = oneValue ? [1] : instanceShape(spec, values[0]);
  checkInstances(spec, values, shape);
  const size = shape.reduce((a, b) => a * b, 1);
  // A `[batch, 1]` input keeps the model's rank.
  const tensorShape = spec.shape?.length === 2 && spec.shape[1] === 1 && shape.length === 0 ? [values.length, 1] : [values.length, ...shape];
  return {
    name: spec.name,
    datatype: spec.datatype,
    shape: tensorShape,
    data: values,
    elementName: (index) => (size === 1 ? `instance ${index}` : `instance ${Math.floor(index / size)}, value ${index % size}`),
  };
}

/**
 * Maps KServe v1 `instances` to model inputs through the model's signature:
 * - records (`{"feature": value}`): each key names a model input (one per feature);
 * - plain values or arrays: the model must have exactly one input, instances are stacked on the batch dimension.
 */
export function instancesToInputs(model: Pick<ServedSignature, 'inputs'>, instances: readonly unknown[]): V2TensorInput[] {
  const specs = [...model.inputs.values()];
  if (instances.every(isRecord)) {
    instances.forEach((instance, i) => {
      for (const key of Object.keys(instance)) {
        if (!model.inputs.has(key)) {
          throw new InvalidRequestError(`instance ${i} has unknown feature ${quote(key)}; the model's inputs are ${specs.map((s) => s.name).join(', ')}`);
        }
      }
      for (const spec of specs) {
        // Own properties only: a feature may be named like a built-in (`constructor`) that every object inherits.
        if (!Object.hasOwn(instance, spec.name)) throw new InvalidRequestError(`instance ${i} is missing feature '${spec.name}'`);
      }
    });
    return specs.map((spec) => stack(spec, instances.map((instance) => instance[spec.name])));
  }
  if (instances.some(isRecord)) throw new InvalidRequestError('instances mix records and plain values; use one form');
  if (specs.length !== 1) {
    throw new InvalidRequestError(
      `this model has ${specs.length} inputs (${specs.map((s) => s.name).join(', ')}); send instances as records keyed by input name`,
    );
  }
  return [stack(specs[0]!, instances)];
}

/**
 * Whether an output has one entry per instance, so that v1 can deal it out: its first dimension
 * is the batch (as run, the number of instances; as declared, dynamic, or fixed like the first
 * dimension of every input of a fixed-batch model). A shape, a total or any other output computed
 * over the whole batch is not, nor an output whose shape the model does not declare; v1 has no
 * way to answer them.
 */
function isPerInstance(model: Pick<ServedSignature, 'inputs' | 'outputs'>, output: V2TensorOutput, count: number): boolean {
  if (output.shape[0] !== count) return false;
  // A model that does not declare the output's shape (unknown rank) does not say it is per instance.
  const declared = model.outputs.find((spec) => spec.name === output.name)?.shape?.[0];
  if (declared === undefined) return false;
  if (declared < 0) return true;
  return [...model.inputs.values()].every((input) => input.shape?.[0] === declared);
}

/**
 * Checks that every output has one entry per instance (see {@link isPerInstance}), as an answer of
 * one prediction per instance needs.
 *
 * @throws InvalidRequestError naming the first output that is not.
 */
export function requirePerInstance(model: Pick<ServedSignature, 'inputs' | 'outputs'>, outputs: readonly V2TensorOutput[], count: number): void {
  const whole = outputs.find((output) => !isPerInstance(model, output, count));
  if (whole !== undefined) {
    throw new InvalidRequestError(
      `output ${quote(whole.name)} is not per instance (shape [${whole.shape.join(', ')}] for ${count} instance${count === 1 ? '' : 's'}): ` +
        'KServe v1 answers one prediction per instance; use the v2 protocol (POST …/infer) for this model',
    );
  }
}

/** Nests flat `values` by `shape` (`[1, 2, 3, 4]` by `[2, 2]` → `[[1, 2], [3, 4]]`). */
export function nest(values: readonly unknown[], shape: readonly number[]): unknown[] {
  if (shape.length <= 1) return [...values];
  const size = shape.slice(1).reduce((a, b) => a * b, 1);
  return Array.from({ length: shape[0]! }, (_, i) => nest(values.slice(i * size, (i + 1) * size), shape.slice(1)));
}

/**
 * Instance `i`'s part of an output, nested like the output's per-instance shape (its shape
 * without the batch dimension; `[1]` counts as a scalar, as for inputs).
 */
function row(output: V2TensorOutput, i: number): unknown {
  const rest = output.shape.slice(1);
  const rowSize = rest.reduce((a, b) => a * b, 1);
  if (rest.length === 0 || (rest.length === 1 && rest[0] === 1)) return output.data[i];
  return nest(output.data.slice(i * rowSize, (i + 1) * rowSize), rest);
}

/**
 * One prediction per instance: the single output's row, or a record of every output's row.
 *
 * @throws InvalidRequestError when an output is not per instance (see {@link requirePerInstance}).
 */
export function outputsToPredictions(model: Pick<ServedSignature, 'inputs' | 'outputs'>, outputs: readonly V2TensorOutput[], count: number): unknown[] {
  requirePerInstance(model, outputs, count);
  return Array.from({ length: count }, (_, i) =>
    outputs.length === 1 ? row(outputs[0]!, i) : Object.fromEntries(outputs.map((o) => [o.name, row(o, i)])),
  );
}

/** Runs a KServe v1 `:predict` request body on a served model: instances become v2 tensors through its signature, whatever its backend. */
export async function predict(model: ServedModel, body: unknown): Promise<PredictResponse> {
  if (isRecord(body) && Object.hasOwn(body, 'inputs')) {
    throw new InvalidRequestError(
      'invalid predict request: unknown field \'inputs\': the columnar form of the v1 protocol is not supported; send "instances", one per row (or use the v2 protocol, POST …/infer)',
    );
  }
  const { instances } = parseWith(predictRequestSchema, body, 'predict request');
  const outputs = await model.run(instancesToInputs(model, instances));
  return {
    model_name: model.version.model,
    model_version: String(model.version.version),
    predictions: outputsToPredictions(model, outputs, instances.length),
  };
}
