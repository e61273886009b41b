import { describe, expect, it } from 'vitest';
import * as z from 'zod/mini';
import type { Examples, Matrix, TrainingContext, TrainingProgress } from '../model.js';
import { TrainingStoppedError } from '../model.js';
import { predict } from '../score.js';
import { Random } from '../random.js';
import { balancedClassWeights } from '../pipeline.js';
import { logisticParameters, logisticWorkingBytes, trainLogistic } from './logistic.js';

const binary: TrainingContext = { task: 'classification', classes: 2, seed: 1 };
const ternary: TrainingContext = { task: 'classification', classes: 3, seed: 1 };
const none = (cols: number): Examples => ({ x: { rows: 0, cols, data: new Float32Array(0) }, y: new Float64Array(0) });

/** Index of the largest probability of each row. */
function predictedClasses(probabilities: Float32Array, rows: number, classes: number): number[] {
  return Array.from({ length: rows }, (_, r) => {
    let best = 0;
    for (let c = 1; c < classes; c++) if (probabilities[r * classes + c]! > probabilities[r * classes + best]!) best = c;
    return best;
  });
}

function accuracy(x: Matrix, y: Float64Array, probabilities: Float32Array, classes: number): number {
  const predicted = predictedClasses(probabilities, x.rows, classes);
  return predicted.filter((c, r) => c === y[r]).length / x.rows;
}

// The scikit-learn reference set: 60 rows, x = (sin 1.3i, cos 0.7i, sin(0.37i + 1)) rounded to float32.
// Labels and coefficients were produced once with /usr/bin/python3 and scikit-learn 1.2.1:
//   X = np.stack([np.sin(1.3*i), np.cos(0.7*i), np.sin(0.37*i+1)], 1).astype(np.float32).astype(np.float64)
//   yb = ((X[:,0] + 0.5*X[:,1] - 0.3*X[:,2] + 0.6*np.sin(2.1*i)) > 0).astype(int)
//   y3 = np.stack([X[:,0], X[:,1], 0.5*X[:,2] + 0.8*np.sin(2.9*i)], 1).argmax(1)
//   LogisticRegression(C=..., tol=1e-12, max_iter=100000[, fit_intercept=False]).fit(X, y)
const REFERENCE_ROWS = 60;
const referenceX: Matrix = {
  rows: REFERENCE_ROWS,
  cols: 3,
  data: Float32Array.from({ length: REFERENCE_ROWS * 3 }, (_, k) => {
    const i = Math.floor(k / 3);
    return [Math.sin(1.3 * i), Math.cos(0.7 * i), Math.sin(0.37 * i + 1)][k % 3]!;
  }),
};
const referenceBinary = Float64Array.from([
  1, 1, 0, 0, 0, 0, 1, 1, 0, 1, 1, 1, 1, 0, 0, 1, 1, 0, 0, 1, 1, 1, 0, 0, 0, 1, 1, 1, 1, 0, 1, 1, 0, 0, 1, 1, 1, 0, 0, 1, 1, 0, 0, 1, 1, 1, 1, 0, 0, 1,
  0, 0, 0, 0, 1, 1, 0, 0, 1, 1,
]);
const referenceTernary = Float64Array.from([
  1, 0, 0, 2, 2, 2, 0, 2, 1, 1, 1, 0, 0, 2, 2, 0, 0, 1, 2, 1, 2, 0, 2, 2, 2, 0, 1, 1, 1, 2, 0, 2, 2, 2, 1, 2, 1, 2, 2, 0, 0, 0, 2, 1, 1, 1, 1, 1, 2, 0,
  0, 2, 2, 1, 1, 2, 1, 2, 0, 0,
]);
const exact = { tolerance: 1e-10, maxIterations: 10_000 };

/** Two Gaussian blobs per class around `centres`, `perClass` rows each. */
function blobs(centres: readonly (readonly number[])[], perClass: number, spread: number, seed: number): Examples {
  const random = new Random(seed);
  const cols = centres[0]!.length;
  const rows = centres.length * perClass;
  const data = new Float32Array(rows * cols);
  const y = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    const label = r % centres.length;
    y[r] = label;
    for (let j = 0; j < cols; j++) data[r * cols + j] = centres[label]![j]! + spread * random.normal();
  }
  return { x: { rows, cols, data }, y };
}

describe('trainLogistic', () => {
  it('matches scikit-learn on a binary problem (C = 1)', () => {
    const model = trainLogistic({ x: referenceX, y: referenceBinary }, none(3), z.parse(logisticParameters, { l2: 1, ...exact }), binary);
    expect(model.link).toBe('sigmoid');
    expect(model.layer.outputs).toBe(1);
    const expected = [2.2706669755671087, 1.1567684882649822, -1.0294011922054647];
    expected.forEach((w, j) => expect(Math.abs(model.layer.weights[j]! - w)).toBeLessThan(1e-3));
    expect(Math.abs(model.layer.bias[0]! - 0.36399776085763447)).toBeLessThan(1e-3);
  });

  it('matches scikit-learn with class_weight="balanced" on imbalanced classes (C = 1)', () => {
    // Prepare: 13 positives of 60 (yb's score above 0.8 instead of 0); weights as the pipeline makes them.
    const labels = Float64Array.from({ length: REFERENCE_ROWS }, (_, i) => {
      const [a, b, c] = [0, 1, 2].map((j) => referenceX.data[i * 3 + j]!);
      return a! + 0.5 * b! - 0.3 * c! + 0.6 * Math.sin(2.1 * i) > 0.8 ? 1 : 0;
    });
    const classWeights = balancedClassWeights(labels, 2);
    expect(Array.from(classWeights)).toEqual([60 / (2 * 47), 60 / (2 * 13)]); // scikit-learn: [0.63829787, 2.30769231]

    // Act
    const weighted = { x: referenceX, y: labels, weights: labels.map((label) => classWeights[label]!) };
    const model = trainLogistic(weighted, none(3), z.parse(logisticParameters, { l2: 1, ...exact }), binary);

    // Assess: LogisticRegression(C=1, class_weight='balanced', tol=1e-12, max_iter=100000), scikit-learn 1.2.1.
    const expected = [2.3777270065834966, 1.1852209830916645, -0.9660674912445628];
    expected.forEach((w, j) => expect(Math.abs(model.layer.weights[j]! - w)).toBeLessThan(1e-3));
    expect(Math.abs(model.layer.bias[0]! - -1.0484592100649113)).toBeLessThan(1e-3);
  });

  it('matches scikit-learn without an intercept (C = 2)', () => {
    const params = z.parse(logisticParameters, { l2: 0.5, fitIntercept: false, ...exact });
    const model = trainLogistic({ x: referenceX, y: referenceBinary }, none(3), params, binary);
    const expected = [2.7502035674171705, 1.4181810793324188, -1.239484705296271];
    expected.forEach((w, j) => expect(Math.abs(model.layer.weights[j]! - w)).toBeLessThan(1e-3));
    expect(model.layer.bias[0]).toBe(0);
  });

  it('matches scikit-learn on a multinomial problem (C = 0.5)', () => {
    const model = trainLogistic({ x: referenceX, y: referenceTernary }, none(3), z.parse(logisticParameters, { l2: 2, ...exact }), ternary);
    expect(model.link).toBe('softmax');
    expect(model.layer.outputs).toBe(3);
    // scikit-learn's coef_ is [classes × features]; the layer is [features × classes].
    const coefficients = [
      [1.3463181845339525, -0.9411287267309241, -0.1090343638642021],
      [-0.48965449089672825, 1.5169367470751756, -0.4000462996619518],
      [-0.8566636936372248, -0.5758080203442514, 0.5090806635261537],
    ];
    const intercepts = [-0.31051483035344746, -0.07655973645766054, 0.38707456681110725];
    for (let c = 0; c < 3; c++) {
      for (let j = 0; j < 3; j++) expect(Math.abs(model.layer.weights[j * 3 + c]! - coefficients[c]![j]!)).toBeLessThan(1e-3);
      expect(Math.abs(model.layer.bias[c]! - intercepts[c]!)).toBeLessThan(1e-3);
    }
  });

  it('separates linearly separable binary data perfectly', () => {
    const set = blobs(
      [
        [-2, -1],
        [2, 1],
      ],
      100,
      0.5,
      3,
    );
    const model = trainLogistic(set, none(2), z.parse(logisticParameters, {}), binary);
    expect(accuracy(set.x, set.y, predict(model, set.x, 2), 2)).toBe(1);
  });

  it('classifies three blobs with the multinomial model', () => {
    const set = blobs(
      [
        [0, 3],
        [3, -2],
        [-3, -2],
      ],
      100,
      0.8,
      4,
    );
    const model = trainLogistic(set, none(2), z.parse(logisticParameters, {}), ternary);
    const probabilities = predict(model, set.x, 3);
    expect(accuracy(set.x, set.y, probabilities, 3)).toBeGreaterThan(0.97);
    for (let r = 0; r < set.x.rows; r++) expect(probabilities[r * 3]! + probabilities[r * 3 + 1]! + probabilities[r * 3 + 2]!).toBeCloseTo(1, 5);
  });

  it('reports every iteration, with the validation log-loss on the last', () => {
    const progress: TrainingProgress[] = [];
    const set = { x: referenceX, y: referenceBinary };
    trainLogistic(set, set, z.parse(logisticParameters, { maxIterations: 50 }), { ...binary, onProgress: (p) => progress.push(p) });
    expect(progress.length).toBeGreaterThan(1);
    expect(progress.map((p) => p.iteration)).toEqual(progress.map((_, i) => i + 1));
    for (let i = 1; i < progress.length; i++) expect(progress[i]!.loss).toBeLessThanOrEqual(progress[i - 1]!.loss);
    expect(progress.slice(0, -1).every((p) => p.validationLoss === undefined)).toBe(true);
    const last = progress[progress.length - 1]!;
    expect(last.validationLoss).toBeGreaterThan(0);
    expect(last.validationLoss).toBeLessThan(last.loss); // the penalty is not part of the validation loss
    expect(last.maxIterations).toBe(50);
  });

  it('stops after maxIterations', () => {
    const progress: TrainingProgress[] = [];
    trainLogistic({ x: referenceX, y: referenceTernary }, none(3), z.parse(logisticParameters, { maxIterations: 2, tolerance: 1e-12 }), {
      ...ternary,
      onProgress: (p) => progress.push(p),
    });
    expect(progress).toHaveLength(2);
  });

  it('throws TrainingStoppedError when asked to stop', () => {
    let polls = 0;
    const shouldStop = (): boolean => ++polls > 2;
    const params = z.parse(logisticParameters, exact);
    expect(() => trainLogistic({ x: referenceX, y: referenceBinary }, none(3), params, { ...binary, shouldStop })).toThrow(TrainingStoppedError);
    expect(polls).toBe(3);
  });

  it('rejects regression and labels outside the classes', () => {
    const params = z.parse(logisticParameters, {});
    expect(() => trainLogistic({ x: referenceX, y: referenceBinary }, none(3), params, { task: 'regression', classes: 1, seed: 1 })).toThrow(
      /classification/,
    );
    expect(() => trainLogistic({ x: referenceX, y: referenceTernary }, none(3), params, binary)).toThrow(/class index/);
  });

  it('validates its hyperparameters', () => {
    expect(z.parse(logisticParameters, {})).toEqual({ l2: 1, fitIntercept: true, maxIterations: 100, tolerance: 1e-4 });
    expect(z.safeParse(logisticParameters, { l2: -0.1 }).success).toBe(false);
    expect(z.safeParse(logisticParameters, { maxIterations: 0 }).success).toBe(false);
    expect(z.safeParse(logisticParameters, { maxIterations: 2.5 }).success).toBe(false);
    expect(z.safeParse(logisticParameters, { tolerance: 0 }).success).toBe(false);
    expect(z.safeParse(logisticParameters, { C: 1 }).success).toBe(false);
  });

  it('estimates a working set that grows with classes, not rows', () => {
    const params = z.parse(logisticParameters, {});
    expect(logisticWorkingBytes(1_000_000, 20, 2, params)).toBe(logisticWorkingBytes(100, 20, 2, params));
    expect(logisticWorkingBytes(100, 20, 10, params)).toBeGreaterThan(logisticWorkingBytes(100, 20, 2, params));
  });
});
