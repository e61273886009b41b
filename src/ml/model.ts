/**
 * The shapes shared by the training context's parts: the numeric matrices the
 * algorithms train on, and the trained parameters the ONNX exporter turns into
 * a graph. Plain data only: every algorithm, the exporter and the evaluator
 * agree on these and nothing else.
 */

/** What a model predicts. */
export type Task = 'classification' | 'regression';

/** The training algorithms the platform ships. */
export type AlgorithmId = 'linear' | 'logistic' | 'mlp' | 'gbdt';

/** A dense, row-major float32 matrix: element (r, c) is `data[r * cols + c]`. */
export interface Matrix {
  readonly rows: number;
  readonly cols: number;
  readonly data: Float32Array;
}

/**
 * A numeric training set: preprocessed features and targets. For classification
 * `y[i]` is the class index (0 … classes-1); for regression it is the target value.
 */
export interface Examples {
  readonly x: Matrix;
  readonly y: Float64Array;
  /** Weight of every row in the loss (e.g. balanced class weights); absent: every row weighs 1. */
  readonly weights?: Float64Array;
}

/** How many iterations a trainer ran, and which one its model is from. */
export interface IterationReport {
  /** Iterations run: boosting rounds, epochs or L-BFGS iterations. */
  readonly run: number;
  /** The iteration the model is from: the best on the validation rows when early stopping chose it, else the last run. */
  readonly best: number;
}

/** What a trainer returns: the model, and its iterations when it iterates. */
export interface Fit {
  readonly model: TrainedModel;
  readonly iterations?: IterationReport;
}

/** Training progress, reported once per iteration/epoch/boosting round. */
export interface TrainingProgress {
  /** 1-based iteration (L-BFGS/Newton iteration, epoch, or boosting round). */
  readonly iteration: number;
  /** Upper bound of iterations (early stopping may end sooner). */
  readonly maxIterations: number;
  /**
   * Training loss: after this iteration, or (GBDT on large data without validation rows, where
   * computing it every round costs ~10 %) as of the last round it was computed, at most 9 rounds ago.
   */
  readonly loss: number;
  /** Validation loss, for algorithms that early-stop on the validation split. */
  readonly validationLoss?: number;
  /** Validation accuracy (classification) or R² (regression), for algorithms whose early stopping watches it (the MLP). */
  readonly validationScore?: number;
}

/** What every algorithm receives besides its data and hyperparameters. */
export interface TrainingContext {
  readonly task: Task;
  /** Number of classes (≥ 2) for classification; 1 for regression. */
  readonly classes: number;
  /** Seed of every random choice (initialisation, shuffling, sampling): same seed, same model. */
  readonly seed: number;
  /** Called after every iteration; must be cheap (the caller throttles its own writes). */
  readonly onProgress?: (progress: TrainingProgress) => void;
  /** Polled between iterations; when it returns true the algorithm throws {@link TrainingStoppedError}. */
  readonly shouldStop?: () => boolean;
}

/** Thrown by an algorithm when {@link TrainingContext.shouldStop} asks it to stop. */
export class TrainingStoppedError extends Error {
  constructor() {
    super('training was stopped');
    this.name = 'TrainingStoppedError';
  }
}

/**
 * How raw scores become predictions:
 * - `identity`: regression, one output per row;
 * - `sigmoid`: binary classification, one score per row, P(class 1) = σ(score);
 * - `softmax`: multiclass classification, one score per class.
 */
export type Link = 'identity' | 'sigmoid' | 'softmax';

/** A dense layer: `out = in · weights + bias`, `weights` row-major `[inputs × outputs]`. */
export interface DenseLayer {
  readonly inputs: number;
  readonly outputs: number;
  readonly weights: Float32Array;
  readonly bias: Float32Array;
}

/** Linear and logistic regression: one dense layer from features to scores. */
export interface LinearModel {
  readonly kind: 'linear';
  readonly link: Link;
  readonly layer: DenseLayer;
}

/** A multilayer perceptron: ReLU between layers, none after the last. */
export interface MlpModel {
  readonly kind: 'mlp';
  readonly link: Link;
  readonly activation: 'relu';
  readonly layers: readonly DenseLayer[];
}

/**
 * One regression tree in flat arrays indexed by node id (root = 0). An internal
 * node sends a row left when `x[feature] <= threshold` (float32 comparison),
 * right otherwise; a leaf has `feature = -1` and predicts `value`.
 */
export interface Tree {
  /** Score column this tree adds to (class index for multiclass, else 0). */
  readonly output: number;
  readonly feature: Int32Array;
  readonly threshold: Float32Array;
  readonly left: Int32Array;
  readonly right: Int32Array;
  readonly value: Float32Array;
}

/** Gradient-boosted trees: score[o] = baseScore[o] + Σ value of the leaf reached in every tree with output o. */
export interface TreeEnsembleModel {
  readonly kind: 'trees';
  readonly link: Link;
  /** One base score per output column. */
  readonly baseScore: Float32Array;
  readonly trees: readonly Tree[];
}

/** The trained parameters of any algorithm; the exporter writes each kind as standard ONNX operators. */
export type TrainedModel = LinearModel | MlpModel | TreeEnsembleModel;

/** Number of raw score columns a link produces from `classes`. */
export function scoreColumns(link: Link, classes: number): number {
  return link === 'softmax' ? classes : 1;
}
