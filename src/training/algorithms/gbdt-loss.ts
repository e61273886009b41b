/**
 * The losses gradient boosting minimises, with their first and second
 * derivatives with respect to the raw scores:
 * - `squared`: regression, ½(s − y)², reported as the mean squared error;
 * - `logistic`: binary log-loss of σ(s), one score per row;
 * - `softmax`: multiclass cross-entropy, one score per class.
 * Scores are row-major `[rows × columns]`; gradients and hessians class-major
 * (`grad[k * rows + r]`) so that each class's tree reads one contiguous run.
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
export function baseScores(objective: Objective, y: Float64Array, columns: number): Float32Array {
  const n = y.length;
  const base = new Float32Array(columns);
  if (n === 0) return base;
  if (objective === 'squared') {
    let sum = 0;
    for (let i = 0; i < n; i++) sum += y[i]!;
    base[0] = sum / n;
  } else if (objective === 'logistic') {
    let positives = 0;
    for (let i = 0; i < n; i++) positives += y[i]!;
    const p = clampProbability(positives / n);
    base[0] = Math.log(p / (1 - p));
  } else {
    const counts = new Float64Array(columns);
    for (let i = 0; i < n; i++) counts[y[i]!]!++;
    for (let k = 0; k < columns; k++) base[k] = Math.log(clampProbability(counts[k]! / n));
  }
  return base;
}

const clampProbability = (p: number): number => Math.min(1 - PROBABILITY_EPSILON, Math.max(PROBABILITY_EPSILON, p));

/**
 * Writes the gradient and hessian of every row (and class) at the current
 * scores and returns the mean loss there, in one pass.
 * @param hess - Unused for `squared`, whose hessian is 1 everywhere.
 */
export function gradientsAndLoss(
  objective: Objective,
  scores: Float64Array,
  y: Float64Array,
  columns: number,
  grad: Float32Array,
  hess: Float32Array | undefined,
): number {
  const n = y.length;
  if (n === 0) return 0;
  let total = 0;
  if (objective === 'squared') {
    for (let i = 0; i < n; i++) {
      const residual = scores[i]! - y[i]!;
      grad[i] = residual;
      total += residual * residual;
    }
  } else if (objective === 'logistic') {
    const h = hess!;
    for (let i = 0; i < n; i++) {
      const s = scores[i]!;
      const label = y[i]!;
      const e = Math.exp(-Math.abs(s));
      const p = s >= 0 ? 1 / (1 + e) : e / (1 + e);
      grad[i] = p - label;
      h[i] = p * (1 - p);
      total += (s > 0 ? s : 0) + Math.log1p(e) - label * s;
    }
  } else {
    const h = hess!;
    const exps = new Float64Array(columns);
    for (let i = 0, base = 0; i < n; i++, base += columns) {
      let max = -Infinity;
      for (let k = 0; k < columns; k++) if (scores[base + k]! > max) max = scores[base + k]!;
      let sum = 0;
      for (let k = 0; k < columns; k++) sum += exps[k] = Math.exp(scores[base + k]! - max);
      const label = y[i]!;
      total += Math.log(sum) + max - scores[base + label]!;
      for (let k = 0, at = i; k < columns; k++, at += n) {
        const p = exps[k]! / sum;
        grad[at] = k === label ? p - 1 : p;
        h[at] = p * (1 - p);
      }
    }
  }
  return total / n;
}

/**
 * {@link gradientsAndLoss} without the loss: the same derivatives, bit for bit,
 * without a logarithm per row (most of the cost of a logistic pass).
 */
export function gradients(objective: Objective, scores: Float64Array, y: Float64Array, columns: number, grad: Float32Array, hess: Float32Array | undefined): void {
  const n = y.length;
  if (objective === 'squared') {
    for (let i = 0; i < n; i++) grad[i] = scores[i]! - y[i]!;
  } else if (objective === 'logistic') {
    const h = hess!;
    for (let i = 0; i < n; i++) {
      const s = scores[i]!;
      const e = Math.exp(-Math.abs(s));
      const p = s >= 0 ? 1 / (1 + e) : e / (1 + e);
      grad[i] = p - y[i]!;
      h[i] = p * (1 - p);
    }
  } else {
    gradientsAndLoss(objective, scores, y, columns, grad, hess); // one logarithm per row against `columns` exponentials
  }
}

/** Mean loss of `scores` (mean squared error for `squared`), without derivatives. */
export function meanLoss(objective: Objective, scores: Float64Array, y: Float64Array, columns: number): number {
  const n = y.length;
  if (n === 0) return 0;
  let total = 0;
  if (objective === 'squared') {
    for (let i = 0; i < n; i++) {
      const residual = scores[i]! - y[i]!;
      total += residual * residual;
    }
  } else if (objective === 'logistic') {
    for (let i = 0; i < n; i++) {
      const s = scores[i]!;
      total += (s > 0 ? s : 0) + Math.log1p(Math.exp(-Math.abs(s))) - y[i]! * s;
    }
  } else {
    for (let i = 0, base = 0; i < n; i++, base += columns) {
      let max = -Infinity;
      for (let k = 0; k < columns; k++) if (scores[base + k]! > max) max = scores[base + k]!;
      let sum = 0;
      for (let k = 0; k < columns; k++) sum += Math.exp(scores[base + k]! - max);
      total += Math.log(sum) + max - scores[base + y[i]!]!;
    }
  }
  return total / n;
}
