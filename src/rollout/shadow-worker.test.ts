import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { InvokeEndpointCommand, ModelNotReadyException, SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { mockClient } from 'aws-sdk-client-mock';
import type { SQSRecord } from 'aws-lambda';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestEmulators, type TestEmulators } from '../../test/support/emulators.js';
import { forwardedRequest } from '../../test/support/triton-requests.js';
import { ArtifactStore } from '../aws/artifact-store.js';
import { DependencyUnavailableError } from '../errors.js';
import { ServingBackends } from '../inference/backend.js';
import { ModelLoader } from '../inference/model-loader.js';
import { OnnxBackend } from '../inference/onnx-backend.js';
import { SageMakerBackend } from '../inference/sagemaker-backend.js';
import { inspectOnnxModel, servingSessionOptions } from '../inference/onnx-session.js';
import { predict } from '../inference/v1-protocol.js';
import { infer, parseInferRequest } from '../inference/v2-protocol.js';
import { draftVersion } from '../../test/support/model-versions.js';
import { registerVersion } from '../registry/register-version.js';
import { ModelRegistry } from '../registry/registry.js';
import { RegistryTable } from '../storage/table.js';
import { ShadowComparisons } from './shadow-comparisons.js';
import { shadowPredictionsKey, shadowRequestsKey, type ShadowCopy } from '../inference/telemetry/shadow-copy.js';
import { createShadowRecordHandler } from './shadow-records.js';
import { processShadowObject, type ShadowRecord, type ShadowWorkerDeps } from './shadow-worker.js';

const MODEL = 'iris-shadow';
/** Versions of {@link MODEL}: 1 and 2 are iris (same answers), 3 is the dtypes test model (another signature), 4 is iris on a SageMaker endpoint. */
const [IRIS, IRIS_AGAIN, OTHER_SIGNATURE, IRIS_ON_SAGEMAKER] = [1, 2, 3, 4];
const AT = '2026-11-24T01:02:03.000Z';
const SETOSA = { sepal_length: 5.1, sepal_width: 3.5, petal_length: 1.4, petal_width: 0.2 };
const VIRGINICA = { sepal_length: 6.7, sepal_width: 3.0, petal_length: 5.2, petal_width: 2.3 };

let env: TestEmulators;
let bucket: string;
let deps: ShadowWorkerDeps;
let comparisons: ShadowComparisons;
let sequence = 0;

const v1Request = { instances: [SETOSA, VIRGINICA] };
const v2Request = {
  id: 'r2',
  inputs: Object.entries(VIRGINICA).map(([name, value]) => ({ name, datatype: 'FP32', shape: [1, 1], data: [value] })),
};

/** A copy as predict makes it: the primary's real answer to the request. */
async function copyOf(alias: string, protocol: 'v1' | 'v2', shadowVersion: number, requestId: string): Promise<ShadowCopy> {
  const primary = await deps.backend.open(await deps.registry.getVersion(MODEL, IRIS));
  const request = protocol === 'v1' ? v1Request : v2Request;
  const response = protocol === 'v1' ? await predict(primary, request) : await infer(primary, parseInferRequest(request));
  return { model: MODEL, alias, requestId, at: AT, protocol, request, primary: { version: IRIS, response }, shadowVersion };
}

/** Writes a `shadow-requests/` object of JSON lines; returns its key. */
async function putCopies(lines: readonly (ShadowCopy | string)[]): Promise<string> {
  const key = shadowRequestsKey(MODEL, new Date(AT), 'container', ++sequence);
  const body = lines.map((line) => (typeof line === 'string' ? line : JSON.stringify(line))).join('\n');
  await env.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
  return key;
}

async function readText(key: string): Promise<string> {
  const object = await env.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return object.Body!.transformToString();
}
const readRecords = async (key: string): Promise<ShadowRecord[]> =>
  (await readText(key))
    .trimEnd()
    .split('\n')
    .map((line) => JSON.parse(line) as ShadowRecord);

beforeAll(async () => {
  env = await startTestEmulators();
  bucket = env.resources.bucketName;
  const registry = new ModelRegistry(new RegistryTable(env.dynamo, env.resources.tableName));
  const artifacts = new ArtifactStore(env.s3);
  await registry.createModel({ name: MODEL });
  for (const file of ['iris', 'iris', 'dtypes']) {
    await env.s3.send(new PutObjectCommand({ Bucket: bucket, Key: `models/${MODEL}/${file}.onnx`, Body: await readFile(`models/${file}.onnx`) }));
    await registerVersion({ registry, artifacts, lakeBucket: bucket, inspect: inspectOnnxModel }, MODEL, { artifactUri: `s3://${bucket}/models/${MODEL}/${file}.onnx` });
  }
  const loader = new ModelLoader(artifacts, await mkdtemp(join(tmpdir(), 'shadow-models-')), servingSessionOptions(1769));
  comparisons = new ShadowComparisons(new RegistryTable(env.dynamo, env.resources.tableName));
  deps = { s3: env.s3, registry, backend: new OnnxBackend(loader), comparisons, lakeBucket: bucket };
  const iris = await registry.getVersion(MODEL, IRIS);
  const onSageMaker = await registry.registerVersion(
    draftVersion(MODEL, { artifact: iris.artifact, signature: iris.signature, backend: { kind: 'sagemaker', instanceType: 'ml.g5.xlarge', minInstances: 1, maxInstances: 1 } }),
    () => ({ endpointName: 'sai-iris-shadow-4' }),
  );
  // Its deployment as the deployments function leaves it once SageMaker has the endpoint in service.
  await registry.moveDeployment(MODEL, onSageMaker.version, onSageMaker.deployment!, { ...onSageMaker.deployment!, state: 'IN_SERVICE', updatedAt: AT });
});
afterAll(async () => env.stop());

describe('processShadowObject on the emulators', () => {
  it('answers each copy with its shadow version, in its protocol, and writes and counts the answers per alias', async () => {
    // Prepare: the staging copy's primary answer is altered, so that the shadow disagrees on its label.
    const staging = await copyOf('staging', 'v2', IRIS_AGAIN, 'req-3');
    const altered = staging.primary.response as { outputs: { name: string; data: unknown[] }[] };
    altered.outputs.find((o) => o.name === 'label')!.data = [1];
    altered.outputs.find((o) => o.name === 'probabilities')!.data[0] = 0.5;
    const key = await putCopies([await copyOf('prod', 'v1', IRIS_AGAIN, 'req-1'), await copyOf('prod', 'v2', IRIS_AGAIN, 'req-2'), staging]);

    // Act
    const outcome = await processShadowObject(deps, bucket, key);

    // Assess
    const prodKey = shadowPredictionsKey(key, MODEL, 'prod');
    const stagingKey = shadowPredictionsKey(key, MODEL, 'staging');
    expect(outcome).toEqual({ kind: 'compared', model: MODEL, copies: 3, shadowErrors: 0, skipped: [], written: [prodKey, stagingKey], counted: 2, alreadyCounted: 0 });
    const [v1Record, v2Record] = await readRecords(prodKey);
    expect(v1Record).toMatchObject({ requestId: 'req-1', at: AT, request: v1Request, primary: { version: IRIS }, shadow: { version: IRIS_AGAIN } });
    expect((v1Record!.shadow as { response: unknown }).response).toMatchObject({ model_version: '2', predictions: [{ label: 0 }, { label: 2 }] });
    // Two labels (INT64, typed by the primary's signature) and 2 × 3 probabilities.
    expect(v1Record!.comparison).toEqual({ categoricalCompared: 2, agreed: 2, numericCompared: 6, absDiffSum: 0 });
    expect(v2Record!.comparison).toEqual({ categoricalCompared: 1, agreed: 1, numericCompared: 3, absDiffSum: 0 });
    const [stagingRecord] = await readRecords(stagingKey);
    expect(stagingRecord!.comparison.agreed).toBe(0);
    expect(await comparisons.summary(MODEL, 'prod', new Date(AT))).toEqual([
      {
        primaryVersion: IRIS,
        shadowVersion: IRIS_AGAIN,
        copies: 2,
        shadowErrors: 0,
        agreementRate: 1,
        meanAbsDiff: 0,
        categoricalCompared: 3,
        numericCompared: 9,
        firstMinute: '2026-11-24T01:02Z',
        lastMinute: '2026-11-24T01:02Z',
      },
    ]);
    const [stagingSummary] = await comparisons.summary(MODEL, 'staging', new Date(AT));
    expect(stagingSummary).toMatchObject({ copies: 1, agreementRate: 0, categoricalCompared: 1, numericCompared: 3 });
    expect(stagingSummary!.meanAbsDiff).toBeGreaterThan(0);
  });

  it("records the shadow's failures to answer (another signature, an unknown version) with the copies, and counts them", async () => {
    // Prepare
    const key = await putCopies([await copyOf('errors', 'v1', OTHER_SIGNATURE, 'req-1'), await copyOf('errors', 'v2', OTHER_SIGNATURE, 'req-2'), await copyOf('errors', 'v1', 99, 'req-3')]);

    // Act
    const outcome = await processShadowObject(deps, bucket, key);

    // Assess
    expect(outcome).toMatchObject({ kind: 'compared', copies: 3, shadowErrors: 3, counted: 2 });
    const records = await readRecords(shadowPredictionsKey(key, MODEL, 'errors'));
    expect(records.map((r) => r.shadow)).toEqual([
      { version: OTHER_SIGNATURE, error: expect.stringContaining("unknown feature 'sepal_length'") },
      { version: OTHER_SIGNATURE, error: expect.stringContaining("unknown input 'sepal_length'") },
      { version: 99, error: `model '${MODEL}' has no version 99` },
    ]);
    expect(records.map((r) => r.primary.version)).toEqual([IRIS, IRIS, IRIS]);
    expect(records.every((r) => r.comparison.categoricalCompared === 0 && r.comparison.numericCompared === 0)).toBe(true);
    const summary = await comparisons.summary(MODEL, 'errors', new Date(AT));
    expect(summary.map((s) => [s.shadowVersion, s.copies, s.shadowErrors, s.agreementRate, s.meanAbsDiff])).toEqual([
      [OTHER_SIGNATURE, 2, 2, null, null],
      [99, 1, 1, null, null],
    ]);
  });

  it('answers a shadow version on SageMaker through its endpoint, and records an endpoint that is not ready as the shadow\'s failure (no redelivery)', async () => {
    // Prepare: the endpoint runs iris (as Triton would) for the first object, then is not ready.
    const runtime = mockClient(SageMakerRuntimeClient);
    let ready = true;
    runtime.on(InvokeEndpointCommand).callsFake(async (input: { Body: Uint8Array; ContentType: string }) => {
      if (!ready) throw new ModelNotReadyException({ $metadata: { httpStatusCode: 429 }, message: 'Model not ready' });
      const served = await deps.backend.open(await deps.registry.getVersion(MODEL, IRIS));
      const answer = await infer(served, parseInferRequest(forwardedRequest(input)));
      return { Body: new TextEncoder().encode(JSON.stringify(answer)) };
    });
    const backends = new ServingBackends({ lambda: deps.backend, sagemaker: new SageMakerBackend(new SageMakerRuntimeClient({ region: 'us-east-1' })) });
    const withSageMaker = { ...deps, backend: backends };
    const answered = await putCopies([await copyOf('gpu-shadow', 'v2', IRIS_ON_SAGEMAKER, 'req-1')]);
    const notReady = await putCopies([await copyOf('gpu-shadow-cold', 'v2', IRIS_ON_SAGEMAKER, 'req-2')]);

    // Act
    const first = await processShadowObject(withSageMaker, bucket, answered);
    ready = false;
    const second = await processShadowObject(withSageMaker, bucket, notReady);
    runtime.restore();

    // Assess
    expect(first).toMatchObject({ copies: 1, shadowErrors: 0 });
    const [record] = await readRecords(shadowPredictionsKey(answered, MODEL, 'gpu-shadow'));
    expect(record!.shadow).toMatchObject({ version: IRIS_ON_SAGEMAKER, response: { model_version: String(IRIS_ON_SAGEMAKER) } });
    expect(record!.comparison).toMatchObject({ categoricalCompared: 1, agreed: 1, absDiffSum: 0 });
    expect(second).toMatchObject({ copies: 1, shadowErrors: 1 });
    const [cold] = await readRecords(shadowPredictionsKey(notReady, MODEL, 'gpu-shadow-cold'));
    expect(cold!.shadow).toEqual({ version: IRIS_ON_SAGEMAKER, error: expect.stringContaining('is not ready yet') });
  });

  it('writes the same objects again on a redelivery and does not count it twice', async () => {
    // Prepare
    const key = await putCopies([await copyOf('redelivered', 'v1', IRIS_AGAIN, 'req-1'), await copyOf('redelivered', 'v1', OTHER_SIGNATURE, 'req-2')]);
    const first = await processShadowObject(deps, bucket, key);
    const written = await readText(shadowPredictionsKey(key, MODEL, 'redelivered'));

    // Act
    const second = await processShadowObject(deps, bucket, key);

    // Assess
    expect(first).toMatchObject({ counted: 2, alreadyCounted: 0 });
    expect(second).toMatchObject({ copies: 2, counted: 0, alreadyCounted: 2 });
    expect(await readText(shadowPredictionsKey(key, MODEL, 'redelivered'))).toBe(written);
    const summary = await comparisons.summary(MODEL, 'redelivered', new Date(AT));
    expect(summary.map((s) => s.copies)).toEqual([1, 1]);
  });

  it('skips and reports malformed lines, and compares the others', async () => {
    // Prepare
    const good = await copyOf('skipping', 'v1', IRIS_AGAIN, 'req-1');
    const key = await putCopies([
      '{not json',
      JSON.stringify({ ...good, shadowVersion: 'two' }),
      JSON.stringify({ ...good, model: 'iris' }),
      '',
      JSON.stringify({ ...good, at: 'yesterday' }),
      JSON.stringify({ ...good, alias: 'a/b' }),
      JSON.stringify({ ...good, shadowVersion: 1.5 }),
      good,
    ]);

    // Act
    const outcome = await processShadowObject(deps, bucket, key);

    // Assess
    expect(outcome).toMatchObject({ kind: 'compared', copies: 1, shadowErrors: 0 });
    expect(outcome.kind === 'compared' && outcome.skipped).toEqual([
      { line: 1, reason: expect.stringContaining('JSON') },
      { line: 2, reason: expect.stringContaining('invalid shadow copy: shadowVersion') },
      { line: 3, reason: `the copy is of model 'iris', not '${MODEL}'` },
      { line: 5, reason: "'at' is not a time: 'yesterday'" },
      { line: 6, reason: expect.stringContaining("invalid alias 'a/b'") },
      { line: 7, reason: 'version 1.5 is not a version number' },
    ]);
    expect(await readRecords(shadowPredictionsKey(key, MODEL, 'skipping'))).toHaveLength(1);
  });

  it('ignores objects outside the lake or shadow-requests/, and objects deleted since', async () => {
    // Act
    const outcomes = await Promise.all([
      processShadowObject(deps, 'another-bucket', shadowRequestsKey(MODEL, new Date(AT), 'c', 1)),
      processShadowObject(deps, bucket, 'raw/iris/iris.csv'),
      processShadowObject(deps, bucket, 'shadow-requests/iris-shadow/'),
      processShadowObject(deps, bucket, shadowRequestsKey(MODEL, new Date(AT), 'gone', 1)),
    ]);

    // Assess
    expect(outcomes.map((o) => o.kind)).toEqual(['ignored', 'ignored', 'ignored', 'ignored']);
  });

  it('throws when a dependency is unavailable, so the object is redelivered, and counts nothing', async () => {
    // Prepare
    const key = await putCopies([await copyOf('throttled', 'v1', IRIS_AGAIN, 'req-1')]);
    const throttled: ShadowWorkerDeps = {
      ...deps,
      registry: {
        getVersion: async () => {
          throw new DependencyUnavailableError('model registry', 1);
        },
      },
    };

    // Act
    const attempt = processShadowObject(throttled, bucket, key);

    // Assess
    await expect(attempt).rejects.toThrowError(DependencyUnavailableError);
    expect(await comparisons.summary(MODEL, 'throttled', new Date(AT))).toEqual([]);
  });
});

describe('createShadowRecordHandler', () => {
  const sqsRecord = (body: unknown): SQSRecord => ({ body: JSON.stringify(body) }) as SQSRecord;

  it('compares the objects an S3 notification announces and ignores test events', async () => {
    // Prepare
    const key = await putCopies([await copyOf('notified', 'v1', IRIS_AGAIN, 'req-1')]);
    const handle = createShadowRecordHandler(deps, new Logger({ logLevel: 'SILENT' }), new Metrics({ namespace: 'test', serviceName: 'shadow' }));
    const notification = {
      Records: [{ eventName: 'ObjectCreated:Put', s3: { bucket: { name: bucket }, object: { key: encodeURIComponent(key), eTag: 'e', size: 1 } } }],
    };

    // Act
    await handle(sqsRecord({ Event: 's3:TestEvent' }));
    await handle(sqsRecord(notification));

    // Assess
    expect(await readRecords(shadowPredictionsKey(key, MODEL, 'notified'))).toHaveLength(1);
    expect((await comparisons.summary(MODEL, 'notified', new Date(AT)))[0]).toMatchObject({ copies: 1, agreementRate: 1 });
  });
});
