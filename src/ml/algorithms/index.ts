/**
 * The catalogue of training algorithms: which tasks each serves, its hyperparameters
 * (validated before a job is queued), how its features are prepared, and its trainer.
 */
import * as z from 'zod/mini';
import type { PreprocessOptions } from '../features.js';
import type { AlgorithmId, Examples, Fit, Task, TrainingContext } from '../model.js';
import { fitGbdt, gbdtParameters, gbdtTreeBytes, gbdtWorkingBytes, type GbdtParameters } from './gbdt.js';
import { linearParameters, linearWorkingBytes, trainLinear } from './linear.js';
import { fitLogistic, logisticParameters, logisticWorkingBytes } from './logistic.js';
import { fitMlp, mlpParameters, mlpWorkingBytes, type MlpParameters } from './mlp.js';

/**
 * Hyperparameters every algorithm takes besides its own, applied by the pipeline: how rows are
 * weighted, and whether the final model is refitted on the training and validation rows.
 */
export const trainingOptionShape = {
  /**
   * `"balanced"`: weigh every training row by n / (classes × rows of its class), as
   * scikit-learn's `class_weight="balanced"` (classification only). Default: every row weighs 1.
   */
  classWeight: z.optional(z.literal('balanced')),
  /**
   * After a first fit on the training rows chooses the iterations (or epochs) on the validation
   * rows, fit again with that many on training + validation rows; the test rows stay untouched.
   */
  refit: z._default(z.boolean(), true),
};

/** What an algorithm's model costs in memory, apart from the data it trains on. */
export interface MemoryEstimate {
  /** Working memory that grows with the rows and features trained on. */
  readonly data: number;
  /** The model itself (its trees or weights while training, exporting and verifying). */
  readonly model: number;
  /** What the model's size comes from, e.g. "100 rounds × 3 trees of up to 61 nodes". */
  readonly modelSize: string;
  /** The hyperparameters that set {@link modelSize}. */
  readonly modelParameters: string;
}

/** One algorithm as the job runner sees it. */
export interface Algorithm {
  readonly id: AlgorithmId;
  readonly tasks: readonly Task[];
  /** Its own hyperparameters and the {@link trainingOptionShape} ones. */
  readonly parameters: z.ZodMiniType<Record<string, unknown>>;
  /** How raw columns become its input matrix (exported into the ONNX graph the same way). */
  readonly preprocess: Omit<PreprocessOptions, 'maxCategories'>;
  /** Trains a model; reports its iterations when it iterates. */
  fit(train: Examples, validation: Examples, params: Record<string, unknown>, ctx: TrainingContext): Fit;
  /**
   * The hyperparameters that train exactly `iterations` iterations, without early stopping: how
   * a refit repeats what the validation rows chose. Absent when nothing is chosen on them.
   */
  readonly fixIterations?: (params: Record<string, unknown>, iterations: number) => Record<string, unknown>;
  /** Upper bound of working memory beyond the input matrices. */
  workingBytes(rows: number, cols: number, classes: number, params: Record<string, unknown>): MemoryEstimate;
  /** Rough upper bound of the training time in seconds, when every iteration allowed runs. */
  estimateSeconds(rows: number, cols: number, classes: number, params: Record<string, unknown>): number;
}

/**
 * Seconds per unit of work, measured on one core of the benchmark machine (`npm run bench --
 * training`, BENCHMARKS.md) and doubled for slower vCPUs: GBDT ~7 ns per row × feature ×
 * tree, logistic ~5 ns per row × feature × score column × L-BFGS iteration, the MLP ~0.6 ns
 * per row × weight × epoch (forward and backward), ridge ~1 ns per row × feature².
 */
const SECONDS_PER = { treeCell: 14e-9, logisticCell: 10e-9, mlpWeight: 1.2e-9, ridgeCell: 2e-9 } as const;

/**
 * Memory of exporting and verifying a model, per tree node and per network weight: the ONNX
 * writer's attribute arrays (~1.4 KB per node), and two ONNX Runtime sessions of the model
 * (parity check, registration) at ~0.4 KB per node or 4 bytes per weight each.
 */
const EXPORT_BYTES = { perNode: 2_300, perWeight: 16 } as const;

const scoreColumns = (classes: number) => (classes > 2 ? classes : 1);
const mlpWeights = (cols: number, classes: number, hidden: readonly number[]) =>
  [cols, ...hidden, scoreColumns(classes)].reduce((total, units, i, sizes) => (i === 0 ? 0 : total + sizes[i - 1]! * units), 0);

/** A typed algorithm, before its parameters are erased to records. */
interface TypedAlgorithm<P> {
  readonly id: AlgorithmId;
  readonly tasks: readonly Task[];
  readonly parameters: z.ZodMiniObject & z.ZodMiniType<P>;
  /** Linear models and networks need standardised, one-hot inputs; trees split on raw values and category codes. */
  readonly preprocess: Omit<PreprocessOptions, 'maxCategories'>;
  readonly fit: (train: Examples, validation: Examples, params: P, ctx: TrainingContext) => Fit;
  readonly fixIterations?: (params: P, iterations: number) => P;
  readonly workingBytes: (rows: number, cols: number, classes: number, params: P) => MemoryEstimate;
  readonly estimateSeconds: (rows: number, cols: number, classes: number, params: P) => number;
}

/** Wraps a typed algorithm, adding the shared training options to its hyperparameters; its parameters are only ever the output of that schema. */
function algorithm<P>(typed: TypedAlgorithm<P>): Algorithm {
  const { fixIterations } = typed;
  return {
    id: typed.id,
    tasks: typed.tasks,
    parameters: z.extend(typed.parameters, trainingOptionShape) as unknown as z.ZodMiniType<Record<string, unknown>>,
    preprocess: typed.preprocess,
    fit: (trainSet, validation, params, ctx) => typed.fit(trainSet, validation, params as P, ctx),
    ...(fixIterations === undefined ? {} : { fixIterations: (params: Record<string, unknown>, iterations: number) => fixIterations(params as P, iterations) as Record<string, unknown> }),
    workingBytes: (rows, cols, classes, params) => typed.workingBytes(rows, cols, classes, params as P),
    estimateSeconds: (rows, cols, classes, params) => typed.estimateSeconds(rows, cols, classes, params as P),
  };
}

const standardised = { standardize: true, categorical: 'onehot' } as const;

/** Memory of a model with no size worth naming (a weight per feature and class). */
const smallModel = (data: number): MemoryEstimate => ({ data, model: 0, modelSize: 'a weight per feature', modelParameters: 'none' });

/** Memory of an MLP: its training buffers, and its weights while exported and verified. */
function mlpMemory(rows: number, cols: number, classes: number, p: MlpParameters): MemoryEstimate {
  const weights = mlpWeights(cols, classes, p.hiddenLayers);
  return { data: mlpWorkingBytes(rows, cols, classes, p), model: weights * EXPORT_BYTES.perWeight, modelSize: `${weights} weights`, modelParameters: 'hiddenLayers' };
}

/** Memory of boosted trees: binned data, scores and histograms; and every tree allowed, while trained, exported and verified. */
function gbdtMemory(rows: number, cols: number, classes: number, p: GbdtParameters): MemoryEstimate {
  const nodes = 2 * Math.min(p.maxLeaves, 2 ** p.maxDepth) - 1;
  const trees = p.maxIterations * scoreColumns(classes);
  return {
    data: gbdtWorkingBytes(rows, cols, classes, p),
    model: gbdtTreeBytes(classes, p) + trees * nodes * EXPORT_BYTES.perNode,
    modelSize: `${p.maxIterations} rounds × ${scoreColumns(classes)} tree${scoreColumns(classes) > 1 ? 's' : ''} of up to ${nodes} nodes`,
    modelParameters: 'maxIterations, maxLeaves or maxDepth',
  };
}

/** The algorithms by id. */
export const ALGORITHMS: Readonly<Record<AlgorithmId, Algorithm>> = {
  linear: algorithm({
    id: 'linear',
    tasks: ['regression'],
    parameters: linearParameters,
    preprocess: standardised,
    fit: (train, validation, p, ctx) => ({ model: trainLinear(train, validation, p, ctx) }),
    workingBytes: (rows, cols, classes, p) => smallModel(linearWorkingBytes(rows, cols, classes, p)),
    estimateSeconds: (rows, cols) => rows * cols * cols * SECONDS_PER.ridgeCell,
  }),
  logistic: algorithm({
    id: 'logistic',
    tasks: ['classification'],
    parameters: logisticParameters,
    preprocess: standardised,
    fit: fitLogistic,
    workingBytes: (rows, cols, classes, p) => smallModel(logisticWorkingBytes(rows, cols, classes, p)),
    estimateSeconds: (rows, cols, classes, p) => rows * cols * scoreColumns(classes) * p.maxIterations * SECONDS_PER.logisticCell,
  }),
  mlp: algorithm({
    id: 'mlp',
    tasks: ['classification', 'regression'],
    parameters: mlpParameters,
    preprocess: standardised,
    fit: fitMlp,
    // Exactly `epochs` epochs: no validation watched, and more patience than epochs so the training loss cannot stop it either.
    fixIterations: (p, epochs) => ({ ...p, maxEpochs: epochs, earlyStopping: false, patience: epochs }),
    workingBytes: mlpMemory,
    estimateSeconds: (rows, cols, classes, p) => rows * mlpWeights(cols, classes, p.hiddenLayers) * p.maxEpochs * SECONDS_PER.mlpWeight,
  }),
  gbdt: algorithm({
    id: 'gbdt',
    tasks: ['classification', 'regression'],
    parameters: gbdtParameters,
    preprocess: { standardize: false, categorical: 'ordinal' },
    fit: (train, validation, p, ctx) => {
      const fit = fitGbdt(train, validation, p, ctx);
      return { model: fit.model, iterations: { run: fit.trained, best: fit.rounds } };
    },
    fixIterations: (p, rounds) => ({ ...p, maxIterations: rounds, earlyStopping: false }),
    workingBytes: gbdtMemory,
    estimateSeconds: (rows, cols, classes, p) => rows * cols * scoreColumns(classes) * p.maxIterations * SECONDS_PER.treeCell,
  }),
};

/** The algorithm a job gets when it names none: boosted trees, the strongest default for tabular data. */
export const DEFAULT_ALGORITHM: AlgorithmId = 'gbdt';
