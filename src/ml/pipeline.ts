/**
 * One training run, from curated Parquet bytes to a checked ONNX model: read the columns,
 * split, learn the preprocessing on the training rows, train (early stopping on the validation
 * rows), refit on training + validation rows with the iterations chosen (`refit`), evaluate on
 * the untouched test rows, export, and prove the exported graph reproduces the trainer's predictions.
 */
import { ALGORITHMS, type Algorithm } from './algorithms/index.js';
import { readColumns, type ColumnRequest } from './dataset-loader.js';
import { TrainingFailedError } from './errors.js';
import { fitPreprocessor, transform, type FeatureColumn, type FeatureKind, type Preprocessor } from './features.js';
import { MAX_CATEGORIES, MAX_CLASSES, PARITY_TOLERANCE } from './limits.js';
import { classificationMetrics, constantBalancedAccuracy, regressionMetrics } from './metrics.js';
import type { AlgorithmId, Examples, IterationReport, Task, TrainedModel, TrainingProgress } from './model.js';
import { exportOnnx } from './onnx/export.js';
import { checkParity, type ParityReport } from './onnx/parity.js';
import { predict, termMagnitudes } from './score.js';
import { DEFAULT_SPLIT, splitRows } from './split.js';

/** What to train: the columns, the task, the algorithm and its settings. */
export interface TrainingSpec {
  /** Names the exported graph (`<modelName>_<algorithm>`). */
  readonly modelName: string;
  readonly target: string;
  /** Feature columns, in the order the model's inputs take them. */
  readonly features: readonly string[];
  readonly task: Task;
  readonly algorithm: AlgorithmId;
  /** Every hyperparameter of the algorithm (`ALGORITHMS[algorithm].parse` fills in defaults). */
  readonly hyperparameters: Readonly<Record<string, unknown>>;
  /** Seeds the split and the algorithm: the same spec on the same rows trains the same model. */
  readonly seed: number;
}

/** Classification detail that is not a single number. */
export interface Evaluation {
  readonly classNames: readonly string[];
  /** `confusionMatrix[actual][predicted]` on the test split. */
  readonly confusionMatrix: readonly (readonly number[])[];
}

/** What a run needs: the spec, the Parquet files and how each needed column is read. */
export interface PipelineInput {
  readonly spec: TrainingSpec;
  /**
   * What the files are, in messages (e.g. `dataset version 3`).
   *
   * @default 'the dataset'
   */
  readonly source?: string;
  /** Kind of every feature column, by name (a Map: a column may be named like a JavaScript built-in, `__proto__` or `constructor`). */
  readonly featureKinds: ReadonlyMap<string, FeatureKind>;
  /** The curated Parquet objects of the dataset version. */
  readonly files: readonly ArrayBuffer[];
  /** Recorded in the model's metadata (lineage). */
  readonly metadata: Readonly<Record<string, string>>;
}

/** A stage the run reports, with the trainer's progress while training. */
/** Stages without iterations, and the fits: `training` on the training rows, then `refitting` on training + validation. */
export type PipelineProgress = { readonly stage: 'loading' | 'evaluating' | 'exporting' | 'verifying' } | ({ readonly stage: 'training' | 'refitting' } & TrainingProgress);

/** A trained, evaluated and verified model. */
export interface PipelineResult {
  readonly onnx: Uint8Array;
  readonly metrics: Record<string, number>;
  readonly evaluation?: Evaluation;
}

/** What proving the export needs: the test rows' raw values and the trainer's predictions for them. */
export interface ExportCheck {
  readonly preprocessor: Preprocessor;
  /** The feature columns, test rows only. */
  readonly columns: readonly FeatureColumn[];
  readonly expected: Float32Array;
  /** The magnitude of the summed terms behind each test row's prediction (the parity tolerance scales with it). */
  readonly magnitudes: Float64Array;
  /** Each test row's index among the dataset version's rows, to name a row that fails the check. */
  readonly datasetRows: Uint32Array;
  readonly task: Task;
  readonly classNames: readonly string[];
}

/** A trained and evaluated model, exported but not yet proven. */
export interface TrainedArtifact extends PipelineResult {
  readonly check: ExportCheck;
}

/** Class names in a stable order: numerically when every value is a number, else lexically. */
function sortClassNames(values: Iterable<string>): string[] {
  const names = [...values];
  const numeric = names.every((name) => name.trim() !== '' && Number.isFinite(Number(name)));
  return names.sort(numeric ? (a, b) => Number(a) - Number(b) : (a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** The labelled rows: row ids with a target, their targets, and the class names (classification). */
function labelRows(spec: TrainingSpec, target: FeatureColumn): { rows: Uint32Array; y: Float64Array; classNames: string[] } {
  const kept: number[] = [];
  if (target.kind !== 'categorical') {
    target.values.forEach((value, row) => {
      if (!Number.isNaN(value)) kept.push(row);
    });
    const rows = Uint32Array.from(kept);
    return { rows, y: Float64Array.from(rows, (row) => target.values[row]!), classNames: [] };
  }
  target.values.forEach((value, row) => {
    if (value !== null && value !== '') kept.push(row);
  });
  const rows = Uint32Array.from(kept);
  const classNames = sortClassNames(new Set(Array.from(rows, (row) => target.values[row]!)));
  if (classNames.length < 2) throw new TrainingFailedError(`target '${spec.target}' has ${classNames.length} distinct value(s); classification needs at least 2`);
  if (classNames.length > MAX_CLASSES) throw new TrainingFailedError(`target '${spec.target}' has ${classNames.length} distinct values; classification supports at most ${MAX_CLASSES}`);
  const index = new Map(classNames.map((name, i) => [name, i]));
  return { rows, y: Float64Array.from(rows, (row) => index.get(target.values[row]!)!), classNames };
}

const pick = (rows: Uint32Array, positions: Uint32Array): Uint32Array => Uint32Array.from(positions, (p) => rows[p]!);
const pickTargets = (y: Float64Array, positions: Uint32Array): Float64Array => Float64Array.from(positions, (p) => y[p]!);

/** Runs a job's training end to end; throws {@link TrainingFailedError} for every problem of the data or the model. */
export async function runPipeline(input: PipelineInput, onProgress: (progress: PipelineProgress) => void): Promise<PipelineResult> {
  return verifyExport(await trainModel(input, onProgress));
}

/** The columns restricted to `rows`, in that order (new arrays). */
function selectRows(columns: readonly FeatureColumn[], rows: Uint32Array): FeatureColumn[] {
  return columns.map((column): FeatureColumn =>
    column.kind === 'categorical'
      ? { ...column, values: Array.from(rows, (row) => column.values[row]!) }
      : { ...column, values: Float32Array.from(rows, (row) => column.values[row]!) },
  );
}

/** What every fit of one run shares: the algorithm, the job, the columns and the labelled rows. */
interface RunData {
  readonly algorithm: Algorithm;
  readonly spec: TrainingSpec;
  readonly columns: readonly FeatureColumn[];
  /** Dataset row of every labelled row. */
  readonly rows: Uint32Array;
  /** Target of every labelled row (class index for classification). */
  readonly y: Float64Array;
  readonly classes: number;
}

/**
 * One fit: preprocessing learnt on the training rows, then the algorithm on them (early
 * stopping on the validation rows, when there are any). Rows are positions among the labelled
 * rows. With `classWeight: "balanced"`, rows are weighed by their class's training frequency.
 */
function fitPass(
  data: RunData,
  trainPositions: Uint32Array,
  validationPositions: Uint32Array,
  params: Record<string, unknown>,
  onProgress: (progress: TrainingProgress) => void,
): { preprocessor: Preprocessor; model: TrainedModel; iterations?: IterationReport } {
  const { algorithm, spec, columns, rows, y, classes } = data;
  const preprocessor = fitPreprocessor(columns, pick(rows, trainPositions), { ...algorithm.preprocess, maxCategories: MAX_CATEGORIES });
  const trainY = pickTargets(y, trainPositions);
  const classWeights = params['classWeight'] === 'balanced' ? balancedClassWeights(trainY, classes) : undefined;
  const examples = (positions: Uint32Array): Examples => {
    const targets = pickTargets(y, positions);
    return {
      x: transform(preprocessor, columns, pick(rows, positions)),
      y: targets,
      ...(classWeights === undefined ? {} : { weights: targets.map((label) => classWeights[label]!) }),
    };
  };
  const fit = algorithm.fit(examples(trainPositions), examples(validationPositions), params, { task: spec.task, classes, seed: spec.seed, onProgress });
  return { preprocessor, model: fit.model, ...(fit.iterations === undefined ? {} : { iterations: fit.iterations }) };
}

/**
 * scikit-learn's `class_weight="balanced"`: n / (classes present × rows of the class), so every
 * class present weighs as much in total; 1 for a class without training rows.
 */
export function balancedClassWeights(labels: Float64Array, classes: number): Float64Array {
  const counts = classCounts(labels, classes);
  const present = counts.filter((count) => count > 0).length;
  return counts.map((count) => (count > 0 ? labels.length / (present * count) : 1));
}

/** The positions of both parts, ascending (as every part is). */
function union(a: Uint32Array, b: Uint32Array): Uint32Array {
  const merged = new Uint32Array(a.length + b.length);
  merged.set(a);
  merged.set(b, a.length);
  return merged.sort();
}

/** The most frequent class (the first of those tied). */
function majorityClass(labels: Float64Array, classes: number): number {
  const counts = classCounts(labels, classes);
  return counts.indexOf(Math.max(...counts));
}

/** How many rows each class has. */
function classCounts(labels: Float64Array, classes: number): Float64Array {
  const counts = new Float64Array(classes);
  for (const label of labels) counts[label]!++;
  return counts;
}

/**
 * Reads, splits, preprocesses, trains, evaluates and exports: pure JavaScript, so the worker runs
 * it on a thread it can stop at any moment. {@link verifyExport} then proves the export.
 */
export async function trainModel(input: PipelineInput, onProgress: (progress: PipelineProgress) => void): Promise<TrainedArtifact> {
  const { spec } = input;
  const algorithm = ALGORITHMS[spec.algorithm];
  onProgress({ stage: 'loading' });
  const requests: ColumnRequest[] = spec.features.map((name) => ({ name, kind: input.featureKinds.get(name)! }));
  requests.push(spec.task === 'classification' ? { name: spec.target, kind: 'categorical' } : { name: spec.target, kind: 'numeric', double: true });
  const { columns } = await readColumns(input.files, requests);
  const target = columns.pop()!;
  const { rows, y, classNames } = labelRows(spec, target);
  const classes = spec.task === 'classification' ? classNames.length : 1;
  const split = splitRows(rows.length, DEFAULT_SPLIT, spec.seed, spec.task === 'classification' ? y : undefined);
  if (split.train.length === 0 || split.test.length === 0) {
    throw new TrainingFailedError(`${input.source ?? 'the dataset'} has ${rows.length} rows with a target; too few to split into train and test`);
  }
  const parts = {
    train: pick(rows, split.train),
    validation: pick(rows, split.validation),
    test: pick(rows, split.test),
  };

  const params = spec.hyperparameters;
  const fitOn = (trainPositions: Uint32Array, validationPositions: Uint32Array, fitParams: Record<string, unknown>, stage: 'training' | 'refitting') =>
    fitPass({ algorithm, spec, columns, rows, y, classes }, trainPositions, validationPositions, fitParams, (progress) => onProgress({ stage, ...progress }));

  const started = performance.now();
  const first = fitOn(split.train, split.validation, params, 'training');
  // Refit: the iterations the validation rows chose, on the training and validation rows together.
  const refit = params['refit'] === true && split.validation.length > 0;
  const refitted = refit
    ? fitOn(
        union(split.train, split.validation),
        new Uint32Array(0),
        first.iterations !== undefined && algorithm.fixIterations !== undefined ? algorithm.fixIterations(params, first.iterations.best) : params,
        'refitting',
      )
    : undefined;
  const { preprocessor, model } = refitted ?? first;
  const trainSeconds = (performance.now() - started) / 1000;

  onProgress({ stage: 'evaluating' });
  const test = { x: transform(preprocessor, columns, parts.test), y: pickTargets(y, split.test) };
  const predictions = predict(model, test.x, classes);
  const counts = {
    trainRows: parts.train.length,
    validationRows: parts.validation.length,
    testRows: parts.test.length,
    rowsWithoutTarget: target.values.length - rows.length,
    features: spec.features.length,
    trainSeconds,
    ...(first.iterations === undefined ? {} : { iterations: first.iterations.run, bestIteration: first.iterations.best }),
    ...(refitted === undefined ? {} : { refitRows: parts.train.length + parts.validation.length }),
  };
  let metrics: Record<string, number>;
  let evaluation: Evaluation | undefined;
  if (spec.task === 'classification') {
    const { confusionMatrix, ...scores } = classificationMetrics(test.y, predictions, classes);
    const baselineBalancedAccuracy = constantBalancedAccuracy(test.y, majorityClass(pickTargets(y, split.train), classes), classes);
    metrics = { ...withoutNaN(scores), baselineBalancedAccuracy, classes, ...counts };
    evaluation = { classNames, confusionMatrix };
  } else {
    metrics = { ...regressionMetrics(test.y, predictions), ...counts };
  }

  onProgress({ stage: 'exporting' });
  const onnx = exportOrFail({
    preprocessor,
    model,
    task: spec.task,
    classNames,
    graphName: `${spec.modelName}_${spec.algorithm}`,
    metadata: { ...input.metadata, ...(classNames.length > 0 ? { class_names: JSON.stringify(classNames) } : {}), feature_names: JSON.stringify(spec.features) },
  });
  return {
    onnx,
    metrics,
    ...(evaluation ? { evaluation } : {}),
    check: {
      preprocessor,
      columns: selectRows(columns, parts.test),
      expected: predictions,
      magnitudes: termMagnitudes(model, test.x),
      datasetRows: parts.test,
      task: spec.task,
      classNames,
    },
  };
}

/**
 * Runs the exported model in ONNX Runtime on every test row and compares with the trainer's
 * predictions: a difference over {@link PARITY_TOLERANCE} × max(1, magnitude of the row's summed
 * terms), or any differing label, fails the job, naming the row and the figure.
 */
export async function verifyExport(artifact: TrainedArtifact): Promise<PipelineResult> {
  const { onnx, metrics, evaluation, check } = artifact;
  const rows = Uint32Array.from({ length: check.magnitudes.length }, (_, i) => i);
  const parity = await checkParity(onnx, check.preprocessor, check.columns, rows, check.expected, check.task, { classNames: check.classNames, magnitudes: check.magnitudes });
  if (!(parity.maxScaledDifference <= PARITY_TOLERANCE) || (parity.labelMismatches ?? 0) > 0) {
    throw new TrainingFailedError(`the exported ONNX model does not reproduce the trainer: ${describeParity(parity, check.datasetRows)}; nothing was registered`, metrics);
  }
  return { onnx, metrics: { ...metrics, parityMaxDifference: parity.maxScaledDifference }, ...(evaluation ? { evaluation } : {}) };
}

/** The worst difference of a parity check, labelled absolute or relative, with the row it occurred on. */
function describeParity(parity: ParityReport, datasetRows: Uint32Array): string {
  const mismatches = `${parity.labelMismatches ?? 0} label mismatches`;
  const { worst } = parity;
  if (worst === undefined || !(worst.difference > 0)) return mismatches;
  const figure =
    worst.magnitude > 1
      ? `${worst.difference.toPrecision(3)} absolute, ${parity.maxScaledDifference.toPrecision(3)} relative to the magnitude ${worst.magnitude.toPrecision(4)} of its summed terms`
      : `${worst.difference.toPrecision(3)} absolute`;
  return `difference ${figure} on test row ${worst.position} (row ${datasetRows[worst.row]} of the dataset version; tolerance ${PARITY_TOLERANCE} × max(1, magnitude)), ${mismatches}`;
}

/** The export, with its refusals (e.g. a feature named like a graph output) as job failures. */
function exportOrFail(request: Parameters<typeof exportOnnx>[0]): Uint8Array {
  try {
    return exportOnnx(request);
  } catch (error) {
    throw new TrainingFailedError(`the model could not be exported to ONNX: ${(error as Error).message}`);
  }
}

/** Metrics that are undefined for this test split (AUC with one class present) are left out rather than stored as NaN. */
function withoutNaN(scores: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(scores).filter(([, value]) => Number.isFinite(value)));
}
