/**
 * Dense matrix products for the MLP's mini-batch algebra, computed by a
 * WebAssembly SIMD kernel generated at load time (wasm-encoder.ts): scalar
 * JavaScript cannot vectorise, and the products are nearly all of an epoch's
 * work. Float64 arithmetic, 128-bit lanes; the kernel keeps a 4-row × 4-column
 * block of the result in registers while it walks the shared dimension, so each
 * loaded element feeds 4 or 8 multiply-adds. The ReLU (fused into the product)
 * and its derivative mask run there too. Operands must live in the kernel's
 * memory, hence the {@link MatrixArena}: its buffers are allocated once and
 * reused by every batch.
 */
import { encodeModule, F64, FunctionBuilder, I32, Op, SimdOp, V128 } from './wasm-encoder.js';

const PAGE_BYTES = 65_536;
const MAX_PAGES = 65_536;
const ALIGNMENT = 16;

// Product parameters: c[r, j] = init[j] + Σₖ a[r·aRow + k·aDepth] · b[k·bRow + j], then max(·, 0) when relu ≠ 0
// (pointers and strides in bytes; init = 0 means no init row).
const ROWS = 0;
const COLS = 1;
const DEPTH = 2;
const A = 3;
const A_ROW = 4;
const A_DEPTH = 5;
const B = 6;
const B_ROW = 7;
const C = 8;
const C_ROW = 9;
const INIT = 10;
const RELU = 11;

/** Emits the product kernel: rows in blocks of 4 then 1; columns in blocks of 4, then 2, then 1. */
function productKernel(): FunctionBuilder {
  const f = new FunctionBuilder(12);
  const r = f.local(I32);
  const j = f.local(I32);
  const k = f.local(I32);
  const pa = f.local(I32);
  const pb = f.local(I32);
  const pc = f.local(I32);
  const jBytes = f.local(I32);
  const aRow2 = f.local(I32);
  const aRow3 = f.local(I32);
  const vectorSums = Array.from({ length: 8 }, () => f.local(V128));
  const bVectors = [f.local(V128), f.local(V128)];
  const splat = f.local(V128);
  const scalarSums = Array.from({ length: 4 }, () => f.local(F64));
  const bScalar = f.local(F64);
  const rowOffsets = [undefined, A_ROW, aRow2, aRow3];

  /** One tile of `rows` (4 or 1) rows × `vectors` 2-lane columns pairs (2 or 1), or 1 column when `vectors` is 0. */
  const tile = (rows: number, vectors: number): void => {
    const sum = (i: number, v: number): number => (vectors === 0 ? scalarSums[i]! : vectorSums[i * 2 + v]!);
    f.get(j).i32(3).emit(Op.i32Shl).set(jBytes);
    f.ifElse(
      () => f.get(INIT),
      () => {
        for (let i = 0; i < rows; i++) {
          for (let v = 0; v < Math.max(vectors, 1); v++) {
            f.get(INIT).get(jBytes).emit(Op.i32Add);
            if (vectors === 0) f.emit(Op.f64Load, 3, 0);
            else f.simd(SimdOp.v128Load, 4, 16 * v);
            f.set(sum(i, v));
          }
        }
      },
      () => {
        for (let i = 0; i < rows; i++) {
          for (let v = 0; v < Math.max(vectors, 1); v++) {
            if (vectors === 0) f.f64Zero();
            else f.v128Zero();
            f.set(sum(i, v));
          }
        }
      },
    );
    f.get(A).get(r).get(A_ROW).emit(Op.i32Mul, Op.i32Add).set(pa);
    f.get(B).get(jBytes).emit(Op.i32Add).set(pb);
    f.i32(0).set(k);
    f.whileLoop(
      () => f.get(k).get(DEPTH).emit(Op.i32LtS),
      () => {
        if (vectors === 0) f.get(pb).emit(Op.f64Load, 3, 0).set(bScalar);
        for (let v = 0; v < vectors; v++) f.get(pb).simd(SimdOp.v128Load, 4, 16 * v).set(bVectors[v]!);
        for (let i = 0; i < rows; i++) {
          f.get(pa);
          if (i > 0) f.get(rowOffsets[i]!).emit(Op.i32Add);
          if (vectors === 0) {
            f.emit(Op.f64Load, 3, 0).get(bScalar).emit(Op.f64Mul).get(sum(i, 0)).emit(Op.f64Add).set(sum(i, 0));
            continue;
          }
          f.simd(SimdOp.v128Load64Splat, 3, 0).set(splat);
          for (let v = 0; v < vectors; v++) {
            f.get(sum(i, v)).get(splat).get(bVectors[v]!).simd(SimdOp.f64x2Mul).simd(SimdOp.f64x2Add).set(sum(i, v));
          }
        }
        f.increment(pa, { local: A_DEPTH }).increment(pb, { local: B_ROW }).increment(k, 1);
      },
    );
    f.ifElse(
      () => f.get(RELU),
      () => {
        for (let i = 0; i < rows; i++) {
          if (vectors === 0) {
            // sum > 0 ? sum : 0, as f64x2.pmax(0, sum) below.
            f.get(sum(i, 0)).f64Zero().get(sum(i, 0)).f64Zero().emit(Op.f64Gt, Op.select).set(sum(i, 0));
          }
          for (let v = 0; v < vectors; v++) f.v128Zero().get(sum(i, v)).simd(SimdOp.f64x2Pmax).set(sum(i, v));
        }
      },
    );
    f.get(C).get(r).get(C_ROW).emit(Op.i32Mul, Op.i32Add).get(jBytes).emit(Op.i32Add).set(pc);
    for (let i = 0; i < rows; i++) {
      if (i > 0) f.increment(pc, { local: C_ROW });
      if (vectors === 0) f.get(pc).get(sum(i, 0)).emit(Op.f64Store, 3, 0);
      for (let v = 0; v < vectors; v++) f.get(pc).get(sum(i, v)).simd(SimdOp.v128Store, 4, 16 * v);
    }
  };

  const rowBlock = (rows: number): void => {
    f.i32(0).set(j);
    f.whileLoop(
      () => f.get(j).i32(4).emit(Op.i32Add).get(COLS).emit(Op.i32LeS),
      () => {
        tile(rows, 2);
        f.increment(j, 4);
      },
    );
    f.ifElse(
      () => f.get(j).i32(2).emit(Op.i32Add).get(COLS).emit(Op.i32LeS),
      () => {
        tile(rows, 1);
        f.increment(j, 2);
      },
    );
    f.ifElse(
      () => f.get(j).get(COLS).emit(Op.i32LtS),
      () => tile(rows, 0),
    );
  };

  f.get(A_ROW).get(A_ROW).emit(Op.i32Add).set(aRow2);
  f.get(aRow2).get(A_ROW).emit(Op.i32Add).set(aRow3);
  f.i32(0).set(r);
  f.whileLoop(
    () => f.get(r).i32(4).emit(Op.i32Add).get(ROWS).emit(Op.i32LeS),
    () => {
      rowBlock(4);
      f.increment(r, 4);
    },
  );
  f.whileLoop(
    () => f.get(r).get(ROWS).emit(Op.i32LtS),
    () => {
      rowBlock(1);
      f.increment(r, 1);
    },
  );
  return f;
}

// Mask parameters: delta[i] = activation[i] > 0 ? delta[i] : 0 for i < count (pointers in bytes).
const DELTA = 0;
const ACTIVATION = 1;
const COUNT = 2;

/** Emits the ReLU-derivative mask kernel, two values per step. */
function maskKernel(): FunctionBuilder {
  const f = new FunctionBuilder(3);
  const i = f.local(I32);
  const pd = f.local(I32);
  const pa = f.local(I32);
  f.i32(0).set(i);
  f.get(DELTA).set(pd);
  f.get(ACTIVATION).set(pa);
  f.whileLoop(
    () => f.get(i).i32(2).emit(Op.i32Add).get(COUNT).emit(Op.i32LeS),
    () => {
      f.get(pd).get(pd).simd(SimdOp.v128Load, 4, 0).get(pa).simd(SimdOp.v128Load, 4, 0).v128Zero().simd(SimdOp.f64x2Gt);
      f.simd(SimdOp.v128And).simd(SimdOp.v128Store, 4, 0);
      f.increment(i, 2).increment(pd, 16).increment(pa, 16);
    },
  );
  f.ifElse(
    () => f.get(i).get(COUNT).emit(Op.i32LtS),
    () => {
      f.get(pd).get(pd).emit(Op.f64Load, 3, 0).f64Zero().get(pa).emit(Op.f64Load, 3, 0).f64Zero().emit(Op.f64Gt, Op.select);
      f.emit(Op.f64Store, 3, 0);
    },
  );
  return f;
}

type ProductKernel = (
  rows: number,
  cols: number,
  depth: number,
  a: number,
  aRow: number,
  aDepth: number,
  b: number,
  bRow: number,
  c: number,
  cRow: number,
  init: number,
  relu: number,
) => void;
type MaskKernel = (delta: number, activation: number, count: number) => void;

/** The part of the WebAssembly JavaScript API used here (the project's type libraries do not declare it). */
interface WasmApi {
  readonly Memory: new (descriptor: { initial: number; maximum: number }) => { readonly buffer: ArrayBuffer };
  readonly Module: new (bytes: Uint8Array) => object;
  readonly Instance: new (module: object, imports: Record<string, Record<string, unknown>>) => { readonly exports: Record<string, unknown> };
}
const wasm = (globalThis as unknown as { readonly WebAssembly: WasmApi }).WebAssembly;

let kernelModule: object | undefined;

/**
 * Float64 buffers in one WebAssembly memory, allocated once, and the matrix
 * products between them. Buffers are row-major; every operand of a product
 * must have been allocated by the same arena.
 */
export class MatrixArena {
  private readonly memory: { readonly buffer: ArrayBuffer };
  private readonly product: ProductKernel;
  private readonly mask: MaskKernel;
  private readonly capacity: number;
  private used = ALIGNMENT;

  /** Bytes an arena needs for buffers of these lengths (in float64 values). */
  static bytesFor(lengths: readonly number[]): number {
    let bytes = ALIGNMENT;
    for (const length of lengths) bytes += Math.ceil((length * 8) / ALIGNMENT) * ALIGNMENT;
    return bytes;
  }

  /** An arena of `bytes` (see {@link MatrixArena.bytesFor}); throws beyond WebAssembly's 4 GiB. */
  constructor(bytes: number) {
    const pages = Math.max(1, Math.ceil(bytes / PAGE_BYTES));
    if (pages > MAX_PAGES) throw new Error(`matrix arena of ${bytes} bytes exceeds WebAssembly's 4 GiB memory`);
    this.capacity = pages * PAGE_BYTES;
    this.memory = new wasm.Memory({ initial: pages, maximum: pages });
    kernelModule ??= new wasm.Module(
      encodeModule([
        { name: 'product', builder: productKernel() },
        { name: 'mask', builder: maskKernel() },
      ]),
    );
    const instance = new wasm.Instance(kernelModule, { env: { memory: this.memory } });
    this.product = instance.exports.product as ProductKernel;
    this.mask = instance.exports.mask as MaskKernel;
  }

  /** A zeroed buffer of `length` float64 values. */
  allocate(length: number): Float64Array {
    const bytes = Math.ceil((length * 8) / ALIGNMENT) * ALIGNMENT;
    if (this.used + bytes > this.capacity) throw new Error(`matrix arena full: ${length} more values do not fit`);
    const view = new Float64Array(this.memory.buffer, this.used, length);
    this.used += bytes;
    return view;
  }

  /**
   * `c = a·b (+ bias on every row)`, then `max(c, 0)` element-wise when `relu`:
   * `a` is `[rows × depth]`, `b` `[depth × cols]`, `c` `[rows × cols]`.
   */
  multiply(a: Float64Array, b: Float64Array, c: Float64Array, rows: number, depth: number, cols: number, bias?: Float64Array, relu = false): void {
    this.check(a, rows * depth);
    this.check(b, depth * cols);
    this.check(c, rows * cols);
    if (bias !== undefined) this.check(bias, cols);
    this.product(rows, cols, depth, a.byteOffset, depth * 8, 8, b.byteOffset, cols * 8, c.byteOffset, cols * 8, bias?.byteOffset ?? 0, relu ? 1 : 0);
  }

  /** `c = aᵀ·b`: `a` is `[depth × rows]`, `b` `[depth × cols]`, `c` `[rows × cols]`. */
  multiplyTransposedLeft(a: Float64Array, b: Float64Array, c: Float64Array, depth: number, rows: number, cols: number): void {
    this.check(a, depth * rows);
    this.check(b, depth * cols);
    this.check(c, rows * cols);
    this.product(rows, cols, depth, a.byteOffset, 8, rows * 8, b.byteOffset, cols * 8, c.byteOffset, cols * 8, 0, 0);
  }

  /** `delta[i] = activation[i] > 0 ? delta[i] : 0` for `i < count`: backpropagation through a ReLU. */
  maskByPositive(delta: Float64Array, activation: Float64Array, count: number): void {
    this.check(delta, count);
    this.check(activation, count);
    this.mask(delta.byteOffset, activation.byteOffset, count);
  }

  private check(view: Float64Array, length: number): void {
    if (view.buffer !== this.memory.buffer) throw new Error('matrix operand was not allocated by this arena');
    if (view.length < length) throw new Error(`matrix operand has ${view.length} values, needs ${length}`);
  }
}
