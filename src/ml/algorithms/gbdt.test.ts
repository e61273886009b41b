import { describe, expect, it } from 'vitest';
import * as z from 'zod/mini';
import { TrainingStoppedError, type Examples, type Matrix, type TrainingContext, type TrainingProgress, type Tree } from '../model.js';
import { Random } from '../random.js';
import { predict, rawScores } from '../score.js';
import { fitGbdt, gbdtParameters, gbdtWorkingBytes, trainGbdt, type GbdtParameters } from './gbdt.js';
import { baseScores, gradientsAndLoss, meanLoss, type Objective } from './gbdt-loss.js';
import { binCount, binEdge, binMatrix, binOf, fitBins, sortFloat32 } from './histogram-binning.js';

const params = (overrides: Partial<GbdtParameters> = {}): GbdtParameters => z.parse(gbdtParameters, overrides);
const regression: TrainingContext = { task: 'regression', classes: 1, seed: 1 };
const binary: TrainingContext = { task: 'classification', classes: 2, seed: 1 };
const none = (cols: number): Examples => ({ x: { rows: 0, cols, data: new Float32Array() }, y: new Float64Array() });

function matrix(rows: number, cols: number, value: (r: number, c: number) => number): Matrix {
  const data = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) data[r * cols + c] = value(r, c);
  return { rows, cols, data };
}

function examples(x: Matrix, label: (row: Float32Array, r: number) => number): Examples {
  const y = new Float64Array(x.rows);
  for (let r = 0; r < x.rows; r++) y[r] = label(x.data.subarray(r * x.cols, (r + 1) * x.cols), r);
  return { x, y };
}

/** Classes of the highest probability per row. */
function predictedClasses(probabilities: Float32Array, rows: number, classes: number): Int32Array {
  const out = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    let best = 0;
    for (let k = 1; k < classes; k++) if (probabilities[r * classes + k]! > probabilities[r * classes + best]!) best = k;
    out[r] = best;
  }
  return out;
}

function accuracy(data: Examples, probabilities: Float32Array, classes: number): number {
  const predicted = predictedClasses(probabilities, data.x.rows, classes);
  let correct = 0;
  for (let r = 0; r < data.x.rows; r++) if (predicted[r] === data.y[r]) correct++;
  return correct / data.x.rows;
}

/** The leaf `row` of `x` reaches in `tree`. */
function leafOf(tree: Tree, x: Matrix, row: number): number {
  let node = 0;
  while (tree.feature[node]! >= 0) node = x.data[row * x.cols + tree.feature[node]!]! <= tree.threshold[node]! ? tree.left[node]! : tree.right[node]!;
  return node;
}

function blobs(rows: number, seed: number): Examples {
  const random = new Random(seed);
  const centres = [
    [0, 0],
    [4, 0],
    [0, 4],
  ];
  const y = new Float64Array(rows);
  const x = matrix(rows, 2, (r, c) => {
    const k = r % 3;
    y[r] = k;
    return centres[k]![c]! + random.normal();
  });
  return { x, y };
}

describe('gbdtParameters', () => {
  it('fills in the defaults', () => {
    expect(z.parse(gbdtParameters, {})).toEqual({
      learningRate: 0.1,
      maxIterations: 100,
      maxDepth: 8,
      maxLeaves: 31,
      minSamplesLeaf: 20,
      l2: 0,
      maxBins: 255,
      earlyStopping: true,
      patience: 10,
      tolerance: 1e-7,
    });
  });

  it.each([
    { learningRate: 0 },
    { learningRate: 1.5 },
    { learningRate: Number.NaN },
    { maxIterations: 0 },
    { maxIterations: 10_001 },
    { maxIterations: 2.5 },
    { maxDepth: 0 },
    { maxDepth: 17 },
    { maxLeaves: 1 },
    { maxLeaves: 1025 },
    { minSamplesLeaf: 0 },
    { l2: -1 },
    { l2: Number.POSITIVE_INFINITY },
    { maxBins: 1 },
    { maxBins: 256 },
    { earlyStopping: 'yes' },
    { patience: 0 },
    { tolerance: -1e-9 },
    { learningRate: '0.1' },
  ])('rejects %o', (bad) => {
    expect(z.safeParse(gbdtParameters, bad).success).toBe(false);
  });

  it('accepts the bounds', () => {
    const result = z.safeParse(gbdtParameters, { learningRate: 1, maxIterations: 10_000, maxDepth: 16, maxLeaves: 1024, maxBins: 2, minSamplesLeaf: 1 });
    expect(result.success).toBe(true);
  });
});

describe('fitBins', () => {
  it('puts every edge halfway between data values and bins exactly as x <= edge', () => {
    const random = new Random(3);
    // Awkward float32 values: duplicates, neighbours one ulp apart, a wide range, more distinct values than bins.
    const pool = Float32Array.from({ length: 400 }, () => random.normal() * 1e3);
    const neighbour = new Float32Array(new Uint32Array(Float32Array.from([pool[0]!]).buffer).map((bits) => bits + 1).buffer)[0]!;
    // Column 3 is heavy-tailed: most of its edges crowd into a few cells of binMatrix's uniform lookup grid.
    const x = matrix(5000, 4, (r, c) => (c === 0 ? pool[r % pool.length]! : c === 1 ? (r % 7 === 0 ? neighbour : pool[0]!) : c === 2 ? 42 : Math.exp(random.normal() * 8)));
    const mapper = fitBins(x, 32, 9, 700);
    expect(binCount(mapper, 0)).toBeLessThanOrEqual(32);
    expect(binCount(mapper, 1)).toBe(2);
    expect(binCount(mapper, 2)).toBe(1);
    const binned = binMatrix(x, mapper);
    const values = new Set(x.data);
    // The one pair of float32 neighbours has no float32 between them: its edge is the lower one.
    const neighbours = new Set([pool[0]!, neighbour]);
    let checked = 0;
    const mismatches: string[] = [];
    for (let f = 0; f < x.cols; f++) {
      for (let b = 0; b < binCount(mapper, f) - 1; b++) {
        const edge = binEdge(mapper, f, b);
        if (values.has(edge) && !neighbours.has(edge)) mismatches.push(`edge ${edge} of feature ${f} is a data value, not a midpoint`);
        for (let r = 0; r < x.rows; r++, checked++) {
          const v = x.data[r * x.cols + f]!;
          if (binned[f * x.rows + r]! <= b !== v <= edge) mismatches.push(`feature ${f} row ${r}: ${v} in bin ${binned[f * x.rows + r]}, edge ${b} is ${edge}`);
        }
      }
      for (let r = 0; r < x.rows; r++) {
        if (binned[f * x.rows + r] !== binOf(mapper, f, x.data[r * x.cols + f]!)) mismatches.push(`feature ${f} row ${r}: binMatrix and binOf disagree`);
      }
    }
    expect(mismatches.slice(0, 5)).toEqual([]);
    expect(binCount(mapper, 3)).toBe(32);
    expect(checked).toBeGreaterThan(5000 * 50);
  });

  it('takes the float32 midpoint of neighbouring values, kept below the upper one', () => {
    // Prepare: values 1, 2 | 5 (class-free: edges depend on the values only), a pair of float32 neighbours, and +∞.
    const one = Math.fround(1.1);
    const next = new Float32Array(new Uint32Array(Float32Array.of(one).buffer).map((bits) => bits + 1).buffer)[0]!;
    const x = matrix(8, 3, (r, c) => (c === 0 ? [1, 2, 5, 5, 1, 2, 5, 1][r]! : c === 1 ? (r % 2 === 0 ? one : next) : r < 4 ? 7 : Infinity));

    // Act
    const mapper = fitBins(x, 255, 1);

    // Assess
    expect([binEdge(mapper, 0, 0), binEdge(mapper, 0, 1)]).toEqual([1.5, 3.5]);
    expect(binEdge(mapper, 1, 0)).toBe(one);
    expect(binEdge(mapper, 2, 0)).toBe(7);
    expect(binOf(mapper, 0, 3.4)).toBe(1);
    expect(binOf(mapper, 0, 3.6)).toBe(2);
  });

  it('draws the sample with the seed', () => {
    const random = new Random(5);
    const x = matrix(3000, 1, () => random.normal());
    expect(fitBins(x, 16, 1, 500).edges).toEqual(fitBins(x, 16, 1, 500).edges);
    expect(fitBins(x, 16, 1, 500).edges).not.toEqual(fitBins(x, 16, 2, 500).edges);
  });
});

describe('sortFloat32', () => {
  it('sorts like a numeric sort, signs, zeros and infinities included', () => {
    const random = new Random(29);
    const special = [0, -0, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 3.4e38, -3.4e38, 1e-45, -1e-45, 1, -1];
    const values = Float32Array.from({ length: 5000 }, (_, i) => (i < special.length ? special[i]! : random.normal() * 10 ** random.int(8)));
    const negativeZeroFirst = (a: number, b: number): number => a - b || (Object.is(a, -0) ? -1 : 0) + (Object.is(b, -0) ? 1 : 0);
    const expected = Array.from(values).sort(negativeZeroFirst);
    sortFloat32(values, new Uint32Array(values.length), new Uint32Array(values.length));
    expect(Array.from(values)).toEqual(expected);
  });
});

describe('gbdt losses', () => {
  it.each([
    ['squared', 1, [0.5, -1.2, 3]],
    ['logistic', 1, [0, 1, 1]],
    ['softmax', 3, [2, 0, 1]],
  ] as const)('has the derivatives of its loss (%s)', (objective: Objective, columns, labels) => {
    const y = Float64Array.from(labels);
    const n = y.length;
    const scores = Float64Array.from({ length: n * columns }, (_, i) => Math.sin(i + 1) * 2);
    const grad = new Float32Array(n * columns);
    const hess = new Float32Array(n * columns);
    const loss = gradientsAndLoss(objective, scores, y, columns, grad, hess);
    expect(loss).toBeCloseTo(meanLoss(objective, scores, y, columns), 12);
    // Per-row loss derivatives by central differences (the mean loss is n × smaller).
    const h = 1e-4;
    const rowLoss = (s: Float64Array): number => meanLoss(objective, s, y, columns) * n;
    for (let r = 0; r < n; r++) {
      for (let k = 0; k < columns; k++) {
        const at = r * columns + k;
        const plus = Float64Array.from(scores);
        const minus = Float64Array.from(scores);
        plus[at]! += h;
        minus[at]! -= h;
        const first = (rowLoss(plus) - rowLoss(minus)) / (2 * h);
        const second = (rowLoss(plus) - 2 * rowLoss(scores) + rowLoss(minus)) / (h * h);
        // squared: the loss is reported as MSE, twice the ½(s − y)² the derivatives are of.
        const scale = objective === 'squared' ? 2 : 1;
        expect(grad[k * n + r]! * scale).toBeCloseTo(first, 3);
        if (objective !== 'squared') expect(hess[k * n + r]!).toBeCloseTo(second, 2);
      }
    }
  });

  it('starts from the mean, the log-odds and the log priors', () => {
    expect(baseScores('squared', Float64Array.from([1, 2, 6]), 1)[0]).toBeCloseTo(3, 6);
    expect(baseScores('logistic', Float64Array.from([1, 0, 0, 0]), 1)[0]).toBeCloseTo(Math.log(1 / 3), 6);
    const priors = baseScores('softmax', Float64Array.from([0, 1, 1, 2, 2, 2]), 3);
    expect(Array.from(priors).map(Math.exp)).toEqual([expect.closeTo(1 / 6, 6), expect.closeTo(2 / 6, 6), expect.closeTo(3 / 6, 6)]);
    expect(Number.isFinite(baseScores('logistic', Float64Array.from([1, 1]), 1)[0])).toBe(true);
  });
});

describe('trainGbdt', () => {
  it('fits a step function with stumps', () => {
    const x = matrix(1000, 1, (r) => (r % 100) / 100);
    const data = examples(x, (row) => (row[0]! < 0.5 ? 1 : 3));
    const model = trainGbdt(data, none(1), params({ maxDepth: 1, maxIterations: 150, learningRate: 0.3 }), regression);
    expect(model.kind).toBe('trees');
    expect(model.link).toBe('identity');
    expect(model.baseScore[0]).toBeCloseTo(2, 6);
    for (const tree of model.trees) expect(tree.feature.length).toBe(3);
    const predictions = predict(model, x, 1);
    for (let r = 0; r < x.rows; r++) expect(Math.abs(predictions[r]! - data.y[r]!)).toBeLessThan(1e-3);
  });

  it('separates two classes perfectly', () => {
    const random = new Random(11);
    const points: number[] = [];
    while (points.length < 2 * 600) {
      const a = random.next();
      const b = random.next();
      if (Math.abs(a + b - 1) > 0.05) points.push(a, b);
    }
    const x: Matrix = { rows: 600, cols: 2, data: Float32Array.from(points) };
    const data = examples(x, (row) => (row[0]! + row[1]! > 1 ? 1 : 0));
    const model = trainGbdt(data, none(2), params({ minSamplesLeaf: 3, maxIterations: 200, learningRate: 0.3 }), binary);
    expect(model.link).toBe('sigmoid');
    expect(model.baseScore.length).toBe(1);
    expect(accuracy(data, predict(model, x, 2), 2)).toBe(1);
  });

  it('classifies three blobs', () => {
    const train = blobs(600, 21);
    const test = blobs(600, 22);
    const ctx: TrainingContext = { task: 'classification', classes: 3, seed: 4 };
    const model = trainGbdt(train, none(2), params({ maxIterations: 50 }), ctx);
    expect(model.link).toBe('softmax');
    expect(model.baseScore.length).toBe(3);
    expect(model.trees.length).toBe(150);
    expect(model.trees.map((tree) => tree.output).slice(0, 6)).toEqual([0, 1, 2, 0, 1, 2]);
    const probabilities = predict(model, test.x, 3);
    for (let r = 0; r < test.x.rows; r++) expect(probabilities[3 * r]! + probabilities[3 * r + 1]! + probabilities[3 * r + 2]!).toBeCloseTo(1, 5);
    expect(accuracy(train, predict(model, train.x, 3), 3)).toBeGreaterThan(0.97);
    expect(accuracy(test, probabilities, 3)).toBeGreaterThan(0.93);
  });

  it('fits a smooth regression', () => {
    const random = new Random(8);
    const x = matrix(2000, 3, () => random.next() * 6 - 3);
    const data = examples(x, (row) => Math.sin(row[0]!) + 0.5 * row[1]! * row[1]!);
    const model = trainGbdt(data, none(3), params({ maxIterations: 200 }), regression);
    const predictions = predict(model, x, 1);
    let residual = 0;
    let total = 0;
    let mean = 0;
    for (let r = 0; r < x.rows; r++) mean += data.y[r]! / x.rows;
    for (let r = 0; r < x.rows; r++) {
      residual += (predictions[r]! - data.y[r]!) ** 2;
      total += (data.y[r]! - mean) ** 2;
    }
    expect(1 - residual / total).toBeGreaterThan(0.98);
  });

  it('reports progress every round with falling training loss', () => {
    const data = blobs(300, 2);
    const progress: TrainingProgress[] = [];
    const validation = blobs(90, 3);
    trainGbdt(data, validation, params({ maxIterations: 12, earlyStopping: false }), {
      task: 'classification',
      classes: 3,
      seed: 1,
      onProgress: (p) => progress.push(p),
    });
    expect(progress.map((p) => p.iteration)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    expect(progress.every((p) => p.maxIterations === 12 && p.validationLoss !== undefined)).toBe(true);
    for (let i = 1; i < progress.length; i++) expect(progress[i]!.loss).toBeLessThan(progress[i - 1]!.loss);
  });

  it('stops early at the best validation round', () => {
    // Labels with 30% noise: deep trees on few rows soon fit the noise and the validation loss turns.
    const make = (rows: number, seed: number): Examples => {
      const random = new Random(seed);
      const x = matrix(rows, 5, () => random.normal());
      return examples(x, (row) => ((row[0]! > 0) !== random.next() < 0.3 ? 1 : 0));
    };
    const progress: TrainingProgress[] = [];
    const settings = params({ maxIterations: 300, learningRate: 0.3, minSamplesLeaf: 2, patience: 5, tolerance: 0 });
    const fit = fitGbdt(make(300, 1), make(300, 2), settings, { ...binary, onProgress: (p) => progress.push(p) });
    const losses = progress.map((p) => p.validationLoss!);
    const best = losses.indexOf(Math.min(...losses)) + 1;
    expect(progress.length).toBeLessThan(300);
    expect(progress.length).toBe(best + 5);
    expect(fit.trained).toBe(progress.length);
    expect(fit.rounds).toBe(best);
    expect(fit.model.trees.length).toBe(best);
  });

  it('keeps every round without validation rows or with early stopping off', () => {
    const data = blobs(120, 5);
    const ctx: TrainingContext = { task: 'classification', classes: 3, seed: 1 };
    expect(trainGbdt(data, none(2), params({ maxIterations: 7 }), ctx).trees.length).toBe(21);
    expect(trainGbdt(data, blobs(60, 6), params({ maxIterations: 7, earlyStopping: false }), ctx).trees.length).toBe(21);
  });

  it('throws TrainingStoppedError when asked to stop', () => {
    let polls = 0;
    const progress: TrainingProgress[] = [];
    const data = blobs(150, 1);
    const run = (): unknown =>
      trainGbdt(data, none(2), params(), {
        task: 'classification',
        classes: 3,
        seed: 1,
        shouldStop: () => ++polls >= 3,
        onProgress: (p) => progress.push(p),
      });
    expect(run).toThrow(TrainingStoppedError);
    expect(progress.length).toBe(2);
  });

  it('gives the same model for the same seed', () => {
    const random = new Random(13);
    const x = matrix(3000, 4, () => random.normal());
    const data = examples(x, (row) => (row[0]! * row[1]! + row[2]! > 0 ? 1 : 0));
    const settings = params({ maxIterations: 15 });
    const first = fitGbdt(data, none(4), settings, binary, { binSubsample: 500 }).model;
    const second = fitGbdt(data, none(4), settings, binary, { binSubsample: 500 }).model;
    expect(second).toEqual(first);
    const otherSeed = fitGbdt(data, none(4), settings, { ...binary, seed: 2 }, { binSubsample: 500 }).model;
    expect(otherSeed).not.toEqual(first);
  });

  it.each([
    ['regression', regression, 1],
    ['binary', binary, 2],
    ['multiclass', { task: 'classification', classes: 3, seed: 3 } satisfies TrainingContext, 3],
  ] as const)('builds the same trees with the WebAssembly histogram kernel and its JavaScript fallback (%s)', (_name, ctx, classes) => {
    const random = new Random(23);
    // 7 features (groups of 4 and 3), one constant (not splittable), one with few distinct values.
    const x = matrix(2500, 7, (_r, c) => (c === 5 ? 1 : c === 6 ? Math.floor(random.next() * 4) : random.normal()));
    const data = examples(x, (row) => {
      const score = row[0]! * row[1]! + row[2]! - 0.5 * row[6]! + 0.3 * random.normal();
      return classes === 1 ? score : classes === 2 ? Number(score > 0) : score < -0.5 ? 0 : score < 0.5 ? 1 : 2;
    });
    const settings = params({ maxIterations: 8, maxLeaves: 15, minSamplesLeaf: 5 });
    const wasm = fitGbdt(data, none(7), settings, ctx, { wasm: true });
    const javascript = fitGbdt(data, none(7), settings, ctx, { wasm: false });
    expect(javascript.model).toEqual(wasm.model);
    expect(javascript.trainScores).toEqual(wasm.trainScores);
  });

  it('reports the exact training loss every round on small sets and every 10th round on large ones', () => {
    const random = new Random(29);
    const x = matrix(70_000, 2, () => random.normal());
    const data = examples(x, (row) => Number(row[0]! + 0.5 * row[1]! > 0));
    const progress: TrainingProgress[] = [];
    const fit = fitGbdt(data, none(2), params({ maxIterations: 12, maxLeaves: 4 }), { ...binary, onProgress: (p) => progress.push(p) });
    expect(progress.map((p) => p.iteration)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    for (let i = 1; i < 9; i++) expect(progress[i]!.loss).toBe(progress[0]!.loss);
    expect(progress[9]!.loss).toBeLessThan(progress[8]!.loss);
    expect(progress[10]!.loss).toBe(progress[9]!.loss);
    expect(progress[11]!.loss).toBeCloseTo(meanLoss('logistic', fit.trainScores, data.y, 1), 12);
  });

  it.each([
    ['regression', regression, 1],
    ['binary', binary, 2],
    ['multiclass', { task: 'classification', classes: 4, seed: 3 } satisfies TrainingContext, 4],
  ] as const)('routes training rows through score.ts exactly as its binned splits did (%s)', (_name, ctx, classes) => {
    const random = new Random(17);
    // Few distinct values per feature (every one an edge), one-ulp neighbours, and a
    // bin sample smaller than the data so that rows outside it fall between or on edges.
    const pool = Float32Array.from({ length: 600 }, () => random.normal() * 100);
    const up = (v: number): number => new Float32Array(new Uint32Array(Float32Array.from([v]).buffer).map((bits) => (v >= 0 ? bits + 1 : bits - 1)).buffer)[0]!;
    const x = matrix(4000, 4, (r, c) => {
      if (c === 0) return pool[random.int(pool.length)]!;
      if (c === 1) return random.int(5) + (random.next() < 0.5 ? 0 : up(0.1) - 0.1);
      if (c === 2) return Math.fround(random.normal());
      return up(pool[random.int(20)]!);
    });
    const data = examples(x, (row) => {
      const score = Math.sin(row[0]! / 30) + row[1]! / 2 - row[2]! + (row[3]! > 0 ? 1 : 0);
      if (ctx.task === 'regression') return score;
      return classes === 2 ? (score > 1 ? 1 : 0) : Math.min(classes - 1, Math.max(0, Math.floor(score + 1)));
    });
    const fit = fitGbdt(data, none(4), params({ maxIterations: 30, maxBins: 64, minSamplesLeaf: 5, learningRate: 0.3 }), ctx, { binSubsample: 1000 });
    expect(fit.model.trees.length).toBe(30 * (classes > 2 ? classes : 1));
    const scores = rawScores(fit.model, x);
    expect(scores).toEqual(Float32Array.from(fit.trainScores));
    // And the splits are real: every internal node has a finite threshold and both children.
    for (const tree of fit.model.trees) {
      for (let node = 0; node < tree.feature.length; node++) {
        if (tree.feature[node]! < 0) continue;
        expect(Number.isFinite(tree.threshold[node]!)).toBe(true);
        expect(tree.left[node]).toBeGreaterThan(node);
        expect(tree.right[node]).toBeGreaterThan(node);
      }
    }
  });

  it('weighs rows: a row of weight 2 counts as that row twice', () => {
    // Prepare: fewer distinct values than bins, so both sets bin alike.
    const random = new Random(23);
    const x = matrix(300, 2, () => random.int(200) / 7);
    const data = examples(x, (row) => (row[0]! + row[1]! + random.normal() * 3 > 28 ? 1 : 0));
    const doubled = 60;
    const twice: Examples = {
      x: { rows: 300 + doubled, cols: 2, data: Float32Array.from([...x.data, ...x.data.subarray(0, 2 * doubled)]) },
      y: Float64Array.from([...data.y, ...data.y.subarray(0, doubled)]),
    };
    const weighted: Examples = { ...data, weights: Float64Array.from(data.y, (_, r) => (r < doubled ? 2 : 1)) };
    const given = params({ maxIterations: 10, minSamplesLeaf: 1 });

    // Act
    const byWeight = fitGbdt(weighted, none(2), given, binary);
    const byCopy = fitGbdt(twice, none(2), given, binary);

    // Assess
    expect(byWeight.model.baseScore[0]).toBeCloseTo(byCopy.model.baseScore[0]!, 6);
    const a = predict(byWeight.model, x, 2);
    const b = predict(byCopy.model, x, 2);
    for (let i = 0; i < a.length; i++) expect(a[i]).toBeCloseTo(b[i]!, 4);
  });

  it('never splits on a constant feature, and trains on constant data', () => {
    const random = new Random(19);
    const x = matrix(500, 2, (_r, c) => (c === 0 ? 7 : random.normal()));
    const data = examples(x, (row) => (row[1]! > 0.2 ? 5 : -1));
    const model = trainGbdt(data, none(2), params({ maxIterations: 10 }), regression);
    for (const tree of model.trees) for (const feature of tree.feature) expect(feature).not.toBe(0);
    expect(model.trees.some((tree) => tree.feature[0] === 1)).toBe(true);

    const flat = examples(
      matrix(50, 3, () => 1),
      (_row, r) => r % 2,
    );
    const constant = trainGbdt(flat, none(3), params({ maxIterations: 5 }), binary);
    expect(constant.trees.length).toBe(5);
    for (const tree of constant.trees) expect(Array.from(tree.feature)).toEqual([-1]);
    const probabilities = predict(constant, flat.x, 2);
    for (let r = 0; r < 50; r++) expect(probabilities[2 * r + 1]).toBeCloseTo(0.5, 6);
  });

  it('respects minSamplesLeaf, maxLeaves and maxDepth', () => {
    const random = new Random(23);
    const x = matrix(2000, 5, () => random.normal());
    const data = examples(x, (row) => row[0]! * 3 + Math.sin(row[1]! * 4) + row[2]! * row[3]! + random.normal() * 0.1);
    const check = (settings: GbdtParameters): void => {
      const model = trainGbdt(data, none(5), settings, regression);
      for (const tree of model.trees) {
        const counts = new Map<number, number>();
        for (let r = 0; r < x.rows; r++) {
          const leaf = leafOf(tree, x, r);
          counts.set(leaf, (counts.get(leaf) ?? 0) + 1);
        }
        const leaves = tree.feature.filter((f) => f < 0).length;
        expect(counts.size).toBe(leaves);
        expect(leaves).toBeLessThanOrEqual(settings.maxLeaves);
        for (const count of counts.values()) expect(count).toBeGreaterThanOrEqual(settings.minSamplesLeaf);
        expect(depth(tree, 0)).toBeLessThanOrEqual(settings.maxDepth);
      }
    };
    check(params({ maxIterations: 10, minSamplesLeaf: 137 }));
    check(params({ maxIterations: 10, minSamplesLeaf: 1, maxLeaves: 7 }));
    check(params({ maxIterations: 10, minSamplesLeaf: 1, maxLeaves: 64, maxDepth: 3 }));
  });

  it('rejects labels outside the classes', () => {
    const x = matrix(10, 1, (r) => r);
    expect(() => trainGbdt({ x, y: new Float64Array(10).fill(2) }, none(1), params(), binary)).toThrow(/class index/);
    expect(() => trainGbdt({ x, y: new Float64Array(10).fill(0.5) }, none(1), params(), binary)).toThrow(/class index/);
  });
});

function depth(tree: Tree, node: number): number {
  return tree.feature[node]! < 0 ? 0 : 1 + Math.max(depth(tree, tree.left[node]!), depth(tree, tree.right[node]!));
}

describe('gbdtWorkingBytes', () => {
  it('grows with the data and stays under the float32 matrix for a million rows', () => {
    const defaults = params();
    const million = gbdtWorkingBytes(1_000_000, 20, 2, defaults);
    expect(million).toBeGreaterThan(1_000_000 * 20);
    expect(million).toBeLessThan(1_000_000 * 20 * 4);
    expect(gbdtWorkingBytes(2_000_000, 20, 2, defaults)).toBeGreaterThan(million);
    expect(gbdtWorkingBytes(1_000_000, 20, 10, defaults)).toBeGreaterThan(million);
    expect(gbdtWorkingBytes(1_000_000, 20, 2, params({ maxLeaves: 255 }))).toBeGreaterThan(million);
  });
});
