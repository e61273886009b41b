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
}

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
): Algorithm {
  return {
    id,
    tasks,
    parameters: parameters as unknown as z.ZodMiniType<Record<string, unknown>>,
    preprocess,
    train: (trainSet, validation, params, ctx) => train(trainSet, validation, params as P, ctx),
    workingBytes: (rows, cols, classes, params) => workingBytes(rows, cols, classes, params as P),
  };
}

const standardised = { standardize: true, categorical: 'onehot' } as const;

/** The algorithms by id. */
export const ALGORITHMS: Readonly<Record<AlgorithmId, Algorithm>> = {
  linear: algorithm('linear', ['regression'], linearParameters, standardised, trainLinear, linearWorkingBytes),
  logistic: algorithm('logistic', ['classification'], logisticParameters, standardised, trainLogistic, logisticWorkingBytes),
  mlp: algorithm('mlp', ['classification', 'regression'], mlpParameters, standardised, trainMlp, mlpWorkingBytes),
  gbdt: algorithm('gbdt', ['classification', 'regression'], gbdtParameters, { standardize: false, categorical: 'ordinal' }, trainGbdt, gbdtWorkingBytes),
};

/** The algorithm a job gets when it names none: boosted trees, the strongest default for tabular data. */
export const DEFAULT_ALGORITHM: AlgorithmId = 'gbdt';
