import { describe, expect, it } from 'vitest';
import type { TensorSpec } from '../registry/types.js';
import { addCounts, compareAnswers, NO_COMPARISON } from './shadow-compare.js';

const IRIS_OUTPUTS: TensorSpec[] = [
  { name: 'label', datatype: 'INT64', shape: [-1] },
  { name: 'probabilities', datatype: 'FP32', shape: [-1, 3] },
];
const v1 = (...predictions: unknown[]) => ({ model_name: 'iris', model_version: '1', predictions });
const v2 = (...outputs: unknown[]) => ({ model_name: 'iris', model_version: '1', outputs });
const tensor = (name: string, datatype: string, shape: number[], data: unknown[]) => ({ name, datatype, shape, data });

describe('compareAnswers, v1', () => {
  it('compares integer labels as labels and probabilities as numbers, typed by the primary signature', () => {
    // Prepare
    const primary = v1({ label: 0, probabilities: [0.9, 0.1, 0] }, { label: 2, probabilities: [0, 0.25, 0.75] });
    const shadow = v1({ label: 0, probabilities: [0.8, 0.2, 0] }, { label: 1, probabilities: [0, 0.55, 0.45] });

    // Act
    const counts = compareAnswers('v1', primary, shadow, IRIS_OUTPUTS);

    // Assess
    expect(counts).toMatchObject({ categoricalCompared: 2, agreed: 1, numericCompared: 6 });
    expect(counts.absDiffSum).toBeCloseTo(0.1 + 0.1 + 0.3 + 0.3);
  });

  it('types values by their JSON type without a signature: strings and booleans are labels, numbers are numeric', () => {
    // Act
    const counts = compareAnswers('v1', v1('setosa', true, 1.5), v1('setosa', false, 2));

    // Assess
    expect(counts).toEqual({ categoricalCompared: 2, agreed: 1, numericCompared: 1, absDiffSum: 0.5 });
  });

  it('types the plain predictions of a single-output model by that output', () => {
    // Act
    const counts = compareAnswers('v1', v1(1, 2, 3), v1(1, 2, 4), [{ name: 'class', datatype: 'INT32', shape: [-1] }]);

    // Assess
    expect(counts).toEqual({ categoricalCompared: 3, agreed: 2, numericCompared: 0, absDiffSum: 0 });
  });

  it("counts the primary's labels as disagreements where the shadow has fewer predictions, another output or another row size", () => {
    // Prepare
    const primary = v1({ label: 'a', probabilities: [0.5, 0.5] }, { label: 'b', probabilities: [1, 0] });
    const shadow = v1({ class: 'a', probabilities: [0.5, 0.25, 0.25] });

    // Act
    const counts = compareAnswers('v1', primary, shadow, [
      { name: 'label', datatype: 'BYTES', shape: [-1] },
      { name: 'probabilities', datatype: 'FP32', shape: [-1, 2] },
    ]);

    // Assess
    expect(counts).toEqual({ categoricalCompared: 2, agreed: 0, numericCompared: 0, absDiffSum: 0 });
  });
});

describe('compareAnswers, v2', () => {
  it('matches outputs by name: BYTES labels by equality, FP32 scores by absolute difference', () => {
    // Prepare
    const primary = v2(tensor('label', 'BYTES', [3], ['setosa', 'virginica', 'versicolor']), tensor('score', 'FP32', [3, 1], [0.5, 0.25, 1]));
    const shadow = v2(tensor('score', 'FP32', [3, 1], [[0.75], [0.25], [0.5]]), tensor('label', 'BYTES', [3], ['setosa', 'versicolor', 'versicolor']));

    // Act
    const counts = compareAnswers('v2', primary, shadow);

    // Assess
    expect(counts).toEqual({ categoricalCompared: 3, agreed: 2, numericCompared: 3, absDiffSum: 0.75 });
  });

  it('counts BOOL and integer outputs as labels', () => {
    // Act
    const counts = compareAnswers('v2', v2(tensor('flag', 'BOOL', [2], [true, false]), tensor('n', 'UINT8', [1], [7])), v2(tensor('flag', 'BOOL', [2], [true, true]), tensor('n', 'UINT8', [1], [7])));

    // Assess
    expect(counts).toEqual({ categoricalCompared: 3, agreed: 2, numericCompared: 0, absDiffSum: 0 });
  });

  it('counts a missing output or a different shape as disagreement on labels, and compares no numbers there', () => {
    // Prepare
    const primary = v2(tensor('label', 'INT64', [2], [0, 1]), tensor('probabilities', 'FP32', [2, 2], [0.5, 0.5, 0.25, 0.75]), tensor('other', 'BYTES', [1], ['x']));
    const shadow = v2(tensor('label', 'INT64', [1, 2], [0, 1]), tensor('probabilities', 'FP32', [2, 3], [0.5, 0.5, 0, 0.25, 0.75, 0]), tensor('extra', 'FP32', [1], [1]));

    // Act
    const counts = compareAnswers('v2', primary, shadow);

    // Assess
    expect(counts).toEqual({ categoricalCompared: 3, agreed: 0, numericCompared: 0, absDiffSum: 0 });
  });

  it('skips numbers missing on either side (NaN travels as null) and compares nothing in a response that is not one', () => {
    // Act
    const withNaN = compareAnswers('v2', v2(tensor('y', 'FP64', [2], [null, 1])), v2(tensor('y', 'FP64', [2], [2, null])));
    const garbage = compareAnswers('v2', v2(tensor('y', 'FP64', [1], [1])), 'not a response');

    // Assess
    expect(withNaN).toEqual(NO_COMPARISON);
    expect(garbage).toEqual(NO_COMPARISON);
  });
});

describe('addCounts', () => {
  it('adds every count', () => {
    expect(addCounts({ categoricalCompared: 1, agreed: 1, numericCompared: 2, absDiffSum: 0.5 }, { categoricalCompared: 2, agreed: 0, numericCompared: 1, absDiffSum: 0.25 })).toEqual({
      categoricalCompared: 3,
      agreed: 1,
      numericCompared: 3,
      absDiffSum: 0.75,
    });
  });
});
