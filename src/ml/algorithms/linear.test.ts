import { describe, expect, it } from 'vitest';
import * as z from 'zod/mini';
import type { Examples, TrainingContext, TrainingProgress } from '../model.js';
import { TrainingStoppedError } from '../model.js';
import { predict } from '../score.js';
import { linearParameters, linearWorkingBytes, trainLinear } from './linear.js';

const regression: TrainingContext = { task: 'regression', classes: 1, seed: 1 };

function examples(rows: readonly (readonly number[])[], y: readonly number[]): Examples {
  const cols = rows[0]?.length ?? 0;
  return { x: { rows: rows.length, cols, data: Float32Array.from(rows.flat()) }, y: Float64Array.from(y) };
}

const none = (cols: number): Examples => ({ x: { rows: 0, cols, data: new Float32Array(0) }, y: new Float64Array(0) });

describe('trainLinear', () => {
  it('recovers y = 2·x1 − 3·x2 + 5 exactly with a negligible penalty', () => {
    const rows: number[][] = [];
    const y: number[] = [];
    for (let i = 0; i < 50; i++) {
      const x1 = Math.fround(Math.sin(i) * 3);
      const x2 = Math.fround(Math.cos(1.7 * i) * 2 + 0.5);
      rows.push([x1, x2]);
      y.push(2 * x1 - 3 * x2 + 5);
    }
    const model = trainLinear(examples(rows, y), none(2), z.parse(linearParameters, { l2: 1e-10 }), regression);
    expect(model.link).toBe('identity');
    expect(model.layer.inputs).toBe(2);
    expect(model.layer.outputs).toBe(1);
    expect(model.layer.weights[0]).toBeCloseTo(2, 4);
    expect(model.layer.weights[1]).toBeCloseTo(-3, 4);
    expect(model.layer.bias[0]).toBeCloseTo(5, 4);
    const predictions = predict(model, examples(rows, y).x, 1);
    for (let i = 0; i < y.length; i++) expect(Math.abs(predictions[i]! - y[i]!)).toBeLessThan(1e-4);
  });

  // Hand case: X = [[1,2],[3,4],[5,7],[2,1]], y = [1,2,4,3], λ = 0.5.
  const handX = [
    [1, 2],
    [3, 4],
    [5, 7],
    [2, 1],
  ];
  const handY = [1, 2, 4, 3];

  it('matches the closed form (XcᵀXc + λI)⁻¹·Xcᵀyc with an unpenalised intercept', () => {
    // Centred Gram matrix and right-hand side, solved with the explicit 2 × 2 inverse.
    const n = handX.length;
    const mean = [0, 1].map((j) => handX.reduce((s, row) => s + row[j]!, 0) / n);
    const yMean = handY.reduce((s, v) => s + v, 0) / n;
    const c = handX.map((row) => row.map((v, j) => v - mean[j]!));
    const g = (a: number, b: number): number => c.reduce((s, row) => s + row[a]! * row[b]!, 0);
    const r = [0, 1].map((j) => c.reduce((s, row, i) => s + row[j]! * (handY[i]! - yMean), 0));
    const [a, b, d] = [g(0, 0) + 0.5, g(0, 1), g(1, 1) + 0.5];
    const det = a * d - b * b;
    const w0 = (d * r[0]! - b * r[1]!) / det;
    const w1 = (a * r[1]! - b * r[0]!) / det;
    const intercept = yMean - mean[0]! * w0 - mean[1]! * w1;

    const model = trainLinear(examples(handX, handY), none(2), z.parse(linearParameters, { l2: 0.5 }), regression);
    expect(model.layer.weights[0]).toBeCloseTo(w0, 5);
    expect(model.layer.weights[1]).toBeCloseTo(w1, 5);
    expect(model.layer.bias[0]).toBeCloseTo(intercept, 5);
    // scikit-learn 1.2.1: Ridge(alpha=0.5).fit(X, y) → coef_ [1.014662756598241, -0.31085043988269834], intercept_ 0.7976539589442817.
    expect(model.layer.weights[0]).toBeCloseTo(1.014662756598241, 5);
    expect(model.layer.weights[1]).toBeCloseTo(-0.31085043988269834, 5);
    expect(model.layer.bias[0]).toBeCloseTo(0.7976539589442817, 5);
  });

  it('penalises every weight without an intercept when fitIntercept is false', () => {
    const model = trainLinear(examples(handX, handY), none(2), z.parse(linearParameters, { l2: 0.5, fitIntercept: false }), regression);
    // scikit-learn 1.2.1: Ridge(alpha=0.5, fit_intercept=False).fit(X, y).coef_
    expect(model.layer.weights[0]).toBeCloseTo(1.2816326530612192, 5);
    expect(model.layer.weights[1]).toBeCloseTo(-0.3455782312925131, 5);
    expect(model.layer.bias[0]).toBe(0);
  });

  it('solves singular systems (duplicated and constant columns) without a penalty', () => {
    const rows = Array.from({ length: 20 }, (_, i) => [i, i, 1]);
    const y = rows.map(([x]) => 3 * x! + 1);
    const model = trainLinear(examples(rows, y), none(3), z.parse(linearParameters, { l2: 0 }), regression);
    const predictions = predict(model, examples(rows, y).x, 1);
    for (let i = 0; i < y.length; i++) expect(predictions[i]).toBeCloseTo(y[i]!, 3);
  });

  it('reports one progress event with the training and validation mean squared errors', () => {
    const progress: TrainingProgress[] = [];
    trainLinear(examples(handX, handY), examples([[0, 0]], [10]), z.parse(linearParameters, {}), { ...regression, onProgress: (p) => progress.push(p) });
    expect(progress).toHaveLength(1);
    expect(progress[0]!.iteration).toBe(1);
    expect(progress[0]!.loss).toBeGreaterThan(0);
    expect(progress[0]!.validationLoss).toBeGreaterThan(0);
  });

  it('stops when asked, and refuses classification and malformed sets', () => {
    const set = examples(handX, handY);
    const params = z.parse(linearParameters, {});
    expect(() => trainLinear(set, none(2), params, { ...regression, shouldStop: () => true })).toThrow(TrainingStoppedError);
    expect(() => trainLinear(set, none(2), params, { task: 'classification', classes: 2, seed: 1 })).toThrow(/regression/);
    expect(() => trainLinear({ x: set.x, y: new Float64Array(2) }, none(2), params, regression)).toThrow(/targets/);
    expect(() => trainLinear(set, none(3), params, regression)).toThrow(/columns/);
  });

  it('validates its hyperparameters', () => {
    expect(z.parse(linearParameters, {})).toEqual({ l2: 1, fitIntercept: true });
    expect(z.safeParse(linearParameters, { l2: -1 }).success).toBe(false);
    expect(z.safeParse(linearParameters, { l2: 'big' }).success).toBe(false);
    expect(z.safeParse(linearParameters, { alpha: 1 }).success).toBe(false);
  });

  it('estimates a small working set independent of rows', () => {
    const params = z.parse(linearParameters, {});
    expect(linearWorkingBytes(1_000_000, 20, 1, params)).toBe(linearWorkingBytes(10, 20, 1, params));
    expect(linearWorkingBytes(10, 20, 1, params)).toBeGreaterThanOrEqual(2 * 20 * 20 * 8);
  });
});
