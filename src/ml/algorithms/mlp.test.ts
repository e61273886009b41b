import { describe, expect, it } from 'vitest';
import * as z from 'zod/mini';
import type { Examples, MlpModel, TrainingContext, TrainingProgress } from '../model.js';
import { TrainingStoppedError } from '../model.js';
import { Random } from '../random.js';
import { predict } from '../score.js';
import { fitMlp, mlpParameters, mlpWorkingBytes, trainMlp, type MlpParameters } from './mlp.js';

const binary: TrainingContext = { task: 'classification', classes: 2, seed: 7 };
const regression: TrainingContext = { task: 'regression', classes: 1, seed: 7 };
const none = (cols: number): Examples => ({ x: { rows: 0, cols, data: new Float32Array(0) }, y: new Float64Array(0) });
const params = (given: Partial<MlpParameters>): MlpParameters => z.parse(mlpParameters, given);

/** XOR of the signs of two noisy coordinates around (±1, ±1). */
function xor(rows: number, seed: number): Examples {
  const random = new Random(seed);
  const data = new Float32Array(rows * 2);
  const y = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    const a = r % 2 === 0 ? 1 : -1;
    const b = r % 4 < 2 ? 1 : -1;
    data[2 * r] = a + 0.2 * random.normal();
    data[2 * r + 1] = b + 0.2 * random.normal();
    y[r] = a * b < 0 ? 1 : 0;
  }
  return { x: { rows, cols: 2, data }, y };
}

/** y = sin(x) on [-3, 3]. */
function sine(rows: number, seed: number): Examples {
  const random = new Random(seed);
  const data = new Float32Array(rows);
  const y = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    data[r] = -3 + 6 * random.next();
    y[r] = Math.sin(data[r]!);
  }
  return { x: { rows, cols: 1, data }, y };
}

/** Share of `set`'s rows whose more probable class (of two) is their label. */
function accuracy(model: MlpModel, set: Examples): number {
  const p = predict(model, set.x, 2);
  let correct = 0;
  for (let r = 0; r < set.x.rows; r++) if ((p[2 * r + 1]! > 0.5 ? 1 : 0) === set.y[r]) correct++;
  return correct / set.x.rows;
}

describe('trainMlp', () => {
  it('learns XOR (binary classification, sigmoid output)', () => {
    const set = xor(200, 1);
    const model = trainMlp(set, none(2), params({ hiddenLayers: [8], learningRate: 0.05, batchSize: 32, maxEpochs: 200, earlyStopping: false }), binary);
    expect(model.link).toBe('sigmoid');
    expect(model.layers.map((l) => [l.inputs, l.outputs])).toEqual([
      [2, 8],
      [8, 1],
    ]);
    const p = predict(model, set.x, 2);
    let correct = 0;
    for (let r = 0; r < set.x.rows; r++) if ((p[2 * r + 1]! > 0.5 ? 1 : 0) === set.y[r]) correct++;
    expect(correct).toBe(set.x.rows);
  });

  it('learns three classes with a softmax output', () => {
    const random = new Random(5);
    const rows = 300;
    const data = new Float32Array(rows * 2);
    const y = new Float64Array(rows);
    const centres = [
      [0, 2],
      [2, -1],
      [-2, -1],
    ];
    for (let r = 0; r < rows; r++) {
      y[r] = r % 3;
      data[2 * r] = centres[r % 3]![0]! + 0.5 * random.normal();
      data[2 * r + 1] = centres[r % 3]![1]! + 0.5 * random.normal();
    }
    const set = { x: { rows, cols: 2, data }, y };
    const model = trainMlp(set, none(2), params({ hiddenLayers: [16, 8], learningRate: 0.01, maxEpochs: 100, batchSize: 50 }), {
      task: 'classification',
      classes: 3,
      seed: 3,
    });
    expect(model.link).toBe('softmax');
    expect(model.layers[model.layers.length - 1]!.outputs).toBe(3);
    const p = predict(model, set.x, 3);
    let correct = 0;
    for (let r = 0; r < rows; r++) {
      const best = [0, 1, 2].reduce((a, c) => (p[r * 3 + c]! > p[r * 3 + a]! ? c : a), 0);
      if (best === y[r]) correct++;
    }
    expect(correct / rows).toBeGreaterThan(0.97);
  });

  it('fits a smooth regression (sin) to a low error', () => {
    const set = sine(400, 2);
    const test = sine(200, 3);
    const model = trainMlp(set, test, params({ hiddenLayers: [32, 32], learningRate: 0.01, batchSize: 32, maxEpochs: 300, patience: 30 }), regression);
    expect(model.link).toBe('identity');
    const p = predict(model, test.x, 1);
    let squares = 0;
    for (let r = 0; r < test.x.rows; r++) squares += (p[r]! - test.y[r]!) ** 2;
    expect(squares / test.x.rows).toBeLessThan(0.005);
  });

  it('fits regression targets of any scale, reporting losses in their units', () => {
    const unit = sine(400, 2);
    const scaled: Examples = { x: unit.x, y: unit.y.map((v) => 1000 + 300 * v) };
    const progress: TrainingProgress[] = [];
    const given = params({ hiddenLayers: [32, 32], learningRate: 0.01, batchSize: 32, maxEpochs: 100, earlyStopping: false });
    const model = trainMlp(scaled, scaled, given, { ...regression, onProgress: (p) => progress.push(p) });
    const p = predict(model, scaled.x, 1);
    let squares = 0;
    for (let r = 0; r < scaled.x.rows; r++) squares += (p[r]! - scaled.y[r]!) ** 2;
    const halfMse = squares / scaled.x.rows / 2;
    expect(Math.sqrt(2 * halfMse)).toBeLessThan(0.1 * 300);
    // The last validation loss is ½·MSE of the returned model, in the target's units (float32 rounding aside).
    expect(progress[progress.length - 1]!.validationLoss! / halfMse).toBeCloseTo(1, 3);
  });

  it('early-stops as scikit-learn: on the validation score, keeping the best-scoring epoch\'s weights', () => {
    // Memorising random labels: the validation accuracy on other random labels wanders while training goes on.
    const random = new Random(11);
    const noisy = (rows: number): Examples => {
      const data = Float32Array.from({ length: rows * 4 }, () => random.normal());
      return { x: { rows, cols: 4, data }, y: Float64Array.from({ length: rows }, () => (random.next() < 0.5 ? 0 : 1)) };
    };
    const train = noisy(40);
    const validation = noisy(40);
    const progress: TrainingProgress[] = [];
    const given = params({ hiddenLayers: [64], learningRate: 0.02, batchSize: 40, maxEpochs: 300, patience: 20 });

    // Act
    const fit = fitMlp(train, validation, given, { ...binary, onProgress: (p) => progress.push(p) });

    // Assess
    const scores = progress.map((p) => p.validationScore!);
    const bestEpoch = scores.indexOf(Math.max(...scores)) + 1;
    expect(fit.iterations).toEqual({ run: progress.length, best: bestEpoch });
    // No improvement means not above the best score by more than tol, for more than n_iter_no_change epochs.
    const stale = scores.slice(bestEpoch).findIndex((score) => score >= Math.max(...scores.slice(0, bestEpoch)) + given.tolerance);
    expect(stale).toBe(-1);
    expect(progress.length).toBe(bestEpoch + given.patience + 1);
    // The best epoch's weights (float32 weights may flip a row on the boundary: one row of 40).
    expect(Math.abs(accuracy(fit.model, validation) - scores[bestEpoch - 1]!)).toBeLessThanOrEqual(1 / 40);
    // And exactly those weights come back from training that many epochs without early stopping (what a refit repeats).
    const fixed = fitMlp(train, validation, { ...given, maxEpochs: bestEpoch, earlyStopping: false, patience: bestEpoch }, binary);
    expect(fixed.iterations).toEqual({ run: bestEpoch, best: bestEpoch });
    expect(fixed.model.layers).toEqual(fit.model.layers);
  });

  it('weighs rows: weight 2 on a row is the row twice', () => {
    // Prepare
    const base = xor(60, 8);
    const doubled: Examples = {
      x: { rows: 61, cols: base.x.cols, data: Float32Array.from([...base.x.data, ...base.x.data.subarray(0, base.x.cols)]) },
      y: Float64Array.from([...base.y, base.y[0]!]),
    };
    const weighted: Examples = { ...base, weights: Float64Array.from(base.y, (_, i) => (i === 0 ? 2 : 1)) };
    const given = params({ hiddenLayers: [8], batchSize: 100, maxEpochs: 5, earlyStopping: false });
    const empty: Examples = { x: { rows: 0, cols: base.x.cols, data: new Float32Array(0) }, y: new Float64Array(0) };

    // Act
    const lossOf = (examples: Examples) => {
      const losses: number[] = [];
      fitMlp(examples, empty, given, { ...binary, onProgress: (p) => losses.push(p.loss) });
      return losses[0]!;
    };

    // Assess: one full batch, same initial weights: the first epoch's mean loss agrees.
    expect(lossOf(weighted)).toBeCloseTo(lossOf(doubled), 10);
  });

  it('stops on the training loss when early stopping is off', () => {
    const progress: TrainingProgress[] = [];
    trainMlp(xor(100, 4), xor(50, 5), params({ hiddenLayers: [4], maxEpochs: 50, earlyStopping: false, tolerance: 10, patience: 3 }), {
      ...binary,
      onProgress: (p) => progress.push(p),
    });
    // With a huge tolerance no epoch after the first improves on it: 1 + (patience + 1) epochs.
    expect(progress).toHaveLength(5);
    expect(progress.every((p) => p.validationLoss !== undefined && p.maxIterations === 50)).toBe(true);
  });

  it('is deterministic for a seed and differs across seeds', () => {
    const set = xor(64, 6);
    const p = params({ hiddenLayers: [5], maxEpochs: 5, batchSize: 16 });
    const a = trainMlp(set, none(2), p, binary);
    const b = trainMlp(set, none(2), p, binary);
    const c = trainMlp(set, none(2), p, { ...binary, seed: 8 });
    expect(a.layers.map((l) => [...l.weights, ...l.bias])).toEqual(b.layers.map((l) => [...l.weights, ...l.bias]));
    expect(a.layers[0]!.weights).not.toEqual(c.layers[0]!.weights);
  });

  it('throws TrainingStoppedError when asked to stop', () => {
    let polls = 0;
    const progress: TrainingProgress[] = [];
    const run = (): MlpModel =>
      trainMlp(xor(50, 1), none(2), params({ hiddenLayers: [4], maxEpochs: 100 }), {
        ...binary,
        shouldStop: () => ++polls > 3,
        onProgress: (p) => progress.push(p),
      });
    expect(run).toThrow(TrainingStoppedError);
    expect(progress).toHaveLength(3);
  });

  it('rejects labels outside the classes and mismatched validation columns', () => {
    const set = xor(20, 1);
    expect(() => trainMlp({ x: set.x, y: set.y.map(() => 2) }, none(2), params({}), binary)).toThrow(/class index/);
    expect(() => trainMlp(set, none(3), params({}), binary)).toThrow(/columns/);
  });

  it('validates its hyperparameters and fills scikit-learn-like defaults', () => {
    expect(z.parse(mlpParameters, {})).toEqual({
      hiddenLayers: [100],
      learningRate: 1e-3,
      batchSize: 200,
      maxEpochs: 200,
      l2: 1e-4,
      earlyStopping: true,
      patience: 10,
      tolerance: 1e-4,
      beta1: 0.9,
      beta2: 0.999,
      epsilon: 1e-8,
    });
    for (const bad of [
      { hiddenLayers: [] },
      { hiddenLayers: [0] },
      { hiddenLayers: [2.5] },
      { hiddenLayers: 100 },
      { learningRate: 0 },
      { batchSize: 0 },
      { maxEpochs: 1.5 },
      { l2: -1 },
      { beta1: 1 },
      { epsilon: 0 },
      { patience: 0 },
      { hidden_layer_sizes: [10] },
    ]) {
      expect(z.safeParse(mlpParameters, bad).success, JSON.stringify(bad)).toBe(false);
    }
  });

  it('estimates a working set that covers the parameters, batch and row order', () => {
    const p = params({});
    const small = mlpWorkingBytes(1000, 20, 2, p);
    const large = mlpWorkingBytes(1_000_000, 20, 2, p);
    expect(large - small).toBeGreaterThanOrEqual((1_000_000 - 1000) * 4);
    const parameters = 21 * 100 + 101;
    expect(small).toBeGreaterThan(5 * parameters * 8);
    expect(mlpWorkingBytes(1000, 20, 2, params({ hiddenLayers: [256, 256] }))).toBeGreaterThan(small);
  });
});
