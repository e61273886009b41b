/**
 * Gradient-boosted decision trees with histogram binning, in the manner of
 * LightGBM, XGBoost `hist` and scikit-learn's HistGradientBoosting: features
 * binned once into bytes, second-order (gradient + hessian) leaf values, trees
 * grown leaf-wise, early stopping on the validation loss.
 *
 * Squared error with the identity link for regression, log-loss with the
 * sigmoid for two classes, softmax cross-entropy (one tree per class and round)
 * for more. Thresholds are bin edges, float32 midpoints between neighbouring
 * data values (as scikit-learn's), with which the training rows were binned,
 * so the exported model (`x <= threshold`) routes every training row exactly
 * as the trainer's binned splits did.
 */
import * as z from 'zod/mini';
import { TrainingStoppedError, type Examples, type Matrix, type Tree, type TrainingContext, type TreeEnsembleModel } from '../model.js';
import { baseScores, gradients, gradientsAndLoss, meanLoss, OBJECTIVE_LINK, type Objective } from './gbdt-loss.js';
import { checkWeights } from './examples-check.js';
import { BIN_SUBSAMPLE, binningBytes, fitBins } from './histogram-binning.js';
import { TreeGrower } from './tree-grower.js';

/**
 * Without validation rows, the training loss of large sets is computed every
 * this many rounds (and after the last one) rather than every round: nothing
 * but progress reporting reads it, and its logarithm per row costs about as
 * much as the derivatives themselves.
 */
const LOSS_INTERVAL = 10;
/** Training rows × loss columns up to which the training loss is computed every round anyway. */
const LOSS_EVERY_ROUND_VALUES = 1 << 16;

const integer = (min: number, max: number) => z.number().check(z.int(), z.gte(min), z.lte(max));

/** Hyperparameters of {@link trainGbdt}; every field has a default (close to scikit-learn's HistGradientBoosting). */
export const gbdtParameters = z.object({
  /** Shrinkage of every tree's values, in (0, 1]. */
  learningRate: z._default(z.number().check(z.gt(0), z.lte(1)), 0.1),
  /** Boosting rounds at most (early stopping may end sooner). */
  maxIterations: z._default(integer(1, 10_000), 100),
  /** Depth limit of every tree (the root is depth 0). */
  maxDepth: z._default(integer(1, 16), 8),
  /** Leaf limit of every tree; trees grow best-first (leaf-wise) up to it. */
  maxLeaves: z._default(integer(2, 1024), 31),
  /** Fewest training rows a leaf may have. */
  minSamplesLeaf: z._default(integer(1, 1_000_000_000), 20),
  /** L2 regularisation λ of leaf values: value = −G / (H + λ). */
  l2: z._default(z.number().check(z.gte(0)), 0),
  /** Bins per feature at most (2 … 255). */
  maxBins: z._default(integer(2, 255), 255),
  /** Stop when the validation loss has not improved for `patience` rounds (needs validation rows). */
  earlyStopping: z._default(z.boolean(), true),
  /** Rounds without an improvement of more than `tolerance` before early stopping (scikit-learn's `n_iter_no_change`). */
  patience: z._default(integer(1, 10_000), 10),
  /** Smallest decrease of the validation loss that counts as an improvement. */
  tolerance: z._default(z.number().check(z.gte(0)), 1e-7),
});

/** Validated {@link gbdtParameters}, defaults filled in. */
export type GbdtParameters = z.infer<typeof gbdtParameters>;

/** What {@link fitGbdt} returns besides the model. */
export interface GbdtFit {
  readonly model: TreeEnsembleModel;
  /**
   * Raw training scores `[rows × columns]` as the trainer computed them (from
   * its binned splits, float32 leaf values summed in float64) after the last
   * round it trained: when every round is kept, rounded to float32 they equal
   * `rawScores(model, train.x)`.
   */
  readonly trainScores: Float64Array;
  /** Rounds trained. */
  readonly trained: number;
  /** Rounds kept in the model: the best validation round (at least 1) when early stopping ran, else all. */
  readonly rounds: number;
}

/** Internal knobs for tests. */
export interface GbdtInternals {
  /** Rows bin edges are computed from at most (default {@link BIN_SUBSAMPLE}). */
  readonly binSubsample?: number;
  /** Build histograms with the WebAssembly kernel when it fits (default true; false: the JavaScript fallback). */
  readonly wasm?: boolean;
}

/**
 * Trains gradient-boosted trees.
 * @param train - Training rows: class indices in `y` for classification, targets for regression;
 *   `weights` (optional) weigh each row's loss, gradient and hessian.
 * @param validation - Rows for early stopping (may be empty: then every round is kept).
 * @param params - Output of {@link gbdtParameters}.
 * @param ctx - `onProgress` is called after every round; without validation rows
 *   and on large sets its `loss` is the training loss of the latest round that
 *   computed it (every {@link LOSS_INTERVAL}th and the last).
 * @throws {@link TrainingStoppedError} when `ctx.shouldStop` returns true between rounds.
 */
export function trainGbdt(train: Examples, validation: Examples, params: GbdtParameters, ctx: TrainingContext): TreeEnsembleModel {
  return fitGbdt(train, validation, params, ctx).model;
}

/**
 * {@link trainGbdt} that also returns the trainer's own training scores and the
 * number of rounds kept.
 * @internal
 */
export function fitGbdt(train: Examples, validation: Examples, params: GbdtParameters, ctx: TrainingContext, internals: GbdtInternals = {}): GbdtFit {
  const { x, y } = train;
  const n = x.rows;
  if (n === 0) throw new Error('gbdt needs at least one training row');
  if (y.length !== n || validation.y.length !== validation.x.rows) throw new Error('every row needs one target');
  if (validation.x.rows > 0 && validation.x.cols !== x.cols) throw new Error('validation rows must have the training features');
  checkWeights(train, 'training set');
  checkWeights(validation, 'validation set');
  const objective: Objective = ctx.task === 'regression' ? 'squared' : ctx.classes === 2 ? 'logistic' : 'softmax';
  const columns = objective === 'softmax' ? ctx.classes : 1;
  if (objective !== 'squared') {
    if (!Number.isInteger(ctx.classes) || ctx.classes < 2) throw new Error(`classification needs at least 2 classes, got ${ctx.classes}`);
    checkLabels(y, ctx.classes);
    checkLabels(validation.y, ctx.classes);
  }

  const mapper = fitBins(x, params.maxBins, ctx.seed, internals.binSubsample ?? BIN_SUBSAMPLE);
  const grower = new TreeGrower(x, mapper, params, internals.wasm ?? true);

  const weights = train.weights;
  const base = baseScores(objective, y, columns, weights);
  const trainScores = filledScores(n, base);
  const validationRows = validation.x.rows;
  const validationScores = filledScores(validationRows, base);
  const earlyStopping = params.earlyStopping && validationRows > 0;

  const grad = new Float32Array(n * columns);
  // Unweighted squared error has hessian 1 everywhere: the grower then counts rows instead.
  const hess = objective === 'squared' && weights === undefined ? undefined : new Float32Array(n * columns);
  let loss = gradientsAndLoss(objective, trainScores, y, columns, grad, hess, weights);
  // With validation rows every round pays a validation pass anyway (and early
  // stopping may end at any round): then the training loss is exact every round.
  const lossEveryRound = validationRows > 0 || n * columns <= LOSS_EVERY_ROUND_VALUES;

  const trees: Tree[] = [];
  let bestRound = 0;
  let bestLoss = Infinity;
  let referenceLoss = validationRows > 0 ? meanLoss(objective, validationScores, validation.y, columns, validation.weights) : Infinity;
  let roundsWithoutImprovement = 0;
  for (let round = 1; round <= params.maxIterations; round++) {
    if (ctx.shouldStop?.()) throw new TrainingStoppedError();
    for (let k = 0; k < columns; k++) {
      const classGrad = columns === 1 ? grad : grad.subarray(k * n, (k + 1) * n);
      const classHess = hess && columns > 1 ? hess.subarray(k * n, (k + 1) * n) : hess;
      const tree = grower.grow(classGrad, classHess, k, trainScores, columns);
      trees.push(tree);
      if (validationRows > 0) addTreeScores(tree, validation.x, validationScores, columns);
    }
    // The next round's derivatives, and the loss this round reached in the same
    // pass when it is due; other rounds report the latest loss computed.
    if (lossEveryRound || round % LOSS_INTERVAL === 0 || round === params.maxIterations) loss = gradientsAndLoss(objective, trainScores, y, columns, grad, hess, weights);
    else gradients(objective, trainScores, y, columns, grad, hess, weights);
    const validationLoss = validationRows > 0 ? meanLoss(objective, validationScores, validation.y, columns, validation.weights) : undefined;
    ctx.onProgress?.({ iteration: round, maxIterations: params.maxIterations, loss, ...(validationLoss === undefined ? {} : { validationLoss }) });
    if (!earlyStopping || validationLoss === undefined) continue;
    if (validationLoss < bestLoss) {
      bestLoss = validationLoss;
      bestRound = round;
    }
    if (validationLoss < referenceLoss - params.tolerance) {
      referenceLoss = validationLoss;
      roundsWithoutImprovement = 0;
    } else if (++roundsWithoutImprovement >= params.patience) {
      break;
    }
  }

  const trained = trees.length / columns;
  const rounds = earlyStopping ? Math.max(1, bestRound) : trained;
  trees.length = rounds * columns;
  return { model: { kind: 'trees', link: OBJECTIVE_LINK[objective], baseScore: base, trees }, trainScores, trained, rounds };
}

function checkLabels(y: Float64Array, classes: number): void {
  for (let i = 0; i < y.length; i++) {
    const label = y[i]!;
    if (!Number.isInteger(label) || label < 0 || label >= classes) throw new Error(`class index ${label} at row ${i} is not in 0 … ${classes - 1}`);
  }
}

function filledScores(rows: number, base: Float32Array): Float64Array {
  const columns = base.length;
  const scores = new Float64Array(rows * columns);
  for (let r = 0; r < rows; r++) for (let k = 0; k < columns; k++) scores[r * columns + k] = base[k]!;
  return scores;
}

/** Adds the leaf value `tree` gives each row of `x` (float32 `x <= threshold`, as `score.ts` and ONNX) to column `tree.output` of `scores`. */
function addTreeScores(tree: Tree, x: Matrix, scores: Float64Array, columns: number): void {
  const { feature, threshold, left, right, value, output } = tree;
  const { rows, cols, data } = x;
  for (let r = 0, rowStart = 0; r < rows; r++, rowStart += cols) {
    let node = 0;
    for (let f = feature[0]!; f >= 0; f = feature[node]!) node = data[rowStart + f]! <= threshold[node]! ? left[node]! : right[node]!;
    scores[r * columns + output]! += value[node]!;
  }
}

/**
 * Upper bound of the working memory of {@link trainGbdt} in bytes beyond the
 * input matrices and the trees ({@link gbdtTreeBytes}): the binned matrix (one
 * byte per value), scores, gradients and hessians, the row permutation and
 * histograms, and validation scores for up to `rows` validation rows.
 */
export function gbdtWorkingBytes(rows: number, cols: number, classes: number, params: GbdtParameters): number {
  const columns = classes > 2 ? classes : 1;
  const binned = rows * cols;
  const scores = 2 * rows * columns * 8; // training + validation
  const derivatives = 2 * rows * columns * 4;
  const binning = binningBytes(rows, cols, params.maxBins);
  const leaves = Math.min(params.maxLeaves, 2 ** params.maxDepth);
  const grower = TreeGrower.workingBytes(rows, cols * params.maxBins, leaves);
  return binned + scores + derivatives + binning + grower;
}

/** Upper bound of the bytes of the trees {@link trainGbdt} grows: every round allowed, every tree as large as allowed. */
export function gbdtTreeBytes(classes: number, params: GbdtParameters): number {
  const columns = classes > 2 ? classes : 1;
  const leaves = Math.min(params.maxLeaves, 2 ** params.maxDepth);
  return params.maxIterations * columns * ((2 * leaves - 1) * 20 + 200);
}
