import { describe, expect, it } from 'vitest';
import { DEFAULT_SPLIT, splitRows } from './split.js';

describe('splitRows', () => {
  it('partitions every row exactly once', () => {
    const split = splitRows(1000, DEFAULT_SPLIT, 7);
    const all = [...split.train, ...split.validation, ...split.test].sort((a, b) => a - b);
    expect(all).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    expect(split.test.length).toBe(150);
    expect(split.validation.length).toBe(150);
  });

  it('is reproducible with a seed and differs across seeds', () => {
    expect(splitRows(500, DEFAULT_SPLIT, 3)).toEqual(splitRows(500, DEFAULT_SPLIT, 3));
    expect(splitRows(500, DEFAULT_SPLIT, 3).test).not.toEqual(splitRows(500, DEFAULT_SPLIT, 4).test);
  });

  it('keeps class proportions in every part when stratified', () => {
    // 900 rows of class 0, 100 of class 1.
    const strata = Float64Array.from({ length: 1000 }, (_, i) => (i % 10 === 0 ? 1 : 0));
    const split = splitRows(1000, DEFAULT_SPLIT, 1, strata);
    const share = (rows: Uint32Array) => rows.reduce((n, r) => n + strata[r]!, 0) / rows.length;
    expect(share(split.test)).toBeCloseTo(0.1, 2);
    expect(share(split.validation)).toBeCloseTo(0.1, 2);
    expect(share(split.train)).toBeCloseTo(0.1, 2);
  });
});
