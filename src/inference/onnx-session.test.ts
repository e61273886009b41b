import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { UnsupportedTensorError } from '../registry/types.js';
import { v2DatatypeOf } from './datatypes.js';
import { threadsForMemory } from '../aws/lambda-resources.js';
import { attr, DataType, encode, floatTensor, model, node, valueInfo } from '../ml/onnx/writer.js';
import { assertServable, inspectOnnxModel, servingSessionOptions } from './onnx-session.js';

describe('threadsForMemory', () => {
  it('grants one intra-op thread per vCPU Lambda allocates', () => {
    expect(threadsForMemory(128)).toBe(1);
    expect(threadsForMemory(1769)).toBe(1);
    expect(threadsForMemory(3538)).toBe(2);
    expect(threadsForMemory(10240)).toBe(5);
  });

  it('turns ORT thread spinning off', () => {
    expect(servingSessionOptions(1769).extra).toEqual({ session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } });
  });
});

describe('assertServable', () => {
  it('serves signatures with FP16 inputs (JSON numbers or binary halves feed them)', () => {
    expect(() => assertServable({ inputs: [{ name: 'h', datatype: 'FP16' as const, shape: [-1] }], outputs: [] })).not.toThrow();
  });

  it('refuses a model without inputs, which no request can call', () => {
    const constant = { inputs: [], outputs: [{ name: 'y', datatype: 'FP32' as const, shape: [2] }] };
    expect(() => assertServable(constant)).toThrowError(new UnsupportedTensorError('the model has no inputs; a request must feed at least one input'));
  });

  it('knows no v2 datatype for packed 4-bit tensors', () => {
    expect(() => v2DatatypeOf('int4')).toThrowError('element type int4 has no KServe v2 datatype');
  });
});

describe('inspectOnnxModel', () => {
  it('reads the signature of a multi-input, multi-type model; symbolic dims become -1', async () => {
    // Act
    const signature = await inspectOnnxModel(await readFile('models/dtypes.onnx'));
    // Assess
    expect(signature.inputs).toEqual([
      { name: 'f64', datatype: 'FP64', shape: [-1, 2] },
      { name: 'i32', datatype: 'INT32', shape: [-1] },
      { name: 'i64', datatype: 'INT64', shape: [-1] },
      { name: 'flag', datatype: 'BOOL', shape: [-1] },
      { name: 'text', datatype: 'BYTES', shape: [-1] },
    ]);
    expect(signature.outputs.map((o) => `${o.name}:${o.datatype}`)).toEqual([
      'f64_doubled:FP64',
      'i32_plus_one:INT32',
      'i64_negated:INT64',
      'flag_not:BOOL',
      'text_echo:BYTES',
      'f32_sum:FP32',
    ]);
  });

  it('refuses a missing-value declaration that names no input of the model', async () => {
    // Prepare: y = Identity(x), declaring missing-value handling for an input it does not have.
    const bytes = encode(
      model({
        graphName: 'g',
        nodes: [node('Identity', ['x'], ['y'], 'id')],
        initializers: [],
        inputs: [valueInfo('x', DataType.FLOAT, ['batch'])],
        outputs: [valueInfo('y', DataType.FLOAT, ['batch'])],
        metadata: { missing_values: '["z"]' },
      }),
    );
    // Act + Assess
    await expect(inspectOnnxModel(bytes)).rejects.toThrowError(new UnsupportedTensorError("metadata 'missing_values' names 'z', not an input of the model (its inputs: 'x')"));
  });

  it('refuses a loadable model with no inputs (a Constant node)', async () => {
    const bytes = encode(
      model({
        graphName: 'g',
        nodes: [node('Constant', [], ['y'], 'c', { value: attr.tensor(floatTensor('v', [2], [1, 2])) })],
        initializers: [],
        inputs: [],
        outputs: [valueInfo('y', DataType.FLOAT, [2])],
      }),
    );
    await expect(inspectOnnxModel(bytes)).rejects.toThrowError(new UnsupportedTensorError('the model has no inputs; a request must feed at least one input'));
  });

  it('leaves out the shape of a tensor of unknown rank, and keeps [] for a declared scalar (onnxruntime reports both as [])', async () => {
    const noShape = { name: 'x', type: { tensorType: { elemType: DataType.INT64 } } };
    const bytes = encode(
      model({
        graphName: 'g',
        nodes: [node('Identity', ['x'], ['y'], 'id'), node('Identity', ['s'], ['t'], 'id2')],
        initializers: [],
        inputs: [noShape, valueInfo('s', DataType.FLOAT, [])],
        outputs: [{ name: 'y', type: { tensorType: { elemType: DataType.INT64 } } }, valueInfo('t', DataType.FLOAT, [])],
      }),
    );
    const signature = await inspectOnnxModel(bytes);
    expect(signature.inputs).toEqual([
      { name: 'x', datatype: 'INT64' },
      { name: 's', datatype: 'FP32', shape: [] },
    ]);
    expect(signature.outputs).toEqual([
      { name: 'y', datatype: 'INT64' },
      { name: 't', datatype: 'FP32', shape: [] },
    ]);
  });

  it('rejects bytes that are not an ONNX model', async () => {
    await expect(inspectOnnxModel(new TextEncoder().encode('definitely not onnx'))).rejects.toThrowError();
  });
});
