/**
 * Ridge linear regression in closed form, like scikit-learn's `Ridge(alpha)`:
 *
 *     minimise ‖y - X·w - b‖² + l2·‖w‖²          (intercept b not penalised)
 *
 * With an intercept, features and target are centred (two passes over the
 * float32 matrix, sums in float64), the normal equations
 * `(Xcᵀ·Xc + l2·I)·w = Xcᵀ·yc` are solved by Cholesky, and `b = ȳ - x̄·w`.
 * Only the `features × features` Gram matrix is stored, never a copy of `X`.
 */
import * as z from 'zod/mini';
import type { Examples, LinearModel, Matrix, TrainingContext } from '../model.js';
import { TrainingStoppedError } from '../model.js';
import { checkExamples, requireTask } from './examples-check.js';
import { solveSymmetric } from './linalg.js';

/** Hyperparameters of {@link trainLinear}; unknown keys are rejected. */
export const linearParameters = z.strictObject({
  /** Weight of `‖w‖²` (scikit-learn's `alpha`). */
  l2: z._default(z.number().check(z.gte(0), z.lte(1e12)), 1),
  /** Fit an unpenalised intercept (else it is 0 and nothing is centred). */
  fitIntercept: z._default(z.boolean(), true),
});

/** Parsed {@link linearParameters} (defaults applied). */
export type LinearParameters = z.output<typeof linearParameters>;

/** Column means of `x` and the mean of `y` (all 0 when not centring). */
function means(x: Matrix, y: Float64Array, centre: boolean): { readonly features: Float64Array; readonly target: number } {
  const features = new Float64Array(x.cols);
  if (!centre || x.rows === 0) return { features, target: 0 };
  const { rows, cols, data } = x;
  let target = 0;
  for (let r = 0, base = 0; r < rows; r++, base += cols) {
    for (let j = 0; j < cols; j++) features[j]! += data[base + j]!;
    target += y[r]!;
  }
  for (let j = 0; j < cols; j++) features[j]! /= rows;
  return { features, target: target / rows };
}

/** Mean squared error of `x·w + b` against `y` (NaN for an empty set). */
function meanSquaredError(x: Matrix, y: Float64Array, w: Float64Array, b: number): number {
  const { rows, cols, data } = x;
  let sum = 0;
  for (let r = 0, base = 0; r < rows; r++, base += cols) {
    let prediction = b;
    for (let j = 0; j < cols; j++) prediction += data[base + j]! * w[j]!;
    const error = prediction - y[r]!;
    sum += error * error;
  }
  return sum / rows;
}

/**
 * Fits ridge regression (see the module comment) on `train`. Reports one
 * progress event with the training and (when it has rows) validation mean
 * squared error. Regression only; deterministic.
 */
export function trainLinear(train: Examples, validation: Examples, params: LinearParameters, ctx: TrainingContext): LinearModel {
  requireTask(ctx, 'regression', 'ridge linear regression');
  checkExamples(train, ctx, 'training set');
  checkExamples(validation, ctx, 'validation set', train.x.cols);
  if (train.x.rows === 0) throw new Error('training set is empty');
  if (train.weights !== undefined) throw new Error('ridge linear regression takes no row weights');
  if (ctx.shouldStop?.()) throw new TrainingStoppedError();

  const { rows, cols, data } = train.x;
  const y = train.y;
  const mean = means(train.x, y, params.fitIntercept);
  const mu = mean.features;
  const gram = new Float64Array(cols * cols);
  const rhs = new Float64Array(cols);
  const centred = new Float64Array(cols);
  // Lower triangle of Xcᵀ·Xc and Xcᵀ·yc, row by row.
  for (let r = 0, base = 0; r < rows; r++, base += cols) {
    for (let j = 0; j < cols; j++) centred[j] = data[base + j]! - mu[j]!;
    const target = y[r]! - mean.target;
    for (let i = 0; i < cols; i++) {
      const v = centred[i]!;
      if (v === 0) continue;
      rhs[i]! += v * target;
      const row = i * cols;
      for (let j = 0; j <= i; j++) gram[row + j]! += v * centred[j]!;
    }
  }
  for (let i = 0; i < cols; i++) {
    gram[i * cols + i]! += params.l2;
    for (let j = 0; j < i; j++) gram[j * cols + i] = gram[i * cols + j]!;
  }
  const w = solveSymmetric(gram, cols, rhs);
  let intercept = mean.target;
  for (let j = 0; j < cols; j++) intercept -= mu[j]! * w[j]!;

  ctx.onProgress?.({
    iteration: 1,
    maxIterations: 1,
    loss: meanSquaredError(train.x, y, w, intercept),
    validationLoss: validation.x.rows > 0 ? meanSquaredError(validation.x, validation.y, w, intercept) : undefined,
  });
  return {
    kind: 'linear',
    link: 'identity',
    layer: { inputs: cols, outputs: 1, weights: Float32Array.from(w), bias: Float32Array.of(intercept) },
  };
}

/**
 * Upper bound of the bytes {@link trainLinear} allocates beyond its input
 * matrices: the Gram matrix twice (it and its factor) and a few feature vectors.
 * Independent of `rows`.
 */
export function linearWorkingBytes(rows: number, cols: number, _classes: number, _params: LinearParameters): number {
  return 2 * cols * cols * 8 + 8 * cols * 8 + 4096;
}
