import { describe, expect, it } from 'vitest';
import {
  estimateOutputColumns,
  featureNames,
  fitPreprocessor,
  matrixBytes,
  transform,
  type FeatureColumn,
  type PreprocessOptions,
} from './features.js';

const all = (n: number): Uint32Array => Uint32Array.from({ length: n }, (_, i) => i);
const row = (data: Float32Array, cols: number, r: number): number[] => Array.from(data.subarray(r * cols, (r + 1) * cols));
const options = (overrides: Partial<PreprocessOptions> = {}): PreprocessOptions => ({
  standardize: false,
  categorical: 'onehot',
  maxCategories: 64,
  ...overrides,
});

describe('fitPreprocessor / transform: numeric', () => {
  const column: FeatureColumn = { name: 'x', kind: 'numeric', values: Float64Array.from([1, 2, NaN, 3, 100]) };

  it('imputes missing values with the training mean, as float32', () => {
    const pre = fitPreprocessor([column], Uint32Array.from([0, 1, 2, 3]), options());
    expect(pre.features[0]).toEqual({ name: 'x', kind: 'numeric', impute: 2, scaling: null });
    expect(Array.from(transform(pre, [column], all(5)).data)).toEqual([1, 2, 2, 3, 100]);
  });

  it('stores float32 values and rounds raw values to float32', () => {
    const thirds: FeatureColumn = { name: 't', kind: 'numeric', values: Float64Array.from([0, 1, 0.1, NaN]) };
    const pre = fitPreprocessor([thirds], all(4), options());
    const feature = pre.features[0]!;
    expect(feature.kind === 'numeric' && feature.impute).toBe(Math.fround((0 + 1 + Math.fround(0.1)) / 3));
    expect(transform(pre, [thirds], Uint32Array.from([2])).data[0]).toBe(Math.fround(0.1));
  });

  it('standardizes with the training mean and population standard deviation in float32 arithmetic', () => {
    const pre = fitPreprocessor([column], Uint32Array.from([0, 1, 3]), options({ standardize: true }));
    const feature = pre.features[0]!;
    expect(feature.kind).toBe('numeric');
    if (feature.kind !== 'numeric') return;
    const scale = Math.fround(Math.sqrt(2 / 3));
    expect(feature.scaling).toEqual({ mean: 2, scale });
    const x = transform(pre, [column], all(5)).data;
    const expected = [1, 2, 2, 3, 100].map((v) => Math.fround(Math.fround(v - 2) / scale));
    expect(Array.from(x)).toEqual(expected);
    expect(x[2]).toBe(0); // missing → mean → 0
  });

  it('uses scale 1 for a constant feature (zero variance) and for a feature without values', () => {
    const constant: FeatureColumn = { name: 'c', kind: 'numeric', values: Float64Array.from([5, 5, NaN, 5, 7]) };
    const empty: FeatureColumn = { name: 'e', kind: 'numeric', values: Float64Array.from([NaN, NaN, NaN, NaN, 3]) };
    const pre = fitPreprocessor([constant, empty], Uint32Array.from([0, 1, 2, 3]), options({ standardize: true }));
    expect(pre.features).toEqual([
      { name: 'c', kind: 'numeric', impute: 5, scaling: { mean: 5, scale: 1 } },
      { name: 'e', kind: 'numeric', impute: 0, scaling: { mean: 0, scale: 1 } },
    ]);
    const x = transform(pre, [constant, empty], all(5));
    expect(row(x.data, 2, 2)).toEqual([0, 0]);
    expect(row(x.data, 2, 4)).toEqual([2, 3]);
  });

  it('treats values that are equal in float32 as constant', () => {
    const nearly: FeatureColumn = { name: 'n', kind: 'numeric', values: Float64Array.from([0.1, 0.1 + 1e-12, 0.1 - 1e-12]) };
    const feature = fitPreprocessor([nearly], all(3), options({ standardize: true })).features[0]!;
    expect(feature.kind === 'numeric' && feature.scaling?.scale).toBe(1);
  });
});

describe('fitPreprocessor / transform: boolean', () => {
  it('imputes the training mode (0 on ties) and is never standardized', () => {
    const flag: FeatureColumn = { name: 'f', kind: 'boolean', values: Float64Array.from([1, 1, 0, NaN, 0, 0, 0]) };
    const pre = fitPreprocessor([flag], Uint32Array.from([0, 1, 2, 3]), options({ standardize: true }));
    expect(pre.features[0]).toEqual({ name: 'f', kind: 'boolean', impute: 1 });
    expect(Array.from(transform(pre, [flag], all(7)).data)).toEqual([1, 1, 0, 1, 0, 0, 0]);
    const tie = fitPreprocessor([flag], Uint32Array.from([0, 2]), options());
    expect(tie.features[0]).toEqual({ name: 'f', kind: 'boolean', impute: 0 });
  });
});

describe('fitPreprocessor / transform: categorical', () => {
  const color: FeatureColumn = {
    name: 'color',
    kind: 'categorical',
    values: ['red', 'blue', 'red', null, 'green', '', 'blue', 'red', 'purple', 'blue'],
  };
  const train = Uint32Array.from([0, 1, 2, 3, 4, 5, 6, 7]); // purple (8) and the last blue (9) are not training rows

  it('orders categories by training frequency, ties by value, ignoring null and ""', () => {
    const pre = fitPreprocessor([color], train, options());
    expect(pre.features[0]).toEqual({ name: 'color', kind: 'categorical', encoding: 'onehot', categories: ['red', 'blue', 'green'] });
    expect(pre.outputColumns).toBe(4);
    expect(featureNames(pre)).toEqual(['color=red', 'color=blue', 'color=green', 'color=<unknown>']);
  });

  it('one-hot encodes with an unknown bucket for missing, "" and unseen values', () => {
    const pre = fitPreprocessor([color], train, options());
    const x = transform(pre, [color], all(10));
    expect(x.cols).toBe(4);
    const expected = [
      [1, 0, 0, 0],
      [0, 1, 0, 0],
      [1, 0, 0, 0],
      [0, 0, 0, 1], // null
      [0, 0, 1, 0],
      [0, 0, 0, 1], // ""
      [0, 1, 0, 0],
      [1, 0, 0, 0],
      [0, 0, 0, 1], // purple: never seen in training
      [0, 1, 0, 0],
    ];
    expected.forEach((values, r) => expect(row(x.data, 4, r)).toEqual(values));
  });

  it('ordinal encodes the category index, unknown = K', () => {
    const pre = fitPreprocessor([color], train, options({ categorical: 'ordinal' }));
    expect(pre.outputColumns).toBe(1);
    expect(featureNames(pre)).toEqual(['color']);
    expect(Array.from(transform(pre, [color], all(10)).data)).toEqual([0, 1, 0, 3, 2, 3, 1, 0, 3, 1]);
  });

  it('keeps the maxCategories most frequent categories; the rest go to the unknown bucket', () => {
    const values = ['d', 'c', 'b', 'a', 'a', 'b', 'c', 'a', 'b', 'a', 'e'];
    const column: FeatureColumn = { name: 'k', kind: 'categorical', values };
    // counts: a 4, b 3, c 2, d 1, e 1
    const pre = fitPreprocessor([column], all(values.length), options({ categorical: 'ordinal', maxCategories: 3 }));
    expect(pre.features[0]).toMatchObject({ categories: ['a', 'b', 'c'] });
    expect(Array.from(transform(pre, [column], all(values.length)).data)).toEqual([3, 2, 1, 0, 0, 1, 2, 0, 1, 0, 3]);
    const ties = fitPreprocessor([column], all(values.length), options({ maxCategories: 4 }));
    expect(ties.features[0]).toMatchObject({ categories: ['a', 'b', 'c', 'd'] }); // d before e: ties by value
  });

  it('handles a feature without any training category (one constant column)', () => {
    const column: FeatureColumn = { name: 'z', kind: 'categorical', values: [null, '', 'x'] };
    const pre = fitPreprocessor([column], Uint32Array.from([0, 1]), options());
    expect(pre.features[0]).toMatchObject({ categories: [] });
    expect(featureNames(pre)).toEqual(['z=<unknown>']);
    expect(Array.from(transform(pre, [column], all(3)).data)).toEqual([1, 1, 1]);
  });
});

describe('fitPreprocessor / transform: several columns', () => {
  const columns: FeatureColumn[] = [
    { name: 'num', kind: 'numeric', values: Float64Array.from([0, 10, 20, 1000, NaN]) },
    { name: 'cat', kind: 'categorical', values: ['a', 'b', 'a', 'zzz', 'b'] },
    { name: 'flag', kind: 'boolean', values: Float64Array.from([0, 1, 1, 0, NaN]) },
  ];
  const train = Uint32Array.from([0, 1, 2]);

  it('fits on the training rows only', () => {
    const pre = fitPreprocessor(columns, train, options({ standardize: true }));
    expect(pre.features[0]).toMatchObject({ impute: 10, scaling: { mean: 10, scale: Math.fround(Math.sqrt(200 / 3)) } });
    expect(pre.features[1]).toMatchObject({ categories: ['a', 'b'] });
    expect(pre.features[2]).toMatchObject({ impute: 1 });
  });

  it('lays out columns in feature order and transforms any rows', () => {
    const pre = fitPreprocessor(columns, train, options());
    expect(featureNames(pre)).toEqual(['num', 'cat=a', 'cat=b', 'cat=<unknown>', 'flag']);
    const x = transform(pre, columns, Uint32Array.from([3, 4, 0]));
    expect(x.rows).toBe(3);
    expect(x.cols).toBe(5);
    expect(row(x.data, 5, 0)).toEqual([1000, 0, 0, 1, 0]);
    expect(row(x.data, 5, 1)).toEqual([10, 0, 1, 0, 1]);
    expect(row(x.data, 5, 2)).toEqual([0, 1, 0, 0, 0]);
    expect(matrixBytes(pre, 3)).toBe(60);
  });

  it('finds columns by name, whatever their order, and checks kinds and row ranges', () => {
    const pre = fitPreprocessor(columns, train, options());
    const reordered = [columns[2]!, columns[0]!, columns[1]!];
    expect(transform(pre, reordered, all(5)).data).toEqual(transform(pre, columns, all(5)).data);
    expect(() => transform(pre, columns.slice(1), all(5))).toThrow(/'num' is missing/);
    expect(() => transform(pre, [{ name: 'num', kind: 'boolean', values: new Float64Array(5) }, ...columns.slice(1)], all(5))).toThrow(/boolean/);
    expect(() => transform(pre, columns, Uint32Array.from([5]))).toThrow(/out of range/);
  });

  it('is plain JSON data', () => {
    const pre = fitPreprocessor(columns, train, options({ standardize: true }));
    const copy = JSON.parse(JSON.stringify(pre)) as typeof pre;
    expect(copy).toEqual(pre);
    expect(transform(copy, columns, all(5)).data).toEqual(transform(pre, columns, all(5)).data);
  });

  it('rejects duplicate names, no columns and bad options', () => {
    expect(() => fitPreprocessor([columns[0]!, columns[0]!], train, options())).toThrow(/duplicate/);
    expect(() => fitPreprocessor([], train, options())).toThrow(/at least one/);
    expect(() => fitPreprocessor(columns, train, options({ maxCategories: -1 }))).toThrow(/maxCategories/);
  });

  it('estimates the matrix width before fitting', () => {
    expect(estimateOutputColumns(['numeric', 'categorical', 'boolean'], options({ maxCategories: 10 }))).toBe(13);
    expect(estimateOutputColumns(['numeric', 'categorical'], options({ categorical: 'ordinal' }))).toBe(2);
  });
});

describe('transform at scale', () => {
  it('transforms 1,000,000 rows × 20 features into a dense matrix with every missing value imputed', () => {
    const n = 1_000_000;
    const columns: FeatureColumn[] = [];
    const names = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'];
    for (let f = 0; f < 20; f++) {
      if (f % 5 === 4) {
        columns.push({ name: `c${f}`, kind: 'categorical', values: Array.from({ length: n }, (_, i) => (i % 17 === 0 ? null : names[(i * 7 + f) % 8]!)) });
      } else {
        const values = new Float64Array(n);
        for (let i = 0; i < n; i++) values[i] = i % 13 === 0 ? NaN : ((i * 31 + f) % 1000) / 7;
        columns.push({ name: `n${f}`, kind: f % 5 === 3 ? 'boolean' : 'numeric', values: f % 5 === 3 ? values.map((v) => (Number.isNaN(v) ? v : v > 70 ? 1 : 0)) : values });
      }
    }
    const rows = all(n);
    const pre = fitPreprocessor(columns, rows, options({ standardize: true }));
    const x = transform(pre, columns, rows);
    expect(x.rows).toBe(n);
    expect(x.cols).toBe(16 + 4 * 9);
    expect(x.data.every(Number.isFinite)).toBe(true);
  }, 60_000);
});
