/**
 * Parity check of an exported graph: runs the ONNX bytes in onnxruntime-node
 * on raw rows — fed exactly as the serving side would (float32 with NaN for
 * missing, bool, string with "" for missing) — and compares the outputs with
 * the in-process predictions (`predict` of score.ts on `transform`'s matrix).
 * A version is registered only when the two agree.
 */
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { matchColumns, type FeatureColumn, type Preprocessor } from '../features.js';
import type { Task } from '../model.js';
import { CLASS_NAMES_INITIALIZER, OUTPUT_NAMES } from './export.js';
import { decode } from './writer.js';

/** Result of {@link checkParity}. */
export interface ParityReport {
  /** Rows compared. */
  readonly rows: number;
  /** Largest |onnxruntime − expected| over every compared value (Infinity when onnxruntime returned NaN where a number was expected). */
  readonly maxAbsDifference: number;
  /**
   * Largest |onnxruntime − expected| / max(1, magnitude), the magnitude being that of the
   * summed terms behind the row's prediction ({@link ParityOptions.magnitudes}): float32
   * arithmetic done in a different order (onnxruntime's MatMul vs score.ts's float64 sums)
   * differs in proportion to the terms summed, not to the result, which may be near 0 while
   * its terms are in the hundreds. Absolute up to a magnitude of 1 (probabilities, small
   * values), relative to the magnitude above. The figure a version is gated on.
   */
  readonly maxScaledDifference: number;
  /** Where {@link maxScaledDifference} occurs; undefined when there are no rows. */
  readonly worst?: {
    /** Dataset row index (an element of `rows`). */
    readonly row: number;
    /** Position of the row in `rows`. */
    readonly position: number;
    /** |onnxruntime − expected| there (absolute). */
    readonly difference: number;
    /** The magnitude of the summed terms there. */
    readonly magnitude: number;
  };
  /**
   * Classification: rows whose `label` is not the class of the largest expected
   * probability (ties within {@link LABEL_TIE_TOLERANCE} are not counted).
   */
  readonly labelMismatches?: number;
}

/** Rows run per onnxruntime call, bounding the memory of inputs and outputs. */
export const PARITY_BATCH_ROWS = 10_000;
/** Expected probabilities closer than this count as a tie for {@link ParityReport.labelMismatches}. */
export const LABEL_TIE_TOLERANCE = 1e-6;

/** Tuning of {@link checkParity}. */
export interface ParityOptions {
  /** Rows per onnxruntime call (default {@link PARITY_BATCH_ROWS}). */
  readonly batchRows?: number;
  /**
   * Class names in class-index order, to check `label` against (classification).
   * Default: the names stored in the graph, which cannot reveal names exported in the wrong order.
   */
  readonly classNames?: readonly string[];
  /**
   * The magnitude of the summed terms behind each row's prediction (score.ts's
   * `termMagnitudes`), in the order of `rows`. Default: 0 for every row, so the
   * difference is gated as an absolute one.
   */
  readonly magnitudes?: Float64Array;
}

/** Class names stored in the exported graph (the label lookup table). */
function classNamesOf(bytes: Uint8Array): string[] {
  const tensor = decode(bytes).graph?.initializer?.find((t) => t.name === CLASS_NAMES_INITIALIZER);
  if (tensor === undefined) throw new Error(`the model has no '${CLASS_NAMES_INITIALIZER}' initializer; was it made by exportOnnx?`);
  const utf8 = new TextDecoder();
  return (tensor.stringData ?? []).map((s) => utf8.decode(s));
}

/** The raw inputs of `batch` (dataset row indices), one `[n, 1]` tensor per feature. */
function inputs(pre: Preprocessor, columns: readonly FeatureColumn[], batch: Uint32Array): Record<string, Tensor> {
  const n = batch.length;
  // Prototype-free: a feature may be named like a JavaScript built-in (`__proto__`, `constructor`),
  // and assignment on a prototype-free object defines an own property even for `__proto__`.
  const feeds = Object.create(null) as Record<string, Tensor>;
  pre.features.forEach((feature, f) => {
    const column = columns[f]!;
    switch (column.kind) {
      case 'numeric': {
        const data = new Float32Array(n);
        for (let i = 0; i < n; i++) data[i] = column.values[batch[i]!]!;
        feeds[feature.name] = new Tensor('float32', data, [n, 1]);
        break;
      }
      case 'boolean': {
        // BOOL inputs cannot carry a missing value: feed the training mode, as transform does.
        const impute = feature.kind === 'boolean' ? feature.impute : 0;
        const data = new Uint8Array(n);
        for (let i = 0; i < n; i++) {
          const v = column.values[batch[i]!]!;
          data[i] = Number.isNaN(v) ? impute : v !== 0 ? 1 : 0;
        }
        feeds[feature.name] = new Tensor('bool', data, [n, 1]);
        break;
      }
      case 'categorical': {
        const data = new Array<string>(n);
        for (let i = 0; i < n; i++) data[i] = column.values[batch[i]!] ?? '';
        feeds[feature.name] = new Tensor('string', data, [n, 1]);
        break;
      }
    }
  });
  return feeds;
}

/**
 * Runs the exported `bytes` in onnxruntime-node on `rows` of the raw `columns`
 * (in batches of {@link PARITY_BATCH_ROWS} rows) and compares with `expected`:
 * probabilities `[rows × classes]` (classification) or values `[rows]` (regression),
 * in the order of `rows`.
 */
export async function checkParity(
  bytes: Uint8Array,
  pre: Preprocessor,
  columns: readonly FeatureColumn[],
  rows: Uint32Array,
  expected: Float32Array,
  task: Task,
  options: ParityOptions = {},
): Promise<ParityReport> {
  const batchRows = options.batchRows ?? PARITY_BATCH_ROWS;
  if (!Number.isSafeInteger(batchRows) || batchRows < 1) throw new Error(`batchRows must be a positive integer, got ${batchRows}`);
  const matched = matchColumns(pre, columns);
  const classNames = task === 'classification' ? (options.classNames ?? classNamesOf(bytes)) : [];
  const width = task === 'classification' ? classNames.length : 1;
  if (expected.length !== rows.length * width) {
    throw new Error(`expected ${rows.length * width} values (${rows.length} rows × ${width}), got ${expected.length}`);
  }
  const classIndex = new Map(classNames.map((name, i) => [name, i]));
  const output = task === 'classification' ? OUTPUT_NAMES.probabilities : OUTPUT_NAMES.value;
  const fetches = task === 'classification' ? [OUTPUT_NAMES.probabilities, OUTPUT_NAMES.label] : [OUTPUT_NAMES.value];

  // Full graph optimisation, as in serving: fusions must not change the results either.
  const session = await InferenceSession.create(bytes, { graphOptimizationLevel: 'all' });
  const magnitudes = options.magnitudes;
  if (magnitudes !== undefined && magnitudes.length !== rows.length) throw new Error(`expected ${rows.length} magnitudes, got ${magnitudes.length}`);
  let maxAbsDifference = 0;
  let maxScaledDifference = 0;
  let worst: ParityReport['worst'] = rows.length > 0 ? { row: rows[0]!, position: 0, difference: 0, magnitude: magnitudes?.[0] ?? 0 } : undefined;
  let labelMismatches = 0;
  try {
    for (let start = 0; start < rows.length; start += batchRows) {
      const batch = rows.subarray(start, Math.min(rows.length, start + batchRows));
      const results = await session.run(inputs(pre, matched, batch), fetches);
      const actual = results[output]!.data as Float32Array;
      if (actual.length !== batch.length * width) throw new Error(`'${output}' has ${actual.length} values; expected ${batch.length * width}`);
      for (let i = 0; i < batch.length; i++) {
        const base = i * width;
        const magnitude = magnitudes?.[start + i] ?? 0;
        for (let c = 0; c < width; c++) {
          const want = expected[(start + i) * width + c]!;
          const got = actual[base + c]!;
          // A prediction that is not a finite number never passes (not even NaN against NaN).
          const diff = Number.isFinite(got) && Number.isFinite(want) ? Math.abs(got - want) : Infinity;
          // Infinite terms behind an infinite difference make a NaN ratio: that never passes either.
          const ratio = diff / Math.max(1, magnitude);
          const scaled = Number.isNaN(ratio) ? Infinity : ratio;
          if (diff > maxAbsDifference) maxAbsDifference = diff;
          if (scaled > maxScaledDifference) {
            maxScaledDifference = scaled;
            worst = { row: batch[i]!, position: start + i, difference: diff, magnitude };
          }
        }
      }
      if (task === 'classification') {
        const labels = results[OUTPUT_NAMES.label]!.data as string[];
        for (let i = 0; i < batch.length; i++) {
          const base = (start + i) * width;
          let best = 0;
          for (let c = 1; c < width; c++) if (expected[base + c]! > expected[base + best]!) best = c;
          const label = classIndex.get(labels[i]!);
          const wrong = label === undefined || (label !== best && !(expected[base + label]! >= expected[base + best]! - LABEL_TIE_TOLERANCE));
          if (wrong) labelMismatches++;
        }
      }
      for (const tensor of Object.values(results)) tensor.dispose();
    }
  } finally {
    await session.release();
  }
  const report = { rows: rows.length, maxAbsDifference, maxScaledDifference, ...(worst === undefined ? {} : { worst }) };
  return task === 'classification' ? { ...report, labelMismatches } : report;
}
