import * as z from 'zod/mini';
import { InvalidRequestError, quote } from '../errors.js';
import { parseWith } from '../validation/strict-parse.js';
import type { ModelVersion } from '../registry/types.js';
import type { ServedModel } from './backend.js';
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
  outputs: z.optional(z.array(z.object({ name, parameters }))),
  parameters,
});

/** Where a `parameters` object sits in a request: the request itself, an input or a requested output. */
type ParameterLevel = 'request' | 'input' | 'output';

const BINARY_NOT_SUPPORTED = 'binary tensor data (the binary data extension) is not supported yet; tensors travel as JSON';

/**
 * The Open Inference Protocol parameters this server knows, where they may appear, and what it
 * answers: `undefined` when the value asks for what the server does anyway (JSON tensors), else
 * why it cannot honour it.
 */
/** Why a parameter is refused: a value of the wrong type (`invalid`), or one the server cannot honour (`unsupported`). */
type Refusal = readonly ['invalid' | 'unsupported', string];

const unsupported = (reason: string): Refusal => ['unsupported', reason];

/** A boolean binary-data switch: `false` asks for JSON tensors (what the server does), `true` for binary ones. */
function binarySwitch(value: unknown): Refusal | undefined {
  if (typeof value !== 'boolean') {
    return ['invalid', `expected true or false, got ${typeof value === 'string' ? `the string ${quote(value)}` : (JSON.stringify(value) ?? typeof value)}`];
  }
  return value ? unsupported(BINARY_NOT_SUPPORTED) : undefined;
}

const KNOWN_PARAMETERS: Readonly<Record<ParameterLevel, Readonly<Record<string, (value: unknown) => Refusal | undefined>>>> = {
  request: { binary_data_output: binarySwitch },
  input: { binary_data_size: () => unsupported(`${BINARY_NOT_SUPPORTED}: send the values in "data"`) },
  output: {
    binary_data: binarySwitch,
    classification: () => unsupported('the classification extension is not supported; request the output without it and pick the top classes from its values'),
  },
};

/** Refuses every parameter the server would not honour, naming it: none is ignored. */
function checkParameters(level: ParameterLevel, path: string, given: Readonly<Record<string, unknown>> | undefined): void {
  const known = KNOWN_PARAMETERS[level];
  for (const [key, value] of Object.entries(given ?? {})) {
    const field = quote(`${path}.${key}`);
    const check = Object.hasOwn(known, key) ? known[key] : undefined;
    if (check === undefined) {
      throw new InvalidRequestError(`unknown parameter ${field}: ${level} parameters this server knows are ${Object.keys(known).join(', ')}; it ignores none`);
    }
    const refusal = check(value);
    if (refusal !== undefined) throw new InvalidRequestError(`${refusal[0]} parameter ${field}: ${refusal[1]}`);
  }
}

/** A parsed Open Inference Protocol v2 inference request. */
export type InferRequest = z.infer<typeof inferRequestSchema>;

/** An Open Inference Protocol v2 inference response. */
export interface InferResponse {
  readonly model_name: string;
  readonly model_version: string;
  readonly id?: string;
  /** Response parameters: a fallback answer says so here (`predict-routes.ts`). */
  readonly parameters?: Readonly<Record<string, unknown>>;
  readonly outputs: readonly V2TensorOutput[];
}

/**
 * Validates the structure of a v2 request body (tensor contents are checked against the model later),
 * and its `parameters` (request, inputs, outputs): an InvalidRequestError for one this server would not honour.
 */
export function parseInferRequest(body: unknown): InferRequest {
  const request = parseWith(inferRequestSchema, body, 'inference request');
  checkParameters('request', 'parameters', request.parameters);
  request.inputs.forEach((input, i) => checkParameters('input', `inputs.${i}.parameters`, input.parameters));
  request.outputs?.forEach((output, i) => checkParameters('output', `outputs.${i}.parameters`, output.parameters));
  return request;
}

/** Runs a v2 inference request on a served model, whatever its backend. */
export async function infer(model: ServedModel, request: InferRequest): Promise<InferResponse> {
  const outputs = await model.run(request.inputs, request.outputs?.map((o) => o.name));
  return {
    model_name: model.version.model,
    model_version: String(model.version.version),
    ...(request.id === undefined ? {} : { id: request.id }),
    outputs,
  };
}

/**
 * Model metadata in v2 form (`GET /v2/models/{name}[/versions/{v}]`): the signature of `version`,
 * and in `versions` every version a request may name (`servable`), as the protocol defines it.
 */
export function modelMetadata(version: ModelVersion, servable: readonly number[]): Record<string, unknown> {
  return {
    name: version.model,
    versions: servable.map(String),
    platform: 'onnxruntime_onnx',
    inputs: version.signature.inputs,
    outputs: version.signature.outputs,
  };
}
