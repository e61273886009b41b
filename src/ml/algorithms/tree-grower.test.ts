import { describe, expect, it } from 'vitest';
import type { Matrix } from '../model.js';
import { Random } from '../random.js';
import { fitBins } from './histogram-binning.js';
import { TreeGrower, type GrowerOptions } from './tree-grower.js';

const OPTIONS: GrowerOptions = { maxDepth: 6, maxLeaves: 12, minSamplesLeaf: 1, l2: 0.5, learningRate: 0.3 };

/** A random matrix whose columns have from 2 to about 60 distinct values (one constant column when `cols` > 2, which is not splittable). */
function randomMatrix(rows: number, cols: number, random: Random): Matrix {
  const data = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) data[r * cols + c] = c === 2 ? 1 : Math.floor(random.next() * (2 + 7 * c));
  }
  return { rows, cols, data };
}

function randomFloat32(length: number, random: Random, positive: boolean): Float32Array {
  return Float32Array.from({ length }, () => (positive ? 0.05 + random.next() : random.normal()));
}

/** Grows `trees` trees (on the same grower, so its buffers are reused) and returns them with the final scores. */
function growAll(x: Matrix, wasm: boolean, grads: readonly Float32Array[], hess: readonly (Float32Array | undefined)[]) {
  const grower = new TreeGrower(x, fitBins(x, 64, 1), OPTIONS, wasm);
  const scores = new Float64Array(x.rows * 2);
  const trees = grads.map((grad, t) => grower.grow(grad, hess[t], t % 2, scores, 2));
  return { trees, scores };
}

// Every histogram kernel variant (features in groups of 4: 1 … 4 in the last group, 0 to 2 full groups before it),
// and leaves of 1, 2 and odd row counts, partitioned forwards and backwards.
const SHAPES: [rows: number, cols: number][] = [];
for (const rows of [1, 2, 3, 7, 33, 200]) for (const cols of [1, 2, 3, 4, 5, 6, 7, 8, 9, 11]) SHAPES.push([rows, cols]);

describe('TreeGrower', () => {
  it.each(SHAPES)('grows the same trees bit for bit with the WebAssembly kernels and the JavaScript fallback (%i rows, %i features)', (rows, cols) => {
    const random = new Random(rows * 100 + cols);
    const x = randomMatrix(rows, cols, random);
    const grads = [0, 1, 2].map(() => randomFloat32(rows, random, false));
    // With hessians, then without (squared error: every hessian 1).
    const hess = [randomFloat32(rows, random, true), undefined, randomFloat32(rows, random, true)];
    const wasm = growAll(x, true, grads, hess);
    const javascript = growAll(x, false, grads, hess);
    expect(javascript.trees).toEqual(wasm.trees);
    expect(javascript.scores).toEqual(wasm.scores);
  });

  it('splits when the kernels can (the comparison above is not between stumps)', () => {
    const random = new Random(5);
    const x = randomMatrix(200, 6, random);
    const { trees } = growAll(x, true, [randomFloat32(200, random, false)], [undefined]);
    expect(trees[0]!.feature.filter((f) => f >= 0).length).toBeGreaterThan(5);
  });
});
