import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { mkdtemp, readFile } from 'node:fs/promises';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestEmulators, type TestEmulators } from '../../test/support/emulators.js';
import { inspectOnnxModel } from '../inference/onnx-session.js';
import { DatasetStore } from '../lake/dataset-store.js';
import { ingestObject } from '../lake/ingest-object.js';
import { ModelRegistry } from '../registry/registry.js';
import { RegistryTable } from '../storage/table.js';
import { ALGORITHMS } from '../ml/algorithms/index.js';
import { TrainingFailedError } from '../ml/errors.js';
import { startTrainingThread, type TrainingRun } from '../ml/training-thread.js';
import { JOB_LEASE_MS, JobStore } from './job-store.js';
import { FINISH_RESERVE_MS } from './limits.js';
import { runJob, type RunJobDeps } from './run-job.js';
import type { JobSpec } from './types.js';

let env: TestEmulators;
let deps: RunJobDeps;
const IRIS_FEATURES = ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'];
const invocation = (owner: string, remainingMs = 900_000, receiveCount = 1) => ({ owner, remainingMs: () => remainingMs, receiveCount });

const irisSpec = (modelName: string, overrides: Partial<JobSpec> = {}): JobSpec => ({
  modelName,
  dataset: 'iris',
  datasetVersion: 1,
  target: 'species',
  features: IRIS_FEATURES,
  task: 'classification',
  algorithm: 'gbdt',
  hyperparameters: ALGORITHMS.gbdt.parameters.parse({ maxIterations: 30 }) as Record<string, unknown>,
  seed: 1,
  ...overrides,
});
const submit = async (spec: JobSpec) => (await deps.jobs.createJob(spec, { submittedBy: 'test', trigger: 'api' })).job;
/** The job store as seen once the lease window has passed: a worker's last heartbeat is stale. */
const afterLeaseWindow = () => new JobStore(new RegistryTable(env.dynamo, env.resources.tableName), () => new Date(Date.now() + JOB_LEASE_MS + 1));

/** A run that never ends by itself: it waits to be stopped. */
const endlessRun = (onStart: () => void = () => {}) => (): TrainingRun => {
  let stop!: (reason: Error) => void;
  const result = new Promise<never>((_, reject) => {
    stop = reject;
  });
  onStart();
  return { result, stop: (reason) => stop(reason) };
};

beforeAll(async () => {
  env = await startTestEmulators();
  const table = env.resources.tableName;
  const bucket = env.resources.bucketName;
  const datasets = new DatasetStore(new RegistryTable(env.dynamo, table));
  await env.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'raw/iris/iris.csv', Body: await readFile('data/iris.csv') }));
  const ingested = await ingestObject(
    {
      store: datasets,
      s3: env.s3,
      lakeBucket: bucket,
      scratchDir: await mkdtemp(join(tmpdir(), 'run-job-')),
      engine: { memoryLimitMb: 256, threads: 1, maxLineBytes: 1 << 20 },
      leaseMs: 60_000,
    },
    { bucket, key: 'raw/iris/iris.csv', eTag: 'iris', sizeBytes: (await readFile('data/iris.csv')).byteLength },
  );
  expect(ingested).toMatchObject({ kind: 'ingested', status: 'READY', version: 1 });
  await env.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'raw/credit/credit.csv', Body: await readFile('data/credit.csv') }));
  const credit = await ingestObject(
    {
      store: datasets,
      s3: env.s3,
      lakeBucket: bucket,
      scratchDir: await mkdtemp(join(tmpdir(), 'run-job-')),
      engine: { memoryLimitMb: 256, threads: 1, maxLineBytes: 1 << 20 },
      leaseMs: 60_000,
    },
    { bucket, key: 'raw/credit/credit.csv', eTag: 'credit', sizeBytes: (await readFile('data/credit.csv')).byteLength },
  );
  expect(credit).toMatchObject({ kind: 'ingested', status: 'READY', version: 1 });
  deps = {
    registry: new ModelRegistry(new RegistryTable(env.dynamo, table)),
    jobs: new JobStore(new RegistryTable(env.dynamo, table)),
    datasets,
    s3: env.s3,
    lakeBucket: bucket,
    inspect: inspectOnnxModel,
    startTraining: startTrainingThread,
    codeVersion: '0.1.0+test',
    progressIntervalMs: 20,
    maxReceives: 4,
  };
});
afterAll(async () => env.stop());

describe('runJob on the emulators', () => {
  it('trains on its own thread, registers a verified version with metrics and lineage, and moves the alias', async () => {
    // Prepare
    const job = await submit(irisSpec('iris-gbdt', { alias: 'prod' }));

    // Act
    const outcome = await runJob(deps, job.id, invocation('w1'));

    // Assess
    expect(outcome).toEqual({ kind: 'succeeded', version: 1 });
    const finished = await deps.jobs.getJob(job.id);
    expect(finished).toMatchObject({ status: 'SUCCEEDED', modelVersion: 1, attempts: 1, evaluation: { classNames: ['setosa', 'versicolor', 'virginica'] } });
    expect(finished.metrics?.accuracy).toBeGreaterThan(0.8);
    expect(finished.progress?.stage).toBe('done');
    const version = await deps.registry.getVersion('iris-gbdt', 1);
    expect(version.artifact.key).toBe(`models/iris-gbdt/1/${job.id.split('~')[1]}/model.onnx`);
    expect(version.metrics).toMatchObject({ accuracy: finished.metrics?.accuracy, testRows: 24 });
    expect(version.lineage).toMatchObject({ trainingJob: job.id, dataset: 'iris', datasetVersion: '1', algorithm: 'gbdt', seed: '1', codeVersion: '0.1.0+test' });
    expect(JSON.parse(version.lineage.hyperparameters!)).toMatchObject({ maxIterations: 30 });
    expect((await deps.registry.getAlias('iris-gbdt', 'prod')).routes).toEqual([{ version: 1, weight: 100 }]);

    // The registered artifact serves raw named features.
    const object = await env.s3.send(new GetObjectCommand({ Bucket: env.resources.bucketName, Key: version.artifact.key }));
    const session = await InferenceSession.create(await object.Body!.transformToByteArray());
    const feeds = Object.fromEntries(IRIS_FEATURES.map((name, i) => [name, new Tensor('float32', Float32Array.from([[5.1, 3.5, 1.4, 0.2][i]!]), [1, 1])]));
    const outputs = await session.run(feeds);
    expect(outputs.label!.data).toEqual(['setosa']);
  });

  it('never moves the alias back to an older version when an older job finishes late', async () => {
    // Prepare: a newer job already serves version 2 under 'prod'.
    const older = await submit(irisSpec('iris-order', { alias: 'prod' }));
    const newer = await submit(irisSpec('iris-order', { alias: 'prod', seed: 2 }));
    const slowAlias: RunJobDeps = {
      ...deps,
      registry: Object.assign(Object.create(deps.registry) as ModelRegistry, { setAlias: () => Promise.reject(new Error('registry unavailable')) }),
    };
    expect((await runJob(slowAlias, older.id, invocation('w1'))).kind).toBe('retry');
    expect(await runJob(deps, newer.id, invocation('w2'))).toEqual({ kind: 'succeeded', version: 2 });

    // Act: the older job's redelivery finds its version 1 and finishes.
    const recovered = await runJob(deps, older.id, invocation('w3', 900_000, 2));

    // Assess
    expect(recovered).toEqual({ kind: 'succeeded', version: 1 });
    expect((await deps.registry.getAlias('iris-order', 'prod')).routes).toEqual([{ version: 2, weight: 100 }]);
  });

  it('succeeds without moving an alias that only takes APPROVED versions, and says why', async () => {
    // Prepare: 'prod' requires approval; the new version starts PENDING.
    await deps.registry.createModel({ name: 'iris-gated' });
    const first = await submit(irisSpec('iris-gated'));
    await runJob(deps, first.id, invocation('w1'));
    await deps.registry.setVersionStatus('iris-gated', 1, { status: 'APPROVED', by: 'reviewer', reason: '' });
    await deps.registry.setAlias('iris-gated', 'prod', { routes: [{ version: 1, weight: 100 }], requireApproved: true, updatedBy: 'a', reason: '', expectedRevision: 0 });
    const job = await submit(irisSpec('iris-gated', { alias: 'prod', seed: 2 }));

    // Act
    const outcome = await runJob(deps, job.id, invocation('w2'));

    // Assess
    expect(outcome).toEqual({ kind: 'succeeded', version: 2 });
    expect(await deps.jobs.getJob(job.id)).toMatchObject({
      status: 'SUCCEEDED',
      aliasNotMoved: "alias 'prod' only routes to APPROVED versions; version 2 of model 'iris-gated' is PENDING",
    });
    expect((await deps.registry.getAlias('iris-gated', 'prod')).routes).toEqual([{ version: 1, weight: 100 }]);
  });

  /** The README's auto-train job on credit.csv (5 % defaults), with the default features. */
  const creditSpec = (modelName: string, hyperparameters: Record<string, unknown> = {}): JobSpec => ({
    modelName,
    dataset: 'credit',
    datasetVersion: 1,
    target: 'default',
    features: ['age', 'income', 'loan_amount', 'term_months', 'purpose', 'housing', 'late_payments', 'employed'],
    task: 'classification',
    algorithm: 'gbdt',
    hyperparameters: ALGORITHMS.gbdt.parameters.parse(hyperparameters) as Record<string, unknown>,
    seed: 42,
    alias: 'staging',
  });

  it('registers a model no better than the majority class, but leaves the alias and says why', async () => {
    // Prepare
    const job = await submit(creditSpec('credit-plain'));

    // Act
    const outcome = await runJob(deps, job.id, invocation('w1'));

    // Assess
    expect(outcome).toEqual({ kind: 'succeeded', version: 1 });
    const finished = await deps.jobs.getJob(job.id);
    expect(finished.metrics?.balancedAccuracy).toBeLessThanOrEqual(finished.metrics!.baselineBalancedAccuracy!);
    expect(finished.aliasNotMoved).toMatch(/^the model's balanced accuracy on the test rows \(0\.\d{4}\) is no better than always predicting the majority class \(0\.5000\)/);
    expect(await deps.registry.findAlias('credit-plain', 'staging')).toBeUndefined();
  });

  it('with classWeight "balanced", learns the rare class and moves the alias', async () => {
    // Prepare
    const job = await submit(creditSpec('credit-balanced', { classWeight: 'balanced' }));

    // Act
    const outcome = await runJob(deps, job.id, invocation('w1'));

    // Assess
    expect(outcome).toEqual({ kind: 'succeeded', version: 1 });
    const finished = await deps.jobs.getJob(job.id);
    expect(finished.aliasNotMoved).toBeUndefined();
    expect(finished.metrics!.balancedAccuracy).toBeGreaterThan(finished.metrics!.baselineBalancedAccuracy! + 0.1);
    expect(finished.evaluation!.confusionMatrix[1]![1]).toBeGreaterThan(0);
    expect((await deps.registry.getAlias('credit-balanced', 'staging')).routes).toEqual([{ version: 1, weight: 100 }]);
  });

  it('records the iterations run, the best one and the refit in the job and the lineage', async () => {
    // Prepare
    const job = await submit(irisSpec('iris-refit', { hyperparameters: ALGORITHMS.gbdt.parameters.parse({ maxIterations: 200 }) as Record<string, unknown> }));

    // Act
    await runJob(deps, job.id, invocation('w1'));

    // Assess
    const { metrics } = await deps.jobs.getJob(job.id);
    expect(metrics).toMatchObject({ trainRows: 102, validationRows: 24, refitRows: 126 });
    expect(metrics!.bestIteration).toBeLessThan(metrics!.iterations!);
    expect(metrics!.iterations).toBeLessThan(200); // early stopping fired
    const { lineage } = await deps.registry.getVersion('iris-refit', 1);
    expect(lineage).toMatchObject({
      iterations: String(metrics!.iterations),
      bestIteration: String(metrics!.bestIteration),
      refit: `refitted on the training + validation rows (126) with the ${metrics!.bestIteration} iterations chosen on the validation rows; metrics from the untouched test rows`,
    });
  });

  it('does nothing for a duplicate delivery of a finished job', async () => {
    // Prepare
    const job = await submit(irisSpec('iris-dup'));
    await runJob(deps, job.id, invocation('w1'));

    // Act
    const duplicate = await runJob(deps, job.id, invocation('w2'));

    // Assess
    expect(duplicate).toEqual({ kind: 'duplicate', status: 'SUCCEEDED' });
    expect((await deps.registry.listVersions('iris-dup')).items).toHaveLength(1);
  });

  it('finishes without training again when a worker died after registering', async () => {
    // Prepare: the first attempt registers, then cannot record its success (its worker "dies").
    const job = await submit(irisSpec('iris-crash'));
    let trainings = 0;
    const crashing: RunJobDeps = {
      ...deps,
      startTraining: (input, onProgress) => {
        trainings++;
        return startTrainingThread(input, onProgress);
      },
      jobs: Object.assign(Object.create(deps.jobs) as JobStore, {
        succeed: () => Promise.reject(new Error('worker died')),
      }),
    };
    const first = await runJob(crashing, job.id, invocation('w1'));

    // Act
    const second = await runJob({ ...crashing, jobs: deps.jobs }, job.id, invocation('w2'));

    // Assess
    expect(first.kind).toBe('retry');
    expect(second).toEqual({ kind: 'succeeded', version: 1 });
    expect(trainings).toBe(1);
    expect((await deps.registry.listVersions('iris-crash')).items).toHaveLength(1);
    expect(await deps.jobs.getJob(job.id)).toMatchObject({ status: 'SUCCEEDED', attempts: 2, lastError: 'attempt 1: worker died' });
  });

  it('stops a running job when it is cancelled, and registers nothing', async () => {
    // Prepare
    const job = await submit(irisSpec('iris-cancel'));
    const cancelling = { ...deps, startTraining: endlessRun(() => void deps.jobs.requestCancel(job.id)) };

    // Act
    const outcome = await runJob(cancelling, job.id, invocation('w1'));

    // Assess
    expect(outcome).toEqual({ kind: 'cancelled', reason: 'cancelled while running' });
    expect(await deps.jobs.getJob(job.id)).toMatchObject({ status: 'CANCELLED', reason: 'cancelled while running' });
    expect(await deps.registry.findModel('iris-cancel')).toBeUndefined();
  });

  it('honours a cancel that arrives after training, before anything is registered', async () => {
    // Prepare
    const job = await submit(irisSpec('iris-late-cancel'));
    const lateCancel = {
      ...deps,
      startTraining: (input: Parameters<RunJobDeps['startTraining']>[0], onProgress: Parameters<RunJobDeps['startTraining']>[1]): TrainingRun => {
        const run = startTrainingThread(input, onProgress);
        return { ...run, result: run.result.then(async (result) => (await deps.jobs.requestCancel(job.id), result)) };
      },
    };

    // Act
    const outcome = await runJob(lateCancel, job.id, invocation('w1'));

    // Assess
    expect(outcome).toEqual({ kind: 'cancelled', reason: 'cancelled while running' });
    expect(await deps.registry.findModel('iris-late-cancel')).toBeUndefined();
  });

  it('fails a job that would run past the function deadline, with the reason', async () => {
    // Prepare
    const job = await submit(irisSpec('iris-slow'));

    // Act
    const outcome = await runJob({ ...deps, startTraining: endlessRun() }, job.id, invocation('w1', FINISH_RESERVE_MS + 30));

    // Assess
    expect(outcome.kind).toBe('failed');
    expect((await deps.jobs.getJob(job.id)).reason).toMatch(/did not finish within the worker's time limit/);
  });

  it('fails a job whose model does not reproduce, keeping its metrics, and registers nothing', async () => {
    // Prepare
    const job = await submit(irisSpec('iris-parity'));
    const mismatch = new TrainingFailedError('the exported ONNX model does not reproduce the trainer', { accuracy: 0.9 });
    const failing = { ...deps, startTraining: (): TrainingRun => ({ result: Promise.reject(mismatch), stop: () => {} }) };

    // Act
    const outcome = await runJob(failing, job.id, invocation('w1'));

    // Assess
    expect(outcome).toEqual({ kind: 'failed', reason: mismatch.message });
    expect(await deps.jobs.getJob(job.id)).toMatchObject({ status: 'FAILED', reason: mismatch.message, metrics: { accuracy: 0.9 } });
    expect(await deps.registry.findModel('iris-parity')).toBeUndefined();
  });

  it('puts a job back in the queue when S3 fails, and fails it with the last error on the last attempt', async () => {
    // Prepare: S3 faults the emulator cannot produce.
    const s3 = new S3Client({ region: 'us-east-1' });
    mockClient(s3).on(GetObjectCommand).rejects(Object.assign(new Error('Service Unavailable'), { name: 'ServiceUnavailable', $metadata: { httpStatusCode: 503 } }));
    const job = await submit(irisSpec('iris-s3'));
    const faulty = { ...deps, s3 };

    // Act: the first receive, then the last one that trains (the queue's final receive only cleans up).
    const first = await runJob(faulty, job.id, invocation('w1'));
    const queued = await deps.jobs.getJob(job.id);
    const last = await runJob(faulty, job.id, invocation('w2', 900_000, 3));

    // Assess
    expect(first.kind).toBe('retry');
    expect(queued).toMatchObject({ status: 'QUEUED', attempts: 1, lastError: expect.stringMatching(/^attempt 1: lake is temporarily unavailable/) });
    expect(last.kind).toBe('failed');
    expect(await deps.jobs.getJob(job.id)).toMatchObject({ status: 'FAILED', attempts: 2, reason: expect.stringMatching(/^failed after 2 attempts; last error: lake is temporarily unavailable/) });
  });

  it('fails a job at once, never retried, when S3 or DynamoDB refuses a request as sent (a 400 such as ValidationException)', async () => {
    // Prepare: a refusal the emulator cannot produce on this path.
    const s3 = new S3Client({ region: 'us-east-1' });
    mockClient(s3).on(GetObjectCommand).rejects(Object.assign(new Error('Number overflow'), { name: 'ValidationException', $metadata: { httpStatusCode: 400 } }));
    const job = await submit(irisSpec('iris-refused'));

    // Act
    const outcome = await runJob({ ...deps, s3 }, job.id, invocation('w1'));

    // Assess
    const reason = 'S3 or DynamoDB refused a request as sent, so it is not retried: Number overflow';
    expect(outcome).toEqual({ kind: 'failed', reason });
    expect(await deps.jobs.getJob(job.id)).toMatchObject({ status: 'FAILED', attempts: 1, reason });
  });

  it('ends a job whose worker died on its last attempt when the queue hands the message out a final time', async () => {
    // Prepare: the third attempt's worker "dies" (its lease runs out without an outcome).
    const job = await submit(irisSpec('iris-dead'));
    await deps.jobs.claim(job.id, 'dead-worker');

    // Act
    const outcome = await runJob({ ...deps, jobs: afterLeaseWindow() }, job.id, invocation('cleanup', 900_000, 4));

    // Assess
    expect(outcome.kind).toBe('failed');
    expect(await deps.jobs.getJob(job.id)).toMatchObject({
      status: 'FAILED',
      reason: 'the worker stopped without finishing (out of memory, a crash or the time limit) on attempt 1',
    });
    expect(await deps.registry.findModel('iris-dead')).toBeUndefined();
  });

  it('takes over a job whose worker stopped sending heartbeats on the next delivery, and finishes it', async () => {
    // Prepare
    const job = await submit(irisSpec('iris-takeover'));
    await deps.jobs.claim(job.id, 'dead-worker');

    // Act
    const outcome = await runJob({ ...deps, jobs: afterLeaseWindow() }, job.id, invocation('w2', 900_000, 2));

    // Assess
    expect(outcome).toEqual({ kind: 'succeeded', version: 1 });
    expect(await deps.jobs.getJob(job.id)).toMatchObject({ status: 'SUCCEEDED', attempts: 2, modelVersion: 1, progress: { stage: 'done' } });
  });

  it('stops a live worker whose lease was taken over while it trained, and registers nothing', async () => {
    // Prepare: while the first worker trains, a redelivery that sees its lease stale takes the job.
    const job = await submit(irisSpec('iris-overtaken'));
    const overtaken = { ...deps, startTraining: endlessRun(() => void afterLeaseWindow().claim(job.id, 'w2')) };

    // Act
    const outcome = await runJob(overtaken, job.id, invocation('w1'));

    // Assess
    expect(outcome).toEqual({ kind: 'leaseLost' });
    expect(await deps.jobs.getJob(job.id)).toMatchObject({ status: 'RUNNING', attempts: 2 });
    expect(await deps.registry.findModel('iris-overtaken')).toBeUndefined();
  });

  it('stops a worker whose lease was taken over after training, before it registers anything', async () => {
    // Prepare
    const job = await submit(irisSpec('iris-overtaken-late'));
    const lateTakeover = {
      ...deps,
      startTraining: (input: Parameters<RunJobDeps['startTraining']>[0], onProgress: Parameters<RunJobDeps['startTraining']>[1]): TrainingRun => {
        const run = startTrainingThread(input, onProgress);
        return { ...run, result: run.result.then(async (result) => (await afterLeaseWindow().claim(job.id, 'w2'), result)) };
      },
    };

    // Act
    const outcome = await runJob(lateTakeover, job.id, invocation('w1'));

    // Assess
    expect(outcome).toEqual({ kind: 'leaseLost' });
    expect(await deps.registry.findModel('iris-overtaken-late')).toBeUndefined();
  });

  it('leaves a job held by a live worker alone on any receive', async () => {
    // Prepare
    const job = await submit(irisSpec('iris-held'));
    await deps.jobs.claim(job.id, 'live-worker');

    // Act
    const duplicate = await runJob(deps, job.id, invocation('other', 900_000, 4));

    // Assess
    expect(duplicate).toEqual({ kind: 'busy', status: 'RUNNING' });
    expect(await deps.jobs.getJob(job.id)).toMatchObject({ status: 'RUNNING', attempts: 1 });
  });

  it('fails a job whose dataset version has no usable feature column any more', async () => {
    // Prepare
    const job = await submit(irisSpec('iris-missing', { features: ['petal_length', 'no_such_column'] }));

    // Act
    const outcome = await runJob(deps, job.id, invocation('w1'));

    // Assess
    expect(outcome).toEqual({ kind: 'failed', reason: "feature 'no_such_column' is not a usable column of dataset 'iris' version 1" });
  });
});
