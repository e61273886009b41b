/**
 * One measurement of the training benchmark (`bench/training.ts`), run in a fresh process so that
 * its peak RSS is its own:
 *
 *   node --expose-gc training-worker.mjs <data dir> <algorithm> <hyperparameters JSON>
 *
 * (the benchmark runs it bundled by esbuild, as a Lambda function would be). The data directory is
 * written by `bench/training_baseline.py prepare` (raw float32 features, targets, the train/test row
 * indices and `meta.json`), so these rows are exactly the ones the baselines train on.
 *
 * As the pipeline (`src/ml/pipeline.ts`) does: every feature becomes a numeric
 * {@link FeatureColumn}, the preprocessing is fitted on the training rows with the algorithm's own
 * options (standardised for linear/logistic/MLP, raw for GBDT), the training matrix is transformed,
 * the algorithm trains (empty validation set: no early stopping), then the test rows are transformed
 * and scored with `predict` and `metrics.ts`.
 *
 * Memory: loading and preprocessing (raw matrix, one Float64Array per column) are dropped and
 * collected before training, then the peak-RSS mark is reset (Linux `/proc/self/clear_refs`), so
 * `trainingPeakRssBytes` is the process's peak while it holds the training matrix and trains;
 * `processPeakRssBytes` is the peak of the whole process, loading included.
 *
 * Prints one JSON line ({@link TrainingWorkerResult}) on stdout.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout } from 'node:timers/promises';
import { ALGORITHMS } from '../../src/ml/algorithms/index.js';
import { fitPreprocessor, transform, type FeatureColumn, type Preprocessor } from '../../src/ml/features.js';
import { MAX_CATEGORIES } from '../../src/ml/limits.js';
import { classificationMetrics, regressionMetrics } from '../../src/ml/metrics.js';
import type { AlgorithmId, Examples, Task } from '../../src/ml/model.js';
import { predict } from '../../src/ml/score.js';

/** `meta.json` of a prepared data set. */
export interface DatasetMeta {
  readonly name: string;
  readonly task: Task;
  readonly rows: number;
  readonly cols: number;
  /** Number of classes; 1 for regression. */
  readonly classes: number;
  readonly trainRows: number;
  readonly testRows: number;
}

/** What the worker prints. */
export interface TrainingWorkerResult {
  readonly algorithm: AlgorithmId;
  /** Wall time of the `train` call only. */
  readonly seconds: number;
  /** CPU time (user + system, all threads) of the process during the `train` call. */
  readonly cpuSeconds: number;
  /** Iterations reported by the trainer (L-BFGS iterations, epochs or boosting rounds). */
  readonly iterations: number;
  /** Test metrics: accuracy and rocAuc (classification) or r2 (regression). */
  readonly metrics: Readonly<Record<string, number>>;
  readonly trainRows: number;
  readonly cols: number;
  /** Bytes of the float32 training matrix the trainer receives. */
  readonly matrixBytes: number;
  /** RSS of the process when it starts the run, before loading anything (the Node runtime and the bundle). */
  readonly startRssBytes: number;
  /** RSS after preprocessing, with only the training examples left (the start of training). */
  readonly rssBeforeTrainBytes: number;
  /** Peak RSS from the start of training to its end (reset before training; see the module comment). */
  readonly trainingPeakRssBytes: number;
  /** Peak RSS of the whole process (loading and preprocessing included). */
  readonly processPeakRssBytes: number;
  /** Whether the peak-RSS mark could be reset (else `trainingPeakRssBytes` is the process peak). */
  readonly peakReset: boolean;
}

const maxRssBytes = (): number => process.resourceUsage().maxRSS * 1024;

function readArray(file: string, bytesPerElement: number): ArrayBuffer {
  const bytes = readFileSync(file);
  const aligned = bytes.byteOffset % bytesPerElement === 0 && bytes.byteLength % bytesPerElement === 0;
  if (!aligned) throw new Error(`${file}: ${bytes.byteLength} bytes at offset ${bytes.byteOffset} are not ${bytesPerElement}-byte elements`);
  const whole = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength;
  return (whole ? bytes.buffer : bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)) as ArrayBuffer;
}

/** A prepared data set as the dataset loader would give it: one numeric Float64Array column per feature (every row). */
interface Loaded {
  readonly columns: FeatureColumn[];
  readonly y: Float64Array;
  readonly trainRows: Uint32Array;
  readonly testRows: Uint32Array;
}

function load(dir: string, meta: DatasetMeta): Loaded {
  const x = new Float32Array(readArray(join(dir, 'X.f32'), 4));
  if (x.length !== meta.rows * meta.cols) throw new Error(`X.f32 has ${x.length} values, expected ${meta.rows} × ${meta.cols}`);
  const columns = Array.from({ length: meta.cols }, (_, c): FeatureColumn => {
    const values = new Float64Array(meta.rows);
    for (let r = 0, at = c; r < meta.rows; r++, at += meta.cols) values[r] = x[at]!;
    return { name: `x${c}`, kind: 'numeric', values };
  });
  return {
    columns,
    y: new Float64Array(readArray(join(dir, 'y.f64'), 8)),
    trainRows: new Uint32Array(readArray(join(dir, 'train.u32'), 4)),
    testRows: new Uint32Array(readArray(join(dir, 'test.u32'), 4)),
  };
}

function examples(pre: Preprocessor, columns: readonly FeatureColumn[], rows: Uint32Array, y: Float64Array): Examples {
  return { x: transform(pre, columns, rows), y: Float64Array.from(rows, (row) => y[row]!) };
}

/**
 * Collects garbage until the RSS stops falling: V8 frees large ArrayBuffer backing stores on a
 * background thread after a collection, so one `gc()` does not return them to the OS at once.
 */
async function collect(): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error('run with --expose-gc');
  let rss = Infinity;
  for (let i = 0; i < 40; i++) {
    gc();
    await setTimeout(25);
    const now = process.memoryUsage().rss;
    if (now > rss - 2 ** 20) return;
    rss = now;
  }
}

async function run(dir: string, algorithmId: AlgorithmId, hyperparameters: Record<string, unknown>): Promise<TrainingWorkerResult> {
  const startRssBytes = process.memoryUsage().rss;
  const meta = JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8')) as DatasetMeta;
  const algorithm = ALGORITHMS[algorithmId];
  if (!algorithm.tasks.includes(meta.task)) throw new Error(`${algorithmId} does not do ${meta.task}`);
  const params = algorithm.parameters.parse(hyperparameters);

  // Loading and preprocessing, in a scope of their own so that only the examples outlive it.
  const prepare = () => {
    const { columns, y, trainRows } = load(dir, meta);
    const pre = fitPreprocessor(columns, trainRows, { ...algorithm.preprocess, maxCategories: MAX_CATEGORIES });
    return { pre, train: examples(pre, columns, trainRows, y) };
  };
  const { pre, train } = prepare();
  const validation: Examples = { x: { rows: 0, cols: train.x.cols, data: new Float32Array(0) }, y: new Float64Array(0) };
  await collect();
  const preparePeak = maxRssBytes();
  let peakReset = true;
  try {
    writeFileSync('/proc/self/clear_refs', '5'); // resets the peak RSS ("high water mark") to the current RSS
  } catch {
    peakReset = false;
  }
  const rssBeforeTrainBytes = process.memoryUsage().rss;

  let iterations = 0;
  const cpu = process.cpuUsage();
  const started = performance.now();
  const { model } = algorithm.fit(train, validation, params, {
    task: meta.task,
    classes: meta.classes,
    seed: 0,
    onProgress: (progress) => {
      iterations = progress.iteration;
    },
  });
  const seconds = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  const trainingPeakRssBytes = maxRssBytes();

  const { columns, y, testRows } = load(dir, meta);
  const test = examples(pre, columns, testRows, y);
  const predictions = predict(model, test.x, meta.classes);
  let metrics: Record<string, number>;
  if (meta.task === 'classification') {
    const { accuracy, rocAuc } = classificationMetrics(test.y, predictions, meta.classes);
    metrics = { accuracy, rocAuc };
  } else {
    metrics = { r2: regressionMetrics(test.y, predictions).r2 };
  }
  return {
    algorithm: algorithmId,
    seconds,
    cpuSeconds: (used.user + used.system) / 1e6,
    iterations,
    metrics,
    trainRows: train.x.rows,
    cols: train.x.cols,
    matrixBytes: train.x.data.byteLength,
    startRssBytes,
    rssBeforeTrainBytes,
    trainingPeakRssBytes,
    processPeakRssBytes: Math.max(preparePeak, trainingPeakRssBytes, maxRssBytes()),
    peakReset,
  };
}

const [dir, algorithm, hyperparameters] = process.argv.slice(2);
if (dir === undefined || algorithm === undefined || !(algorithm in ALGORITHMS)) {
  console.error('usage: training-worker <data dir> <linear|logistic|mlp|gbdt> [hyperparameters JSON]');
  process.exit(2);
}
const result = await run(dir, algorithm as AlgorithmId, JSON.parse(hyperparameters ?? '{}') as Record<string, unknown>);
console.log(JSON.stringify(result));
