/**
 * Dense matrix products for the MLP's mini-batch algebra, computed by a
 * WebAssembly SIMD kernel written in gemm.wat (assembled by `npm run
 * build:kernels` into gemm.wasm.generated.ts): scalar JavaScript cannot
 * vectorise, and the products are nearly all of an epoch's work. Float64 arithmetic, 128-bit lanes; the kernel keeps a 4-row × 4-column
 * block of the result in registers while it walks the shared dimension, so each
 * loaded element feeds 4 or 8 multiply-adds. The ReLU (fused into the product)
 * and its derivative mask run there too. Operands must live in the kernel's
 * memory, hence the {@link MatrixArena}: its buffers are allocated once and
 * reused by every batch.
 */
import { bytes as kernelBytes } from './gemm.wasm.generated.js';

const PAGE_BYTES = 65_536;
const MAX_PAGES = 65_536;
const ALIGNMENT = 16;

/** gemm.wat's `product`: `c = a·b (+ init row)`, then ReLU when `relu` ≠ 0 (pointers and strides in bytes; see there). */
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
/** gemm.wat's `mask`: `delta[i] = activation[i] > 0 ? delta[i] : 0` for `i < count`. */
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
    kernelModule ??= new wasm.Module(kernelBytes);
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
