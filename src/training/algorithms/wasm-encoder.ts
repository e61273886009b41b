/**
 * A minimal WebAssembly binary writer, enough to generate small numeric
 * kernels at load time: functions with i32 parameters and no result, i32/i64/f64/v128
 * locals, structured loops, scalar and 128-bit SIMD loads, stores and arithmetic,
 * and one imported memory (`env.memory`). Generating the bytes from readable
 * code keeps the kernels reviewable without a toolchain in the build.
 */

/** Value types of locals. */
export const I32 = 0x7f;
export const I64 = 0x7e;
export const F64 = 0x7c;
export const V128 = 0x7b;
export type ValueType = typeof I32 | typeof I64 | typeof F64 | typeof V128;

/** Core opcodes used by the kernels. */
export const Op = {
  block: 0x02,
  loop: 0x03,
  if: 0x04,
  else: 0x05,
  end: 0x0b,
  br: 0x0c,
  brIf: 0x0d,
  select: 0x1b,
  localGet: 0x20,
  localSet: 0x21,
  i32Load: 0x28,
  i64Load: 0x29,
  f64Load: 0x2b,
  i32Load8U: 0x2d,
  i32Store: 0x36,
  i64Store: 0x37,
  f64Store: 0x39,
  i32Const: 0x41,
  f64Const: 0x44,
  i32Eqz: 0x45,
  i32LtS: 0x48,
  i32LtU: 0x49,
  i32LeS: 0x4c,
  i32LeU: 0x4d,
  f64Gt: 0x64,
  i32Add: 0x6a,
  i32Sub: 0x6b,
  i32Mul: 0x6c,
  i32Shl: 0x74,
  f64Add: 0xa0,
  f64Mul: 0xa2,
} as const;

/** SIMD opcodes (after the 0xfd prefix) used by the kernels. */
export const SimdOp = {
  v128Load: 0x00,
  v128Load64Splat: 0x0a,
  v128Store: 0x0b,
  v128Const: 0x0c,
  v128Load64Zero: 0x5d,
  f64x2PromoteLowF32x4: 0x5f,
  f64x2Gt: 0x4a,
  v128And: 0x4e,
  f64x2Add: 0xf0,
  f64x2Mul: 0xf2,
  f64x2Pmax: 0xf7,
} as const;

const SIMD_PREFIX = 0xfd;
const EMPTY_BLOCK = 0x40;

/** Unsigned LEB128. */
export function unsignedLeb(value: number): number[] {
  const out: number[] = [];
  let rest = value >>> 0;
  do {
    let byte = rest & 0x7f;
    rest >>>= 7;
    if (rest !== 0) byte |= 0x80;
    out.push(byte);
  } while (rest !== 0);
  return out;
}

/** Signed LEB128 of a 32-bit integer. */
export function signedLeb(value: number): number[] {
  const out: number[] = [];
  let rest = value | 0;
  for (;;) {
    const byte = rest & 0x7f;
    rest >>= 7;
    if ((rest === 0 && (byte & 0x40) === 0) || (rest === -1 && (byte & 0x40) !== 0)) {
      out.push(byte);
      return out;
    }
    out.push(byte | 0x80);
  }
}

/** Builds the body of one function whose parameters are `paramCount` i32s (locals `0 … paramCount-1`). */
export class FunctionBuilder {
  private readonly code: number[] = [];
  private readonly localTypes: ValueType[] = [];

  constructor(readonly paramCount: number) {}

  /** Declares a local and returns its index. */
  local(type: ValueType): number {
    this.localTypes.push(type);
    return this.paramCount + this.localTypes.length - 1;
  }

  /** Emits raw bytes. */
  emit(...bytes: number[]): this {
    for (const byte of bytes) this.code.push(byte);
    return this;
  }

  /** `local.get`. */
  get(local: number): this {
    return this.emit(Op.localGet, ...unsignedLeb(local));
  }

  /** `local.set`. */
  set(local: number): this {
    return this.emit(Op.localSet, ...unsignedLeb(local));
  }

  /** `i32.const value`. */
  i32(value: number): this {
    return this.emit(Op.i32Const, ...signedLeb(value));
  }

  /** `f64.const 0`. */
  f64Zero(): this {
    return this.emit(Op.f64Const, 0, 0, 0, 0, 0, 0, 0, 0);
  }

  /** `v128.const 0`. */
  v128Zero(): this {
    return this.simd(SimdOp.v128Const, ...new Array<number>(16).fill(0));
  }

  /** A SIMD instruction with its immediates. */
  simd(op: number, ...immediates: number[]): this {
    return this.emit(SIMD_PREFIX, ...unsignedLeb(op), ...immediates);
  }

  /** `local = local + value` for an i32 local and an i32 local or constant. */
  increment(local: number, by: { readonly local: number } | number): this {
    this.get(local);
    if (typeof by === 'number') this.i32(by);
    else this.get(by.local);
    return this.emit(Op.i32Add).set(local);
  }

  /** `while (condition) body`: `condition` must leave one i32 on the stack. */
  whileLoop(condition: () => void, body: () => void): this {
    this.emit(Op.block, EMPTY_BLOCK, Op.loop, EMPTY_BLOCK);
    condition();
    this.emit(Op.i32Eqz, Op.brIf, 1);
    body();
    return this.emit(Op.br, 0, Op.end, Op.end);
  }

  /** `if (condition) then else otherwise`: `condition` must leave one i32 on the stack. */
  ifElse(condition: () => void, then: () => void, otherwise?: () => void): this {
    condition();
    this.emit(Op.if, EMPTY_BLOCK);
    then();
    if (otherwise !== undefined) {
      this.emit(Op.else);
      otherwise();
    }
    return this.emit(Op.end);
  }

  /** The function's code-section entry: size, local declarations, body, `end`. */
  encode(): number[] {
    const runs: { count: number; readonly type: ValueType }[] = [];
    for (const type of this.localTypes) {
      const last = runs[runs.length - 1];
      if (last !== undefined && last.type === type) last.count++;
      else runs.push({ count: 1, type });
    }
    const declarations = [...unsignedLeb(runs.length), ...runs.flatMap(({ count, type }) => [...unsignedLeb(count), type])];
    const body = [...declarations, ...this.code, Op.end];
    return [...unsignedLeb(body.length), ...body];
  }
}

function section(id: number, content: number[]): number[] {
  return [id, ...unsignedLeb(content.length), ...content];
}

function name(text: string): number[] {
  const bytes = [...new TextEncoder().encode(text)];
  return [...unsignedLeb(bytes.length), ...bytes];
}

/** A module importing `env.memory` (at least `minimumPages` 64 KiB pages) and exporting `functions` by name. */
export function encodeModule(functions: readonly { readonly name: string; readonly builder: FunctionBuilder }[], minimumPages = 1): Uint8Array {
  const types = functions.flatMap((f) => [0x60, ...unsignedLeb(f.builder.paramCount), ...new Array<number>(f.builder.paramCount).fill(I32), 0]);
  const bytes = [
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(1, [...unsignedLeb(functions.length), ...types]),
    ...section(2, [1, ...name('env'), ...name('memory'), 0x02, 0x00, ...unsignedLeb(minimumPages)]),
    ...section(3, [...unsignedLeb(functions.length), ...functions.flatMap((_, i) => unsignedLeb(i))]),
    ...section(7, [...unsignedLeb(functions.length), ...functions.flatMap((f, i) => [...name(f.name), 0x00, ...unsignedLeb(i)])]),
    ...section(10, [...unsignedLeb(functions.length), ...functions.flatMap((f) => f.builder.encode())]),
  ];
  return Uint8Array.from(bytes);
}
