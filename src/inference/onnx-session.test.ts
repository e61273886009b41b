import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { inspectOnnxModel, servingSessionOptions, threadsForMemory } from './onnx-session.js';

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

  it('rejects bytes that are not an ONNX model', async () => {
    await expect(inspectOnnxModel(new TextEncoder().encode('definitely not onnx'))).rejects.toThrowError();
  });
});
