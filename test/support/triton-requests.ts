import { decodeInferRequest } from '../../local/sagemaker/triton/oip-codec.js';

/** An Open Inference Protocol v2 JSON request, as a test hands it to a backend. */
export interface JsonInferRequest {
  readonly inputs: { name: string; datatype: string; shape: number[]; data: unknown[] }[];
  readonly outputs?: { name: string }[];
}

/**
 * What the SageMaker backend sent to an endpoint (binary tensors for Triton), read with the
 * emulated Triton's decoder and given back as the JSON request it carries, so a mocked endpoint
 * can answer it with the ONNX backend.
 */
export function forwardedRequest(input: { Body?: Uint8Array | unknown; ContentType?: string }): JsonInferRequest {
  const decoded = decodeInferRequest(Buffer.from(input.Body as Uint8Array), input.ContentType);
  const element = (value: unknown) => (typeof value === 'bigint' ? Number(value) : value);
  return {
    inputs: decoded.inputs.map(({ name, datatype, shape, values }) => ({ name, datatype, shape: [...shape], data: Array.from(values as ArrayLike<unknown>, element) })),
    ...(decoded.outputs === undefined ? {} : { outputs: decoded.outputs.map(({ name }) => ({ name })) }),
  };
}
