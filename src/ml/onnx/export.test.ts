import { describe, expect, it } from 'vitest';
import { readOnnxMetadata } from '../../inference/model-metadata.js';
import { inspectOnnxModel } from '../../inference/onnx-session.js';
import { fitPreprocessor, transform, type FeatureColumn, type PreprocessOptions, type Preprocessor } from '../features.js';
import { scoreColumns, type DenseLayer, type Link, type Matrix, type Task, type TrainedModel, type Tree, type TreeEnsembleModel } from '../model.js';
import { Random } from '../random.js';
import { predict, termMagnitudes } from '../score.js';
import { CLASS_NAMES_INITIALIZER, exportOnnx } from './export.js';
import { checkParity } from './parity.js';
import { decode, ML_DOMAIN, PRODUCER_NAME } from './writer.js';

const TOLERANCE = 1e-5;
const ROWS = 1500;
const TRAIN = Uint32Array.from({ length: 1000 }, (_, i) => i);
const ALL = Uint32Array.from({ length: ROWS }, (_, i) => i);

/**
 * Raw columns mixing every kind: numeric with missing values, a constant
 * numeric, a boolean with missing values, and categoricals with null, "",
 * a long tail cut by maxCategories, and values that appear only after the
 * training rows.
 */
function makeColumns(seed: number): FeatureColumn[] {
  const random = new Random(seed);
  const n = ROWS;
  const income = new Float64Array(n);
  const age = new Float64Array(n);
  const constant = new Float64Array(n);
  const member = new Float64Array(n);
  const color: (string | null)[] = [];
  const city: (string | null)[] = [];
  const colors = ['red', 'green', 'blue', 'black'];
  for (let i = 0; i < n; i++) {
    income[i] = random.next() < 0.1 ? NaN : 50 + 20 * random.normal();
    age[i] = random.next() < 0.05 ? NaN : Math.floor(18 + 60 * random.next());
    constant[i] = random.next() < 0.2 ? NaN : 3.25;
    member[i] = random.next() < 0.1 ? NaN : random.next() < 0.3 ? 1 : 0;
    const c = random.next();
    color.push(c < 0.05 ? null : c < 0.08 ? '' : i >= TRAIN.length && c > 0.95 ? 'violet' : colors[random.int(colors.length)]!);
    // Zipf-ish tail: 30 cities, maxCategories = 8 keeps the most frequent.
    city.push(random.next() < 0.05 ? null : `city${Math.floor(30 * random.next() ** 2)}`);
  }
  return [
    { name: 'income', kind: 'numeric', values: income },
    { name: 'color', kind: 'categorical', values: color },
    { name: 'age', kind: 'numeric', values: age },
    { name: 'member', kind: 'boolean', values: member },
    { name: 'constant', kind: 'numeric', values: constant },
    { name: 'city', kind: 'categorical', values: city },
  ];
}

const COLUMNS = makeColumns(7);

const PREPROCESSING: Record<string, PreprocessOptions> = {
  'standardized+onehot': { standardize: true, categorical: 'onehot', maxCategories: 8 },
  'raw+ordinal': { standardize: false, categorical: 'ordinal', maxCategories: 8 },
};

function randomLayer(random: Random, inputs: number, outputs: number, scale: number): DenseLayer {
  return {
    inputs,
    outputs,
    weights: Float32Array.from({ length: inputs * outputs }, () => (scale * random.normal()) / Math.sqrt(inputs)),
    bias: Float32Array.from({ length: outputs }, () => 0.1 * random.normal()),
  };
}

/** A random valid tree whose thresholds are values of the data (ties exercise `<=`). */
function randomTree(random: Random, x: Matrix, output: number, depth: number): Tree {
  const feature: number[] = [];
  const threshold: number[] = [];
  const left: number[] = [];
  const right: number[] = [];
  const value: number[] = [];
  const grow = (level: number): number => {
    const id = feature.length;
    feature.push(-1);
    threshold.push(0);
    left.push(0);
    right.push(0);
    value.push(0);
    if (level === depth || random.next() < 0.15) {
      value[id] = 0.5 * random.normal();
      return id;
    }
    const f = random.int(x.cols);
    feature[id] = f;
    threshold[id] = x.data[random.int(x.rows) * x.cols + f]!;
    left[id] = grow(level + 1);
    right[id] = grow(level + 1);
    return id;
  };
  grow(0);
  return {
    output,
    feature: Int32Array.from(feature),
    threshold: Float32Array.from(threshold),
    left: Int32Array.from(left),
    right: Int32Array.from(right),
    value: Float32Array.from(value),
  };
}

function randomModel(kind: TrainedModel['kind'], link: Link, classes: number, x: Matrix, seed: number): TrainedModel {
  const random = new Random(seed);
  const targets = scoreColumns(link, classes);
  switch (kind) {
    case 'linear':
      return { kind, link, layer: randomLayer(random, x.cols, targets, 1) };
    case 'mlp':
      return {
        kind,
        link,
        activation: 'relu',
        layers: [randomLayer(random, x.cols, 16, 1.5), randomLayer(random, 16, 8, 1.5), randomLayer(random, 8, targets, 1.5)],
      };
    case 'trees': {
      const trees: Tree[] = [];
      // For multiclass, the last class gets no tree: its score is the base score alone.
      const covered = targets > 2 ? targets - 1 : targets;
      for (let t = 0; t < 60; t++) trees.push(randomTree(random, x, t % covered, 1 + (t % 5)));
      return { kind, link, baseScore: Float32Array.from({ length: targets }, () => random.normal()), trees };
    }
  }
}

const CASES: { task: Task; link: Link; classNames: string[] }[] = [
  { task: 'regression', link: 'identity', classNames: [] },
  { task: 'classification', link: 'sigmoid', classNames: ['no', 'yes'] },
  { task: 'classification', link: 'softmax', classNames: ['setosa', 'versicolor', 'virginica', 'other'] },
];

interface Exported {
  pre: Preprocessor;
  model: TrainedModel;
  bytes: Uint8Array;
  expected: Float32Array;
}

function exportCase(kind: TrainedModel['kind'], task: Task, link: Link, classNames: string[], options: PreprocessOptions, seed: number): Exported {
  const pre = fitPreprocessor(COLUMNS, TRAIN, options);
  const x = transform(pre, COLUMNS, ALL);
  const classes = task === 'classification' ? classNames.length : 1;
  const model = randomModel(kind, link, classes, x, seed);
  const bytes = exportOnnx({ preprocessor: pre, model, task, classNames, metadata: { task, algorithm: kind }, graphName: `test_${kind}_${link}` });
  return { pre, model, bytes, expected: predict(model, x, classes) };
}

describe('exportOnnx parity with score.ts', () => {
  let seed = 100;
  for (const [preName, options] of Object.entries(PREPROCESSING)) {
    for (const kind of ['linear', 'mlp', 'trees'] as const) {
      for (const { task, link, classNames } of CASES) {
        const caseSeed = seed++;
        it(`${kind} ${link} (${task}), ${preName}`, async () => {
          const { pre, bytes, expected, model } = exportCase(kind, task, link, classNames, options, caseSeed);
          const magnitudes = termMagnitudes(model, transform(pre, COLUMNS, ALL));
          const report = await checkParity(bytes, pre, COLUMNS, ALL, expected, task, { batchRows: 400, magnitudes });
          expect(report.rows).toBe(ROWS);
          expect(report.maxScaledDifference).toBeLessThanOrEqual(TOLERANCE);
          if (task === 'classification') {
            expect(report.maxAbsDifference).toBeLessThanOrEqual(TOLERANCE);
            expect(report.labelMismatches).toBe(0);
          } else {
            // Regression values reach ~150 on raw features: float32 rounding alone is ~1e-5 there.
            const largest = expected.reduce((m, v) => Math.max(m, Math.abs(v)), 1);
            expect(report.maxAbsDifference).toBeLessThanOrEqual(TOLERANCE * largest);
            expect(report.labelMismatches).toBeUndefined();
          }
        });
      }
    }
  }

  it('sums many trees like score.ts (double accumulation, exact thresholds)', async () => {
    const pre = fitPreprocessor(COLUMNS, TRAIN, PREPROCESSING['raw+ordinal']!);
    const x = transform(pre, COLUMNS, ALL);
    const random = new Random(5);
    const trees = Array.from({ length: 3000 }, () => randomTree(random, x, 0, 3));
    for (const tree of trees) for (let i = 0; i < tree.value.length; i++) tree.value[i] = 0.1 + 0.01 * random.normal();
    const model: TreeEnsembleModel = { kind: 'trees', link: 'identity', baseScore: Float32Array.from([0.5]), trees };
    const bytes = exportOnnx({ preprocessor: pre, model, task: 'regression', classNames: [], metadata: {}, graphName: 'many' });
    const report = await checkParity(bytes, pre, COLUMNS, ALL, predict(model, x, 1), 'regression');
    // Sums reach ~300: float32 accumulation of 3000 leaves would drift by ~1e-4.
    expect(report.maxAbsDifference).toBe(0);
  });

  it('runs single-row batches and a subset of rows', async () => {
    const { pre, bytes, model } = exportCase('trees', 'classification', 'softmax', CASES[2]!.classNames, PREPROCESSING['standardized+onehot']!, 42);
    const rows = Uint32Array.from([1499, 3, 1200, 0]);
    const expected = predict(model, transform(pre, COLUMNS, rows), 4);
    const report = await checkParity(bytes, pre, COLUMNS, rows, expected, 'classification', { batchRows: 1 });
    expect(report.rows).toBe(4);
    expect(report.maxAbsDifference).toBeLessThanOrEqual(TOLERANCE);
    expect(report.labelMismatches).toBe(0);
    expect(rows).toContain(report.worst?.row);
  });

  it('never passes a non-finite prediction, even beside terms of infinite magnitude', async () => {
    // Prepare: a regression beyond float32 (a target of 1e39): onnxruntime and the trainer both say Infinity.
    const pre = fitPreprocessor(COLUMNS, TRAIN, PREPROCESSING['raw+ordinal']!);
    const model: TreeEnsembleModel = { kind: 'trees', link: 'identity', baseScore: Float32Array.from([1e39]), trees: [] };
    const bytes = exportOnnx({ preprocessor: pre, model, task: 'regression', classNames: [], metadata: {}, graphName: 'beyond' });
    const expected = predict(model, transform(pre, COLUMNS, ALL), 1);

    // Act
    const report = await checkParity(bytes, pre, COLUMNS, ALL, expected, 'regression', { magnitudes: new Float64Array(ROWS).fill(Infinity) });

    // Assess
    expect(report.maxAbsDifference).toBe(Infinity);
    expect(report.maxScaledDifference).toBe(Infinity);
  });

  it('handles an ensemble without trees (base scores only)', async () => {
    const pre = fitPreprocessor(COLUMNS, TRAIN, PREPROCESSING['raw+ordinal']!);
    const x = transform(pre, COLUMNS, ALL);
    const model: TreeEnsembleModel = { kind: 'trees', link: 'softmax', baseScore: Float32Array.from([0.2, -0.1, 0.4]), trees: [] };
    const bytes = exportOnnx({ preprocessor: pre, model, task: 'classification', classNames: ['a', 'b', 'c'], metadata: {}, graphName: 'empty' });
    const report = await checkParity(bytes, pre, COLUMNS, ALL, predict(model, x, 3), 'classification');
    expect(report.maxAbsDifference).toBeLessThanOrEqual(TOLERANCE);
    expect(report.labelMismatches).toBe(0);
  });
});

describe('exported preprocessing equals transform bit for bit', () => {
  for (const [preName, options] of Object.entries(PREPROCESSING)) {
    it(preName, async () => {
      const pre = fitPreprocessor(COLUMNS, TRAIN, options);
      const x = transform(pre, COLUMNS, ALL);
      // A regression on one unit weight returns that matrix column exactly.
      for (let column = 0; column < x.cols; column++) {
        const weights = new Float32Array(x.cols);
        weights[column] = 1;
        const model: TrainedModel = { kind: 'linear', link: 'identity', layer: { inputs: x.cols, outputs: 1, weights, bias: new Float32Array(1) } };
        const bytes = exportOnnx({ preprocessor: pre, model, task: 'regression', classNames: [], metadata: {}, graphName: 'column' });
        const expected = Float32Array.from({ length: ROWS }, (_, r) => x.data[r * x.cols + column]!);
        const report = await checkParity(bytes, pre, COLUMNS, ALL, expected, 'regression');
        expect(report.maxAbsDifference, `column ${column}`).toBe(0);
      }
    });
  }
});

describe('checkParity detects wrong graphs', () => {
  const options = PREPROCESSING['standardized+onehot']!;

  it('a corrupted linear weight', async () => {
    const { pre, model, expected } = exportCase('linear', 'classification', 'softmax', CASES[2]!.classNames, options, 1);
    if (model.kind !== 'linear') throw new Error('expected a linear model');
    const weights = model.layer.weights.slice();
    weights[3]! += 0.05;
    const corrupted: TrainedModel = { ...model, layer: { ...model.layer, weights } };
    const bytes = exportOnnx({ preprocessor: pre, model: corrupted, task: 'classification', classNames: CASES[2]!.classNames, metadata: {}, graphName: 'bad' });
    const report = await checkParity(bytes, pre, COLUMNS, ALL, expected, 'classification');
    expect(report.maxAbsDifference).toBeGreaterThan(TOLERANCE);
    expect(ALL).toContain(report.worst?.row);
  });

  it('a corrupted leaf value', async () => {
    const { pre, model, expected } = exportCase('trees', 'regression', 'identity', [], options, 2);
    if (model.kind !== 'trees') throw new Error('expected trees');
    const value = model.trees[0]!.value.slice();
    for (let i = 0; i < value.length; i++) value[i]! += 0.001;
    const corrupted: TrainedModel = { ...model, trees: [{ ...model.trees[0]!, value }, ...model.trees.slice(1)] };
    const bytes = exportOnnx({ preprocessor: pre, model: corrupted, task: 'regression', classNames: [], metadata: {}, graphName: 'bad' });
    const report = await checkParity(bytes, pre, COLUMNS, ALL, expected, 'regression');
    expect(report.maxAbsDifference).toBeGreaterThan(TOLERANCE);
  });

  it('a different preprocessing (means fitted on other rows)', async () => {
    const { pre, model, expected } = exportCase('mlp', 'regression', 'identity', [], options, 3);
    const other: Preprocessor = {
      ...pre,
      features: pre.features.map((f) => (f.kind === 'numeric' && f.scaling !== null ? { ...f, scaling: { ...f.scaling, mean: f.scaling.mean + 0.01 } } : f)),
    };
    const bytes = exportOnnx({ preprocessor: other, model, task: 'regression', classNames: [], metadata: {}, graphName: 'bad' });
    const report = await checkParity(bytes, other, COLUMNS, ALL, expected, 'regression');
    expect(report.maxAbsDifference).toBeGreaterThan(TOLERANCE);
  });

  it('wrong labels', async () => {
    const { pre, model, expected } = exportCase('linear', 'classification', 'sigmoid', ['no', 'yes'], options, 4);
    const bytes = exportOnnx({ preprocessor: pre, model, task: 'classification', classNames: ['yes', 'no'], metadata: {}, graphName: 'swapped' });
    // The probabilities are right; only the caller's class names reveal the swapped labels.
    const blind = await checkParity(bytes, pre, COLUMNS, ALL, expected, 'classification');
    expect(blind.maxAbsDifference).toBeLessThanOrEqual(TOLERANCE);
    expect(blind.labelMismatches).toBe(0);
    const report = await checkParity(bytes, pre, COLUMNS, ALL, expected, 'classification', { classNames: ['no', 'yes'] });
    expect(report.maxAbsDifference).toBeLessThanOrEqual(TOLERANCE);
    expect(report.labelMismatches).toBe(ROWS);
  });

  it('checks the expected length', async () => {
    const { pre, bytes, expected } = exportCase('linear', 'regression', 'identity', [], options, 5);
    await expect(checkParity(bytes, pre, COLUMNS, ALL, expected.subarray(1), 'regression')).rejects.toThrow(/expected 1500 values/);
  });
});

describe('exported model structure', () => {
  it('has one [batch, 1] input per raw feature and the platform outputs (classification)', async () => {
    const classNames = ['no', 'yes'];
    const { bytes } = exportCase('trees', 'classification', 'sigmoid', classNames, PREPROCESSING['standardized+onehot']!, 9);
    const signature = await inspectOnnxModel(bytes);
    expect(signature.inputs).toEqual([
      { name: 'income', datatype: 'FP32', shape: [-1, 1] },
      { name: 'color', datatype: 'BYTES', shape: [-1, 1] },
      { name: 'age', datatype: 'FP32', shape: [-1, 1] },
      { name: 'member', datatype: 'BOOL', shape: [-1, 1] },
      { name: 'constant', datatype: 'FP32', shape: [-1, 1] },
      { name: 'city', datatype: 'BYTES', shape: [-1, 1] },
    ]);
    expect(signature.outputs).toEqual([
      { name: 'label', datatype: 'BYTES', shape: [-1] },
      { name: 'probabilities', datatype: 'FP32', shape: [-1, 2] },
    ]);

    const model = decode(bytes);
    expect(Number(model.irVersion)).toBe(8);
    expect(model.producerName).toBe(PRODUCER_NAME);
    expect(model.opsetImport.map((o) => [o.domain, Number(o.version)])).toEqual([
      ['', 13],
      [ML_DOMAIN, 3],
    ]);
    expect(model.metadataProps.map((p) => [p.key, p.value])).toEqual([
      ['algorithm', 'trees'],
      // Every input but the BOOL one imputes missing values.
      ['missing_values', JSON.stringify(['income', 'color', 'age', 'constant', 'city'])],
      ['task', 'classification'],
    ]);
    expect([...readOnnxMetadata(bytes)]).toEqual(model.metadataProps.map((p) => [p.key, p.value]));
    expect(model.graph?.name).toBe('test_trees_sigmoid');
    expect(model.graph?.input?.[0]?.type?.tensorType?.shape?.dim?.[0]?.dimParam).toBe('batch');
    const nodes = model.graph?.node ?? [];
    expect(nodes.every((n) => typeof n.name === 'string' && n.name.length > 0)).toBe(true);
    expect(new Set(nodes.map((n) => n.name)).size).toBe(nodes.length);
    const names = model.graph?.initializer?.find((t) => t.name === CLASS_NAMES_INITIALIZER);
    expect(names?.stringData?.map((s) => new TextDecoder().decode(s))).toEqual(classNames);
  });

  it('has a `value` [batch] output for regression and no ai.onnx.ml import without categoricals or trees', async () => {
    const columns = COLUMNS.filter((c) => c.kind !== 'categorical');
    const pre = fitPreprocessor(columns, TRAIN, PREPROCESSING['standardized+onehot']!);
    const model: TrainedModel = { kind: 'linear', link: 'identity', layer: randomLayer(new Random(1), pre.outputColumns, 1, 1) };
    const bytes = exportOnnx({ preprocessor: pre, model, task: 'regression', classNames: [], metadata: {}, graphName: 'reg' });
    const signature = await inspectOnnxModel(bytes);
    expect(signature.inputs.map((i) => i.name)).toEqual(['income', 'age', 'member', 'constant']);
    expect(signature.outputs).toEqual([{ name: 'value', datatype: 'FP32', shape: [-1] }]);
    expect(decode(bytes).opsetImport.map((o) => o.domain)).toEqual(['']);
  });

  it('is deterministic', () => {
    const a = exportCase('mlp', 'classification', 'softmax', CASES[2]!.classNames, PREPROCESSING['raw+ordinal']!, 11).bytes;
    const b = exportCase('mlp', 'classification', 'softmax', CASES[2]!.classNames, PREPROCESSING['raw+ordinal']!, 11).bytes;
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
  });

  it('rejects inconsistent requests', () => {
    const pre = fitPreprocessor(COLUMNS, TRAIN, PREPROCESSING['raw+ordinal']!);
    const layer = randomLayer(new Random(1), pre.outputColumns, 1, 1);
    const base = { preprocessor: pre, classNames: [] as string[], metadata: {}, graphName: 'g' };
    expect(() => exportOnnx({ ...base, task: 'regression', model: { kind: 'linear', link: 'sigmoid', layer } })).toThrow(/identity link/);
    expect(() => exportOnnx({ ...base, task: 'classification', classNames: ['a', 'b', 'c'], model: { kind: 'linear', link: 'sigmoid', layer } })).toThrow(
      /2 class names/,
    );
    expect(() => exportOnnx({ ...base, task: 'regression', model: { kind: 'linear', link: 'identity', layer: randomLayer(new Random(1), 3, 1, 1) } })).toThrow(
      /expects 3 inputs/,
    );
    const clash = fitPreprocessor([{ name: 'value', kind: 'numeric', values: Float64Array.from([1, 2]) }], Uint32Array.from([0, 1]), PREPROCESSING['raw+ordinal']!);
    const one = randomLayer(new Random(1), 1, 1, 1);
    expect(() => exportOnnx({ ...base, preprocessor: clash, task: 'regression', model: { kind: 'linear', link: 'identity', layer: one } })).toThrow(/clash/);
  });
});
