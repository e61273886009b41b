/**
 * The catalogue of training algorithms: which tasks each serves, its hyperparameters
 * (validated before a job is queued), how its features are prepared, and its trainer.
 */
import type * as z from 'zod/mini';
import type { PreprocessOptions } from '../features.js';
import type { AlgorithmId, Examples, Task, TrainedModel, TrainingContext } from '../model.js';
import { gbdtParameters, gbdtWorkingBytes, trainGbdt } from './gbdt.js';
import { linearParameters, linearWorkingBytes, trainLinear } from './linear.js';
import { logisticParameters, logisticWorkingBytes, trainLogistic } from './logistic.js';
import { mlpParameters, mlpWorkingBytes, trainMlp } from './mlp.js';

/** One algorithm as the job runner sees it. */
export interface Algorithm {
  readonly id: AlgorithmId;
  readonly tasks: readonly Task[];
  readonly parameters: z.ZodMiniType<Record<string, unknown>>;
  /** How raw columns become its input matrix (exported into the ONNX graph the same way). */
  readonly preprocess: Omit<PreprocessOptions, 'maxCategories'>;
  train(train: Examples, validation: Examples, params: Record<string, unknown>, ctx: TrainingContext): TrainedModel;
  /** Upper bound of working memory beyond the input matrices. */
  workingBytes(rows: number, cols: number, classes: number, params: Record<string, unknown>): number;
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

/**
 * Wraps a typed trainer; its parameters are only ever the output of its own schema.
 * @param preprocess - Linear models and networks need standardised, one-hot inputs; trees split on raw values and category codes.
 */
function algorithm<P>(
  id: AlgorithmId,
  tasks: readonly Task[],
  parameters: z.ZodMiniType<P>,
  preprocess: Omit<PreprocessOptions, 'maxCategories'>,
  train: (train: Examples, validation: Examples, params: P, ctx: TrainingContext) => TrainedModel,
  workingBytes: (rows: number, cols: number, classes: number, params: P) => number,
  estimateSeconds: (rows: number, cols: number, classes: number, params: P) => number,
): Algorithm {
  return {
    id,
    tasks,
    parameters: parameters as unknown as z.ZodMiniType<Record<string, unknown>>,
    preprocess,
    train: (trainSet, validation, params, ctx) => train(trainSet, validation, params as P, ctx),
    workingBytes: (rows, cols, classes, params) => workingBytes(rows, cols, classes, params as P),
    estimateSeconds: (rows, cols, classes, params) => estimateSeconds(rows, cols, classes, params as P),
  };
}

const standardised = { standardize: true, categorical: 'onehot' } as const;

/** The algorithms by id. */
export const ALGORITHMS: Readonly<Record<AlgorithmId, Algorithm>> = {
  linear: algorithm('linear', ['regression'], linearParameters, standardised, trainLinear, linearWorkingBytes, (rows, cols) => rows * cols * cols * SECONDS_PER.ridgeCell),
  logistic: algorithm(
    'logistic',
    ['classification'],
    logisticParameters,
    standardised,
    trainLogistic,
    logisticWorkingBytes,
    (rows, cols, classes, p) => rows * cols * scoreColumns(classes) * p.maxIterations * SECONDS_PER.logisticCell,
  ),
  mlp: algorithm(
    'mlp',
    ['classification', 'regression'],
    mlpParameters,
    standardised,
    trainMlp,
    (rows, cols, classes, p) => mlpWorkingBytes(rows, cols, classes, p) + mlpWeights(cols, classes, p.hiddenLayers) * EXPORT_BYTES.perWeight,
    (rows, cols, classes, p) => rows * mlpWeights(cols, classes, p.hiddenLayers) * p.maxEpochs * SECONDS_PER.mlpWeight,
  ),
  gbdt: algorithm(
    'gbdt',
    ['classification', 'regression'],
    gbdtParameters,
    { standardize: false, categorical: 'ordinal' },
    trainGbdt,
    (rows, cols, classes, p) => gbdtWorkingBytes(rows, cols, classes, p) + p.maxIterations * scoreColumns(classes) * (2 * p.maxLeaves - 1) * EXPORT_BYTES.perNode,
    (rows, cols, classes, p) => rows * cols * scoreColumns(classes) * p.maxIterations * SECONDS_PER.treeCell,
  ),
};

/** The algorithm a job gets when it names none: boosted trees, the strongest default for tabular data. */
export const DEFAULT_ALGORITHM: AlgorithmId = 'gbdt';
