import {
  InternalDependencyException,
  InternalFailure,
  InvokeEndpointCommand,
  ModelError,
  ModelNotReadyException,
  SageMakerRuntimeClient,
  SageMakerRuntimeServiceException,
  ServiceUnavailable,
  ValidationError,
} from '@aws-sdk/client-sagemaker-runtime';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { draftVersion } from '../../test/support/model-versions.js';
import { InvalidRequestError, ModelRunError, ModelVersionUnavailableError, type PlatformError } from '../errors.js';
import { asHttpError } from '../http/response.js';
import type { Deployment, ModelVersion } from '../registry/types.js';
import { BackendFailedError, BackendUnavailableError, ModelRefusedError } from './backend-errors.js';
import { SageMakerBackend } from './sagemaker-backend.js';
import { predict } from './v1-protocol.js';
import { infer, parseInferRequest } from './v2-protocol.js';

const runtime = mockClient(SageMakerRuntimeClient);
const client = new SageMakerRuntimeClient({ region: 'us-east-1' });
beforeEach(() => runtime.reset());

const DEPLOYED: Deployment = { state: 'IN_SERVICE', endpointName: 'sai-vision-3', inferenceComponentName: 'sai-vision-3-ic', updatedAt: '2026-12-03T00:00:00.000Z' };

/** A version on SageMaker with two [batch, 1] inputs and one [batch, 2] output (`null`: not deployed). */
const gpuVersion = (deployment: Deployment | null = DEPLOYED): ModelVersion => ({
  ...draftVersion('vision', {
    signature: {
      inputs: [
        { name: 'a', datatype: 'FP32', shape: [-1, 1] },
        { name: 'b', datatype: 'FP32', shape: [-1, 1] },
      ],
      outputs: [{ name: 'p', datatype: 'FP32', shape: [-1, 2] }],
    },
    backend: { kind: 'sagemaker', instanceType: 'ml.g5.xlarge', minInstances: 0, maxInstances: 1 },
    ...(deployment === null ? {} : { deployment }),
  }),
  version: 3,
  status: 'APPROVED',
  createdAt: '',
});

/** Triton's answer: model `vision`, version `1`, output `p` with `rows` rows. */
const tritonAnswer = (rows: number[][], overrides: Record<string, unknown> = {}) =>
  new TextEncoder().encode(
    JSON.stringify({ model_name: 'vision', model_version: '1', outputs: [{ name: 'p', datatype: 'FP32', shape: [rows.length, 2], data: rows.flat(), ...overrides }] }),
  ) as never;

const v2Request = parseInferRequest({
  id: 'r1',
  inputs: [
    { name: 'a', datatype: 'FP32', shape: [2, 1], data: [[1], [2]] },
    { name: 'b', datatype: 'FP32', shape: [2, 1], data: [3, 4] },
  ],
});

/** What a call threw. */
const thrown = async (call: () => Promise<unknown>): Promise<PlatformError> => call().then(
  () => expect.unreachable('the call succeeded'),
  (error: unknown) => error as PlatformError,
);

/** What the backend sent: its content type, JSON header and each input's bytes as float32 values. */
function sentRequest(call = 0) {
  const input = runtime.commandCalls(InvokeEndpointCommand)[call]!.args[0].input;
  const body = input.Body as Uint8Array;
  const length = Number(/json-header-size=(\d+)$/.exec(input.ContentType ?? '')![1]);
  const header = JSON.parse(new TextDecoder().decode(body.subarray(0, length))) as { inputs: { parameters: { binary_data_size: number } }[] };
  let offset = length;
  const values = header.inputs.map(({ parameters }) => {
    const bytes = body.slice(offset, offset + parameters.binary_data_size);
    offset += parameters.binary_data_size;
    return [...new Float32Array(bytes.buffer)];
  });
  return { input, header, values, trailing: body.length - offset };
}

/** Triton's binary answer: a JSON header (model `vision`, version `1`) followed by each output's bytes. */
const binaryAnswer = (outputs: readonly { name: string; datatype: string; shape: number[]; bytes: Uint8Array }[]) => {
  const header = new TextEncoder().encode(
    JSON.stringify({ model_name: 'vision', model_version: '1', outputs: outputs.map(({ name, datatype, shape, bytes }) => ({ name, datatype, shape, parameters: { binary_data_size: bytes.length } })) }),
  );
  return { Body: Buffer.concat([header, ...outputs.map(({ bytes }) => bytes)]) as never, ContentType: `application/vnd.sagemaker-triton.binary+json;json-header-size=${header.length}` };
};
const floats = (values: number[]) => new Uint8Array(new Float32Array(values).buffer);

describe('SageMakerBackend forwarding', () => {
  it('answers a v2 request through InvokeEndpoint as Triton on SageMaker takes binary tensors: the checked tensors\' bytes, every output asked as binary, the inference component given', async () => {
    // Prepare
    runtime.on(InvokeEndpointCommand).resolves(binaryAnswer([{ name: 'p', datatype: 'FP32', shape: [2, 2], bytes: floats([0.5, 0.25, 0.75, 0.125]) }]));
    const backend = new SageMakerBackend(client);

    // Act
    const answer = await infer(await backend.open(gpuVersion()), v2Request);

    // Assess: the caller sees the version, not Triton's model name.
    expect(answer).toEqual({ model_name: 'vision', model_version: '3', id: 'r1', outputs: [{ name: 'p', datatype: 'FP32', shape: [2, 2], data: [0.5, 0.25, 0.75, 0.125] }] });
    const sent = sentRequest();
    expect(sent.input).toMatchObject({ EndpointName: 'sai-vision-3', InferenceComponentName: 'sai-vision-3-ic' });
    expect(sent.input.ContentType).toMatch(/^application\/vnd\.sagemaker-triton\.binary\+json;json-header-size=\d+$/);
    expect(sent.header).toEqual({
      inputs: [
        { name: 'a', datatype: 'FP32', shape: [2, 1], parameters: { binary_data_size: 8 } },
        { name: 'b', datatype: 'FP32', shape: [2, 1], parameters: { binary_data_size: 8 } },
      ],
      outputs: [{ name: 'p', parameters: { binary_data: true } }],
    });
    expect(sent.values).toEqual([[1, 2], [3, 4]]);
    expect(sent.trailing).toBe(0);
  });

  it('takes a JSON answer as well (outputs as JSON data)', async () => {
    // Prepare
    runtime.on(InvokeEndpointCommand).resolves({ Body: tritonAnswer([[0.1, 0.9], [0.8, 0.2]]), ContentType: 'application/json' });

    // Act
    const answer = await infer(await new SageMakerBackend(client).open(gpuVersion()), v2Request);

    // Assess
    expect(answer.outputs).toEqual([{ name: 'p', datatype: 'FP32', shape: [2, 2], data: [0.1, 0.9, 0.8, 0.2] }]);
  });

  it('answers KServe v1 instances over the same endpoint: records become tensors by the signature, rows become predictions', async () => {
    // Prepare
    runtime.on(InvokeEndpointCommand).resolves(binaryAnswer([{ name: 'p', datatype: 'FP32', shape: [2, 2], bytes: floats([0.5, 0.5, 0.75, 0.25]) }]));
    const backend = new SageMakerBackend(client);

    // Act
    const answer = await predict(await backend.open(gpuVersion()), { instances: [{ a: 1, b: 3 }, { a: 2, b: 4 }] });

    // Assess
    expect(answer).toEqual({ model_name: 'vision', model_version: '3', predictions: [[0.5, 0.5], [0.75, 0.25]] });
    expect(sentRequest().values).toEqual([[1, 2], [3, 4]]);
  });

  it('leaves out InferenceComponentName for an endpoint without one', async () => {
    // Prepare
    runtime.on(InvokeEndpointCommand).resolves({ Body: tritonAnswer([[0.5, 0.5], [0.5, 0.5]]) });
    const endpointOnly: Deployment = { state: 'IN_SERVICE', endpointName: 'sai-vision-3', updatedAt: DEPLOYED.updatedAt };

    // Act
    await infer(await new SageMakerBackend(client).open(gpuVersion(endpointOnly)), v2Request);

    // Assess
    expect(runtime.commandCalls(InvokeEndpointCommand)[0]!.args[0].input.InferenceComponentName).toBeUndefined();
  });

  it('refuses a request the version refuses without calling the endpoint, in the ONNX backend\'s words', async () => {
    // Prepare
    const served = await new SageMakerBackend(client).open(gpuVersion());

    // Act
    const unknown = await thrown(() => infer(served, parseInferRequest({ inputs: [{ name: 'z', datatype: 'FP32', shape: [1, 1], data: [1] }] })));
    const mistyped = await thrown(() => predict(served, { instances: [{ a: 'x', b: 1 }] }));

    // Assess
    expect(unknown).toEqual(new InvalidRequestError("unknown input 'z'; the model's inputs are a, b"));
    expect(mistyped).toBeInstanceOf(InvalidRequestError);
    expect(runtime.commandCalls(InvokeEndpointCommand)).toHaveLength(0);
  });

  it.each([
    ['DEPLOYING', { ...DEPLOYED, state: 'DEPLOYING' as const }, 'its SageMaker deployment is DEPLOYING'],
    ['FAILED', { ...DEPLOYED, state: 'FAILED' as const }, 'its SageMaker deployment is FAILED'],
    ['no deployment', null, 'its SageMaker deployment is not started'],
  ])('is not ready while the deployment is %s, without calling SageMaker', async (_, deployment, detail) => {
    // Act
    const refused = await thrown(() => new SageMakerBackend(client).open(gpuVersion(deployment)));

    // Assess
    expect(refused).toBeInstanceOf(BackendUnavailableError);
    expect(refused).toMatchObject({ reason: 'not-in-service', retryAfterSeconds: 30, message: `model 'vision' version 3 (${detail}) is temporarily unavailable; retry after 30 s` });
    expect(runtime.commandCalls(InvokeEndpointCommand)).toHaveLength(0);
  });

  it.each([
    ['a missing output', { Body: new TextEncoder().encode('{"outputs":[]}') as never }, "its backend answered no output 'p'"],
    ['another datatype', { Body: tritonAnswer([[1, 2]], { datatype: 'FP64' }) }, "output 'p' with datatype FP64 where the version declares FP32"],
    ['another shape', { Body: tritonAnswer([[1, 2]], { shape: [1, 3] }) }, "output 'p' with shape [1, 3] where the version declares [-1, 2]"],
    ['too few elements', { Body: tritonAnswer([[1, 2]], { data: [1] }) }, "output 'p' with 1 elements for shape [1, 2]"],
    ['too few binary bytes', binaryAnswer([{ name: 'p', datatype: 'FP32', shape: [1, 2], bytes: floats([1]) }]), "output 'p' with 4 bytes where shape [1, 2] of FP32 needs 8"],
    ['a header size beyond the body', { ...binaryAnswer([]), ContentType: 'application/vnd.sagemaker-triton.binary+json;json-header-size=9999' }, "a content type whose header size '9999' does not fit its"],
    ['bytes after its outputs', { ...binaryAnswer([]), Body: Buffer.concat([binaryAnswer([]).Body as Buffer, Buffer.from([1, 2])]) as never }, 'its backend answered 2 bytes after the last binary output'],
    ['binary data beyond the body', { ...binaryAnswer([{ name: 'p', datatype: 'FP32', shape: [1, 2], bytes: floats([1, 2]) }]), Body: (binaryAnswer([{ name: 'p', datatype: 'FP32', shape: [1, 2], bytes: floats([1, 2]) }]).Body as Buffer).subarray(0, -1) as never }, "output 'p' with binary_data_size 8 beyond the 7 bytes left"],
    ['not JSON', { Body: new TextEncoder().encode('<html>') as never }, 'its backend answered something that is not JSON'],
  ])('refuses an answer with %s as a model failure (500) naming the version', async (_, answer, message) => {
    // Prepare
    runtime.on(InvokeEndpointCommand).resolves(answer);

    // Act
    const failed = await thrown(async () => infer(await new SageMakerBackend(client).open(gpuVersion()), v2Request));

    // Assess
    expect(failed).toBeInstanceOf(ModelRunError);
    expect(failed.message).toContain("model 'vision' version 3 failed while running: ");
    expect(failed.message).toContain(message);
  });
});

/** An SDK error as SageMaker Runtime throws it. */
const sdkError = (name: string, status: number, message: string) =>
  new SageMakerRuntimeServiceException({ name, $fault: status >= 500 ? 'server' : 'client', message, $metadata: { httpStatusCode: status } });

describe('SageMaker errors in the platform\'s words', () => {
  const meta = { $metadata: { httpStatusCode: 424 } };
  it.each([
    [
      'ModelError, container 400',
      new ModelError({ ...meta, message: 'Received client error (400)', OriginalStatusCode: 400, OriginalMessage: '{"error":"unexpected shape for input \'a\'"}' }),
      InvalidRequestError,
      400,
      "model 'vision' version 3 refused the request: unexpected shape for input 'a'",
    ],
    [
      'ModelError, container 500',
      new ModelError({ ...meta, message: 'Received server error (500)', OriginalStatusCode: 500, OriginalMessage: 'CUDA out of memory' }),
      BackendFailedError,
      500,
      "model 'vision' version 3 failed while running: its inference component 'sai-vision-3-ic' answered 500: CUDA out of memory",
    ],
    [
      'ModelError, Triton out of memory (507)',
      new ModelError({ ...meta, message: 'Received server error (507)', OriginalStatusCode: 507, OriginalMessage: '{"error":"out of memory"}' }),
      BackendFailedError,
      507,
      'answered 507: out of memory',
    ],
    [
      'ModelError, container 413',
      new ModelError({ ...meta, message: 'Received client error (413)', OriginalStatusCode: 413, OriginalMessage: 'request entity too large' }),
      ModelRefusedError,
      413,
      "model 'vision' version 3 refused the request: request entity too large",
    ],
    [
      'ModelError, container 503',
      new ModelError({ ...meta, message: 'Received server error (503)', OriginalStatusCode: 503, OriginalMessage: '{"error":"overloaded"}' }),
      BackendUnavailableError,
      503,
      "its inference component 'sai-vision-3-ic' answered 503: overloaded",
    ],
    [
      'ModelError, container 404 (not the model)',
      new ModelError({ ...meta, message: 'Received client error (404)', OriginalStatusCode: 404, OriginalMessage: 'Not Found' }),
      BackendFailedError,
      500,
      "answered 404, not the model: Not Found",
    ],
    [
      'ModelError, no answer from the container (it crashed)',
      new ModelError({ ...meta, message: 'x', OriginalStatusCode: 0, OriginalMessage: 'Amazon SageMaker could not get a response from the sai-vision-3 endpoint.' }),
      BackendUnavailableError,
      503,
      "gave no answer: Amazon SageMaker could not get a response from the sai-vision-3 endpoint.",
    ],
    ['ModelError, container 429', new ModelError({ ...meta, message: 'x', OriginalStatusCode: 429, OriginalMessage: 'busy' }), BackendUnavailableError, 503, 'is overloaded: busy'],
    ['ModelNotReadyException', new ModelNotReadyException({ $metadata: { httpStatusCode: 429 }, message: 'Model not ready' }), BackendUnavailableError, 503, 'is not ready yet'],
    [
      'ValidationError: no capacity (inference component at zero)',
      new ValidationError({ $metadata: { httpStatusCode: 400 }, message: 'Inference Component has no capacity to process this request. ApplicationAutoScaling may be in-progress.' }),
      BackendUnavailableError,
      503,
      'has no capacity yet: it is scaling up from zero',
    ],
    ['ValidationError: endpoint not found', new ValidationError({ $metadata: { httpStatusCode: 400 }, message: 'Endpoint sai-vision-3 of account 1 not found.' }), BackendUnavailableError, 503, 'does not exist'],
    ['ValidationError: anything else', new ValidationError({ $metadata: { httpStatusCode: 400 }, message: 'Request too large' }), ModelVersionUnavailableError, 500, 'SageMaker refused the call'],
    ['ThrottlingException', sdkError('ThrottlingException', 400, 'Rate exceeded'), BackendUnavailableError, 503, 'SageMaker is throttling calls'],
    ['ServiceUnavailable', new ServiceUnavailable({ $metadata: { httpStatusCode: 503 }, message: 'down' }), BackendUnavailableError, 503, 'is unavailable'],
    ['InternalFailure', new InternalFailure({ $metadata: { httpStatusCode: 500 }, message: 'oops' }), BackendUnavailableError, 503, 'is unavailable'],
    ['InternalDependencyException', new InternalDependencyException({ $metadata: { httpStatusCode: 530 }, message: 'dep' }), BackendUnavailableError, 503, 'is unavailable'],
    ['a connection failure', Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }), BackendUnavailableError, 503, 'is unavailable'],
    ['AccessDeniedException', sdkError('AccessDeniedException', 403, 'not authorized'), ModelVersionUnavailableError, 500, 'failed (AccessDeniedException)'],
  ])('%s', async (_, error, kind, status, message) => {
    // Prepare
    runtime.on(InvokeEndpointCommand).rejects(error);

    // Act
    const failed = await thrown(async () => infer(await new SageMakerBackend(client).open(gpuVersion()), v2Request));

    // Assess
    expect(failed).toBeInstanceOf(kind);
    expect(failed.message).toContain(message);
    const http = asHttpError(failed);
    expect(http.statusCode).toBe(status);
    if (status === 503) expect(http.headers['Retry-After']).toMatch(/^\d+$/);
  });

  it('opens the breaker after repeated not-ready answers, then refuses at open() without calling, and announces it once', async () => {
    // Prepare
    runtime.on(InvokeEndpointCommand).rejects(new ModelNotReadyException({ $metadata: { httpStatusCode: 429 }, message: 'Model not ready' }));
    const events: unknown[] = [];
    const backend = new SageMakerBackend(client, { breaker: { consecutiveFailures: 2 }, events: { publish: async (event) => void events.push(event) } });
    const call = async () => infer(await backend.open(gpuVersion()), v2Request);

    // Act
    await thrown(call);
    await thrown(call);
    const refused = await thrown(call);

    // Assess
    expect(runtime.commandCalls(InvokeEndpointCommand)).toHaveLength(2);
    expect(refused).toMatchObject({ reason: 'circuit-open' });
    expect(events).toEqual([expect.objectContaining({ type: 'BackendCircuitOpened', model: 'vision', version: 3, endpointName: 'sai-vision-3' })]);
  });

  it('never opens the breaker on the caller\'s refused requests', async () => {
    // Prepare
    runtime.on(InvokeEndpointCommand).rejects(new ModelError({ ...meta, message: 'x', OriginalStatusCode: 400, OriginalMessage: 'bad' }));
    const backend = new SageMakerBackend(client, { breaker: { consecutiveFailures: 1 } });

    // Act
    for (let i = 0; i < 3; i++) await thrown(async () => infer(await backend.open(gpuVersion()), v2Request));

    // Assess: every call reached the endpoint.
    expect(runtime.commandCalls(InvokeEndpointCommand)).toHaveLength(3);
  });
});
