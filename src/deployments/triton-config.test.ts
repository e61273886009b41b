import { describe, expect, it } from 'vitest';
import type { V2Datatype } from '../registry/types.js';
import { textFormatString, TRITON_DATATYPES, tritonModelConfig } from './triton-config.js';

describe("a version's Triton configuration", () => {
  it('declares the ONNX Runtime platform, no Triton batching, and each tensor with its datatype and dimensions (-1 dynamic)', () => {
    // Act
    const config = tritonModelConfig('iris', {
      inputs: [{ name: 'x', datatype: 'FP32', shape: [-1, 4] }],
      outputs: [
        { name: 'label', datatype: 'INT64', shape: [-1] },
        { name: 'probabilities', datatype: 'FP32', shape: [-1, 3] },
      ],
    });

    // Assess
    expect(config).toBe(
      [
        'name: "iris"',
        'platform: "onnxruntime_onnx"',
        'max_batch_size: 0',
        'input [',
        '  {',
        '    name: "x"',
        '    data_type: TYPE_FP32',
        '    dims: [ -1, 4 ]',
        '  }',
        ']',
        'output [',
        '  {',
        '    name: "label"',
        '    data_type: TYPE_INT64',
        '    dims: [ -1 ]',
        '  },',
        '  {',
        '    name: "probabilities"',
        '    data_type: TYPE_FP32',
        '    dims: [ -1, 3 ]',
        '  }',
        ']',
        '',
      ].join('\n'),
    );
  });

  it('maps every KServe v2 datatype to Triton, BYTES to TYPE_STRING', () => {
    // Prepare
    const datatypes = Object.keys(TRITON_DATATYPES) as V2Datatype[];

    // Act
    const config = tritonModelConfig('all', { inputs: datatypes.map((datatype) => ({ name: datatype, datatype, shape: [2] })), outputs: [] });

    // Assess
    expect(datatypes).toHaveLength(13);
    const declared = [...config.matchAll(/data_type: (\w+)/g)].map((m) => m[1]);
    expect(declared).toEqual([
      'TYPE_BOOL',
      'TYPE_UINT8',
      'TYPE_UINT16',
      'TYPE_UINT32',
      'TYPE_UINT64',
      'TYPE_INT8',
      'TYPE_INT16',
      'TYPE_INT32',
      'TYPE_INT64',
      'TYPE_FP16',
      'TYPE_FP32',
      'TYPE_FP64',
      'TYPE_STRING',
    ]);
  });

  it('gives a scalar as [1] reshaped to [], and fully dynamic shapes as -1s', () => {
    // Act
    const config = tritonModelConfig('s', { inputs: [{ name: 'k', datatype: 'INT32', shape: [] }], outputs: [{ name: 'y', datatype: 'FP32', shape: [-1, -1, 3] }] });

    // Assess
    expect(config).toContain('    dims: [ 1 ]\n    reshape: { shape: [ ] }\n');
    expect(config).toContain('    dims: [ -1, -1, 3 ]\n');
  });

  it('escapes names with quotes, backslashes and control characters, and keeps other Unicode as it is', () => {
    // Act & Assess
    expect(textFormatString('input:0')).toBe('"input:0"');
    expect(textFormatString('a"b\\c')).toBe('"a\\"b\\\\c"');
    expect(textFormatString('tab\there\nnul\u0000del\u007f')).toBe('"tab\\011here\\012nul\\000del\\177"');
    expect(textFormatString('größe 入力')).toBe('"größe 入力"');
    expect(tritonModelConfig('m.v1_x', { inputs: [{ name: 'in "1"', datatype: 'BYTES', shape: [-1] }], outputs: [] })).toContain(
      'name: "m.v1_x"\n',
    );
  });

  it('refuses a tensor without a declared shape (Triton needs its dimensions)', () => {
    // Act & Assess
    expect(() => tritonModelConfig('m', { inputs: [{ name: 'x', datatype: 'FP32' }], outputs: [] })).toThrowError("tensor 'x' declares no shape");
  });
});
