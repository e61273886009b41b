import { describe, expect, it } from 'vitest';
import { encodeModule, FunctionBuilder, I32, Op, signedLeb, unsignedLeb } from './wasm-encoder.js';

const I32_STORE = 0x36;

interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  readonly Memory: new (descriptor: { initial: number }) => { readonly buffer: ArrayBuffer };
  readonly Module: new (bytes: Uint8Array) => object;
  readonly Instance: new (module: object, imports: object) => { readonly exports: Record<string, unknown> };
}

describe('wasm-encoder', () => {
  it('encodes LEB128', () => {
    expect(unsignedLeb(0)).toEqual([0]);
    expect(unsignedLeb(127)).toEqual([0x7f]);
    expect(unsignedLeb(128)).toEqual([0x80, 0x01]);
    expect(unsignedLeb(624_485)).toEqual([0xe5, 0x8e, 0x26]);
    expect(signedLeb(0)).toEqual([0]);
    expect(signedLeb(63)).toEqual([0x3f]);
    expect(signedLeb(64)).toEqual([0xc0, 0x00]);
    expect(signedLeb(-1)).toEqual([0x7f]);
    expect(signedLeb(-128)).toEqual([0x80, 0x7f]);
    expect(signedLeb(-123_456)).toEqual([0xc0, 0xbb, 0x78]);
  });

  it('builds a valid module whose loops and branches run', () => {
    // sum(n): stores 1 + 2 + … + n at address 0 when it is not zero.
    const f = new FunctionBuilder(1);
    const i = f.local(I32);
    const total = f.local(I32);
    f.i32(0).set(total).i32(1).set(i);
    f.whileLoop(
      () => f.get(i).get(0).emit(Op.i32LeS),
      () => {
        f.increment(total, { local: i }).increment(i, 1);
      },
    );
    f.ifElse(
      () => f.get(total),
      () => f.i32(0).get(total).emit(I32_STORE, 2, 0),
    );
    const bytes = encodeModule([{ name: 'sum', builder: f }]);
    const api = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;
    expect(api.validate(bytes)).toBe(true);
    const memory = new api.Memory({ initial: 1 });
    const { exports } = new api.Instance(new api.Module(bytes), { env: { memory } });
    const sum = exports.sum as (n: number) => void;
    const word = new Int32Array(memory.buffer, 0, 1);
    sum(100);
    expect(word[0]).toBe(5050);
    word[0] = 7;
    sum(0);
    expect(word[0]).toBe(7);
  });
});
