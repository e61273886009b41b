/**
 * What a training request may say, and its resolution against the dataset version it names
 * into a {@link JobSpec}: every check that can fail is made here, before anything is queued,
 * and refuses with an InvalidRequestError naming the problem.
 */
import * as z from 'zod/mini';
import { InvalidRequestError, NotFoundError, quote } from '../errors.js';
import { describeIssues, nearMiss } from '../validation/strict-parse.js';
import type { DatasetStore } from '../lake/dataset-store.js';
import type { SchemaColumn } from '../lake/schema.js';
import type { ColumnStatistics } from '../lake/statistics.js';
import type { DatasetVersion } from '../lake/types.js';
import { assertDatasetName } from '../lake/zones.js';
import { assertAliasName, assertModelName } from '../registry/names.js';
import { ALGORITHMS, DEFAULT_ALGORITHM, type Algorithm } from '../ml/algorithms/index.js';
import { featureKindOf } from './feature-kinds.js';
import { estimateOutputColumns, type FeatureKind } from '../ml/features.js';
import type { AlgorithmId, Task } from '../ml/model.js';
import { MAX_CATEGORIES, MAX_CLASSES } from '../ml/limits.js';
import { OUTPUT_NAMES } from '../ml/onnx/export.js';
import { DEFAULT_SPLIT } from '../ml/split.js';
import { storableNumbers } from '../storage/numbers.js';
import type { JobSpec } from './types.js';

/** Most feature columns a job may use. */
export const MAX_FEATURES = 1_000;
/** Seed used when a request gives none. */
export const DEFAULT_SEED = 42;

const name = z.string().check(z.minLength(1), z.maxLength(256));

/** The fields that say what to train: shared by job requests and datasets' auto-train specs. */
export const trainingFields = {
  modelName: z.string(),
  target: name,
  features: z.optional(
    z.array(name).check(z.minLength(1), z.maxLength(MAX_FEATURES), z.refine((names) => new Set(names).size === names.length, 'feature names must be unique')),
  ),
  task: z.enum(['classification', 'regression']),
  algorithm: z.optional(z.enum(Object.keys(ALGORITHMS) as [AlgorithmId, ...AlgorithmId[]])),
  hyperparameters: z.optional(z.record(z.string().check(z.minLength(1), z.maxLength(64)), z.unknown()).check(storableNumbers)),
  alias: z.optional(z.string()),
  seed: z.optional(z.number().check(z.int(), z.gte(0), z.lte(2 ** 32 - 1))),
};

/** A training job request body (`POST /jobs`). */
export const jobRequestSchema = z.object({
  ...trainingFields,
  dataset: z.string(),
  datasetVersion: z.optional(z.union([z.number().check(z.int(), z.positive()), z.literal('latest')])),
  idempotencyKey: z.optional(z.string().check(z.minLength(1), z.maxLength(256))),
});

/** A parsed job request. */
export type JobRequest = z.infer<typeof jobRequestSchema>;
/** What to train, without the dataset (an auto-train spec names its own dataset). */
export type TrainingFields = Omit<JobRequest, 'dataset' | 'datasetVersion' | 'idempotencyKey'>;

/** How much a training job may use: the training function's memory and the time it may train for. */
export interface TrainingLimits {
  readonly memoryBytes: number;
  readonly trainingSeconds: number;
}

/**
 * Checks the parts of a training request that need no data: names, the algorithm for the
 * task, and its hyperparameters (returned with defaults filled in).
 */
export function checkTrainingFields(fields: TrainingFields): { algorithm: AlgorithmId; hyperparameters: Record<string, unknown> } {
  assertModelName(fields.modelName);
  if (fields.alias !== undefined) assertAliasName(fields.alias);
  const algorithm = ALGORITHMS[fields.algorithm ?? DEFAULT_ALGORITHM];
  if (!algorithm.tasks.includes(fields.task)) {
    throw new InvalidRequestError(`algorithm '${algorithm.id}' does not do ${fields.task}; use ${algorithmsFor(fields.task)}`);
  }
  const given = fields.hyperparameters ?? {};
  // Names first (typos are the usual mistake), against the algorithm's parameters and the
  // options every algorithm takes; classWeight is shown for the task it applies to.
  const names = Object.keys((algorithm.parameters._zod.def as { shape?: object }).shape ?? {});
  const unknown = Object.keys(given).filter((key) => !names.includes(key));
  if (unknown.length > 0) {
    const known = names.filter((key) => key !== 'classWeight' || fields.task === 'classification');
    const named = unknown.map((key) => {
      const suggestion = nearMiss(key, known);
      return `${quote(key)}${suggestion === undefined ? '' : ` (did you mean '${suggestion}'?)`}`;
    });
    throw new InvalidRequestError(`unknown hyperparameter(s) ${named.join(', ')} for '${algorithm.id}'; known: ${known.join(', ')}`);
  }
  const parsed = z.safeParse(algorithm.parameters, given);
  if (!parsed.success) throw new InvalidRequestError(`invalid hyperparameters for '${algorithm.id}': ${describeIssues(parsed.error.issues)}`);
  if (parsed.data['classWeight'] !== undefined && fields.task !== 'classification') {
    throw new InvalidRequestError(`hyperparameter 'classWeight' weighs classes; it applies to classification only, not ${fields.task}`);
  }
  return { algorithm: algorithm.id, hyperparameters: parsed.data };
}

const algorithmsFor = (task: Task): string =>
  Object.values(ALGORITHMS)
    .filter((a) => a.tasks.includes(task))
    .map((a) => `'${a.id}'`)
    .join(' or ');

/** The dataset version a request names ("latest" = newest READY); InvalidRequestError when there is none to train on. */
async function trainableVersion(datasets: DatasetStore, dataset: string, requested: number | 'latest' | undefined): Promise<DatasetVersion> {
  try {
    if (requested === undefined || requested === 'latest') {
      const latest = await datasets.latestReadyVersion(dataset);
      if (latest === undefined) throw new InvalidRequestError(`dataset '${dataset}' has no READY version to train on`);
      return latest;
    }
    const version = await datasets.getVersion(dataset, requested);
    if (version.status !== 'READY') throw new InvalidRequestError(`dataset '${dataset}' version ${requested} is ${version.status}; only READY versions can be trained on`);
    return version;
  } catch (error) {
    if (error instanceof NotFoundError) throw new InvalidRequestError(error.message);
    throw error;
  }
}

/** Fewest rows with a target a job trains on (some go to validation and test). */
export const MIN_LABELLED_ROWS = 10;

/**
 * A column's approximate (HyperLogLog) distinct count, never above its number of values: the
 * estimate can exceed it by a few percent, and no column has more distinct values than values.
 * Ingest records it capped; versions recorded before that are capped here.
 */
function distinctValues(version: DatasetVersion, name: string): number | undefined {
  const statistics = version.statistics?.find((s) => s.name === name);
  if (statistics?.distinct === undefined) return undefined;
  return Math.min(statistics.distinct, Math.max(0, (version.rowsAccepted ?? 0) - (statistics.nulls ?? 0)));
}

/**
 * How a spec's columns are named in messages: `target 'y'` in a job request, `autoTrain.target 'y'`
 * in a dataset definition.
 */
export interface ColumnLabels {
  readonly target: (name: string) => string;
  readonly feature: (name: string) => string;
}

const JOB_LABELS: ColumnLabels = { target: (name) => `target '${name}'`, feature: (name) => `feature '${name}'` };

/** Checks that the target is a column whose type suits the task; returns it. */
function checkTargetColumn(columns: readonly SchemaColumn[], target: string, task: Task, where: string, labels: ColumnLabels): SchemaColumn {
  const column = columns.find((c) => c.name === target);
  if (column === undefined) throw new InvalidRequestError(`${labels.target(target)} is not a column of ${where}`);
  if (task === 'regression' && column.type !== 'integer' && column.type !== 'float') {
    throw new InvalidRequestError(`${labels.target(target)} is ${column.type}; regression needs a numeric target (use task 'classification')`);
  }
  if (task === 'classification' && (column.type === 'float' || column.type === 'timestamp')) {
    throw new InvalidRequestError(`${labels.target(target)} is ${column.type}; classification needs integer, boolean or text classes (use task 'regression')`);
  }
  return column;
}

/** Checks a listed feature: a column, not the target, not named like a model output, of a usable type; returns its kind. */
function checkFeatureColumn(byName: ReadonlyMap<string, SchemaColumn>, feature: string, target: string, where: string, labels: ColumnLabels): FeatureKind {
  const column = byName.get(feature);
  if (column === undefined) throw new InvalidRequestError(`${labels.feature(feature)} is not a column of ${where}`);
  if (feature === target) throw new InvalidRequestError(`${labels.feature(feature)} is the target; a model cannot take its answer as input`);
  if (RESERVED_NAMES.has(feature)) throw new InvalidRequestError(`${labels.feature(feature)} has the name of a model output (${[...RESERVED_NAMES].join(', ')}); rename the column`);
  const kind = featureKindOf(column.type);
  if (kind === undefined) throw new InvalidRequestError(`${labels.feature(feature)} is a ${column.type} column; timestamps are not supported as features (derive numbers from them first)`);
  return kind;
}

/**
 * Checks the columns a training spec names against a schema (no data needed): the target exists
 * and suits the task, and every listed feature is a usable column. A dataset definition with a
 * declared schema checks its auto-train spec so; every job checks again against its version.
 */
export function checkTrainingColumns(fields: Pick<TrainingFields, 'target' | 'features' | 'task'>, columns: readonly SchemaColumn[], where: string, labels: ColumnLabels): void {
  checkTargetColumn(columns, fields.target, fields.task, where, labels);
  const byName = new Map(columns.map((c) => [c.name, c]));
  for (const feature of fields.features ?? []) checkFeatureColumn(byName, feature, fields.target, where, labels);
}

/** Largest finite float32: the exported model computes in float32 (ONNX, as served). */
const FLOAT32_MAX = 3.4028234663852886e38;

/**
 * A regression target beyond float32's range cannot be predicted by the exported model (its
 * outputs would be ±Infinity): refused, with the column's range, before anything is queued.
 */
function checkTargetRange(statistics: ColumnStatistics | undefined, target: string, where: string): void {
  // Stored statistics beyond DynamoDB's range are text ("1e+200"): read them as numbers.
  const [min, max] = [Number(statistics?.min), Number(statistics?.max)];
  if (Math.abs(min) > FLOAT32_MAX || Math.abs(max) > FLOAT32_MAX) {
    throw new InvalidRequestError(
      `target '${target}' ranges from ${min} to ${max} in ${where}; the exported model computes in float32, whose values stop at ±3.4e38: scale the target down (e.g. divide it by a power of ten) first`,
    );
  }
}

/** Checks the target against the task, using the version's column type and statistics. */
function checkTarget(version: DatasetVersion, target: string, task: Task): void {
  const where = `dataset '${version.dataset}' version ${version.version}`;
  checkTargetColumn(version.schema!.columns, target, task, where, JOB_LABELS);
  // Rows whose target is empty or NaN are not used.
  const statistics = version.statistics?.find((s) => s.name === target);
  const labelled = (version.rowsAccepted ?? 0) - (statistics?.nulls ?? 0) - (statistics?.nans ?? 0);
  if (labelled < MIN_LABELLED_ROWS) {
    throw new InvalidRequestError(`target '${target}' has a value in ${labelled} rows of ${where}; training needs at least ${MIN_LABELLED_ROWS}`);
  }
  if (task === 'regression') checkTargetRange(statistics, target, where);
  if (task === 'classification') {
    const distinct = distinctValues(version, target);
    if (distinct !== undefined && distinct < 2) {
      throw new InvalidRequestError(`target '${target}' has a single value; classification needs at least 2 classes`);
    }
    // HyperLogLog counts are approximate: refuse only what is clearly over the limit.
    if (distinct !== undefined && distinct > MAX_CLASSES * 1.1) {
      throw new InvalidRequestError(`target '${target}' has about ${distinct} distinct values; classification supports at most ${MAX_CLASSES} classes`);
    }
  }
}

/** Names of the exported graph's outputs, which its inputs cannot take. */
const RESERVED_NAMES: ReadonlySet<string> = new Set(Object.values(OUTPUT_NAMES));

/** Why a column is left out of the default features, if it is, and whether listing it in `features` would use it. */
function defaultExclusion(version: DatasetVersion, column: SchemaColumn, target: string): { readonly reason: string; readonly choosable: boolean } | undefined {
  if (column.name === target) return undefined;
  if (featureKindOf(column.type) === undefined) return { reason: `'${column.name}' (${column.type}: not supported as a feature; derive numbers from it first)`, choosable: false };
  if (RESERVED_NAMES.has(column.name)) return { reason: `'${column.name}' (named like a model output: rename it to use it)`, choosable: false };
  const distinct = distinctValues(version, column.name) ?? 0;
  // A text column with (almost) one value per row identifies rows; it cannot generalise.
  if (column.type === 'string' && distinct > MAX_CATEGORIES && distinct > 0.5 * (version.rowsAccepted ?? 0)) {
    return { reason: `'${column.name}' (about ${distinct} distinct values: an identifier)`, choosable: true };
  }
  return undefined;
}

/** The note on the columns left out of the default features: only those a job may list are offered to be listed. */
function exclusionNotes(excluded: readonly { readonly reason: string; readonly choosable: boolean }[]): string[] {
  const reasons = (choosable: boolean) => excluded.filter((e) => e.choosable === choosable).map((e) => e.reason);
  const [choosable, unusable] = [reasons(true), reasons(false)];
  return [
    ...(choosable.length === 0 ? [] : [`not used as features: ${choosable.join(', ')}; list features to choose them`]),
    ...(unusable.length === 0 ? [] : [`cannot be used as features: ${unusable.join(', ')}`]),
  ];
}

/**
 * The feature columns and their kinds: as listed, or every usable column but the target
 * (leaving out timestamps and identifier-like text columns, with a note saying so).
 */
function resolveFeatures(
  version: DatasetVersion,
  target: string,
  requested: readonly string[] | undefined,
): { names: string[]; kinds: FeatureKind[]; notes: string[] } {
  const columns = version.schema!.columns;
  const byName = new Map(columns.map((c) => [c.name, c]));
  if (requested === undefined) {
    const excluded = columns.map((c) => defaultExclusion(version, c, target)).filter((exclusion) => exclusion !== undefined);
    const usable = columns.filter((c) => c.name !== target && defaultExclusion(version, c, target) === undefined);
    if (usable.length === 0) throw new InvalidRequestError(`dataset '${version.dataset}' version ${version.version} has no usable feature column besides the target`);
    return {
      names: usable.map((c) => c.name),
      kinds: usable.map((c) => featureKindOf(c.type)!),
      notes: exclusionNotes(excluded),
    };
  }
  const where = `dataset '${version.dataset}' version ${version.version}`;
  const kinds = requested.map((feature) => checkFeatureColumn(byName, feature, target, where, JOB_LABELS));
  return { names: [...requested], kinds, notes: [] };
}

/** Refuses jobs whose data and working memory cannot fit the training function. */
function checkSize(version: DatasetVersion, spec: Pick<JobSpec, 'algorithm' | 'task' | 'target' | 'hyperparameters'>, kinds: readonly FeatureKind[], limits: TrainingLimits): void {
  const algorithm = ALGORITHMS[spec.algorithm];
  const rows = version.rowsAccepted ?? 0;
  const cols = estimateOutputColumns(kinds, { ...algorithm.preprocess, maxCategories: MAX_CATEGORIES });
  const classes = spec.task === 'classification' ? Math.min(version.statistics?.find((s) => s.name === spec.target)?.distinct ?? 2, MAX_CLASSES) : 1;
  // Raw columns (8 bytes per number, ~64 per text value), the float32 matrix of every split, and the algorithm's own state.
  const rawBytes = rows * kinds.reduce((total, kind) => total + (kind === 'categorical' ? 64 : 8), 8);
  const matrixBytes = rows * cols * 4;
  const memory = algorithm.workingBytes(rows, cols, classes, spec.hyperparameters);
  const needed = rawBytes + matrixBytes + memory.data + memory.model;
  if (needed > limits.memoryBytes) {
    const mib = (bytes: number) => `${Math.ceil(bytes / 2 ** 20)} MiB`;
    const available = `the training function has ${mib(limits.memoryBytes)}`;
    // Name what drives the estimate: the model allowed by the hyperparameters, or the data.
    throw new InvalidRequestError(
      memory.model >= needed / 2
        ? `the job needs about ${mib(needed)} of memory, ${mib(memory.model)} of it for a model of ${memory.modelSize} with '${spec.algorithm}'; ${available}. Lower ${memory.modelParameters}`
        : `the job needs about ${mib(needed)} of memory (${rows} rows × ${cols} encoded features with '${spec.algorithm}'); ${available}. Train on fewer rows or features, or lower the categories of text features`,
    );
  }
  const seconds = trainingSeconds(algorithm, rows, cols, classes, spec.hyperparameters);
  if (seconds > limits.trainingSeconds) {
    const refit = spec.hyperparameters['refit'] === true ? ', then refitted on training + validation rows' : '';
    throw new InvalidRequestError(
      `the job could train for about ${Math.ceil(seconds)} s (${rows} rows × ${cols} encoded features with '${spec.algorithm}', every iteration allowed${refit}); the training function trains for at most ${limits.trainingSeconds} s. Lower the iterations or epochs, set refit to false, or train on fewer rows or features`,
    );
  }
}

/**
 * Upper bound of a job's training time: a fit on the training rows, and with `refit` a second
 * one on the training and validation rows (as many iterations at most).
 */
function trainingSeconds(algorithm: Algorithm, rows: number, cols: number, classes: number, params: Readonly<Record<string, unknown>>): number {
  const estimate = (share: number) => algorithm.estimateSeconds(Math.ceil(rows * share), cols, classes, params);
  const trainShare = 1 - DEFAULT_SPLIT.validation - DEFAULT_SPLIT.test;
  return estimate(trainShare) + (params['refit'] === true ? estimate(trainShare + DEFAULT_SPLIT.validation) : 0);
}

/** Resolves a request into the exact job to run, or throws an InvalidRequestError naming the first problem. */
export async function resolveJobSpec(datasets: DatasetStore, request: JobRequest, limits: TrainingLimits): Promise<JobSpec> {
  const { algorithm, hyperparameters } = checkTrainingFields(request);
  const dataset = assertDatasetName(request.dataset);
  const version = await trainableVersion(datasets, dataset, request.datasetVersion);
  checkTarget(version, request.target, request.task);
  const features = resolveFeatures(version, request.target, request.features);
  const spec: JobSpec = {
    modelName: request.modelName,
    dataset,
    datasetVersion: version.version,
    target: request.target,
    features: features.names,
    task: request.task,
    algorithm,
    hyperparameters,
    seed: request.seed ?? DEFAULT_SEED,
    ...(request.alias === undefined ? {} : { alias: request.alias }),
    ...(features.notes.length === 0 ? {} : { notes: features.notes }),
  };
  checkSize(version, spec, features.kinds, limits);
  return spec;
}
