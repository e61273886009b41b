import { Tensor } from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { InvalidRequestError } from '../errors.js';
import type { TensorSpec } from '../registry/types.js';
import { flatten, fromOrtTensor, halfToNumber, numberToHalf, toOrtTensor } from './tensors.js';

const spec = (datatype: TensorSpec['datatype'], shape: number[] = [-1]): TensorSpec => ({ name: 'x', datatype, shape });
/** An FP32 input whose rank the model does not declare. */
const unranked: TensorSpec = { name: 'x', datatype: 'FP32' };

describe('toOrtTensor', () => {
  it('converts each datatype to the matching onnxruntime tensor', () => {
    // Prepare
    const cases = [
      { datatype: 'FP32', data: [1.5, -2], type: 'float32', array: Float32Array },
      { datatype: 'FP64', data: [1e-300, 2], type: 'float64', array: Float64Array },
      { datatype: 'INT8', data: [-128, 127], type: 'int8', array: Int8Array },
      { datatype: 'INT32', data: [-5, 7], type: 'int32', array: Int32Array },
      { datatype: 'UINT8', data: [0, 255], type: 'uint8', array: Uint8Array },
      { datatype: 'INT64', data: [1, '9007199254740993'], type: 'int64', array: BigInt64Array },
      { datatype: 'UINT64', data: [0, '18446744073709551615'], type: 'uint64', array: BigUint64Array },
    ] as const;
    for (const c of cases) {
      // Act
      const tensor = toOrtTensor(spec(c.datatype), { name: 'x', datatype: c.datatype, shape: [2], data: c.data });
      // Assess
      expect(tensor.type).toBe(c.type);
      expect(tensor.data).toBeInstanceOf(c.array);
      expect(tensor.dims).toEqual([2]);
    }
    expect(toOrtTensor(spec('INT64'), { name: 'x', datatype: 'INT64', shape: [1], data: ['9007199254740993'] }).data).toEqual(
      BigInt64Array.of(9007199254740993n),
    );
  });

  it('converts BOOL and BYTES', () => {
    const bools = toOrtTensor(spec('BOOL'), { name: 'x', datatype: 'BOOL', shape: [2], data: [true, false] });
    const strings = toOrtTensor(spec('BYTES'), { name: 'x', datatype: 'BYTES', shape: [2], data: ['a', 'wörld'] });
    expect(bools.type).toBe('bool');
    expect(Array.from(bools.data as Uint8Array)).toEqual([1, 0]);
    expect(strings.type).toBe('string');
    expect(strings.data).toEqual(['a', 'wörld']);
  });

  it('reads null as a missing value where the model declares missing-value handling: NaN in float inputs, "" in string inputs', () => {
    const floats = toOrtTensor(spec('FP32', [-1, 2]), { name: 'x', datatype: 'FP32', shape: [1, 2], data: [1, null] }, true);
    expect(Array.from(floats.data as Float32Array)).toEqual([1, NaN]);
    const strings = toOrtTensor(spec('BYTES', [-1]), { name: 'x', datatype: 'BYTES', shape: [2], data: ['a', null] }, true);
    expect(strings.data).toEqual(['a', '']);
  });

  it.each([
    ['FP32', [1, null], /input 'x': element 1 is null, but the model does not declare missing-value handling for this input \(ONNX metadata 'missing_values'\); send a number/],
    ['FP64', [null, 1], /element 0 is null, but the model does not declare missing-value handling/],
    ['BYTES', ['a', null], /element 1 is null, .*; send a string/],
  ] as const)('refuses null %s elements when the model does not declare missing-value handling', (datatype, data, message) => {
    expect(() => toOrtTensor(spec(datatype), { name: 'x', datatype, shape: [2], data })).toThrowError(message);
  });

  it('accepts flat data of the right length and nested data that follows the shape exactly, in row-major order', () => {
    const nested = toOrtTensor(spec('FP32', [-1, 2]), { name: 'x', datatype: 'FP32', shape: [2, 2], data: [[1, 2], [3, 4]] });
    const flat = toOrtTensor(spec('FP32', [-1, 2]), { name: 'x', datatype: 'FP32', shape: [2, 2], data: [1, 2, 3, 4] });
    expect(Array.from(nested.data as Float32Array)).toEqual([1, 2, 3, 4]);
    expect(Array.from(flat.data as Float32Array)).toEqual([1, 2, 3, 4]);
    const rank3 = toOrtTensor(spec('FP32', [-1, 2, 1]), { name: 'x', datatype: 'FP32', shape: [1, 2, 1], data: [[[5], [6]]] });
    expect(Array.from(rank3.data as Float32Array)).toEqual([5, 6]);
  });

  it.each([
    ['ragged rows', [3, 1], [[1, 2], [3]], /data has 2 elements; shape \[3, 1\] needs 3 at dimension 0/],
    ['a row longer than its dimension', [2, 1], [[1, 2], [3]], /data\[0\] has 2 elements; shape \[2, 1\] needs 1 at dimension 1/],
    ['rows nested in another arrangement (4×128 for [2, 256])', [2, 256], Array.from({ length: 4 }, () => new Array(128).fill(0)), /data has 4 elements; shape \[2, 256\] needs 2 at dimension 0/],
    ['a value where a row belongs', [2, 2], [[1, 2], 3], /data\[1\] is a value; shape \[2, 2\] needs an array of 2 there \(dimension 1\)/],
    ['nesting deeper than the shape', [1, 2], [[[1], [2]]], /data\[0\]\[0\] is an array; shape \[1, 2\] has 2 dimension\(s\)/],
    ['nested data for a scalar', [], [[1]], /data is nested but shape \[\] is a scalar/],
  ])('refuses nested data that does not follow the shape (%s), saying where it differs', (_, shape, data, message) => {
    expect(() => toOrtTensor(unranked, { name: 'x', datatype: 'FP32', shape, data })).toThrowError(InvalidRequestError);
    expect(() => toOrtTensor(unranked, { name: 'x', datatype: 'FP32', shape, data })).toThrowError(message);
  });

  it('says a JSON number beyond the float range is out of range, not null', () => {
    // JSON.parse reads 1e400 as Infinity.
    const { data } = JSON.parse('{"data":[1e400, 1]}') as { data: number[] };
    expect(() => toOrtTensor(spec('FP64'), { name: 'x', datatype: 'FP64', shape: [2], data })).toThrowError(
      "input 'x': element 0 is a number beyond the range of JSON numbers (±1.8e308); expected a finite number",
    );
    expect(() => toOrtTensor(spec('INT64'), { name: 'x', datatype: 'INT64', shape: [2], data })).toThrowError(/element 0 is a number beyond the range of JSON numbers/);
  });

  it('quotes at most a short prefix of a request value in its errors', () => {
    const huge = 'x'.repeat(5_000_000);
    const attempts = [
      () => toOrtTensor(spec('FP32'), { name: 'x', datatype: 'FP32', shape: [1], data: [huge] }),
      () => toOrtTensor(spec('FP32'), { name: 'x', datatype: huge, shape: [1], data: [1] }),
      () => toOrtTensor(spec('INT8'), { name: 'x', datatype: 'INT8', shape: [1], data: [`9${'0'.repeat(100_000)}`] }),
    ];
    for (const attempt of attempts) {
      let message = '';
      try {
        attempt();
      } catch (error) {
        message = (error as Error).message;
      }
      expect(message).toMatch(/…' \((5000000|100001) characters\)/);
      expect(message.length).toBeLessThan(300);
    }
  });

  it.each([
    ['a datatype that differs from the model', { datatype: 'FP64', shape: [1, 2], data: [1, 2] }, /datatype 'FP64' does not match the model's FP32/],
    ['a wrong rank', { datatype: 'FP32', shape: [2], data: [1, 2] }, /rank 1; the model expects \[-1, 2\]/],
    ['a wrong fixed dimension', { datatype: 'FP32', shape: [1, 3], data: [1, 2, 3] }, /dimension 1 is 3; the model expects \[-1, 2\]/],
    ['a negative dimension', { datatype: 'FP32', shape: [-1, 2], data: [1, 2] }, /must hold at most 32 integers between 0 and 2147483647/],
    ['a huge dimension with no data', { datatype: 'FP32', shape: [1e300, 2], data: [] }, /must hold at most 32 integers/],
    ['an FP32 overflow', { datatype: 'FP32', shape: [1, 2], data: [1e39, 1] }, /element 0 is 1e\+39; out of range for FP32/],
    ['data length ≠ product of the shape', { datatype: 'FP32', shape: [2, 2], data: [1, 2, 3] }, /data has 3 elements but shape \[2, 2\] needs 4/],
    ['a boolean where a number is needed', { datatype: 'FP32', shape: [1, 2], data: [1, true] }, /element 1 is true; expected a finite number/],
    ['a "NaN" string', { datatype: 'FP32', shape: [1, 2], data: ['NaN', 1] }, /element 0 is the string 'NaN'; expected a finite number/],
  ])('rejects %s with a 400 naming the input', (_, input, message) => {
    expect(() => toOrtTensor(spec('FP32', [-1, 2]), { name: 'x', ...input })).toThrowError(InvalidRequestError);
    expect(() => toOrtTensor(spec('FP32', [-1, 2]), { name: 'x', ...input })).toThrowError(new RegExp(`input 'x': .*${message.source}`));
  });

  it.each([
    ['INT32', [2147483648], /out of range for INT32/],
    ['INT8', [1.5], /expected an integer/],
    ['UINT8', [-1], /out of range for UINT8/],
    ['INT64', ['12a'], /expected an integer/],
    ['BOOL', [1], /expected true or false/],
    ['BYTES', [3], /expected a string/],
    ['FP16', [70000], /element 0 is 70000; out of range for FP16 \(±65504\)/],
    ['FP16', ['1'], /expected a finite number/],
  ] as const)('rejects invalid %s elements', (datatype, data, message) => {
    expect(() => toOrtTensor(spec(datatype), { name: 'x', datatype, shape: [1], data })).toThrowError(message);
  });

  it.each([
    ['a NUL', 'ab\u0000cd', /element 1 contains U\+0000 at position 2; ONNX Runtime takes strings as NUL-terminated UTF-8/],
    ['an unpaired high surrogate', '\ud83d\ude00 \ud800', /element 1 contains an unpaired surrogate \(\\ud800\) at position 3/],
    ['an unpaired low surrogate', 'a\udc00', /element 1 contains an unpaired surrogate \(\\udc00\) at position 1/],
  ])('refuses BYTES elements with %s, which ONNX Runtime would not pass on intact', (_, text, message) => {
    const input = { name: 'x', datatype: 'BYTES', shape: [2], data: ['ok \ud83d\ude00', text] };
    expect(() => toOrtTensor(spec('BYTES'), input)).toThrowError(InvalidRequestError);
    expect(() => toOrtTensor(spec('BYTES'), input)).toThrowError(message);
  });

  it('keeps strings with paired surrogates and other control characters as sent', () => {
    const data = ['\ud83d\ude00', 'tab\there', '\u0001'];
    expect(toOrtTensor(spec('BYTES'), { name: 'x', datatype: 'BYTES', shape: [3], data }).data).toEqual(data);
  });

  it.each([
    // What JSON.parse makes of 9007199254740993 and -9007199254740993: the nearest doubles.
    ['INT64', JSON.parse('9007199254740993') as number],
    ['UINT64', JSON.parse('-9007199254740993') as number],
  ] as const)('says a %s JSON number beyond 2^53 loses precision, without quoting the rounded value', (datatype, value) => {
    const act = () => toOrtTensor(spec(datatype), { name: 'x', datatype, shape: [1], data: [value] });
    expect(act).toThrowError(/element 0 is an integer beyond ±2\^53 \(9007199254740991\): as a JSON number it loses precision .*send .* as decimal strings/);
    expect(act).not.toThrowError(/9007199254740992|expected an integer/);
  });

  it('calls an integer beyond 2^53 out of range for smaller integer types, without quoting it', () => {
    const act = () => toOrtTensor(spec('INT32'), { name: 'x', datatype: 'INT32', shape: [1], data: [1e20] });
    expect(act).toThrowError("input 'x': element 0 is an integer beyond ±2^53; out of range for INT32 (-2147483648 to 2147483647)");
  });

  it('accepts any shape when the model does not declare the rank, and only a scalar for a declared scalar', () => {
    const tensor = toOrtTensor(unranked, { name: 'x', datatype: 'FP32', shape: [3, 1], data: [1, 2, 3] });
    expect(tensor.dims).toEqual([3, 1]);
    expect(() => toOrtTensor(spec('FP32', []), { name: 'x', datatype: 'FP32', shape: [3, 1], data: [1, 2, 3] })).toThrowError(
      "input 'x': shape [3, 1] has rank 2; the model expects [] (a scalar)",
    );
  });
});

describe('fromOrtTensor', () => {
  it('renders typed arrays as JSON arrays with the v2 datatype', () => {
    expect(fromOrtTensor('p', new Tensor('float32', Float32Array.of(0.5, 1), [1, 2]))).toEqual({
      name: 'p',
      datatype: 'FP32',
      shape: [1, 2],
      data: [0.5, 1],
    });
  });

  it('renders 64-bit integers as numbers when exact and as strings beyond 2^53', () => {
    const out = fromOrtTensor('i', new Tensor('int64', BigInt64Array.of(-3n, 9007199254740993n), [2]));
    expect(out.datatype).toBe('INT64');
    expect(out.data).toEqual([-3, '9007199254740993']);
  });

  it('renders non-finite floats as the strings "NaN", "Infinity" and "-Infinity", never as null', () => {
    const values = [NaN, Infinity, -Infinity, 1.5];
    const expected = ['NaN', 'Infinity', '-Infinity', 1.5];
    expect(fromOrtTensor('f', new Tensor('float32', Float32Array.from(values), [4])).data).toEqual(expected);
    expect(fromOrtTensor('d', new Tensor('float64', Float64Array.from(values), [4])).data).toEqual(expected);
    expect(fromOrtTensor('h', new Tensor('float16', Uint16Array.of(0x7e00, 0x7c00, 0xfc00, 0x3e00), [4])).data).toEqual(expected);
    expect(JSON.parse(JSON.stringify(fromOrtTensor('f', new Tensor('float32', Float32Array.from(values), [4])).data))).toEqual(expected);
  });

  it('renders bool tensors as booleans and strings as strings', () => {
    expect(fromOrtTensor('b', new Tensor('bool', Uint8Array.of(1, 0), [2])).data).toEqual([true, false]);
    expect(fromOrtTensor('s', new Tensor('string', ['a'], [1])).data).toEqual(['a']);
  });
});

describe('flatten', () => {
  it('returns flat data unchanged and flattens nested data in row-major order', () => {
    const flat = [1, 2, 3];
    expect(flatten(flat)).toBe(flat);
    expect(flatten([[[1], [2]], [[3], [4]]])).toEqual([1, 2, 3, 4]);
  });

  it('refuses nesting deeper than the shape without walking it', () => {
    // Prepare: 200,000 levels would overflow a recursive walk.
    let deep: unknown[] = [1];
    for (let i = 0; i < 200_000; i++) deep = [deep];
    // Act + Assess
    expect(flatten(deep)).toBeUndefined();
    expect(() => toOrtTensor(spec('FP32'), { name: 'x', datatype: 'FP32', shape: [1], data: deep })).toThrowError(
      "input 'x': data[0] is an array; shape [1] has 1 dimension(s), so values belong at depth 1",
    );
  });
});

describe('halfToNumber', () => {
  it('decodes IEEE half-precision bits', () => {
    expect(halfToNumber(0x3c00)).toBe(1);
    expect(halfToNumber(0xc000)).toBe(-2);
    expect(halfToNumber(0x3555)).toBeCloseTo(0.33325, 5);
    expect(halfToNumber(0x0001)).toBeCloseTo(5.96e-8, 10);
    expect(halfToNumber(0x7c00)).toBe(Infinity);
    expect(Number.isNaN(halfToNumber(0x7e00))).toBe(true);
  });
});

describe('FP16 inputs', () => {
  it('takes JSON numbers as the nearest halves and binary data as the half bits it holds, answering alike', () => {
    // Act
    const fromJson = toOrtTensor(spec('FP16'), { name: 'x', datatype: 'FP16', shape: [3], data: [0.1, -2.5, 65504] });
    const fromBytes = toOrtTensor(spec('FP16'), { name: 'x', datatype: 'FP16', shape: [3], data: [], bytes: new Uint8Array(Uint16Array.of(0x2e66, 0xc100, 0x7bff).buffer) });

    // Assess
    expect(fromJson.type).toBe('float16');
    expect([...(fromJson.data as Uint16Array)]).toEqual([0x2e66, 0xc100, 0x7bff]);
    expect([...(fromBytes.data as Uint16Array)]).toEqual([0x2e66, 0xc100, 0x7bff]);
    expect(fromOrtTensor('y', fromBytes).data).toEqual([halfToNumber(0x2e66), -2.5, 65504]);
  });
});

describe('binary inputs', () => {
  it.each([
    ['too few bytes for the shape', 'FP32', [2], new Uint8Array(4), /input 'x': binary data of 4 bytes where shape \[2\] of FP32 needs 8/],
    ['a NaN where the model handles no missing values', 'FP32', [1], new Uint8Array(Float32Array.of(Number.NaN).buffer), /element 0 is NaN, but the model does not declare missing-value handling/],
    ['an infinite float', 'FP64', [1], new Uint8Array(Float64Array.of(Number.NEGATIVE_INFINITY).buffer), /element 0 is infinite/],
    ['a BOOL byte other than 0 or 1', 'BOOL', [2], Uint8Array.of(1, 2), /element 1 is a BOOL byte other than 0 or 1/],
    ['a string with U+0000', 'BYTES', [1], Uint8Array.of(2, 0, 0, 0, 97, 0), /element 0 contains U\+0000/],
    ['BYTES that are not UTF-8', 'BYTES', [1], Uint8Array.of(1, 0, 0, 0, 0xff), /binary data of 5 bytes that are not length-prefixed UTF-8 elements/],
  ] as const)('refuses %s with a 400 naming the input', (_, datatype, shape, bytes, message) => {
    expect(() => toOrtTensor(spec(datatype), { name: 'x', datatype, shape, data: [], bytes })).toThrowError(message);
  });

  it('takes little-endian INT64 beyond 2^53 exactly', () => {
    const tensor = toOrtTensor(spec('INT64'), { name: 'x', datatype: 'INT64', shape: [1], data: [], bytes: new Uint8Array(BigInt64Array.of(9007199254740993n).buffer) });
    expect(tensor.data).toEqual(BigInt64Array.of(9007199254740993n));
  });
});

describe('numberToHalf', () => {
  it('gives back every finite half exactly, and rounds each midpoint between neighbours to the even one, values off it to the nearer', () => {
    // Prepare: every non-negative finite half and its successor.
    const mismatches: string[] = [];
    for (let bits = 0; bits < 0x7c00; bits++) {
      const value = halfToNumber(bits);
      const next = halfToNumber(bits + 1);
      const middle = (value + next) / 2;
      const even = bits % 2 === 0 ? bits : bits + 1;
      // Act, Assess (collected: 31,744 cases)
      if (numberToHalf(value) !== bits || numberToHalf(-value) !== (bits | 0x8000)) mismatches.push(`${bits}: round trip`);
      if (numberToHalf(middle) !== even) mismatches.push(`${bits}: midpoint`);
      if (bits + 1 < 0x7c00 && numberToHalf(middle + (next - value) / 8) !== bits + 1) mismatches.push(`${bits}: above midpoint`);
      if (bits + 1 < 0x7c00 && numberToHalf(middle - (next - value) / 8) !== bits) mismatches.push(`${bits}: below midpoint`);
    }
    expect(mismatches).toEqual([]);
  });

  it('overflows to infinity from the largest half\'s rounding range on, keeps NaN and signed zero', () => {
    expect(numberToHalf(65504)).toBe(0x7bff);
    expect(numberToHalf(65519.99)).toBe(0x7bff);
    expect(numberToHalf(65520)).toBe(0x7c00);
    expect(numberToHalf(-1e9)).toBe(0xfc00);
    expect(numberToHalf(Number.NaN) & 0x7c00).toBe(0x7c00);
    expect(numberToHalf(Number.NaN) & 0x3ff).not.toBe(0);
    expect(numberToHalf(-0)).toBe(0x8000);
    expect(numberToHalf(2 ** -25)).toBe(0);
    expect(numberToHalf(2 ** -25 * 1.0001)).toBe(1);
  });
});
