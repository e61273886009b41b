import { describe, expect, it } from 'vitest';
import { Random } from '../random.js';
import { MatrixArena } from './gemm.js';

/** Naive `a·b` with `a` `[rows × depth]` read through strides. */
function reference(rows: number, depth: number, cols: number, a: (r: number, k: number) => number, b: (k: number, j: number) => number): number[] {
  const out: number[] = [];
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < cols; j++) {
      let sum = 0;
      for (let k = 0; k < depth; k++) sum += a(r, k) * b(k, j);
      out.push(sum);
    }
  }
  return out;
}

/**
 * `a·b (+ bias) (then ReLU)` in plain JavaScript, the way gemm.wat computes each
 * element: the sum starts at the bias (or 0) and adds `a[r, k] · b[k, j]` in
 * order of k (no fused multiply-add), so the results must match bit for bit.
 */
function plainProduct(
  rows: number,
  depth: number,
  cols: number,
  a: (r: number, k: number) => number,
  b: (k: number, j: number) => number,
  bias: Float64Array | undefined,
  relu: boolean,
): number[] {
  const out: number[] = [];
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < cols; j++) {
      let sum = bias === undefined ? 0 : bias[j]!;
      for (let k = 0; k < depth; k++) sum += a(r, k) * b(k, j);
      out.push(relu ? (sum > 0 ? sum : 0) : sum);
    }
  }
  return out;
}

function fillRandom(view: Float64Array, random: Random): Float64Array {
  for (let i = 0; i < view.length; i++) view[i] = random.normal();
  return view;
}

function expectClose(actual: Float64Array, expected: readonly number[]): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) expect(Math.abs(actual[i]! - expected[i]!)).toBeLessThan(1e-12);
}

// Every row/column tail of the kernel (blocks of 4 rows, then 1; 4 columns, then 2, then 1).
const SHAPES: [number, number, number][] = [];
for (const rows of [1, 2, 3, 4, 5, 9]) for (const cols of [1, 2, 3, 4, 5, 6, 7, 9]) for (const depth of [0, 1, 3, 8]) SHAPES.push([rows, depth, cols]);

describe('MatrixArena', () => {
  it('multiplies a·b (+ bias, + ReLU) for every block and tail shape', () => {
    const random = new Random(1);
    for (const [rows, depth, cols] of SHAPES) {
      const arena = new MatrixArena(MatrixArena.bytesFor([rows * depth, depth * cols, cols, rows * cols]));
      const a = fillRandom(arena.allocate(rows * depth), random);
      const b = fillRandom(arena.allocate(depth * cols), random);
      const bias = fillRandom(arena.allocate(cols), random);
      const c = arena.allocate(rows * cols);
      const product = reference(rows, depth, cols, (r, k) => a[r * depth + k]!, (k, j) => b[k * cols + j]!);
      arena.multiply(a, b, c, rows, depth, cols);
      expectClose(c, product);
      arena.multiply(a, b, c, rows, depth, cols, bias);
      expectClose(c, product.map((v, i) => v + bias[i % cols]!));
      arena.multiply(a, b, c, rows, depth, cols, bias, true);
      expectClose(c, product.map((v, i) => Math.max(0, v + bias[i % cols]!)));
    }
  });

  it('multiplies aᵀ·b for every block and tail shape', () => {
    const random = new Random(2);
    for (const [rows, depth, cols] of SHAPES) {
      const arena = new MatrixArena(MatrixArena.bytesFor([depth * rows, depth * cols, rows * cols]));
      const a = fillRandom(arena.allocate(depth * rows), random);
      const b = fillRandom(arena.allocate(depth * cols), random);
      const c = arena.allocate(rows * cols);
      arena.multiplyTransposedLeft(a, b, c, depth, rows, cols);
      expectClose(c, reference(rows, depth, cols, (r, k) => a[k * rows + r]!, (k, j) => b[k * cols + j]!));
    }
  });

  it('gives the same bits as the plain JavaScript product for every block and tail shape', () => {
    const random = new Random(4);
    for (const [rows, depth, cols] of SHAPES) {
      const arena = new MatrixArena(MatrixArena.bytesFor([rows * depth, depth * cols, cols, rows * cols, depth * rows]));
      const a = fillRandom(arena.allocate(rows * depth), random);
      const b = fillRandom(arena.allocate(depth * cols), random);
      const bias = fillRandom(arena.allocate(cols), random);
      const c = arena.allocate(rows * cols);
      const at = (r: number, k: number): number => a[r * depth + k]!;
      const bt = (k: number, j: number): number => b[k * cols + j]!;
      for (const [withBias, relu] of [[false, false], [true, false], [false, true], [true, true]] as const) {
        arena.multiply(a, b, c, rows, depth, cols, withBias ? bias : undefined, relu);
        expect([...c]).toEqual(plainProduct(rows, depth, cols, at, bt, withBias ? bias : undefined, relu));
      }
      const aT = fillRandom(arena.allocate(depth * rows), random);
      arena.multiplyTransposedLeft(aT, b, c, depth, rows, cols);
      expect([...c]).toEqual(plainProduct(rows, depth, cols, (r, k) => aT[k * rows + r]!, bt, undefined, false));
    }
  });

  it('works on sub-views at unaligned offsets', () => {
    const random = new Random(3);
    const arena = new MatrixArena(MatrixArena.bytesFor([64, 64, 64]));
    const a = fillRandom(arena.allocate(64), random).subarray(1, 1 + 3 * 5);
    const b = fillRandom(arena.allocate(64), random).subarray(3, 3 + 5 * 6);
    const c = arena.allocate(64).subarray(5, 5 + 3 * 6);
    arena.multiply(a, b, c, 3, 5, 6);
    expectClose(c, reference(3, 5, 6, (r, k) => a[r * 5 + k]!, (k, j) => b[k * 6 + j]!));
  });

  it('masks deltas by positive activations', () => {
    for (const count of [0, 1, 2, 5, 8]) {
      const arena = new MatrixArena(MatrixArena.bytesFor([count, count]));
      const delta = arena.allocate(count);
      const activation = arena.allocate(count);
      for (let i = 0; i < count; i++) {
        delta[i] = i + 1;
        activation[i] = [0.5, -1, 0, 2, -0][i % 5]!;
      }
      arena.maskByPositive(delta, activation, count);
      expect([...delta]).toEqual([...activation].map((v, i) => (v > 0 ? i + 1 : 0)));
    }
  });

  it('refuses operands from elsewhere, short operands and overflowing allocations', () => {
    const arena = new MatrixArena(MatrixArena.bytesFor([4, 4, 4]));
    const a = arena.allocate(4);
    const b = arena.allocate(4);
    const c = arena.allocate(4);
    expect(() => arena.multiply(new Float64Array(4), b, c, 2, 2, 2)).toThrow(/arena/);
    expect(() => arena.multiply(a, b, c, 2, 3, 2)).toThrow(/needs 6/);
    const small = new MatrixArena(MatrixArena.bytesFor([4]));
    small.allocate(4);
    expect(() => small.allocate(1_000_000)).toThrow(/full/);
    expect(() => new MatrixArena(2 ** 33)).toThrow(/4 GiB/);
  });
});
