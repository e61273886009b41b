import * as z from 'zod/mini';
import { parseWith } from '../http/request.js';
import type { ModelVersion } from '../registry/types.js';
import type { LoadedModel } from './model-loader.js';
import { runModel } from './predictor.js';
import type { V2TensorOutput } from './tensors.js';

/** An array checked only for being an array: elements are checked per datatype later, without a per-element zod pass. */
const arrayOf = <T>(what: string) => z.custom<T[]>((v) => Array.isArray(v), { message: `expected ${what}` });

const name = z.string().check(z.minLength(1));
const parameters = z.optional(z.record(z.string(), z.unknown()));
const inferRequestSchema = z.object({
  id: z.optional(z.string()),
  inputs: z
    .array(
      z.object({
        name,
        shape: arrayOf<number>('an array of dimensions'),
        datatype: name,
        data: arrayOf<unknown>('an array of values'),
        parameters,
      }),
    )
    .check(z.minLength(1, 'at least one input is required')),
  outputs: z.optional(z.array(z.object({ name }))),
  parameters,
});

/** A parsed Open Inference Protocol v2 inference request. */
export type InferRequest = z.infer<typeof inferRequestSchema>;

/** An Open Inference Protocol v2 inference response. */
export interface InferResponse {
  readonly model_name: string;
  readonly model_version: string;
  readonly id?: string;
  readonly outputs: readonly V2TensorOutput[];
}

/** Validates the structure of a v2 request body (tensor contents are checked against the model later). */
export function parseInferRequest(body: unknown): InferRequest {
  return parseWith(inferRequestSchema, body, 'inference request');
}

/** Runs a v2 inference request on a loaded model. */
export async function infer(model: LoadedModel, request: InferRequest): Promise<InferResponse> {
  const outputs = await runModel(model, request.inputs, request.outputs?.map((o) => o.name));
  return {
    model_name: model.version.model,
    model_version: String(model.version.version),
    ...(request.id === undefined ? {} : { id: request.id }),
    outputs,
  };
}

/** Model metadata in v2 form (`GET /v2/models/{name}[/versions/{v}]`). */
export function modelMetadata(version: ModelVersion): Record<string, unknown> {
  return {
    name: version.model,
    versions: [String(version.version)],
    platform: 'onnxruntime_onnx',
    inputs: version.signature.inputs,
    outputs: version.signature.outputs,
  };
}
