import { Tensor } from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { binaryTensor, decodeTritonAnswer, encodeTritonRequest, TRITON_BINARY_CONTENT_TYPE, TritonAnswerError } from './triton-binary.js';
import { fromOrtTensor } from './tensors.js';

/** Splits an encoded request into its JSON header and the bytes after it. */
function split(request: { body: Uint8Array; contentType: string }) {
  const length = Number(request.contentType.slice(TRITON_BINARY_CONTENT_TYPE.length));
  return { header: JSON.parse(new TextDecoder().decode(request.body.subarray(0, length))) as unknown, rest: Buffer.from(request.body.subarray(length)) };
}

describe('encodeTritonRequest', () => {
  it('lays every input out as the binary extension says: header sizes, little-endian elements in order, BOOL as bytes, BYTES length-prefixed UTF-8', () => {
    // Prepare
    const feeds = new Map<string, Tensor>([
      ['ids', new Tensor('int64', BigInt64Array.of(9007199254740993n, -1n), [2])],
      ['mask', new Tensor('bool', Uint8Array.of(1, 0), [1, 2])],
      ['text', new Tensor('string', ['é', ''], [2])],
    ]);

    // Act
    const { header, rest } = split(encodeTritonRequest(feeds, ['y']));

    // Assess
    expect(header).toEqual({
      inputs: [
        { name: 'ids', datatype: 'INT64', shape: [2], parameters: { binary_data_size: 16 } },
        { name: 'mask', datatype: 'BOOL', shape: [1, 2], parameters: { binary_data_size: 2 } },
        { name: 'text', datatype: 'BYTES', shape: [2], parameters: { binary_data_size: 10 } },
      ],
      outputs: [{ name: 'y', parameters: { binary_data: true } }],
    });
    expect(rest.readBigInt64LE(0)).toBe(9007199254740993n);
    expect(rest.readBigInt64LE(8)).toBe(-1n);
    expect([...rest.subarray(16, 18)]).toEqual([1, 0]);
    expect(rest.readUInt32LE(18)).toBe(2);
    expect(rest.subarray(22, 24).toString('utf8')).toBe('é');
    expect(rest.readUInt32LE(24)).toBe(0);
    expect(rest.length).toBe(28);
  });
});

describe('decodeTritonAnswer', () => {
  const answer = (outputs: unknown[], ...bytes: Uint8Array[]) => {
    const header = Buffer.from(JSON.stringify({ model_name: 'm', model_version: '1', outputs }));
    return { body: Buffer.concat([header, ...bytes]), contentType: `${TRITON_BINARY_CONTENT_TYPE}${header.length}` };
  };

  it('gives each binary output its bytes and leaves JSON outputs as they are', () => {
    // Prepare
    const { body, contentType } = answer(
      [
        { name: 'a', datatype: 'FP32', shape: [1], parameters: { binary_data_size: 4 } },
        { name: 'b', datatype: 'INT32', shape: [1], data: [7] },
      ],
      new Uint8Array(Float32Array.of(0.5).buffer),
    );

    // Act
    const decoded = decodeTritonAnswer(body, contentType);

    // Assess
    expect(decoded.outputs.map((o) => o.name)).toEqual(['a', 'b']);
    expect([...decoded.binary.keys()]).toEqual([0]);
    expect(new Float32Array(new Uint8Array(decoded.binary.get(0)!).buffer)[0]).toBe(0.5);
  });

  it('reads a JSON answer (application/json) whole', () => {
    // Act
    const decoded = decodeTritonAnswer(Buffer.from('{"outputs":[{"name":"y","datatype":"FP32","shape":[1],"data":[1]}]}'), 'application/json');

    // Assess
    expect(decoded.outputs).toEqual([{ name: 'y', datatype: 'FP32', shape: [1], data: [1] }]);
    expect(decoded.binary.size).toBe(0);
  });

  it.each([
    ['a header size that is not a number', `${TRITON_BINARY_CONTENT_TYPE}abc`, "header size 'abc' does not fit"],
    ['a negative header size', `${TRITON_BINARY_CONTENT_TYPE}-1`, "header size '-1' does not fit"],
  ])('refuses %s', (_, contentType, message) => {
    // Act
    const decode = () => decodeTritonAnswer(Buffer.from('{"outputs":[]}'), contentType);

    // Assess
    expect(decode).toThrow(TritonAnswerError);
    expect(decode).toThrow(message);
  });

  it('refuses a binary_data_size that is not a size', () => {
    // Prepare
    const { body, contentType } = answer([{ name: 'a', datatype: 'FP32', shape: [1], parameters: { binary_data_size: '4' } }], new Uint8Array(4));

    // Act / Assess
    expect(() => decodeTritonAnswer(body, contentType)).toThrow("output 'a' with a binary_data_size that is not a byte count");
  });
});

describe('binaryTensor', () => {
  it('reads every fixed-size datatype exactly, 64-bit integers beyond 2^53 and non-finite floats included, as the ONNX backend answers them', () => {
    // Prepare
    const int64 = new Uint8Array(BigInt64Array.of(-9223372036854775808n, 9007199254740993n, 3n).buffer);
    const fp64 = new Uint8Array(Float64Array.of(Number.NaN, Number.POSITIVE_INFINITY, 0.1).buffer);

    // Act
    const ints = binaryTensor('INT64', [3], int64);
    const doubles = binaryTensor('FP64', [3], fp64);
    const bools = binaryTensor('BOOL', [2], Uint8Array.of(0, 1));

    // Assess
    expect(fromOrtTensor('i', ints as Tensor).data).toEqual(['-9223372036854775808', '9007199254740993', 3]);
    expect(fromOrtTensor('d', doubles as Tensor).data).toEqual(['NaN', 'Infinity', 0.1]);
    expect(fromOrtTensor('b', bools as Tensor).data).toEqual([false, true]);
  });

  it('reads BYTES elements as UTF-8 strings', () => {
    // Prepare
    const bytes = Buffer.concat([Buffer.from(Uint32Array.of(2).buffer), Buffer.from('é'), Buffer.from(Uint32Array.of(1).buffer), Buffer.from('x')]);

    // Act
    const tensor = binaryTensor('BYTES', [2], bytes) as Tensor;

    // Assess
    expect(tensor.data).toEqual(['é', 'x']);
  });

  it.each([
    ['FP32 bytes for another element count', 'FP32' as const, [3], new Uint8Array(8), '8 bytes where shape [3] of FP32 needs 12'],
    ['BYTES elements cut short', 'BYTES' as const, [1], Uint8Array.of(5, 0, 0, 0, 97), '5 bytes that are not length-prefixed UTF-8 elements'],
    ['BYTES elements that are not UTF-8', 'BYTES' as const, [1], Uint8Array.of(1, 0, 0, 0, 0xff), '5 bytes that are not length-prefixed UTF-8 elements'],
    ['BYTES for another element count', 'BYTES' as const, [2], Uint8Array.of(1, 0, 0, 0, 97), '1 elements for shape [2]'],
  ])('says why %s do not fit', (_, datatype, shape, bytes, problem) => {
    // Act / Assess
    expect(binaryTensor(datatype, shape, bytes)).toBe(problem);
  });
});
