import { Tensor } from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { binaryTensor, decodeTritonAnswer, encodeTritonRequest } from '../../../src/inference/triton-binary.js';
import { BINARY_CONTENT_TYPE, decodeInferRequest, encodeInferResponse, TritonError } from './oip-codec.js';

const binaryBody = (header: unknown, ...tensors: Buffer[]) => {
  const json = Buffer.from(JSON.stringify(header));
  return { body: Buffer.concat([json, ...tensors]), contentType: `${BINARY_CONTENT_TYPE}${json.length}` };
};

const lengthPrefixed = (...values: string[]) =>
  Buffer.concat(values.flatMap((value) => [Buffer.from(Uint32Array.of(Buffer.byteLength(value)).buffer), Buffer.from(value)]));

describe('decodeInferRequest', () => {
  it('reads JSON tensors, nested or flat, with their datatypes', () => {
    // Act
    const request = decodeInferRequest(
      Buffer.from(JSON.stringify({ id: '7', inputs: [{ name: 'x', datatype: 'INT64', shape: [2, 2], data: [[1, 2], [3, 4]] }, { name: 'b', datatype: 'BOOL', shape: [2], data: [true, false] }] })),
      'application/json',
    );

    // Assess
    expect(request.id).toBe('7');
    expect(request.inputs[0]!.values).toEqual(BigInt64Array.of(1n, 2n, 3n, 4n));
    expect(request.inputs[1]!.values).toEqual(Uint8Array.of(1, 0));
    expect(request.binaryByDefault).toBe(false);
  });

  it('reads binary tensors after the JSON header, BYTES as length-prefixed strings, and which outputs go binary', () => {
    // Prepare
    const { body, contentType } = binaryBody(
      {
        inputs: [
          { name: 'x', datatype: 'FP32', shape: [1, 2], parameters: { binary_data_size: 8 } },
          { name: 's', datatype: 'BYTES', shape: [2], parameters: { binary_data_size: 11 } },
        ],
        outputs: [{ name: 'y', parameters: { binary_data: true } }, { name: 'z' }],
      },
      Buffer.from(Float32Array.of(1.5, -2).buffer),
      lengthPrefixed('abc', ''),
    );

    // Act
    const request = decodeInferRequest(body, contentType);

    // Assess
    expect(request.inputs.map((input) => input.values)).toEqual([Float32Array.of(1.5, -2), ['abc', '']]);
    expect(request.outputs).toEqual([{ name: 'y', binary: true }, { name: 'z', binary: false }]);
  });

  it.each([
    ['a header size beyond the body', `${BINARY_CONTENT_TYPE}999`, '{}', 'inference header size should be in range (0, 2), got: 999'],
    ['the binary type not first', `text/plain; ${BINARY_CONTENT_TYPE}2`, '{}', `expect MIME type for binary data starts with '${BINARY_CONTENT_TYPE}', got: text/plain; ${BINARY_CONTENT_TYPE}2`],
    ['a body that is not JSON', 'application/json', '{', /^failed to parse the request JSON buffer: /],
    ['data that does not follow the shape', 'application/json', JSON.stringify({ inputs: [{ name: 'x', datatype: 'FP32', shape: [3], data: [1, 2] }] }), "unable to parse 'data': Shape does not match true shape of 'data' field"],
    ['an element of the wrong type', 'application/json', JSON.stringify({ inputs: [{ name: 'x', datatype: 'INT32', shape: [1], data: [1.5] }] }), "unable to parse 'data': expected INT32 data for input 'x', got 1.5 at element 0"],
    ['an unknown datatype', 'application/json', JSON.stringify({ inputs: [{ name: 'x', datatype: 'FP8', shape: [1], data: [1] }] }), "invalid datatype 'FP8' for input 'x'"],
  ])('refuses %s with a 400 in Triton words', (_, contentType, body, message) => {
    // Act
    const error = (() => {
      try {
        decodeInferRequest(Buffer.from(body), contentType);
      } catch (e) {
        return e as TritonError;
      }
      throw new Error('decoded');
    })();

    // Assess
    expect(error).toBeInstanceOf(TritonError);
    expect(error.status).toBe(400);
    expect(error.message).toMatch(message);
  });
});

describe('encodeInferResponse', () => {
  it('answers JSON when no output is binary, writing int64 as numbers and non-finite floats as strings', () => {
    // Act
    const answer = encodeInferResponse({ name: 'm', version: '3' }, 'a', [
      { name: 'i', datatype: 'INT64', shape: [2], data: BigInt64Array.of(5n, -1n), binary: false },
      { name: 'f', datatype: 'FP32', shape: [2], data: Float32Array.of(Number.NaN, 0.5), binary: false },
    ]);

    // Assess
    expect(answer.contentType).toBe('application/json');
    expect(JSON.parse(answer.body.toString())).toEqual({
      id: 'a',
      model_name: 'm',
      model_version: '3',
      outputs: [
        { name: 'i', datatype: 'INT64', shape: [2], data: [5, -1] },
        { name: 'f', datatype: 'FP32', shape: [2], data: ['NaN', 0.5] },
      ],
    });
  });

  it('answers in kind when an output is binary: the header size in the content type, the bytes after it', () => {
    // Act
    const answer = encodeInferResponse({ name: 'm', version: '1' }, undefined, [
      { name: 'y', datatype: 'FP32', shape: [2], data: Float32Array.of(1, 2), binary: true },
      { name: 's', datatype: 'BYTES', shape: [1], data: ['hé'], binary: true },
    ]);

    // Assess
    const size = Number(answer.contentType.slice(BINARY_CONTENT_TYPE.length));
    expect(answer.contentType.startsWith(BINARY_CONTENT_TYPE)).toBe(true);
    expect(JSON.parse(answer.body.toString('utf8', 0, size)).outputs).toEqual([
      { name: 'y', datatype: 'FP32', shape: [2], parameters: { binary_data_size: 8 } },
      { name: 's', datatype: 'BYTES', shape: [1], parameters: { binary_data_size: 7 } },
    ]);
    expect(answer.body.subarray(size)).toEqual(Buffer.concat([Buffer.from(Float32Array.of(1, 2).buffer), lengthPrefixed('hé')]));
  });
});

describe('the platform and the emulated Triton speak the same binary extension', () => {
  it('decodes what the SageMaker backend sends, and the backend reads what it answers, exactly', () => {
    // Prepare
    const sent = encodeTritonRequest(
      new Map<string, Tensor>([
        ['x', new Tensor('float32', Float32Array.of(0.1, -2), [1, 2])],
        ['ids', new Tensor('int64', BigInt64Array.of(9007199254740993n), [1])],
        ['s', new Tensor('string', ['héllo'], [1])],
      ]),
      ['y'],
    );

    // Act
    const request = decodeInferRequest(Buffer.from(sent.body), sent.contentType);
    const answer = encodeInferResponse({ name: 'm', version: '1' }, undefined, [{ name: 'y', datatype: 'INT64', shape: [1], data: BigInt64Array.of(-9007199254740993n), binary: request.outputs![0]!.binary }]);
    const decoded = decodeTritonAnswer(answer.body, answer.contentType);

    // Assess
    expect(request.inputs.map((input) => [input.name, input.datatype, input.shape, input.values])).toEqual([
      ['x', 'FP32', [1, 2], Float32Array.of(0.1, -2)],
      ['ids', 'INT64', [1], BigInt64Array.of(9007199254740993n)],
      ['s', 'BYTES', [1], ['héllo']],
    ]);
    expect(request.outputs).toEqual([{ name: 'y', binary: true }]);
    expect((binaryTensor('INT64', decoded.outputs[0]!.shape, decoded.binary.get(0)!) as Tensor).data).toEqual(BigInt64Array.of(-9007199254740993n));
  });
});
