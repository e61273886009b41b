/**
 * SageMaker-backed versions end to end on the local cloud, through the public API and the SageMaker
 * emulator's admin API only: the same ONNX file on the predict function and on an emulated Triton
 * endpoint answers alike; an alias splits across both; a failing, throttled or scaled-to-zero
 * endpoint is stood in for by the alias's fallback; archiving tears the endpoint down; a failed
 * deployment is torn down, says why and deploys again from the artifact. The serving counters are read from the registry table
 * (README, "Registry table"), where the API does not show them.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import {
  DescribeEndpointCommand,
  DescribeEndpointConfigCommand,
  DescribeInferenceComponentCommand,
  DescribeModelCommand,
  SageMakerClient,
} from '@aws-sdk/client-sagemaker';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalCloud, type LocalCloud } from '../../local/cloud.js';
import { DEFAULT_MAX_CONTAINERS } from '../../local/local-function.js';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../local/emulators.js';
import { DOCUMENT_TRANSLATION } from '../../src/aws/clients.js';
import { resourceNames } from '../../src/deployments/names.js';
import { servingPackageKey } from '../../src/deployments/triton-package.js';
import { BREAKER_DEFAULTS } from '../../src/inference/circuit-breaker.js';
import { ServingStatsStore } from '../../src/inference/telemetry/serving-stats-store.js';
import type { Deployment } from '../../src/registry/types.js';
import { RegistryTable } from '../../src/storage/table.js';
import { lakeApi, type Reply } from '../support/lake-api.js';

const MODEL = 'vision';
let cloud: LocalCloud;
let api: ReturnType<typeof lakeApi>;
let sagemaker: SageMakerClient;
let dynamo: DynamoDBClient;
let stats: ServingStatsStore;

/** One 3×64×64 image, the same for every call (any values: the model is untrained). */
const IMAGE = Array.from({ length: 3 }, (_, c) => Array.from({ length: 64 }, (_, y) => Array.from({ length: 64 }, (_, x) => ((c * 31 + y * 7 + x) % 17) / 17)));
const V2_REQUEST = { id: 'e2e', inputs: [{ name: 'image', datatype: 'FP32', shape: [1, 3, 64, 64], data: IMAGE.flat(2) }] };
const V1_REQUEST = { instances: [IMAGE] };

interface V2Answer {
  readonly model_version: string;
  readonly outputs: { name: string; data: number[] }[];
  readonly parameters?: Record<string, unknown>;
}
interface VersionReply {
  readonly version: number;
  readonly deployment?: Deployment;
}

const infer = (target: string, headers: Record<string, string> = {}) => api.request<V2Answer>('POST', `/v2/models/${MODEL}/versions/${target}/infer`, V2_REQUEST, headers);
const predict = (target: string) => api.request<{ predictions: unknown[] }>('POST', `/v1/models/${MODEL}/versions/${target}:predict`, V1_REQUEST);
const version = (n: number) => api.request<VersionReply>('GET', `/models/${MODEL}/versions/${n}`);

/** Polls `check` until it gives a value; fails naming `what` after `timeoutMs`. */
async function until<T>(check: () => Promise<T | undefined>, what: string, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const result = await check();
    if (result !== undefined) return result;
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** Waits for a version's deployment to reach `state`; returns it. */
const deploymentIn = (n: number, state: Deployment['state']) =>
  until(async () => {
    const reply = await version(n);
    return reply.body.deployment?.state === state ? reply.body.deployment : undefined;
  }, `version ${n} ${state}`);

/** Uploads the model file and registers it as the next version. */
async function register(backend?: Record<string, unknown>): Promise<number> {
  const upload = await api.request<{ uploadUrl: string; artifactUri: string }>('POST', `/models/${MODEL}/uploads`);
  await fetch(upload.body.uploadUrl, { method: 'PUT', body: await readFile('models/resnet_mini.onnx') });
  const registered = await api.request<VersionReply>('POST', `/models/${MODEL}/versions`, { artifactUri: upload.body.artifactUri, ...(backend === undefined ? {} : { backend }) });
  expect(registered.status).toBe(201);
  return registered.body.version;
}

/** Sets the `prod` alias (creating it the first time). */
async function setAlias(body: Record<string, unknown>): Promise<void> {
  const current = await api.request<{ revision?: number }>('GET', `/models/${MODEL}/aliases/prod`);
  const set = await api.request('PUT', `/models/${MODEL}/aliases/prod`, body, { 'if-match': `"${current.body.revision ?? 0}"` });
  expect(set.status, JSON.stringify(set.body)).toBe(200);
}

/** The emulator's admin API. */
async function admin<T = Record<string, unknown>>(method: string, path: string, body?: unknown): Promise<T> {
  const response = await fetch(`${cloud.endpoints.sagemaker}/_emulator/${path}`, { method, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  expect(response.status).toBe(200);
  return (await response.json()) as T;
}

/** A routing key the 50/50 split sends to `wanted` (found by asking: stickiness makes it stay). */
async function keyRoutedTo(wanted: number): Promise<string> {
  for (let i = 0; i < 64; i++) {
    const reply = await infer('prod', { 'x-routing-key': `caller-${i}` });
    if (reply.headers.get('x-model-version') === String(wanted)) return `caller-${i}`;
  }
  throw new Error(`no routing key of 64 was routed to version ${wanted}`);
}

/** A check for {@link until}: a call's reply once `expected` answered it itself. */
const answeredBy = (call: () => Promise<Reply<V2Answer>>, expected: number) => async () => {
  const reply = await call();
  return reply.status === 200 && reply.headers.get('x-model-version') === String(expected) ? reply : undefined;
};

/** Asserts a reply is the fallback's (the Lambda version's) answer, standing in for `from`. */
function expectFallback(reply: Reply<V2Answer>, from: number): void {
  expect(reply.status, JSON.stringify(reply.body)).toBe(200);
  expect(reply.headers.get('x-model-version'), JSON.stringify(reply.body)).toBe(String(LAMBDA));
  expect(reply.headers.get('x-model-backend')).toBe('lambda');
  expect(reply.headers.get('x-model-fallback')).toBe(String(from));
  expect(reply.body.outputs).toEqual(lambdaAnswer.body.outputs);
  expect(reply.body.parameters).toMatchObject({ fallback: true, fallback_from: String(from), fallback_reason: expect.any(String) });
}

const LAMBDA = 1;
const GPU = 2;
const SCALE_TO_ZERO = 3;
let lambdaAnswer: Reply<V2Answer>;

beforeAll(async () => {
  cloud = await startLocalCloud({
    stateDir: await mkdtemp(join(tmpdir(), 'sagemaker-cloud-')),
    port: 0,
    functionEnvironment: { ALIAS_CACHE_TTL_MS: '0' },
    scheduleIntervalMs: 500,
    sagemakerDelays: { endpointCreateMs: 500, componentCreateMs: 500, deleteMs: 200, copyStartMs: 2_000, scaleInIdleMs: 10_000, instanceReplacementMs: 2_000 },
  });
  api = lakeApi(cloud);
  sagemaker = new SageMakerClient({ region: LOCAL_REGION, endpoint: cloud.endpoints.sagemaker, credentials: LOCAL_CREDENTIALS });
  dynamo = new DynamoDBClient({ region: LOCAL_REGION, endpoint: cloud.endpoints.dynamodb, credentials: LOCAL_CREDENTIALS });
  stats = new ServingStatsStore(new RegistryTable(DynamoDBDocumentClient.from(dynamo, DOCUMENT_TRANSLATION), cloud.resources.tableName));
  expect((await api.request('POST', '/models', { name: MODEL, description: 'resnet_mini on both backends' })).status).toBe(201);
  expect(await register()).toBe(LAMBDA);
  expect(await register({ kind: 'sagemaker', minInstances: 1, maxInstances: 1 })).toBe(GPU);
  expect(await register({ kind: 'sagemaker', minInstances: 0, maxInstances: 1 })).toBe(SCALE_TO_ZERO);
  lambdaAnswer = await infer(String(LAMBDA));
}, 180_000);
afterAll(async () => {
  api?.s3.destroy();
  sagemaker?.destroy();
  dynamo?.destroy();
  await cloud?.stop();
});

describe('SageMaker-backed versions on the local cloud', { timeout: 90_000 }, () => {
  it('deploys a version to an endpoint that answers v2 and v1 exactly as the predict function does', async () => {
    // Act
    const registered = await version(GPU);
    const deployed = await deploymentIn(GPU, 'IN_SERVICE');
    const [gpuV2, gpuV1, lambdaV1] = [await infer(String(GPU)), await predict(String(GPU)), await predict(String(LAMBDA))];

    // Assess
    expect(registered.body.deployment?.state).toMatch(/^(DEPLOYING|IN_SERVICE)$/);
    expect(deployed.endpointName).toMatch(/^local-ai-vision-v2-/);
    expect(lambdaAnswer.status).toBe(200);
    expect(lambdaAnswer.headers.get('x-model-backend')).toBe('lambda');
    expect(gpuV2.status).toBe(200);
    expect(gpuV2.headers.get('x-model-backend')).toBe('sagemaker');
    expect(gpuV2.body).toEqual({ ...lambdaAnswer.body, model_version: String(GPU) });
    expect(gpuV1.status).toBe(200);
    expect(gpuV1.body).toEqual({ ...lambdaV1.body, model_version: String(GPU) });
  });

  it('splits an alias across the backends, each routing key staying on its version', async () => {
    // Prepare
    await setAlias({ routes: [{ version: LAMBDA, weight: 50 }, { version: GPU, weight: 50 }], reason: 'CPU and GPU' });

    // Act
    const seen = new Map<string, Set<string>>();
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 12; i++) {
        const reply = await infer('prod', { 'x-routing-key': `user-${i}` });
        expect(reply.status).toBe(200);
        seen.set(`user-${i}`, (seen.get(`user-${i}`) ?? new Set()).add(`${reply.headers.get('x-model-version')}/${reply.headers.get('x-model-backend')}`));
      }
    }

    // Assess
    expect([...seen.values()].every((versions) => versions.size === 1)).toBe(true);
    expect(new Set([...seen.values()].map((versions) => [...versions][0]))).toEqual(new Set([`${LAMBDA}/lambda`, `${GPU}/sagemaker`]));
  });

  it('answers from the fallback while the endpoint is crashed or throttled, and from the endpoint once it recovers', async () => {
    // Prepare
    await setAlias({ routes: [{ version: LAMBDA, weight: 50 }, { version: GPU, weight: 50 }], fallback: { version: LAMBDA }, reason: 'with a fallback' });
    const key = await keyRoutedTo(GPU);
    const { endpointName } = (await version(GPU)).body.deployment!;
    const call = () => infer('prod', { 'x-routing-key': key });
    const startedAt = new Date();

    // Act: a crash, then throttling, each healed before the next.
    await admin('POST', `endpoints/${endpointName}/crash`, { replaceAfterMs: 3_000 });
    const whileCrashed: Reply<V2Answer>[] = [];
    const recovered = await until(async () => {
      const reply = await call();
      if (reply.headers.get('x-model-version') === String(GPU)) return reply;
      whileCrashed.push(reply);
      return undefined;
    }, 'the answer of the replaced container');
    await admin('PUT', `endpoints/${endpointName}/faults`, { throttle: true });
    const whileThrottled = [];
    for (let i = 0; i < 8; i++) whileThrottled.push(await call());
    await admin('DELETE', `endpoints/${endpointName}/faults`);
    const afterThrottling = await until(answeredBy(call, GPU), 'the answer of the endpoint after throttling');
    // The serving counters reach the table at a container's next request once due (every 5 s).
    const counted = await until(async () => {
      await call();
      const found = await stats.window(MODEL, 'prod', GPU, startedAt, new Date());
      return found.fallbacks >= whileCrashed.length + whileThrottled.length ? found : undefined;
    }, 'the fallbacks in the serving counters');

    // Assess
    expect(whileCrashed.length).toBeGreaterThan(0);
    for (const reply of [...whileCrashed, ...whileThrottled]) expectFallback(reply, GPU);
    expect(whileCrashed.map((reply) => reply.body.parameters?.['fallback_reason'])).toContain('unavailable');
    expect(whileThrottled.map((reply) => reply.body.parameters?.['fallback_reason'])).toContain('throttled');
    expect(counted.failed).toBe(0);
    expect(counted.requests).toBeGreaterThan(counted.fallbacks);
    for (const reply of [recovered, afterThrottling]) {
      expect(reply.headers.get('x-model-fallback')).toBeNull();
      expect(reply.headers.get('x-model-backend')).toBe('sagemaker');
      expect(reply.body.outputs).toEqual(lambdaAnswer.body.outputs);
    }
  });

  it('answers every request the container fails (its 5xx) from the fallback, the breaker opening after repeated failures, then from the endpoint again', async () => {
    // Prepare
    const key = await keyRoutedTo(GPU);
    const { endpointName } = (await version(GPU)).body.deployment!;
    const call = () => infer('prod', { 'x-routing-key': key });
    await admin('PUT', `endpoints/${endpointName}/faults`, { error: { status: 500, body: '{"error":"CUDA error: an illegal memory access was encountered"}' } });

    // Act: calls until five answers in a row said the breaker is open.
    const replies: Reply<V2Answer>[] = [];
    const lastFiveOpen = () => replies.length >= 5 && replies.slice(-5).every((reply) => reply.body.parameters?.['fallback_reason'] === 'circuit-open');
    while (!lastFiveOpen() && replies.length < 60) replies.push(await call());
    await admin('DELETE', `endpoints/${endpointName}/faults`);
    const recovered = await until(answeredBy(call, GPU), 'the answer of the endpoint after its errors');

    // Assess: no caller sees the failures; the first fallbacks say the endpoint failed, then the breaker stops calling it.
    for (const reply of replies) expectFallback(reply, GPU);
    const reasons = replies.map((reply) => reply.body.parameters?.['fallback_reason']);
    expect(reasons[0]).toBe('failed');
    expect(reasons.indexOf('circuit-open')).toBeGreaterThan(0);
    expect(reasons.filter((reason) => reason === 'failed').length).toBeLessThanOrEqual(BREAKER_DEFAULTS.consecutiveFailures * DEFAULT_MAX_CONTAINERS);
    expect(recovered.body.outputs).toEqual(lambdaAnswer.body.outputs);
  });

  it('answers from the fallback while a scaled-to-zero version wakes, then from the version', async () => {
    // Prepare: the component is created at one copy and scales in to zero when idle.
    const { endpointName, inferenceComponentName } = await deploymentIn(SCALE_TO_ZERO, 'IN_SERVICE');
    await until(async () => {
      const endpoint = await admin<{ containers: Record<string, unknown> }>('GET', `endpoints/${endpointName}`);
      return endpoint.containers[inferenceComponentName!] === undefined ? true : undefined;
    }, 'the scale-in to zero copies');
    await setAlias({ version: SCALE_TO_ZERO, fallback: { version: LAMBDA }, reason: 'scale to zero' });

    // Act
    // The first answers after the change may still come from the alias's previous routes (the predict container loads a newly routed version first).
    const cold = await until(async () => {
      const reply = await infer('prod');
      return reply.headers.get('x-model-fallback') === String(SCALE_TO_ZERO) || reply.headers.get('x-model-version') === String(SCALE_TO_ZERO) ? reply : undefined;
    }, 'the first answer for the scaled-to-zero version');
    const woken = await until(async () => {
      const reply = await infer('prod');
      return reply.headers.get('x-model-version') === String(SCALE_TO_ZERO) ? reply : undefined;
    }, 'the wake-up of the scaled-to-zero version');

    // Assess
    expectFallback(cold, SCALE_TO_ZERO);
    expect(cold.body.parameters).toMatchObject({ fallback_reason: 'not-ready' });
    expect(woken.status).toBe(200);
    expect(woken.headers.get('x-model-backend')).toBe('sagemaker');
    expect(woken.body.outputs).toEqual(lambdaAnswer.body.outputs);
  });

  it('tears the endpoint down when its version is archived', async () => {
    // Prepare
    await setAlias({ version: LAMBDA, fallback: null, reason: 'off the GPU' });
    const { endpointName } = (await version(GPU)).body.deployment!;
    const names = resourceNames(endpointName);

    // Act
    const archived = await api.request<VersionReply>('POST', `/models/${MODEL}/versions/${GPU}/status`, { status: 'ARCHIVED', reason: 'done' });
    const deleted = await deploymentIn(GPU, 'DELETED');
    const gone = (send: () => Promise<unknown>) => send().then(() => 'found', (error: Error) => error.name);

    // Assess
    expect(archived.status).toBe(200);
    expect(archived.body.deployment?.state).toBe('DELETING');
    expect(deleted.state).toBe('DELETED');
    expect((await admin<{ name: string }[]>('GET', 'endpoints')).map((e) => e.name)).not.toContain(endpointName);
    expect(await gone(() => sagemaker.send(new DescribeEndpointCommand({ EndpointName: names.endpoint })))).toBe('ValidationException');
    expect(await gone(() => sagemaker.send(new DescribeEndpointConfigCommand({ EndpointConfigName: names.endpointConfig })))).toBe('ValidationException');
    expect(await gone(() => sagemaker.send(new DescribeModelCommand({ ModelName: names.model })))).toBe('ValidationException');
    expect(await gone(() => sagemaker.send(new DescribeInferenceComponentCommand({ InferenceComponentName: names.inferenceComponent })))).toBe('ValidationException');
  });

  it('tears a failed deployment down and says why, and deploys it again from the artifact on request', async () => {
    // Prepare: the version's deployment deleted (a second DELETE has nothing to delete); endpoints slow to create, so
    // the package can be damaged after it is written and before the inference component reads it.
    const packageKey = servingPackageKey(MODEL, SCALE_TO_ZERO);
    const removal = await api.request<VersionReply>('DELETE', `/models/${MODEL}/versions/${SCALE_TO_ZERO}/deployment?reason=e2e`);
    expect(removal.status, JSON.stringify(removal.body)).toBe(202);
    await deploymentIn(SCALE_TO_ZERO, 'DELETED');
    const removedAgain = await api.request<{ error: string }>('DELETE', `/models/${MODEL}/versions/${SCALE_TO_ZERO}/deployment`);
    const delays = await admin('GET', 'delays');
    await admin('PUT', 'delays', { endpointCreateMs: 3_000 });

    // Act: redeploy; once its endpoint is being created, replace its package by bytes that are no archive.
    const first = await api.request<VersionReply>('POST', `/models/${MODEL}/versions/${SCALE_TO_ZERO}/deployment`, { reason: 'again' });
    const creating = await until(async () => {
      const deployment = (await version(SCALE_TO_ZERO)).body.deployment;
      return deployment?.state === 'DEPLOYING' && /endpoint/.test(deployment.reason ?? '') ? deployment : undefined;
    }, 'the endpoint being created');
    await api.s3.send(new PutObjectCommand({ Bucket: api.bucket, Key: packageKey, Body: 'not a tar.gz' }));
    await admin('PUT', 'delays', delays);
    const failed = await deploymentIn(SCALE_TO_ZERO, 'FAILED');
    const endpointsAfterFailure = (await admin<{ name: string }[]>('GET', 'endpoints')).map((e) => e.name);
    const second = await api.request<VersionReply>('POST', `/models/${MODEL}/versions/${SCALE_TO_ZERO}/deployment`, { reason: 'from the artifact' });
    await deploymentIn(SCALE_TO_ZERO, 'IN_SERVICE');
    const answer = await until(async () => {
      const reply = await infer(String(SCALE_TO_ZERO));
      return reply.status === 200 ? reply : undefined;
    }, 'an answer of the redeployed version');

    // Assess
    expect(removedAgain.status).toBe(409);
    expect(removedAgain.body.error).toContain('is DELETED');
    expect(first.status).toBe(202);
    expect(failed.reason).toMatch(/tar\.gz.*\(its SageMaker resources were deleted\)$/);
    expect(endpointsAfterFailure).not.toContain(creating.endpointName);
    // The damaged package is still there: the redeploy packaged the registered artifact again.
    expect(second.status).toBe(202);
    expect(answer.body.outputs).toEqual(lambdaAnswer.body.outputs);
  });
});
