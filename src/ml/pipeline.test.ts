import { readFileSync } from 'node:fs';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { inspectOnnxModel } from '../inference/onnx-session.js';
import { ALGORITHMS } from './algorithms/index.js';
import { TrainingFailedError } from './errors.js';
import type { AlgorithmId, Task } from './model.js';
import { runPipeline, trainModel, verifyExport, type PipelineProgress, type TrainingSpec } from './pipeline.js';
import { Random } from './random.js';

const ROWS = 600;
const COLORS = ['red', 'green', 'blue', 'amber'];

/**
 * A mixed table: numbers with missing values, a boolean, a category (with missing values,
 * and a rare one), and targets that depend on all of them.
 */
function mixedTable(seed: number): ArrayBuffer {
  const random = new Random(seed);
  const x1: (number | null)[] = [];
  const x2: (bigint | null)[] = [];
  const flag: (boolean | null)[] = [];
  const color: (string | null)[] = [];
  const label: string[] = [];
  const score: number[] = [];
  const level: bigint[] = [];
  for (let i = 0; i < ROWS; i++) {
    const a = random.normal();
    const b = Math.floor(random.next() * 100);
    const f = random.next() < 0.5;
    const c = i % 97 === 0 ? 'violet' : COLORS[random.int(COLORS.length)]!;
    x1.push(i % 13 === 0 ? null : a);
    x2.push(i % 17 === 0 ? null : BigInt(b));
    flag.push(i % 19 === 0 ? null : f);
    color.push(i % 23 === 0 ? null : c);
    const signal = 1.5 * a + (b - 50) / 25 + (f ? 1 : -1) + (c === 'red' ? 2 : c === 'blue' ? -2 : 0) + 0.3 * random.normal();
    label.push(signal > 0 ? 'yes' : 'no');
    level.push(BigInt(signal < -1.5 ? 0 : signal < 1.5 ? 1 : 2));
    score.push(10 * signal + 200);
  }
  return parquetWriteBuffer({
    columnData: [
      { name: 'x1', data: x1, type: 'DOUBLE' },
      { name: 'x2', data: x2, type: 'INT64' },
      { name: 'flag', data: flag, type: 'BOOLEAN' },
      { name: 'color', data: color, type: 'STRING' },
      { name: 'label', data: label, type: 'STRING' },
      { name: 'level', data: level, type: 'INT64' },
      { name: 'score', data: score, type: 'DOUBLE' },
    ],
  });
}

const FEATURES = { x1: 'numeric', x2: 'numeric', flag: 'boolean', color: 'categorical' } as const;

function spec(algorithm: AlgorithmId, task: Task, target: string, hyperparameters: Record<string, unknown> = {}): TrainingSpec {
  return {
    modelName: 'mixed',
    target,
    features: Object.keys(FEATURES),
    task,
    algorithm,
    hyperparameters: ALGORITHMS[algorithm].parameters.parse(hyperparameters) as Record<string, unknown>,
    seed: 7,
  };
}

const run = (job: TrainingSpec, onProgress: (p: PipelineProgress) => void = () => {}) =>
  runPipeline({ spec: job, featureKinds: new Map(Object.entries(FEATURES)), files: [mixedTable(1)], metadata: { training_job: 'test' } }, onProgress);

describe('runPipeline: every algorithm and task, on numbers with missing values, booleans and categories', () => {
  it.each([
    ['logistic', 'label', 'binary'],
    ['logistic', 'level', 'three classes'],
    ['mlp', 'label', 'binary'],
    ['mlp', 'level', 'three classes'],
    ['gbdt', 'label', 'binary'],
    ['gbdt', 'level', 'three classes'],
  ] as const)('%s classification of %s (%s): learns, and the ONNX graph reproduces it', async (algorithm, target, _classes) => {
    // Act
    const stages = new Set<string>();
    const result = await run(spec(algorithm, 'classification', target, algorithm === 'mlp' ? { maxEpochs: 60 } : {}), (p) => stages.add(p.stage));
    const signature = await inspectOnnxModel(result.onnx);

    // Assess
    // 90 test rows; the three-class target has noisy bands that trees of ≥ 20 rows per leaf cut coarsely.
    expect(result.metrics.accuracy).toBeGreaterThan(target === 'label' ? 0.8 : 0.7);
    expect(result.metrics.parityMaxDifference).toBeLessThanOrEqual(1e-5);
    expect(result.metrics).toMatchObject({ trainRows: expect.any(Number), testRows: expect.any(Number), rowsWithoutTarget: 0 });
    expect(result.metrics.trainRows! + result.metrics.validationRows! + result.metrics.testRows!).toBe(ROWS);
    expect(result.evaluation?.classNames).toEqual(target === 'label' ? ['no', 'yes'] : ['0', '1', '2']);
    expect(signature.inputs.map((i) => [i.name, i.datatype])).toEqual([['x1', 'FP32'], ['x2', 'FP32'], ['flag', 'BOOL'], ['color', 'BYTES']]);
    expect(signature.outputs.map((o) => o.name)).toEqual(['label', 'probabilities']);
    expect([...stages]).toEqual(['loading', 'training', 'refitting', 'evaluating', 'exporting']);
  });

  it.each(['linear', 'mlp', 'gbdt'] as const)('%s regression: learns, and the ONNX graph reproduces it', async (algorithm) => {
    // Act
    const result = await run(spec(algorithm, 'regression', 'score', algorithm === 'mlp' ? { maxEpochs: 80 } : {}));
    const signature = await inspectOnnxModel(result.onnx);

    // Assess
    expect(result.metrics.r2).toBeGreaterThan(0.8);
    expect(result.metrics.parityMaxDifference).toBeLessThanOrEqual(1e-5);
    expect(Object.keys(result.metrics)).toEqual(expect.arrayContaining(['rmse', 'mae', 'r2', 'trainSeconds']));
    expect(result.evaluation).toBeUndefined();
    expect(signature.outputs.map((o) => [o.name, o.datatype])).toEqual([['value', 'FP32']]);
  });

  it.each(['mlp', 'gbdt'] as const)('%s: features named like the graph\'s own values, or with spaces and unicode, export and reproduce', async (algorithm) => {
    // Prepare
    const names = ['features', 'pre/0/isnan', 'post.class_names', 'head/layer0/relu', 'größe in cm'];
    const random = new Random(3);
    const data = names.map(() => Array.from({ length: 200 }, () => random.normal()));
    const label = data[0]!.map((v, i) => (v + data[4]![i]! > 0 ? 'up' : 'down'));
    const file = parquetWriteBuffer({ columnData: [...names.map((name, c) => ({ name, data: data[c]!, type: 'DOUBLE' as const })), { name: 'label', data: label, type: 'STRING' }] });
    const job = { ...spec(algorithm, 'classification', 'label'), features: names };

    // Act
    const result = await runPipeline({ spec: job, featureKinds: new Map(names.map((n) => [n, 'numeric' as const])), files: [file], metadata: {} }, () => {});
    const signature = await inspectOnnxModel(result.onnx);

    // Assess
    expect(signature.inputs.map((i) => i.name)).toEqual(names);
    expect(result.metrics.parityMaxDifference).toBeLessThanOrEqual(1e-5);
  });

  it.each(['linear', 'gbdt', 'mlp'] as const)('%s: features named like JavaScript built-ins (__proto__, constructor, toString…) train, export and reproduce', async (algorithm) => {
    // Prepare: numbers, a boolean and a category, each named like a property of Object.prototype.
    const random = new Random(5);
    const rows = 300;
    const proto = Array.from({ length: rows }, () => random.normal());
    const ctor = Array.from({ length: rows }, (_, i) => (i % 11 === 0 ? null : random.normal()));
    const flag = Array.from({ length: rows }, () => random.next() < 0.5);
    const text = Array.from({ length: rows }, (_, i) => ['a', 'b', 'c'][i % 3]!);
    const y = proto.map((v, i) => 3 * v - 2 * (ctor[i] ?? 0) + (flag[i] ? 1 : -1) + (text[i] === 'a' ? 2 : 0) + 0.1 * random.normal());
    const file = parquetWriteBuffer({
      columnData: [
        { name: '__proto__', data: proto, type: 'DOUBLE' },
        { name: 'constructor', data: ctor, type: 'DOUBLE' },
        { name: 'hasOwnProperty', data: flag, type: 'BOOLEAN' },
        { name: 'toString', data: text, type: 'STRING' },
        { name: 'valueOf', data: y, type: 'DOUBLE' },
      ],
    });
    const kinds = [['__proto__', 'numeric'], ['constructor', 'numeric'], ['hasOwnProperty', 'boolean'], ['toString', 'categorical']] as const;
    const job = { ...spec(algorithm, 'regression', 'valueOf', algorithm === 'mlp' ? { maxEpochs: 40 } : {}), features: kinds.map(([name]) => name) };

    // Act
    const result = await runPipeline({ spec: job, featureKinds: new Map(kinds), files: [file], metadata: {} }, () => {});
    const signature = await inspectOnnxModel(result.onnx);

    // Assess
    expect(signature.inputs.map((i) => [i.name, i.datatype])).toEqual([['__proto__', 'FP32'], ['constructor', 'FP32'], ['hasOwnProperty', 'BOOL'], ['toString', 'BYTES']]);
    expect(result.metrics.r2).toBeGreaterThan(0.8);
    expect(result.metrics.parityMaxDifference).toBeLessThanOrEqual(1e-5);
  });

  it.each(['mlp', 'gbdt'] as const)('%s: refits on training + validation rows with the iterations chosen, or (refit false) keeps the first fit', async (algorithm) => {
    // Act
    const stages = (job: TrainingSpec) => {
      const seen: string[] = [];
      return run(job, (p) => seen.at(-1) !== p.stage && seen.push(p.stage)).then((result) => ({ result, seen }));
    };
    const refitted = await stages(spec(algorithm, 'classification', 'label'));
    const single = await stages(spec(algorithm, 'classification', 'label', { refit: false }));

    // Assess
    expect(refitted.seen).toEqual(['loading', 'training', 'refitting', 'evaluating', 'exporting']);
    expect(refitted.result.metrics).toMatchObject({ refitRows: ROWS - refitted.result.metrics.testRows!, iterations: single.result.metrics.iterations, bestIteration: single.result.metrics.bestIteration });
    expect(single.seen).toEqual(['loading', 'training', 'evaluating', 'exporting']);
    expect(single.result.metrics.refitRows).toBeUndefined();
    expect(refitted.result.metrics.bestIteration).toBeLessThanOrEqual(refitted.result.metrics.iterations!);
    expect(Buffer.from(refitted.result.onnx).equals(Buffer.from(single.result.onnx))).toBe(false);
  });

  it('is deterministic: the same seed gives the same model bytes', async () => {
    // Act
    const first = await run(spec('gbdt', 'classification', 'label', { maxIterations: 20 }));
    const second = await run(spec('gbdt', 'classification', 'label', { maxIterations: 20 }));

    // Assess
    expect(Buffer.from(second.onnx).equals(Buffer.from(first.onnx))).toBe(true);
  });

  it('fails with a reason when the target has one class among the labelled rows', async () => {
    // Prepare
    const single = parquetWriteBuffer({
      columnData: [
        { name: 'x1', data: [1, 2, 3, 4], type: 'DOUBLE' },
        { name: 'label', data: ['a', 'a', null, 'a'], type: 'STRING' },
      ],
    });

    // Act
    const failing = runPipeline(
      { spec: { ...spec('gbdt', 'classification', 'label'), features: ['x1'] }, featureKinds: new Map([['x1', 'numeric']]), files: [single], metadata: {} },
      () => {},
    );

    // Assess
    await expect(failing).rejects.toThrowError(TrainingFailedError);
    await expect(failing).rejects.toThrowError("target 'label' has 1 distinct value(s); classification needs at least 2");
  });
});

/** A CSV of the repository's `data/` folder as Parquet: the `numeric` columns as numbers, the rest as text. */
function csvTable(file: string, numeric: readonly string[]): { file: ArrayBuffer; columns: string[] } {
  const [header, ...lines] = readFileSync(new URL(`../../data/${file}`, import.meta.url), 'utf8').trim().split('\n');
  const columns = header!.split(',');
  const rows = lines.map((line) => line.split(','));
  const columnData = columns.map((name, c) =>
    numeric.includes(name)
      ? { name, data: rows.map((row) => (row[c] === '' ? null : Number(row[c]))), type: 'DOUBLE' as const }
      : { name, data: rows.map((row) => row[c] ?? null), type: 'STRING' as const },
  );
  return { file: parquetWriteBuffer({ columnData }), columns };
}

/** Runs an exported classifier on one row of numbers; returns its label. */
async function labelOf(onnx: Uint8Array, row: Record<string, number>): Promise<string> {
  const session = await InferenceSession.create(onnx);
  try {
    const feeds = Object.fromEntries(Object.entries(row).map(([name, value]) => [name, new Tensor('float32', Float32Array.of(value), [1, 1])]));
    const results = await session.run(feeds, ['label']);
    return (results['label']!.data as string[])[0]!;
  } finally {
    await session.release();
  }
}

describe('runPipeline on the README\'s datasets', () => {
  const IRIS_FEATURES = ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'];
  const iris = csvTable('iris.csv', IRIS_FEATURES);
  const irisSpec: TrainingSpec = {
    modelName: 'iris-gbdt',
    target: 'species',
    features: IRIS_FEATURES,
    task: 'classification',
    algorithm: 'gbdt',
    hyperparameters: ALGORITHMS.gbdt.parameters.parse({}) as Record<string, unknown>,
    seed: 42,
  };

  it('gbdt (the Quickstart\'s iris-gbdt job): a petal length just above the training setosas\' largest is still setosa', async () => {
    // Act
    const result = await runPipeline({ spec: irisSpec, featureKinds: new Map(IRIS_FEATURES.map((n) => [n, 'numeric' as const])), files: [iris.file], metadata: {} }, () => {});

    // Assess: thresholds lie halfway between bins (setosa petals end at 1.9, versicolor's start at 3.0).
    expect(await labelOf(result.onnx, { sepal_length: 4.8, sepal_width: 3.4, petal_length: 1.9, petal_width: 0.2 })).toBe('setosa');
    expect(await labelOf(result.onnx, { sepal_length: 6.0, sepal_width: 2.8, petal_length: 4.5, petal_width: 1.4 })).toBe('versicolor');
    expect(result.metrics.parityMaxDifference).toBeLessThanOrEqual(1e-5);
  });
});

describe('verifyExport: the tolerance follows float32 rounding of the summed terms', () => {
  /** Two features (x2 ≈ x1) and a target made of them: predictions near 0 are sums of terms in the hundreds or thousands. */
  function table(seed: number, target: (x1: number, x2: number, noise: number) => number): ArrayBuffer {
    const random = new Random(seed);
    const x1 = Array.from({ length: 2000 }, () => random.normal());
    const x2 = x1.map((v) => v + 0.01 * random.normal());
    const y = x1.map((v, i) => target(v, x2[i]!, random.normal()));
    return parquetWriteBuffer({
      columnData: [
        { name: 'x1', data: x1, type: 'DOUBLE' },
        { name: 'x2', data: x2, type: 'DOUBLE' },
        { name: 'y', data: y, type: 'DOUBLE' },
      ],
    });
  }
  const regressionJob = (algorithm: AlgorithmId, hyperparameters: Record<string, unknown>, file: ArrayBuffer) => ({
    spec: { ...spec(algorithm, 'regression', 'y', hyperparameters), features: ['x1', 'x2'] },
    featureKinds: new Map([['x1', 'numeric'], ['x2', 'numeric']] as const),
    files: [file],
    metadata: {},
  });
  // The repro: y = 1000·x1 − 1000·x2 + noise (unregularised, so the weights stay near ±1000).
  const cancelling = () => table(11, (x1, x2, noise) => 1000 * x1 - 1000 * x2 + 0.5 * noise);
  // A price-like target with some negative values.
  const price = () => table(18, (x1, x2, noise) => 3000 * x1 + 1000 * x2 * x2 - 1000 + 50 * noise);

  it.each([
    ['linear', { l2: 0 }, cancelling],
    ['mlp', { maxEpochs: 50 }, price],
  ] as const)('%s regression whose predictions come near 0 passes', async (algorithm, hyperparameters, file) => {
    // Act
    const result = await runPipeline(regressionJob(algorithm, hyperparameters, file()), () => {});

    // Assess
    expect(result.metrics.parityMaxDifference).toBeLessThanOrEqual(1e-5);
    expect(result.metrics.r2).toBeGreaterThan(0.95);
  });

  it('a prediction that genuinely differs still fails, naming the figure and the row', async () => {
    // Prepare: the trainer's prediction of test row 7 off by 1e-4 of its summed terms.
    const artifact = await trainModel(regressionJob('linear', { l2: 0 }, cancelling()), () => {});
    const expected = artifact.check.expected.slice();
    expected[7]! += 1e-4 * Math.max(1, artifact.check.magnitudes[7]!);
    const wrong = { ...artifact, check: { ...artifact.check, expected } };

    // Act
    const verifying = verifyExport(wrong);

    // Assess
    await expect(verifying).rejects.toThrowError(TrainingFailedError);
    await expect(verifying).rejects.toThrowError(
      new RegExp(`difference [0-9.e-]+ absolute, [0-9.e-]+ relative to the magnitude [0-9.]+ of its summed terms on test row 7 \\(row ${artifact.check.datasetRows[7]} of the dataset version`),
    );
  });
});
