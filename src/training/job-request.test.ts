import { describe, expect, it } from 'vitest';
import { InvalidRequestError, NotFoundError } from '../errors.js';
import type { DatasetStore } from '../lake/dataset-store.js';
import type { ColumnStatistics } from '../lake/statistics.js';
import type { DatasetVersion } from '../lake/types.js';
import { parseWith } from '../validation/strict-parse.js';
import { checkTrainingFields, jobRequestSchema, resolveJobSpec, type JobRequest } from './job-request.js';

const column = (name: string, type: 'integer' | 'float' | 'boolean' | 'timestamp' | 'string') => ({ name, type, nullable: true });
const stats = (name: string, type: ColumnStatistics['type'], distinct: number): ColumnStatistics => ({ name, type, nullable: true, nulls: 0, distinct });

const VERSION: DatasetVersion = {
  dataset: 'loans',
  version: 2,
  status: 'READY',
  source: { bucket: 'lake', key: 'raw/loans/a.csv', eTag: 'e', sizeBytes: 1 },
  rowsAccepted: 5000,
  attempts: 1,
  createdAt: '2026-11-23T00:00:00Z',
  schema: {
    inferred: true,
    columns: [column('id', 'string'), column('age', 'integer'), column('income', 'float'), column('purpose', 'string'), column('opened', 'timestamp'), column('default', 'boolean'), column('value', 'float'), column('sparse', 'integer')],
  },
  statistics: [stats('id', 'string', 5389), stats('purpose', 'string', 6), stats('default', 'boolean', 2), stats('age', 'integer', 60), stats('income', 'float', 4000), { ...stats('sparse', 'integer', 2), nulls: 4997 }, { name: 'value', type: 'float', nullable: true, nulls: 2000, nans: 2995 }],
};

/** A dataset store holding one dataset with versions 1 (FAILED) and 2 (READY). */
const datasets = {
  latestReadyVersion: async (name: string) => {
    if (name !== 'loans') throw new NotFoundError(`dataset '${name}' not found`);
    return VERSION;
  },
  getVersion: async (name: string, version: number) => {
    if (name !== 'loans') throw new NotFoundError(`dataset '${name}' not found`);
    if (version === 1) return { ...VERSION, version: 1, status: 'FAILED' };
    if (version === 2) return VERSION;
    throw new NotFoundError(`dataset 'loans' has no version ${version}`);
  },
} as unknown as DatasetStore;

const limits = { memoryBytes: 4096 * 2 ** 20, trainingSeconds: 840 };
const request = (overrides: Partial<JobRequest> = {}): JobRequest => ({ dataset: 'loans', target: 'default', task: 'classification', modelName: 'risk', ...overrides });

describe('resolveJobSpec', () => {
  it('resolves latest, fills defaults, and leaves timestamps, identifiers and output-named columns out of the default features (an approximate distinct count above the rows said as the rows)', async () => {
    // Act
    const spec = await resolveJobSpec(datasets, request(), limits);

    // Assess
    expect(spec).toMatchObject({ datasetVersion: 2, algorithm: 'gbdt', seed: 42, features: ['age', 'income', 'purpose', 'sparse'] });
    expect(spec.hyperparameters).toMatchObject({ learningRate: 0.1 });
    expect(spec.notes).toEqual([
      "not used as features: 'id' (about 5000 distinct values: an identifier); list features to choose them",
      "cannot be used as features: 'opened' (timestamp: not supported as a feature; derive numbers from it first), 'value' (named like a model output: rename it to use it)",
    ]);
  });

  it('refuses a regression target beyond float32 (as stored: text beyond DynamoDB numbers) with a 400 giving its range', async () => {
    // Prepare
    const income = { name: 'income', type: 'float' as const, nullable: false, nulls: 0, min: '-1e+100', max: 3e38 };
    const huge: DatasetVersion = { ...VERSION, statistics: VERSION.statistics!.map((s) => (s.name === 'income' ? income : s)) };
    const store = { latestReadyVersion: async () => huge } as unknown as DatasetStore;

    // Act
    const resolving = resolveJobSpec(store, request({ target: 'income', task: 'regression' }), limits);

    // Assess
    await expect(resolving).rejects.toThrowError(InvalidRequestError);
    await expect(resolving).rejects.toThrowError(
      "target 'income' ranges from -1e+100 to 3e+38 in dataset 'loans' version 2; the exported model computes in float32, whose values stop at ±3.4e38",
    );
  });

  it.each([
    ['an unknown dataset', request({ dataset: 'nope' }), "dataset 'nope' not found"],
    ['a version that is not READY', request({ datasetVersion: 1 }), "dataset 'loans' version 1 is FAILED; only READY versions can be trained on"],
    ['a version that does not exist', request({ datasetVersion: 9 }), "dataset 'loans' has no version 9"],
    ['a float target for classification', request({ target: 'income' }), "target 'income' is float; classification needs integer, boolean or text classes"],
    ['a text target for regression', request({ target: 'purpose', task: 'regression' }), "target 'purpose' is string; regression needs a numeric target"],
    ['a target with too many classes', request({ target: 'id' }), "target 'id' has about 5000 distinct values; classification supports at most 100 classes"],
    ['a target with (almost) no values', request({ target: 'sparse' }), "target 'sparse' has a value in 3 rows of dataset 'loans' version 2; training needs at least 10"],
    ['a float target that is mostly empty or NaN', request({ target: 'value', task: 'regression' }), "target 'value' has a value in 5 rows of dataset 'loans' version 2; training needs at least 10"],
    ['the target among the features', request({ features: ['age', 'default'] }), "feature 'default' is the target"],
    ['a timestamp feature', request({ features: ['opened'] }), "feature 'opened' is a timestamp column; timestamps are not supported as features"],
    ['a feature named like an output', request({ features: ['value'] }), "feature 'value' has the name of a model output"],
    ['a job larger than the training function', request({ features: ['age'] }), 'the job needs about', { ...limits, memoryBytes: 2 ** 16 }],
    ['a job longer than the training function', request({ algorithm: 'mlp', hyperparameters: { hiddenLayers: [2048, 2048], maxEpochs: 5000 } }), 'the job could train for about', limits],
  ])('refuses %s with a 400 naming it', async (_, body, message, jobLimits = limits) => {
    // Act
    const resolving = resolveJobSpec(datasets, body, jobLimits);

    // Assess
    await expect(resolving).rejects.toThrowError(InvalidRequestError);
    await expect(resolving).rejects.toThrowError(message);
  });
});

describe('resolveJobSpec: size and time', () => {
  it('names the model as what drives the memory when the iterations do', async () => {
    // Act
    const resolving = resolveJobSpec(datasets, request({ hyperparameters: { maxIterations: 10_000, maxLeaves: 1024 } }), limits);

    // Assess
    await expect(resolving).rejects.toThrowError(/of it for a model of 10000 rounds × 1 tree of up to 511 nodes with 'gbdt'; the training function has 4096 MiB\. Lower maxIterations, maxLeaves or maxDepth$/);
  });

  it('counts the refit on training + validation rows in the training time', async () => {
    // Prepare: the time of one fit, from the refusal at a limit of 0 s.
    const body = (refit: boolean) => request({ algorithm: 'mlp', hyperparameters: { hiddenLayers: [256], maxEpochs: 2000, refit } });
    const refused = await resolveJobSpec(datasets, body(false), { ...limits, trainingSeconds: 0 }).catch((error: Error) => error.message);
    const oneFit = Number(/could train for about (\d+) s/.exec(String(refused))?.[1]);
    expect(oneFit).toBeGreaterThan(0);

    // Act
    const withoutRefit = resolveJobSpec(datasets, body(false), { ...limits, trainingSeconds: oneFit });
    const withRefit = resolveJobSpec(datasets, body(true), { ...limits, trainingSeconds: oneFit });
    // Both handled before an assertion awaits one, so the refusal is never an unhandled rejection.
    await Promise.allSettled([withoutRefit, withRefit]);

    // Assess
    await expect(withoutRefit).resolves.toMatchObject({ hyperparameters: { refit: false } });
    await expect(withRefit).rejects.toThrowError(/every iteration allowed, then refitted on training \+ validation rows\)/);
  });
});

describe('checkTrainingFields', () => {
  it('takes classWeight "balanced" for every classifier, refit on by default', () => {
    for (const algorithm of ['logistic', 'mlp', 'gbdt'] as const) {
      // Act
      const checked = checkTrainingFields({ modelName: 'm', target: 't', task: 'classification', algorithm, hyperparameters: { classWeight: 'balanced' } });

      // Assess
      expect(checked.hyperparameters).toMatchObject({ classWeight: 'balanced', refit: true });
    }
  });

  it.each([
    ['classWeight for regression', { task: 'regression', algorithm: 'gbdt', hyperparameters: { classWeight: 'balanced' } }, "hyperparameter 'classWeight' weighs classes; it applies to classification only"],
    ['an unknown classWeight', { task: 'classification', algorithm: 'logistic', hyperparameters: { classWeight: 'auto' } }, "invalid hyperparameters for 'logistic'"],
    ['a refit that is not a boolean', { task: 'classification', algorithm: 'gbdt', hyperparameters: { refit: 'yes' } }, "invalid hyperparameters for 'gbdt'"],
  ] as const)('refuses %s', (_, fields, message) => {
    expect(() => checkTrainingFields({ modelName: 'm', target: 't', ...fields })).toThrowError(message);
  });

  it('fills an algorithm\'s defaults and refuses unknown or invalid hyperparameters', () => {
    // Act
    const checked = checkTrainingFields({ modelName: 'm', target: 't', task: 'regression', algorithm: 'mlp', hyperparameters: { hiddenLayers: [32, 16] } });

    // Assess
    expect(checked.hyperparameters).toMatchObject({ hiddenLayers: [32, 16], learningRate: 0.001 });
    expect(() => checkTrainingFields({ modelName: 'm', target: 't', task: 'regression', algorithm: 'mlp', hyperparameters: { hidden: [3] } })).toThrowError(/hidden/);
    expect(() => checkTrainingFields({ modelName: 'm', target: 't', task: 'regression', algorithm: 'gbdt', hyperparameters: { maxDepth: 0 } })).toThrowError(
      /invalid hyperparameters for 'gbdt'/,
    );
    expect(() => checkTrainingFields({ modelName: 'bad name', target: 't', task: 'regression' })).toThrowError(/invalid model name/);
    expect(() => checkTrainingFields({ modelName: 'm', target: 't', task: 'regression', alias: 'Prod' })).toThrowError(/invalid alias/);
  });
});

describe('hyperparameter names that are JavaScript built-ins', () => {
  it.each(['gbdt', 'linear', 'mlp'] as const)('refuses constructor and toString for %s as unknown hyperparameters', (algorithm) => {
    for (const name of ['constructor', 'toString']) {
      const hyperparameters = JSON.parse(`{"${name}":1}`) as Record<string, unknown>;
      expect(() => checkTrainingFields({ modelName: 'm', target: 't', task: 'regression', algorithm, hyperparameters })).toThrowError(InvalidRequestError);
      expect(() => checkTrainingFields({ modelName: 'm', target: 't', task: 'regression', algorithm, hyperparameters })).toThrowError(name);
    }
  });
});

describe('unknown hyperparameters', () => {
  it('lists classWeight among the known names of a classification job and suggests it for a typo', () => {
    // Act
    const checking = () => checkTrainingFields({ modelName: 'm', target: 't', task: 'classification', algorithm: 'gbdt', hyperparameters: { classWeigth: 'balanced' } });

    // Assess
    expect(checking).toThrowError(InvalidRequestError);
    expect(checking).toThrowError(/^unknown hyperparameter\(s\) 'classWeigth' \(did you mean 'classWeight'\?\) for 'gbdt'; known: .*, tolerance, classWeight, refit$/);
  });

  it('leaves classWeight out of the known names of a regression job', () => {
    // Act
    const checking = () => checkTrainingFields({ modelName: 'm', target: 't', task: 'regression', algorithm: 'linear', hyperparameters: { l3: 1 } });

    // Assess
    expect(checking).toThrowError("unknown hyperparameter(s) 'l3' (did you mean 'l2'?) for 'linear'; known: l2, fitIntercept, refit");
  });
});

describe('jobRequestSchema', () => {
  it('refuses a hyperparameter beyond the numbers the registry stores with a 400 naming it and the range', () => {
    // Act
    const parsing = () => parseWith(jobRequestSchema, { ...request(), hyperparameters: { tolerance: 1e-200 } }, 'training job');

    // Assess
    expect(parsing).toThrowError(InvalidRequestError);
    expect(parsing).toThrowError('hyperparameters.tolerance: 1e-200 is outside the range the registry stores (0 or a magnitude from 1e-130 to 9.99e125)');
  });
});
