import { describe, expect, it } from 'vitest';
import { choleskyFactor, choleskySolve, solveSymmetric } from './linalg.js';

describe('Cholesky', () => {
  it('factors and solves a symmetric positive-definite system', () => {
    const a = Float64Array.of(4, 12, -16, 12, 37, -43, -16, -43, 98);
    const factor = Float64Array.from(a);
    expect(choleskyFactor(factor, 3)).toBe(true);
    // L = [[2, 0, 0], [6, 1, 0], [-8, 5, 3]]
    expect([factor[0], factor[3], factor[4], factor[6], factor[7], factor[8]]).toEqual([2, 6, 1, -8, 5, 3]);
    const b = Float64Array.of(1, 2, 3);
    const x = Float64Array.from(b);
    choleskySolve(factor, 3, x);
    for (let i = 0; i < 3; i++) expect(a[i * 3]! * x[0]! + a[i * 3 + 1]! * x[1]! + a[i * 3 + 2]! * x[2]!).toBeCloseTo(b[i]!, 10);
    expect([...solveSymmetric(a, 3, b)]).toEqual([...x]);
  });

  it('rejects indefinite matrices and regularises singular ones', () => {
    expect(choleskyFactor(Float64Array.of(1, 2, 2, 1), 2)).toBe(false);
    // [[1, 1], [1, 1]]·x = [2, 2] has the minimum-norm solution [1, 1].
    const x = solveSymmetric(Float64Array.of(1, 1, 1, 1), 2, Float64Array.of(2, 2));
    expect(x[0]).toBeCloseTo(1, 6);
    expect(x[1]).toBeCloseTo(1, 6);
    expect(() => solveSymmetric(Float64Array.of(Number.NaN), 1, Float64Array.of(1))).toThrow(/positive definite/);
  });
});
