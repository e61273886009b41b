import { describe, expect, it } from 'vitest';
import type { V2TensorOutput } from '../inference/tensors.js';
import { putPredictionColumns, type PredictionColumns } from './prediction-columns.js';

const output = (name: string, shape: number[], data: unknown[]): V2TensorOutput => ({ name, datatype: 'FP32', shape, data });

describe('putPredictionColumns', () => {
  it.each([
    ['one value per row', [output('y', [2], [0.7, 0.1])], { prediction: [0.7, 0.1] }],
    ['a [1] per row, as one value', [output('y', [2, 1], [0.7, 0.1])], { prediction: [0.7, 0.1] }],
    ['values per row', [output('y', [2, 2], [0.1, 0.9, 0.4, 0.6])], { prediction_0: [0.1, 0.4], prediction_1: [0.9, 0.6] }],
    ['a matrix per row, two levels deep', [output('y', [1, 2, 2], [1, 2, 3, 4])], { prediction_0_0: [1], prediction_0_1: [2], prediction_1_0: [3], prediction_1_1: [4] }],
    ['three levels, the third as JSON text', [output('y', [1, 1, 2, 2], [1, 2, 3, 4])], { prediction_0_0: ['[1,2]'], prediction_0_1: ['[3,4]'] }],
    [
      'several outputs, by name',
      [output('label', [2], ['no', 'yes']), output('probabilities', [2, 2], [0.8, 0.2, 0.3, 0.7])],
      { prediction_label: ['no', 'yes'], prediction_probabilities_0: [0.8, 0.3], prediction_probabilities_1: [0.2, 0.7] },
    ],
    ['several outputs, a level deeper as JSON text', [output('a', [1], [5]), output('m', [1, 2, 2], [1, 2, 3, 4])], { prediction_a: [5], prediction_m_0: ['[1,2]'], prediction_m_1: ['[3,4]'] }],
  ])('lays out %s', (_case, outputs, expected) => {
    // Prepare
    const columns: PredictionColumns = new Map();

    // Act
    putPredictionColumns(columns, outputs, outputs[0]!.shape[0]!, 0, outputs[0]!.shape[0]!);

    // Assess
    expect(Object.fromEntries(columns)).toEqual(expected);
  });

  it('writes each call\'s rows at its place in the chunk, leaving the others empty', () => {
    // Prepare
    const columns: PredictionColumns = new Map();

    // Act
    putPredictionColumns(columns, [output('y', [1], [3])], 4, 0, 1);
    putPredictionColumns(columns, [output('y', [2], [5, 6])], 4, 2, 2);

    // Assess
    expect(columns.get('prediction')).toEqual([3, undefined, 5, 6]);
  });
});
