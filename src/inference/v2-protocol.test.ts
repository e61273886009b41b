import { describe, expect, it } from 'vitest';
import { InvalidRequestError } from '../errors.js';
import { parseOwnJson } from '../validation/own-json.js';
import { parseInferRequest } from './v2-protocol.js';

const input = { name: 'x', shape: [1], datatype: 'FP32', data: [1] };
/** A request with `parameters` at the given level (parsed like a body: prototype-free). */
const withParameters = (at: 'request' | 'input' | 'output', parameters: Record<string, unknown>) =>
  parseOwnJson(
    JSON.stringify({
      inputs: [at === 'input' ? { ...input, parameters } : input],
      outputs: [at === 'output' ? { name: 'y', parameters } : { name: 'y' }],
      ...(at === 'request' ? { parameters } : {}),
    }),
  );

describe('parseInferRequest parameters', () => {
  it('accepts parameters on the request, inputs and outputs where they ask for what the server does (JSON tensors)', () => {
    expect(parseInferRequest(withParameters('request', { binary_data_output: false })).parameters).toEqual({ binary_data_output: false });
    expect(parseInferRequest(withParameters('output', { binary_data: false })).outputs?.[0]?.parameters).toEqual({ binary_data: false });
    expect(parseInferRequest(withParameters('input', {})).inputs[0]?.parameters).toEqual({});
  });

  it.each([
    ['input', { binary_data_size: 16 }, 'inputs.0.parameters.binary_data_size: binary data needs a binary request: the JSON header\'s length in Inference-Header-Content-Length, the body sent as application/octet-stream'],
    ['input', { binary_data_size: -1 }, "invalid parameter 'inputs.0.parameters.binary_data_size': expected a number of bytes, got -1"],
    ['output', { classification: 3 }, "unsupported parameter 'outputs.0.parameters.classification': the classification extension is not supported"],
    ['request', { foo: 1 }, "unknown parameter 'parameters.foo': request parameters this server knows are binary_data_output; it ignores none"],
    ['input', { x: 1 }, "unknown parameter 'inputs.0.parameters.x': input parameters this server knows are binary_data_size; it ignores none"],
    ['output', { binary_data_size: 4 }, "unknown parameter 'outputs.0.parameters.binary_data_size': output parameters this server knows are binary_data, classification; it ignores none"],
    ['request', { constructor: 1 }, "unknown parameter 'parameters.constructor'"],
    ['request', { binary_data_output: 'false' }, "invalid parameter 'parameters.binary_data_output': expected true or false, got the string 'false'"],
    ['output', { binary_data: 0 }, "invalid parameter 'outputs.0.parameters.binary_data': expected true or false, got 0"],
  ] as const)('refuses a %s parameter it would not honour (%j), naming it', (at, parameters, message) => {
    const body = withParameters(at, parameters);
    expect(() => parseInferRequest(body)).toThrowError(InvalidRequestError);
    expect(() => parseInferRequest(body)).toThrowError(message);
  });
});
