/**
 * The losses gradient boosting minimises, with their first and second
 * derivatives with respect to the raw scores:
 * - `squared`: regression, ½(s − y)², reported as the mean squared error;
 * - `logistic`: binary log-loss of σ(s), one score per row;
 * - `softmax`: multiclass cross-entropy, one score per class.
 * Scores are row-major `[rows × columns]`; gradients and hessians class-major
 * (`grad[k * rows + r]`) so that each class's tree reads one contiguous run.
 * With row weights `w`, every row's loss, gradient and hessian are multiplied
 * by its weight and losses are weighted means (as scikit-learn's `sample_weight`).
 */
import type { Link } from '../model.js';

/** A loss of {@link gradientsAndLoss}. */
export type Objective = 'squared' | 'logistic' | 'softmax';

/** The link that turns the raw scores of an objective into predictions. */
export const OBJECTIVE_LINK: Readonly<Record<Objective, Link>> = { squared: 'identity', logistic: 'sigmoid', softmax: 'softmax' };

/** Probabilities are kept in [ε, 1 − ε] for base scores, so a class absent from training gets a finite score. */
const PROBABILITY_EPSILON = 1e-15;

/**
 * The constant scores that minimise the loss before any tree: the mean for
 * regression, the log-odds of the positive rate for binary, the log priors for
 * multiclass. Rounded to float32, as the model stores them.
 */
export function baseScores(objective: Objective, y: Float64Array, columns: number, weights?: Float64Array): Float32Array {
  const n = y.length;
  const base = new Float32Array(columns);
  const total = weightSum(weights, n);
  if (n === 0 || !(total > 0)) return base;
  if (objective === 'squared') {
    let sum = 0;
    for (let i = 0; i < n; i++) sum += (weights?.[i] ?? 1) * y[i]!;
    base[0] = sum / total;
  } else if (objective === 'logistic') {
    let positives = 0;
    for (let i = 0; i < n; i++) positives += (weights?.[i] ?? 1) * y[i]!;
    const p = clampProbability(positives / total);
    base[0] = Math.log(p / (1 - p));
  } else {
    const counts = new Float64Array(columns);
    for (let i = 0; i < n; i++) counts[y[i]!]! += weights?.[i] ?? 1;
    for (let k = 0; k < columns; k++) base[k] = Math.log(clampProbability(counts[k]! / total));
  }
  return base;
}

/** Σ weights, or `n` without weights. */
function weightSum(weights: Float64Array | undefined, n: number): number {
  if (weights === undefined) return n;
  let sum = 0;
  for (let i = 0; i < n; i++) sum += weights[i]!;
  return sum;
}

const clampProbability = (p: number): number => Math.min(1 - PROBABILITY_EPSILON, Math.max(PROBABILITY_EPSILON, p));

/**
 * Writes the gradient and hessian of every row (and class) at the current
 * scores and returns the (weighted) mean loss there, in one pass.
 * @param hess - Unused for unweighted `squared`, whose hessian is 1 everywhere; with
 *   weights it receives them (the hessian of w·½(s − y)²).
 */
export function gradientsAndLoss(
  objective: Objective,
  scores: Float64Array,
  y: Float64Array,
  columns: number,
  grad: Float32Array,
  hess: Float32Array | undefined,
  weights?: Float64Array,
): number {
  const n = y.length;
  if (n === 0) return 0;
  let total = 0;
  if (objective === 'squared') {
    for (let i = 0; i < n; i++) {
      const w = weights?.[i] ?? 1;
      const residual = scores[i]! - y[i]!;
      grad[i] = w * residual;
      if (weights) hess![i] = w;
      total += w * residual * residual;
    }
  } else if (objective === 'logistic') {
    const h = hess!;
    for (let i = 0; i < n; i++) {
      const w = weights?.[i] ?? 1;
      const s = scores[i]!;
      const label = y[i]!;
      const e = Math.exp(-Math.abs(s));
      const p = s >= 0 ? 1 / (1 + e) : e / (1 + e);
      grad[i] = w * (p - label);
      h[i] = w * p * (1 - p);
      total += w * ((s > 0 ? s : 0) + Math.log1p(e) - label * s);
    }
  } else {
    const h = hess!;
    const exps = new Float64Array(columns);
    for (let i = 0, base = 0; i < n; i++, base += columns) {
      const w = weights?.[i] ?? 1;
      let max = -Infinity;
      for (let k = 0; k < columns; k++) if (scores[base + k]! > max) max = scores[base + k]!;
      let sum = 0;
      for (let k = 0; k < columns; k++) sum += exps[k] = Math.exp(scores[base + k]! - max);
      const label = y[i]!;
      total += w * (Math.log(sum) + max - scores[base + label]!);
      for (let k = 0, at = i; k < columns; k++, at += n) {
        const p = exps[k]! / sum;
        grad[at] = w * (k === label ? p - 1 : p);
        h[at] = w * p * (1 - p);
      }
    }
  }
  return total / weightSum(weights, n);
}

/**
 * {@link gradientsAndLoss} without the loss: the same derivatives, bit for bit,
 * without a logarithm per row (most of the cost of a logistic pass).
 */
export function gradients(
  objective: Objective,
  scores: Float64Array,
  y: Float64Array,
  columns: number,
  grad: Float32Array,
  hess: Float32Array | undefined,
  weights?: Float64Array,
): void {
  const n = y.length;
  if (objective === 'squared') {
    for (let i = 0; i < n; i++) {
      const w = weights?.[i] ?? 1;
      grad[i] = w * (scores[i]! - y[i]!);
      if (weights) hess![i] = w;
    }
  } else if (objective === 'logistic') {
    const h = hess!;
    for (let i = 0; i < n; i++) {
      const w = weights?.[i] ?? 1;
      const s = scores[i]!;
      const e = Math.exp(-Math.abs(s));
      const p = s >= 0 ? 1 / (1 + e) : e / (1 + e);
      grad[i] = w * (p - y[i]!);
      h[i] = w * p * (1 - p);
    }
  } else {
    gradientsAndLoss(objective, scores, y, columns, grad, hess, weights); // one logarithm per row against `columns` exponentials
  }
}

/** (Weighted) mean loss of `scores` (mean squared error for `squared`), without derivatives. */
export function meanLoss(objective: Objective, scores: Float64Array, y: Float64Array, columns: number, weights?: Float64Array): number {
  const n = y.length;
  if (n === 0) return 0;
  let total = 0;
  if (objective === 'squared') {
    for (let i = 0; i < n; i++) {
      const residual = scores[i]! - y[i]!;
      total += (weights?.[i] ?? 1) * residual * residual;
    }
  } else if (objective === 'logistic') {
    for (let i = 0; i < n; i++) {
      const s = scores[i]!;
      total += (weights?.[i] ?? 1) * ((s > 0 ? s : 0) + Math.log1p(Math.exp(-Math.abs(s))) - y[i]! * s);
    }
  } else {
    for (let i = 0, base = 0; i < n; i++, base += columns) {
      let max = -Infinity;
      for (let k = 0; k < columns; k++) if (scores[base + k]! > max) max = scores[base + k]!;
      let sum = 0;
      for (let k = 0; k < columns; k++) sum += Math.exp(scores[base + k]! - max);
      total += (weights?.[i] ?? 1) * (Math.log(sum) + max - scores[base + y[i]!]!);
    }
  }
  return total / weightSum(weights, n);
}
