import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { InvokeEndpointCommand, ModelError, ModelNotReadyException, SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { mockClient } from 'aws-sdk-client-mock';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { apiEvent, type ApiEventInput } from '../../test/support/api-event.js';
import { draftVersion } from '../../test/support/model-versions.js';
import { forwardedRequest } from '../../test/support/triton-requests.js';
import { ArtifactStore } from '../aws/artifact-store.js';
import { toErrorResponse } from '../http/response.js';
import { dispatch } from '../http/router.js';
import type { AliasRecord, Deployment, ModelRecord, ModelVersion } from '../registry/types.js';
import { ServingBackends } from './backend.js';
import { ModelLoader } from './model-loader.js';
import { OnnxBackend } from './onnx-backend.js';
import { servingSessionOptions } from './onnx-session.js';
import { createPredictRoutes } from './predict-routes.js';
import { ModelResolver } from './resolver.js';
import { SageMakerBackend } from './sagemaker-backend.js';
import type { VersionStats } from './telemetry/serving-stats.js';
import { ServingTelemetry } from './telemetry/serving-telemetry.js';
import { infer, parseInferRequest } from './v2-protocol.js';

const s3Client = new S3Client({ region: 'us-east-1' });
const s3 = mockClient(s3Client);
const runtimeClient = new SageMakerRuntimeClient({ region: 'us-east-1' });
const runtime = mockClient(SageMakerRuntimeClient);
let iris: Buffer;
let irisOnTriton: OnnxBackend;

const IRIS_SIGNATURE = {
  inputs: ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'].map((name) => ({ name, datatype: 'FP32' as const, shape: [-1, 1] })),
  outputs: [
    { name: 'label', datatype: 'INT64' as const, shape: [-1] },
    { name: 'probabilities', datatype: 'FP32' as const, shape: [-1, 3] },
  ],
};
const IN_SERVICE: Deployment = { state: 'IN_SERVICE', endpointName: 'sai-iris-2', inferenceComponentName: 'sai-iris-2-ic', updatedAt: '' };
const SETOSA = { sepal_length: 5.1, sepal_width: 3.5, petal_length: 1.4, petal_width: 0.2 };
const V2_SETOSA = { id: 'r1', inputs: Object.entries(SETOSA).map(([name, value]) => ({ name, datatype: 'FP32', shape: [1, 1], data: [value] })) };

const model: ModelRecord = { name: 'iris', description: '', defaultAlias: 'prod', tags: {}, createdAt: '', updatedAt: '' };
const alias = (name: string, routes: AliasRecord['routes'], fallback?: AliasRecord['fallback']): [string, AliasRecord] => [
  name,
  { model: 'iris', alias: name, routes, ...(fallback === undefined ? {} : { fallback }), revision: 1, updatedAt: '', updatedBy: '', reason: '' },
];
/** prod splits between version 1 (CPU) and 2 (GPU) and falls back to 1; gpu serves 2 and falls back to the cpu alias; bare serves 2 without a fallback. */
const ALIASES = new Map([
  alias('prod', [{ version: 1, weight: 50 }, { version: 2, weight: 50 }], { version: 1 }),
  alias('cpu', [{ version: 1, weight: 100 }]),
  alias('gpu', [{ version: 2, weight: 100 }], { alias: 'cpu' }),
  alias('bare', [{ version: 2, weight: 100 }]),
]);

beforeAll(async () => {
  iris = await readFile('models/iris.onnx');
  s3.on(GetObjectCommand).callsFake(() => ({ Body: { transformToByteArray: async () => new Uint8Array(iris) } }));
  irisOnTriton = new OnnxBackend(new ModelLoader(new ArtifactStore(s3Client), await mkdtemp(join(tmpdir(), 'triton-')), servingSessionOptions(1769)));
});

/** The endpoint answers as Triton would: the same iris ONNX, run on the forwarded request (named as Triton names it), in JSON. */
function endpointServesIris(): void {
  runtime.on(InvokeEndpointCommand).callsFake(async (input: { Body: Uint8Array; ContentType: string }) => {
    const request = forwardedRequest(input);
    const served = await irisOnTriton.open({ ...version(1), model: 'model' });
    const answer = await infer(served, parseInferRequest(request));
    return { Body: new TextEncoder().encode(JSON.stringify({ ...answer, model_version: '1' })), ContentType: 'application/json' };
  });
}

beforeEach(() => {
  runtime.reset();
  endpointServesIris();
});
afterEach(() => vi.useRealTimers());

const sha256 = () => createHash('sha256').update(iris).digest('hex');
/** Version 1 on the predict function, version 2 (and 3, not deployed yet) on SageMaker. */
function version(n: number, deployment: Deployment = IN_SERVICE): ModelVersion {
  const artifact = { uri: 's3://lake/iris.onnx', bucket: 'lake', key: 'iris.onnx', sha256: sha256(), sizeBytes: iris.length };
  const gpu = n === 1 ? {} : { backend: { kind: 'sagemaker', instanceType: 'ml.g5.xlarge', minInstances: 0, maxInstances: 1 } as const, deployment };
  return { ...draftVersion('iris', { artifact, signature: IRIS_SIGNATURE, ...gpu }), version: n, status: 'APPROVED', createdAt: '' };
}

/** The data plane with both backends, an in-memory registry and telemetry written at every request. */
async function dataPlane(deployment: Deployment = IN_SERVICE) {
  const resolver = new ModelResolver(
    { findModelWithAliases: async () => ({ model, aliases: ALIASES }), getVersion: async (_, v) => version(v, deployment), servableVersionNumbers: async () => [1, 2] },
    60_000,
  );
  const loader = new ModelLoader(new ArtifactStore(s3Client), await mkdtemp(join(tmpdir(), 'predict-backends-')), servingSessionOptions(1769));
  const backends = new ServingBackends({ lambda: new OnnxBackend(loader), sagemaker: new SageMakerBackend(runtimeClient, { breaker: { consecutiveFailures: 2 } }) });
  const stats: { alias: string | undefined; version: number; stats: VersionStats }[] = [];
  const telemetry = new ServingTelemetry({ addStats: async (_m, a, v, _b, counts) => void stats.push({ alias: a, version: v, stats: counts }), putObject: async () => undefined, onError: () => undefined }, () => Date.now(), 0);
  const routes = createPredictRoutes({ resolver, backends, telemetry });
  const send = async (input: ApiEventInput) => {
    const response = await dispatch(routes, apiEvent(input)).catch((error: unknown) => toErrorResponse(error, 'c').response);
    return { status: response.statusCode, headers: response.headers ?? {}, body: JSON.parse(response.body) as Record<string, unknown> };
  };
  const inferOn = (versionSegment: string, headers: Record<string, string> = {}) =>
    send({ method: 'POST', resource: '/v2/models/{name}/versions/{version}/infer', pathParameters: { name: 'iris', version: versionSegment }, body: V2_SETOSA, headers });
  const predictOn = (versionSegment: string) =>
    send({ method: 'POST', resource: '/v1/models/{nameAndVerb}/versions/{versionAndVerb}', pathParameters: { nameAndVerb: 'iris', versionAndVerb: `${versionSegment}:predict` }, body: { instances: [SETOSA] } });
  /** A version's counters, one per request: [alias, requests, fallbacks, failed]. */
  const counted = (v: number) => stats.filter((s) => s.version === v).map((s) => [s.alias, s.stats.requests, s.stats.fallbacks, s.stats.failed]);
  const readyOn = (versionSegment: string) => send({ method: 'GET', resource: '/v2/models/{name}/versions/{version}/ready', pathParameters: { name: 'iris', version: versionSegment } });
  return { send, inferOn, predictOn, readyOn, counted };
}

describe('a version on SageMaker behind the data plane', () => {
  it('answers v2 and v1 exactly like the same ONNX in the predict function, but for its version and the backend header', async () => {
    // Prepare
    const { inferOn, predictOn } = await dataPlane();

    // Act
    const [cpuV2, gpuV2, cpuV1, gpuV1] = [await inferOn('1'), await inferOn('2'), await predictOn('1'), await predictOn('2')];

    // Assess
    expect([cpuV2.status, gpuV2.status, cpuV1.status, gpuV1.status]).toEqual([200, 200, 200, 200]);
    expect(gpuV2.body).toEqual({ ...cpuV2.body, model_version: '2' });
    expect(gpuV1.body).toEqual({ ...cpuV1.body, model_version: '2' });
    expect([cpuV2.headers['x-model-backend'], gpuV2.headers['x-model-backend']]).toEqual(['lambda', 'sagemaker']);
    expect([cpuV2.headers['x-model-version'], gpuV2.headers['x-model-version']]).toEqual(['1', '2']);
    expect(gpuV2.headers['x-model-fallback']).toBeUndefined();
  });

  it('keeps each caller of an alias split across backends on one version', async () => {
    // Prepare
    const { inferOn } = await dataPlane();
    const keys = Array.from({ length: 12 }, (_, i) => `caller-${i}`);

    // Act: every caller twice.
    const first = await Promise.all(keys.map((key) => inferOn('prod', { 'x-routing-key': key })));
    const second = await Promise.all(keys.map((key) => inferOn('prod', { 'x-routing-key': key })));

    // Assess
    const picked = (responses: typeof first) => responses.map((r) => `${r.headers['x-model-version']}/${r.headers['x-model-backend']}`);
    expect(picked(second)).toEqual(picked(first));
    expect(new Set(picked(first))).toEqual(new Set(['1/lambda', '2/sagemaker']));
  });

  it('reports readiness by the backend: ready while the endpoint is in service, 503 with Retry-After while it deploys', async () => {
    // Prepare
    const ready = await dataPlane();
    const deploying = await dataPlane({ ...IN_SERVICE, state: 'DEPLOYING' });
    const readyCall = { method: 'GET', resource: '/v2/models/{name}/versions/{version}/ready', pathParameters: { name: 'iris', version: '2' } };

    // Act
    const [yes, no] = [await ready.send(readyCall), await deploying.send(readyCall)];

    // Assess
    expect([yes.status, yes.body, yes.headers['x-model-backend']]).toEqual([200, { name: 'iris', version: '2', ready: true }, 'sagemaker']);
    expect([no.status, no.headers['Retry-After']]).toEqual([503, '30']);
    expect(no.body['error']).toBe("model 'iris' version 2 (its SageMaker deployment is DEPLOYING) is temporarily unavailable; retry after 30 s");
  });
});

describe('alias fallback', () => {
  it('answers from the fallback while the endpoint is not ready, marked in headers and parameters, and counts a fallback for the version picked', async () => {
    // Prepare
    runtime.reset();
    runtime.on(InvokeEndpointCommand).rejects(new ModelNotReadyException({ $metadata: { httpStatusCode: 429 }, message: 'Model not ready' }));
    const { inferOn, predictOn, counted } = await dataPlane();

    // Act
    const v2 = await inferOn('gpu');
    const v1 = await predictOn('gpu');

    // Assess
    expect(v2.status).toBe(200);
    expect(v2.headers).toMatchObject({ 'x-model-version': '1', 'x-model-backend': 'lambda', 'x-model-fallback': '2' });
    expect(v2.body).toMatchObject({ model_name: 'iris', model_version: '1', id: 'r1', parameters: { fallback: true, fallback_reason: 'not-ready', fallback_from: '2' } });
    expect(v1.status).toBe(200);
    expect(v1.headers).toMatchObject({ 'x-model-version': '1', 'x-model-fallback': '2' });
    expect(v1.body).toMatchObject({ model_version: '1', predictions: [expect.anything()] });
    expect(counted(2)).toEqual([['gpu', 1, 1, 0], ['gpu', 1, 1, 0]]);
    expect(counted(1)).toEqual([['gpu', 1, 0, 0], ['gpu', 1, 0, 0]]);
  });

  it('sends the fallback the requests while the breaker is open, without calling the endpoint, and goes back once a probe succeeds', async () => {
    // Prepare: two failures open the breaker (consecutiveFailures: 2).
    runtime.reset();
    runtime.on(InvokeEndpointCommand).rejects(new ModelNotReadyException({ $metadata: { httpStatusCode: 429 }, message: 'Model not ready' }));
    vi.useFakeTimers({ toFake: ['Date'] });
    const { inferOn } = await dataPlane();
    await inferOn('gpu');
    await inferOn('gpu');

    // Act: while open; then, after the cooldown, the endpoint answers the probe.
    const open = await inferOn('gpu');
    const callsWhileOpen = runtime.commandCalls(InvokeEndpointCommand).length;
    vi.setSystemTime(Date.now() + 5_001);
    runtime.reset();
    endpointServesIris();
    const probe = await inferOn('gpu');
    const after = await inferOn('gpu');

    // Assess
    expect(callsWhileOpen).toBe(2);
    expect(open.status).toBe(200);
    expect(open.body['parameters']).toEqual({ fallback: true, fallback_reason: 'circuit-open', fallback_from: '2' });
    expect([probe.headers['x-model-version'], probe.headers['x-model-fallback'], after.headers['x-model-version']]).toEqual(['2', undefined, '2']);
    expect(runtime.commandCalls(InvokeEndpointCommand)).toHaveLength(2);
  });

  it('falls back at once while the deployment is not in service, without calling SageMaker', async () => {
    // Prepare
    const { inferOn } = await dataPlane({ ...IN_SERVICE, state: 'DEPLOYING' });

    // Act
    const answer = await inferOn('prod', { 'x-routing-key': 'caller-0' });
    const gpu = await inferOn('gpu');

    // Assess
    expect(runtime.commandCalls(InvokeEndpointCommand)).toHaveLength(0);
    expect(answer.status).toBe(200);
    expect(gpu.body['parameters']).toEqual({ fallback: true, fallback_reason: 'not-in-service', fallback_from: '2' });
  });

  it('answers 503 with Retry-After naming the version when the alias has no fallback, and counts it as failed', async () => {
    // Prepare
    runtime.reset();
    runtime.on(InvokeEndpointCommand).rejects(new ModelNotReadyException({ $metadata: { httpStatusCode: 429 }, message: 'Model not ready' }));
    const { inferOn, counted } = await dataPlane();

    // Act
    const refused = await inferOn('bare');

    // Assess
    expect(refused.status).toBe(503);
    expect(refused.headers['Retry-After']).toBe('5');
    expect(refused.body['error']).toContain("model 'iris' version 2 (its inference component 'sai-iris-2-ic' is not ready yet)");
    expect(counted(2)).toEqual([['bare', 1, 0, 1]]);
  });

  it('falls back when the endpoint fails the request (a container 5xx, an answer that does not fit), and passes the container\'s status on without a fallback', async () => {
    // Prepare
    runtime.reset();
    runtime
      .on(InvokeEndpointCommand)
      .rejectsOnce(new ModelError({ $metadata: { httpStatusCode: 424 }, message: 'Received server error (507)', OriginalStatusCode: 507, OriginalMessage: '{"error":"out of memory"}' }))
      .resolvesOnce({ Body: new TextEncoder().encode('{"outputs":[]}') as never })
      .rejectsOnce(new ModelError({ $metadata: { httpStatusCode: 424 }, message: 'Received server error (507)', OriginalStatusCode: 507, OriginalMessage: '{"error":"out of memory"}' }));
    // Act: each on a fresh container (its own breakers).
    const outOfMemory = await (await dataPlane()).inferOn('gpu');
    const misfit = await (await dataPlane()).inferOn('gpu');
    const bare = await (await dataPlane()).inferOn('bare');

    // Assess
    for (const answer of [outOfMemory, misfit]) {
      expect(answer.status).toBe(200);
      expect(answer.headers['x-model-fallback']).toBe('2');
      expect(answer.body['parameters']).toMatchObject({ fallback: true, fallback_reason: 'failed', fallback_from: '2' });
    }
    expect(bare.status).toBe(507);
    expect(bare.body['error']).toContain('answered 507: out of memory');
  });

  it('answers a ready check of an alias from its fallback while the endpoint cannot answer', async () => {
    // Prepare
    runtime.reset();
    runtime.on(InvokeEndpointCommand).rejects(new ModelError({ $metadata: { httpStatusCode: 424 }, message: 'x', OriginalStatusCode: 0, OriginalMessage: 'no answer' }));
    const { inferOn, readyOn } = await dataPlane();
    for (let i = 0; i < 5; i++) await inferOn('bare');

    // Act
    const withFallback = await readyOn('gpu');
    const without = await readyOn('bare');

    // Assess
    expect(withFallback.status).toBe(200);
    expect(withFallback.headers).toMatchObject({ 'x-model-fallback': '2', 'x-model-version': '1' });
    expect(withFallback.body).toEqual({ name: 'iris', version: '1', ready: true });
    expect(without.status).toBe(503);
  });
});
