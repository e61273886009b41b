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
        data: z.optional(arrayOf<unknown>('an array of values')),
        parameters,
      }),
    )
    .check(z.minLength(1, 'at least one input is required')),
  outputs: z.optional(z.array(z.object({ name, parameters }))),
  parameters,
});

/** Where a `parameters` object sits in a request: the request itself, an input or a requested output. */
type ParameterLevel = 'request' | 'input' | 'output';

/**
 * The Open Inference Protocol parameters this server knows, where they may appear, and what it
 * answers: `undefined` when the value asks for what the server does anyway (JSON tensors), else
 * why it cannot honour it.
 */
/** Why a parameter is refused: a value of the wrong type (`invalid`), or one the server cannot honour (`unsupported`). */
type Refusal = readonly ['invalid' | 'unsupported', string];

const unsupported = (reason: string): Refusal => ['unsupported', reason];

/** A boolean binary-data switch: `false` asks for JSON tensors, `true` for binary ones (`binary-infer.ts`). */
function binarySwitch(value: unknown): Refusal | undefined {
  if (typeof value !== 'boolean') {
    return ['invalid', `expected true or false, got ${typeof value === 'string' ? `the string ${quote(value)}` : (JSON.stringify(value) ?? typeof value)}`];
  }
  return undefined;
}

/** A byte count of an input's binary data. */
function byteCount(value: unknown): Refusal | undefined {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? undefined : ['invalid', `expected a number of bytes, got ${JSON.stringify(value) ?? typeof value}`];
}

const KNOWN_PARAMETERS: Readonly<Record<ParameterLevel, Readonly<Record<string, (value: unknown) => Refusal | undefined>>>> = {
  request: { binary_data_output: binarySwitch },
  input: { binary_data_size: byteCount },
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

type ParsedRequest = z.infer<typeof inferRequestSchema>;

/** A parsed Open Inference Protocol v2 inference request: each input with its JSON `data`, or its binary data (`bytes`, `data` empty). */
export type InferRequest = Omit<ParsedRequest, 'inputs'> & {
  readonly inputs: readonly (ParsedRequest['inputs'][number] & { readonly data: unknown[]; readonly bytes?: Uint8Array })[];
};

/** An Open Inference Protocol v2 inference response. */
export interface InferResponse {
  readonly model_name: string;
  readonly model_version: string;
  readonly id?: string;
  /** Response parameters: a fallback answer says so here (`predict-routes.ts`). */
  readonly parameters?: Readonly<Record<string, unknown>>;
  readonly outputs: readonly V2TensorOutput[];
}

/** The request and response header that gives the JSON part's length in the binary tensor data extension (`binary-infer.ts`). */
export const INFERENCE_HEADER_CONTENT_LENGTH = 'Inference-Header-Content-Length';

/** An inference request as validated, before each input has its data (JSON `data`, or binary bytes). */
export type ParsedInferRequest = Omit<InferRequest, 'inputs'> & {
  readonly inputs: readonly (Omit<InferRequest['inputs'][number], 'data'> & { readonly data?: unknown[] })[];
};

/**
 * Gives each input that declares `binary_data_size` its bytes from `data`, in order; every byte
 * must belong to an input.
 */
export function attachBinaryInputs(request: ParsedInferRequest, data: Uint8Array): InferRequest {
  let offset = 0;
  const inputs = request.inputs.map((input, i) => {
    const size = input.parameters?.['binary_data_size'];
    if (size === undefined) {
      if (input.data === undefined) throw new InvalidRequestError(`input ${quote(input.name)} has neither "data" nor parameters.binary_data_size`);
      return input;
    }
    if (input.data !== undefined) throw new InvalidRequestError(`input ${quote(input.name)} has both "data" and parameters.binary_data_size; give one`);
    if (offset + (size as number) > data.length) {
      throw new InvalidRequestError(`input ${quote(input.name)} (inputs.${i}) declares binary_data_size ${size as number}, but only ${data.length - offset} bytes of binary data are left`);
    }
    const bytes = data.subarray(offset, offset + (size as number));
    offset += size as number;
    return { ...input, data: [], bytes };
  });
  if (offset !== data.length) throw new InvalidRequestError(`${data.length - offset} bytes of binary data follow the last binary input; binary_data_size must account for every byte`);
  // Every input now has data, or bytes with empty data.
  return { ...request, inputs } as InferRequest;
}

/**
 * Validates the structure of a v2 request body (tensor contents are checked against the model later),
 * and its `parameters` (request, inputs, outputs): an InvalidRequestError for one this server would not honour.
 * `binaryData` is the binary data after a binary request's JSON header (`binary-infer.ts`): inputs
 * with `binary_data_size` take their bytes from it; without it every input needs `data`.
 */
export function parseInferRequest(body: unknown, binaryData?: Uint8Array): InferRequest {
  const request = parseWith(inferRequestSchema, body, 'inference request');
  checkParameters('request', 'parameters', request.parameters);
  request.inputs.forEach((input, i) => checkParameters('input', `inputs.${i}.parameters`, input.parameters));
  request.outputs?.forEach((output, i) => checkParameters('output', `outputs.${i}.parameters`, output.parameters));
  if (binaryData !== undefined) return attachBinaryInputs(request, binaryData);
  request.inputs.forEach((input, i) => {
    if (input.parameters?.['binary_data_size'] !== undefined) {
      throw new InvalidRequestError(
        `inputs.${i}.parameters.binary_data_size: binary data needs a binary request: the JSON header's length in ${INFERENCE_HEADER_CONTENT_LENGTH}, the body sent as application/octet-stream`,
      );
    }
    if (input.data === undefined) throw new InvalidRequestError(`inputs.${i}.data: expected an array of values`);
  });
  return request as InferRequest;
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
