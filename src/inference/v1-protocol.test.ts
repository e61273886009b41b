import { describe, expect, it } from 'vitest';
import { InvalidRequestError } from '../errors.js';
import type { TensorSpec } from '../registry/types.js';
import type { ServedModel } from './backend.js';
import { instancesToInputs, outputsToPredictions, predict } from './v1-protocol.js';

const modelWith = (inputs: TensorSpec[]): ServedModel =>
  ({ inputs: new Map(inputs.map((s) => [s.name, s])), outputs: [] }) as unknown as ServedModel;

const iris = modelWith(['a', 'b'].map((name) => ({ name, datatype: 'FP32' as const, shape: [-1, 1] })));
const vector = modelWith([{ name: 'x', datatype: 'FP32', shape: [-1, 3] }]);

describe('instancesToInputs', () => {
  it('maps records to one input per feature, batched', () => {
    // Act
    const inputs = instancesToInputs(iris, [{ a: 1, b: 2 }, { a: 3, b: 4 }]);
    // Assess
    expect(inputs).toMatchObject([
      { name: 'a', datatype: 'FP32', shape: [2, 1], data: [1, 3] },
      { name: 'b', datatype: 'FP32', shape: [2, 1], data: [2, 4] },
    ]);
    expect(inputs[0]!.elementName?.(1)).toBe('instance 1');
  });

  it('stacks plain instances for a single-input model', () => {
    const [input] = instancesToInputs(vector, [[1, 2, 3], [4, 5, 6]]);
    expect(input).toMatchObject({ name: 'x', datatype: 'FP32', shape: [2, 3], data: [[1, 2, 3], [4, 5, 6]] });
    expect(input!.elementName?.(4)).toBe('instance 1, value 1');
  });

  it('takes a scalar or a one-value array per instance for a [batch, 1] input', () => {
    expect(instancesToInputs(iris, [{ a: 1, b: [2] }, { a: 3, b: [4] }]).map((input) => input.shape)).toEqual([[2, 1], [2, 1]]);
  });

  const matrix = modelWith([{ name: 'm', datatype: 'FP32', shape: [-1, 2, 3] }]);
  it.each([
    [vector, [[1, 2, 3], [1, 2]], "instance 1 has 2 values; the model's input 'x' takes 3 values per instance"],
    [vector, [[1, 2, 3], 4], "instance 1 is a single value; the model's input 'x' takes 3 values per instance"],
    [vector, [[1, 2, [3]]], "instance 0[2] is an array; the model's input 'x' takes 3 values per instance"],
    [matrix, [[[1, 2, 3], [4, 5, 6]], [[1, 2, 3], [4, 5]]], "instance 1[1] has 2 values; the model's input 'm' takes values nested as [2, 3] per instance"],
    [iris, [{ a: 1, b: 2 }, { a: [1, 2], b: 2 }], "instance 1 is an array; the model's input 'a' takes one value per instance"],
  ] as const)('says in v1 terms (instance, values, input) where a ragged instance differs: %#', (model, instances, message) => {
    expect(() => instancesToInputs(model, instances)).toThrowError(InvalidRequestError);
    expect(() => instancesToInputs(model, instances)).toThrowError(message);
  });

  it.each([
    [[{ a: 1 }], /instance 0 is missing feature 'b'/],
    [[{ a: 1, b: 2, c: 3 }], /instance 0 has unknown feature 'c'; the model's inputs are a, b/],
    [[[1, 2]], /this model has 2 inputs \(a, b\); send instances as records/],
    [[{ a: 1, b: 2 }, [1, 2]], /mix records and plain values/],
  ])('rejects %j with a 400 naming the problem', (instances, message) => {
    expect(() => instancesToInputs(iris, instances)).toThrowError(InvalidRequestError);
    expect(() => instancesToInputs(iris, instances)).toThrowError(message);
  });
});

describe('instancesToInputs: features named like JavaScript built-ins', () => {
  const builtins = modelWith(['__proto__', 'constructor'].map((name) => ({ name, datatype: 'FP32' as const, shape: [-1, 1] })));

  it('reads them as own properties of a record (from JSON.parse, whatever its prototype)', () => {
    // Act
    const inputs = instancesToInputs(builtins, [JSON.parse('{"__proto__": 1, "constructor": 2}')]);
    // Assess
    expect(inputs.map((i) => [i.name, i.data])).toEqual([['__proto__', [1]], ['constructor', [2]]]);
  });

  it('finds a record missing one, rather than reading what Object.prototype has under that name', () => {
    // Act / Assess
    expect(() => instancesToInputs(builtins, [JSON.parse('{"__proto__": 1}')])).toThrowError("instance 0 is missing feature 'constructor'");
  });
});

describe('outputsToPredictions', () => {
  const classifier = {
    inputs: new Map([['x', { name: 'x', datatype: 'FP32', shape: [-1, 4] }]]),
    outputs: [
      { name: 'label', datatype: 'INT64', shape: [-1] },
      { name: 'p', datatype: 'FP32', shape: [-1, 2] },
      { name: 's', datatype: 'INT64', shape: [2] },
      { name: 'tot', datatype: 'FP32', shape: [] },
      { name: 'y', datatype: 'FP32', shape: [-1, 2, 2] },
      { name: 'unknown', datatype: 'INT64' },
    ],
  } as unknown as ServedModel;

  it('gives one row per instance: scalars for [batch] outputs, records for several outputs', () => {
    const label = { name: 'label', datatype: 'INT64' as const, shape: [2], data: [0, 2] };
    const proba = { name: 'p', datatype: 'FP32' as const, shape: [2, 2], data: [0.9, 0.1, 0.2, 0.8] };
    expect(outputsToPredictions(classifier, [label], 2)).toEqual([0, 2]);
    expect(outputsToPredictions(classifier, [proba], 2)).toEqual([[0.9, 0.1], [0.2, 0.8]]);
    expect(outputsToPredictions(classifier, [label, proba], 2)).toEqual([
      { label: 0, p: [0.9, 0.1] },
      { label: 2, p: [0.2, 0.8] },
    ]);
  });

  it('nests each prediction like the output without its batch dimension', () => {
    const y = { name: 'y', datatype: 'FP32' as const, shape: [2, 2, 2], data: [1, 2, 3, 4, 5, 6, 7, 8] };
    expect(outputsToPredictions(classifier, [y], 2)).toEqual([[[1, 2], [3, 4]], [[5, 6], [7, 8]]]);
  });

  it.each([
    ['a declared shape whose size happens to be the number of instances', { name: 's', datatype: 'INT64' as const, shape: [2], data: [2, 1] }, 'shape [2] for 2 instances'],
    ['an output of undeclared shape whose first dimension happens to be the number of instances', { name: 'unknown', datatype: 'INT64' as const, shape: [2], data: [2, 1] }, 'shape [2] for 2 instances'],
    ['a scalar total', { name: 'tot', datatype: 'FP32' as const, shape: [], data: [3] }, 'shape [] for 2 instances'],
    ['a first dimension that is not the number of instances', { name: 'p', datatype: 'FP32' as const, shape: [1, 2], data: [1, 2] }, 'shape [1, 2] for 2 instances'],
  ])('refuses an output that is not per instance (%s) rather than dealing it out', (_, output, shape) => {
    const label = { name: 'label', datatype: 'INT64' as const, shape: [2], data: [0, 2] };
    expect(() => outputsToPredictions(classifier, [label, output], 2)).toThrowError(InvalidRequestError);
    expect(() => outputsToPredictions(classifier, [label, output], 2)).toThrowError(
      `output '${output.name}' is not per instance (${shape}): KServe v1 answers one prediction per instance; use the v2 protocol (POST …/infer) for this model`,
    );
  });

  it('deals out the outputs of a fixed-batch model (every input and the output fix the first dimension)', () => {
    const fixed = {
      inputs: new Map([['x', { name: 'x', datatype: 'FP32', shape: [1, 4] }]]),
      outputs: [{ name: 'p', datatype: 'FP32', shape: [1, 3] }],
    } as unknown as ServedModel;
    expect(outputsToPredictions(fixed, [{ name: 'p', datatype: 'FP32', shape: [1, 3], data: [1, 2, 3] }], 1)).toEqual([[1, 2, 3]]);
  });
});

describe('predict', () => {
  it('says that the columnar "inputs" form is not supported, rather than that "instances" is missing', async () => {
    await expect(predict(iris, { inputs: { a: [1], b: [2] } })).rejects.toThrowError(
      'invalid predict request: unknown field \'inputs\': the columnar form of the v1 protocol is not supported; send "instances", one per row (or use the v2 protocol, POST …/infer)',
    );
  });
});
