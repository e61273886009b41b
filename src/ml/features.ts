/**
 * Feature preprocessing: raw dataset columns → the float32 matrix the
 * algorithms train on. {@link fitPreprocessor} learns the parameters from the
 * training rows only (imputation values, standardization, category lists);
 * {@link transform} applies them. The exported ONNX graph performs the same
 * operations (see `onnx/export.ts`), and `transform` reproduces the graph's
 * float32 arithmetic bit for bit, so a model sees the same numbers in training
 * and in serving.
 *
 * Per raw feature:
 * - numeric: missing (NaN) → training mean; then, when standardizing,
 *   `(x - mean) / scale` with every operation rounded to float32 (ONNX Sub, Div);
 * - boolean: missing → training mode; 0/1, never standardized (like one-hot indicators);
 * - categorical: the `maxCategories` most frequent training values (ties by value)
 *   are the known categories; anything else, including null, "" and values never
 *   seen in training, falls in the unknown bucket. One-hot: K+1 indicator columns
 *   (last = unknown); ordinal: one column holding the category index (unknown = K).
 */
import type { Matrix } from './model.js';

/** The kind of a raw feature column. */
export type FeatureKind = 'numeric' | 'boolean' | 'categorical';

/**
 * A raw column as loaded from the curated dataset. numeric/boolean:
 * `Float32Array` (what the served model takes; half the memory) or `Float64Array`, with NaN =
 * missing (boolean: 0/1, any non-zero counts as 1);
 * categorical: strings with `null` (or "") = missing.
 */
export type FeatureColumn =
  | { readonly name: string; readonly kind: 'numeric' | 'boolean'; readonly values: NumericValues }
  | { readonly name: string; readonly kind: 'categorical'; readonly values: readonly (string | null)[] };

/** The values of a numeric or boolean column. */
export type NumericValues = Float32Array | Float64Array;

/** How to preprocess. */
export interface PreprocessOptions {
  /** Standardize numeric features to zero mean, unit variance (on the training rows). */
  readonly standardize: boolean;
  /** Encoding of categorical features. */
  readonly categorical: 'onehot' | 'ordinal';
  /** Most frequent categories kept per feature (e.g. 64); the others go to the unknown bucket. */
  readonly maxCategories: number;
}

/** A fitted numeric feature. All numbers are float32 values (exact in JSON). */
export interface NumericFeature {
  readonly name: string;
  readonly kind: 'numeric';
  /** Replaces missing values: the training mean (0 when the training rows have none). */
  readonly impute: number;
  /** `(x - mean) / scale` when standardizing (scale 1 for a constant feature), else null. */
  readonly scaling: { readonly mean: number; readonly scale: number } | null;
}

/** A fitted boolean feature. */
export interface BooleanFeature {
  readonly name: string;
  readonly kind: 'boolean';
  /** Replaces missing values: the training mode, 0 or 1 (0 on ties and when there are no values). */
  readonly impute: 0 | 1;
}

/** A fitted categorical feature. */
export interface CategoricalFeature {
  readonly name: string;
  readonly kind: 'categorical';
  readonly encoding: 'onehot' | 'ordinal';
  /** Known categories, most frequent first (ties by value); index = one-hot column / ordinal code. Unknown = `categories.length`. */
  readonly categories: readonly string[];
}

/** A fitted feature, in the order of the matrix columns it produces. */
export type FittedFeature = NumericFeature | BooleanFeature | CategoricalFeature;

/** Fitted preprocessing: plain JSON-serialisable data. */
export interface Preprocessor {
  readonly version: 1;
  readonly options: PreprocessOptions;
  /** One entry per raw feature, in matrix column order. */
  readonly features: readonly FittedFeature[];
  /** Number of matrix columns {@link transform} produces. */
  readonly outputColumns: number;
}

/** Name of the unknown-bucket column of a one-hot encoded feature. */
export const UNKNOWN_CATEGORY = '<unknown>';

/** Number of matrix columns a fitted feature produces. */
export function featureWidth(feature: FittedFeature): number {
  return feature.kind === 'categorical' && feature.encoding === 'onehot' ? feature.categories.length + 1 : 1;
}

/**
 * Upper bound of the matrix columns for raw columns of the given kinds, before
 * fitting (for memory estimates): a one-hot feature counts `maxCategories + 1`.
 */
export function estimateOutputColumns(kinds: readonly FeatureKind[], options: PreprocessOptions): number {
  return kinds.reduce((total, kind) => total + (kind === 'categorical' && options.categorical === 'onehot' ? options.maxCategories + 1 : 1), 0);
}

/** Bytes of the float32 matrix {@link transform} builds for `rows` rows. */
export function matrixBytes(pre: Preprocessor, rows: number): number {
  return rows * pre.outputColumns * Float32Array.BYTES_PER_ELEMENT;
}

const { fround } = Math;
/** Smallest positive normal float32: a smaller scale would overflow the division. */
const MIN_NORMAL_FLOAT32 = 2 ** -126;

function checkRows(columnName: string, length: number, rows: Uint32Array): void {
  for (let i = 0; i < rows.length; i++) {
    if (rows[i]! >= length) throw new Error(`row ${rows[i]} is out of range for column '${columnName}' (${length} values)`);
  }
}

function fitNumeric(name: string, values: NumericValues, rows: Uint32Array, standardize: boolean): NumericFeature {
  // Statistics of the float32 values the graph sees.
  let count = 0;
  let sum = 0;
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < rows.length; i++) {
    const v = values[rows[i]!]!;
    if (Number.isNaN(v)) continue;
    const x = fround(v);
    count++;
    sum += x;
    if (x < min) min = x;
    if (x > max) max = x;
  }
  const mean = count === 0 ? 0 : sum / count;
  const impute = fround(mean);
  if (!Number.isFinite(impute)) throw new Error(`numeric feature '${name}': the training mean ${mean} is not a finite float32`);
  if (!standardize) return { name, kind: 'numeric', impute, scaling: null };
  let squares = 0;
  for (let i = 0; i < rows.length; i++) {
    const v = values[rows[i]!]!;
    if (Number.isNaN(v)) continue;
    const d = fround(v) - mean;
    squares += d * d;
  }
  const std = count === 0 ? 0 : Math.sqrt(squares / count);
  const scale32 = fround(std);
  const constant = count === 0 || min === max || !(scale32 >= MIN_NORMAL_FLOAT32) || !Number.isFinite(scale32);
  return { name, kind: 'numeric', impute, scaling: { mean: impute, scale: constant ? 1 : scale32 } };
}

function fitBoolean(name: string, values: NumericValues, rows: Uint32Array): BooleanFeature {
  let ones = 0;
  let zeros = 0;
  for (let i = 0; i < rows.length; i++) {
    const v = values[rows[i]!]!;
    if (Number.isNaN(v)) continue;
    if (v !== 0) ones++;
    else zeros++;
  }
  return { name, kind: 'boolean', impute: ones > zeros ? 1 : 0 };
}

function fitCategorical(name: string, values: readonly (string | null)[], rows: Uint32Array, options: PreprocessOptions): CategoricalFeature {
  const counts = new Map<string, number>();
  for (let i = 0; i < rows.length; i++) {
    const v = values[rows[i]!];
    if (v === null || v === undefined || v === '') continue;
    counts.set(v, (counts.get(v) ?? 0) + 1);
  }
  const categories = [...counts.entries()]
    .sort(([a, ca], [b, cb]) => cb - ca || (a < b ? -1 : a > b ? 1 : 0))
    .slice(0, options.maxCategories)
    .map(([value]) => value);
  return { name, kind: 'categorical', encoding: options.categorical, categories };
}

/**
 * Learns the preprocessing from the training rows `rows` (indices into the
 * columns) only: validation and test rows never influence it.
 */
export function fitPreprocessor(columns: readonly FeatureColumn[], rows: Uint32Array, options: PreprocessOptions): Preprocessor {
  if (columns.length === 0) throw new Error('at least one feature column is required');
  if (!Number.isSafeInteger(options.maxCategories) || options.maxCategories < 0) {
    throw new Error(`maxCategories must be a non-negative integer, got ${options.maxCategories}`);
  }
  const seen = new Set<string>();
  const features = columns.map((column): FittedFeature => {
    if (seen.has(column.name)) throw new Error(`duplicate feature column '${column.name}'`);
    seen.add(column.name);
    checkRows(column.name, column.values.length, rows);
    switch (column.kind) {
      case 'numeric':
        return fitNumeric(column.name, column.values, rows, options.standardize);
      case 'boolean':
        return fitBoolean(column.name, column.values, rows);
      case 'categorical':
        return fitCategorical(column.name, column.values, rows, options);
    }
  });
  const outputColumns = features.reduce((total, f) => total + featureWidth(f), 0);
  return { version: 1, options: { ...options }, features, outputColumns };
}

/** Finds the raw column of every fitted feature (by name), checking its kind. */
export function matchColumns(pre: Preprocessor, columns: readonly FeatureColumn[]): FeatureColumn[] {
  const byName = new Map(columns.map((c) => [c.name, c]));
  return pre.features.map((feature) => {
    const column = byName.get(feature.name);
    if (column === undefined) throw new Error(`feature column '${feature.name}' is missing`);
    if (column.kind !== feature.kind) throw new Error(`feature column '${feature.name}' is ${column.kind}; the preprocessor expects ${feature.kind}`);
    return column;
  });
}

/**
 * The float32 row-major matrix of `rows` (indices into the columns), column
 * order as {@link featureNames}. Equal bit for bit to what the exported ONNX
 * graph computes from the same raw values.
 */
export function transform(pre: Preprocessor, columns: readonly FeatureColumn[], rows: Uint32Array): Matrix {
  const matched = matchColumns(pre, columns);
  const cols = pre.outputColumns;
  const n = rows.length;
  const data = new Float32Array(n * cols);
  let offset = 0;
  pre.features.forEach((feature, f) => {
    const column = matched[f]!;
    checkRows(column.name, column.values.length, rows);
    switch (feature.kind) {
      case 'numeric': {
        const values = column.values as NumericValues;
        const impute = fround(feature.impute);
        if (feature.scaling === null) {
          for (let i = 0, at = offset; i < n; i++, at += cols) {
            const v = values[rows[i]!]!;
            data[at] = Number.isNaN(v) ? impute : v;
          }
        } else {
          const mean = fround(feature.scaling.mean);
          const scale = fround(feature.scaling.scale);
          for (let i = 0, at = offset; i < n; i++, at += cols) {
            const v = values[rows[i]!]!;
            const x = Number.isNaN(v) ? impute : fround(v);
            // Two float32 operations (ONNX Sub then Div): double rounding through float64 is exact here.
            data[at] = fround(x - mean) / scale;
          }
        }
        break;
      }
      case 'boolean': {
        const values = column.values as NumericValues;
        for (let i = 0, at = offset; i < n; i++, at += cols) {
          const v = values[rows[i]!]!;
          data[at] = Number.isNaN(v) ? feature.impute : v !== 0 ? 1 : 0;
        }
        break;
      }
      case 'categorical': {
        const values = column.values as readonly (string | null)[];
        const index = new Map(feature.categories.map((c, k) => [c, k]));
        const unknown = feature.categories.length;
        const onehot = feature.encoding === 'onehot';
        for (let i = 0, at = offset; i < n; i++, at += cols) {
          const v = values[rows[i]!];
          const k = v === null || v === undefined ? unknown : (index.get(v) ?? unknown);
          if (onehot) data[at + k] = 1;
          else data[at] = k;
        }
        break;
      }
    }
    offset += featureWidth(feature);
  });
  return { rows: n, cols, data };
}

/** Names of the matrix columns: the feature name, or `name=category` / `name=<unknown>` for one-hot columns. */
export function featureNames(pre: Preprocessor): string[] {
  return pre.features.flatMap((feature) =>
    feature.kind === 'categorical' && feature.encoding === 'onehot'
      ? [...feature.categories.map((c) => `${feature.name}=${c}`), `${feature.name}=${UNKNOWN_CATEGORY}`]
      : [feature.name],
  );
}
