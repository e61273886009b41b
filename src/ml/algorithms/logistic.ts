/**
 * L2-regularised logistic regression fitted by L-BFGS on the full training set,
 * like scikit-learn's `LogisticRegression(solver='lbfgs')`.
 *
 * Objective, with `W` the `[features × outputs]` weights and `b` the intercepts:
 *
 *     Σᵢ loss(xᵢ·W + b, yᵢ) + (l2 / 2)·‖W‖²          (intercepts not penalised)
 *
 * which for `l2 = 1/C` is scikit-learn's `C·Σᵢ loss + ½‖W‖²` divided by `C`: the
 * same minimiser. Binary classification has one output (`loss = log(1 + eᶻ) - y·z`,
 * link `sigmoid`); more classes use the multinomial model with one output per
 * class (`loss = logΣₖ e^{zₖ} - z_y`, link `softmax`), all outputs penalised as
 * scikit-learn does. L-BFGS minimises the objective divided by the number of rows,
 * so `tolerance` bounds the largest component of the gradient of the mean loss.
 */
import * as z from 'zod/mini';
import type { Examples, Fit, LinearModel, Matrix, TrainingContext } from '../model.js';
import { TrainingStoppedError } from '../model.js';
import { checkExamples, requireTask } from './examples-check.js';
import { minimizeLbfgs, type Objective } from './lbfgs.js';
import { softmaxInPlace } from './link-functions.js';

/** Correction pairs kept by L-BFGS. */
const LBFGS_MEMORY = 10;
/** Rows per block of the binary objective (the block's rows stay in L1/L2 between its two passes). */
const BLOCK_ROWS = 256;

/** Hyperparameters of {@link trainLogistic}; unknown keys are rejected. */
export const logisticParameters = z.strictObject({
  /** Inverse of scikit-learn's `C`: weight of `½‖W‖²` against the summed log-loss. */
  l2: z._default(z.number().check(z.gte(0), z.lte(1e12)), 1),
  /** Fit unpenalised intercepts (else they are 0). */
  fitIntercept: z._default(z.boolean(), true),
  /** L-BFGS iterations at most (scikit-learn's `max_iter`). */
  maxIterations: z._default(z.int().check(z.gte(1), z.lte(100_000)), 100),
  /** Stop when the largest gradient component of the mean objective is at most this (scikit-learn's `tol`). */
  tolerance: z._default(z.number().check(z.gt(0), z.lte(1)), 1e-4),
});

/** Parsed {@link logisticParameters} (defaults applied). */
export type LogisticParameters = z.output<typeof logisticParameters>;

/** Score columns of the model: 1 for binary (sigmoid), one per class (softmax) otherwise. */
function outputsFor(classes: number): number {
  return classes === 2 ? 1 : classes;
}

/**
 * The mean objective over `x` (each row's loss weighted by `rowWeights`, the sum divided by
 * their total, when given) and its gradient for parameters laid out as
 * `[W row-major (features × outputs) | b (outputs)]`.
 */
function logisticObjective(x: Matrix, y: Float64Array, rowWeights: Float64Array | undefined, outputs: number, l2: number, fitIntercept: boolean): Objective {
  const { rows, cols, data } = x;
  const weightCount = cols * outputs;
  let totalWeight = rows;
  if (rowWeights !== undefined) totalWeight = rowWeights.reduce((sum, w) => sum + w, 0);
  const scale = totalWeight > 0 ? 1 / totalWeight : 0;
  const scores = new Float64Array(outputs);

  const penalise = (w: Float64Array, gradient: Float64Array, loss: number): number => {
    let squares = 0;
    for (let j = 0; j < weightCount; j++) {
      const v = w[j]!;
      squares += v * v;
      gradient[j] = (gradient[j]! + l2 * v) * scale;
    }
    for (let k = weightCount; k < weightCount + outputs; k++) gradient[k] = fitIntercept ? gradient[k]! * scale : 0;
    return (loss + 0.5 * l2 * squares) * scale;
  };

  if (outputs === 1) {
    // Blocks of rows: scores two rows at a time (independent sums, shared weight loads), then the
    // loss and ∂loss/∂score per row, then the gradient four rows at a time while the block is in cache.
    const slopes = new Float64Array(BLOCK_ROWS);
    return (w, gradient) => {
      gradient.fill(0);
      const intercept = fitIntercept ? w[cols]! : 0;
      let loss = 0;
      let interceptGradient = 0;
      for (let start = 0; start < rows; start += BLOCK_ROWS) {
        const end = Math.min(rows, start + BLOCK_ROWS);
        let r = start;
        for (; r + 2 <= end; r += 2) {
          const base0 = r * cols;
          const base1 = base0 + cols;
          let s0 = intercept;
          let s1 = intercept;
          for (let j = 0; j < cols; j++) {
            const wj = w[j]!;
            s0 += data[base0 + j]! * wj;
            s1 += data[base1 + j]! * wj;
          }
          slopes[r - start] = s0;
          slopes[r + 1 - start] = s1;
        }
        for (; r < end; r++) {
          const base = r * cols;
          let score = intercept;
          for (let j = 0; j < cols; j++) score += data[base + j]! * w[j]!;
          slopes[r - start] = score;
        }
        for (r = start; r < end; r++) {
          const score = slopes[r - start]!;
          const target = y[r]!;
          const weight = rowWeights === undefined ? 1 : rowWeights[r]!;
          // log(1 + eᶻ) - y·z and σ(z) from one exponential (link-functions' softplus and sigmoid, fused).
          let p: number;
          if (score >= 0) {
            const e = Math.exp(-score);
            loss += weight * (score * (1 - target) + Math.log1p(e));
            p = 1 / (1 + e);
          } else {
            const e = Math.exp(score);
            loss += weight * (Math.log1p(e) - target * score);
            p = e / (1 + e);
          }
          const g = weight * (p - target);
          interceptGradient += g;
          slopes[r - start] = g;
        }
        for (r = start; r + 4 <= end; r += 4) {
          const g0 = slopes[r - start]!;
          const g1 = slopes[r + 1 - start]!;
          const g2 = slopes[r + 2 - start]!;
          const g3 = slopes[r + 3 - start]!;
          const base0 = r * cols;
          const base1 = base0 + cols;
          const base2 = base1 + cols;
          const base3 = base2 + cols;
          for (let j = 0; j < cols; j++) {
            gradient[j]! += g0 * data[base0 + j]! + g1 * data[base1 + j]! + g2 * data[base2 + j]! + g3 * data[base3 + j]!;
          }
        }
        for (; r < end; r++) {
          const g = slopes[r - start]!;
          const base = r * cols;
          for (let j = 0; j < cols; j++) gradient[j]! += g * data[base + j]!;
        }
      }
      gradient[cols] = interceptGradient;
      return penalise(w, gradient, loss);
    };
  }

  return (w, gradient) => {
    gradient.fill(0);
    let loss = 0;
    for (let r = 0, base = 0; r < rows; r++, base += cols) {
      for (let k = 0; k < outputs; k++) scores[k] = fitIntercept ? w[weightCount + k]! : 0;
      for (let j = 0; j < cols; j++) {
        const v = data[base + j]!;
        if (v === 0) continue;
        const wRow = j * outputs;
        for (let k = 0; k < outputs; k++) scores[k]! += v * w[wRow + k]!;
      }
      const target = y[r]!;
      const weight = rowWeights === undefined ? 1 : rowWeights[r]!;
      const targetScore = scores[target]!;
      loss += weight * (softmaxInPlace(scores, 0, outputs) - targetScore);
      scores[target]! -= 1; // now ∂loss/∂score
      for (let k = 0; k < outputs; k++) scores[k]! *= weight;
      for (let j = 0; j < cols; j++) {
        const v = data[base + j]!;
        if (v === 0) continue;
        const gRow = j * outputs;
        for (let k = 0; k < outputs; k++) gradient[gRow + k]! += v * scores[k]!;
      }
      for (let k = 0; k < outputs; k++) gradient[weightCount + k]! += scores[k]!;
    }
    return penalise(w, gradient, loss);
  };
}

/**
 * Fits logistic regression (see the module comment for the objective) on `train`
 * from zero weights. Reports progress after every L-BFGS iteration; the last
 * report carries the mean log-loss on `validation` (when it has rows). Polls
 * `ctx.shouldStop` every iteration. Deterministic: no randomness is involved.
 */
export function trainLogistic(train: Examples, validation: Examples, params: LogisticParameters, ctx: TrainingContext): LinearModel {
  return fitLogistic(train, validation, params, ctx).model;
}

/** {@link trainLogistic} with the L-BFGS iterations it ran (the model is from the last). */
export function fitLogistic(train: Examples, validation: Examples, params: LogisticParameters, ctx: TrainingContext): Fit & { model: LinearModel } {
  requireTask(ctx, 'classification', 'logistic regression');
  checkExamples(train, ctx, 'training set');
  checkExamples(validation, ctx, 'validation set', train.x.cols);
  if (train.x.rows === 0) throw new Error('training set is empty');
  if (ctx.shouldStop?.()) throw new TrainingStoppedError();

  const cols = train.x.cols;
  const outputs = outputsFor(ctx.classes);
  const weightCount = cols * outputs;
  const objective = logisticObjective(train.x, train.y, train.weights, outputs, params.l2, params.fitIntercept);
  const validationLoss = (w: Float64Array): number | undefined =>
    validation.x.rows > 0
      ? logisticObjective(validation.x, validation.y, validation.weights, outputs, 0, params.fitIntercept)(w, new Float64Array(w.length))
      : undefined;

  const maxIterations = params.maxIterations;
  const result = minimizeLbfgs(objective, new Float64Array(weightCount + outputs), {
    maxIterations,
    tolerance: params.tolerance,
    memory: LBFGS_MEMORY,
    onIteration: ({ iteration, value, x, done }) => {
      if (!done && ctx.shouldStop?.()) throw new TrainingStoppedError();
      ctx.onProgress?.({ iteration, maxIterations, loss: value, validationLoss: done ? validationLoss(x) : undefined });
    },
  });
  if (result.iterations === 0) {
    // Already optimal at zero weights: still report once.
    ctx.onProgress?.({ iteration: 1, maxIterations, loss: result.value, validationLoss: validationLoss(result.x) });
  }
  const weights = result.x;
  if (!weights.every(Number.isFinite)) throw new Error('logistic regression diverged (non-finite weights)');
  const iterations = Math.max(1, result.iterations);
  return {
    model: {
      kind: 'linear',
      link: outputs === 1 ? 'sigmoid' : 'softmax',
      layer: {
        inputs: cols,
        outputs,
        weights: Float32Array.from(weights.subarray(0, weightCount)),
        bias: Float32Array.from(weights.subarray(weightCount, weightCount + outputs)),
      },
    },
    iterations: { run: iterations, best: iterations },
  };
}

/**
 * Upper bound of the bytes {@link trainLogistic} allocates beyond its input
 * matrices: L-BFGS vectors and correction pairs, gradients and the model.
 * Independent of `rows`: nothing per row is stored.
 */
export function logisticWorkingBytes(rows: number, cols: number, classes: number, _params: LogisticParameters): number {
  const parameters = (cols + 1) * outputsFor(classes);
  // x, gradient, trial x/gradient, direction, result/start copies, validation gradient, 2·memory pairs.
  const vectors = 8 + 2 * LBFGS_MEMORY;
  return vectors * parameters * 8 + parameters * 4 + 4 * LBFGS_MEMORY * 8 + 4096;
}
