/**
 * The training service end to end on the local cloud: a dropped CSV becomes a dataset version,
 * a job submitted through the API travels through the SQS training queue to the training
 * function, which registers a model version that the predict function then serves. A dataset
 * with an auto-train spec does the same with no API call at all.
 */
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalCloud, type LocalCloud } from '../../local/cloud.js';
import type { DatasetVersion } from '../../src/lake/types.js';
import type { TrainingJob } from '../../src/training/types.js';
import { lakeApi } from '../support/lake-api.js';

let cloud: LocalCloud;
let lake: ReturnType<typeof lakeApi>;

beforeAll(async () => {
  cloud = await startLocalCloud({ stateDir: await mkdtemp(join(tmpdir(), 'training-cloud-')), port: 0 });
  lake = lakeApi(cloud);
  await lake.drop('raw/iris/iris.csv', await readFile('data/iris.csv'));
  const [version] = await lake.finishedVersions('iris');
  expect(version?.status).toBe('READY');
});
afterAll(async () => {
  lake?.s3.destroy();
  await cloud?.stop();
});

/** Polls a job until it is finished; fails after `timeoutMs`. */
async function finishedJob(id: string, timeoutMs = 120_000): Promise<TrainingJob> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { body } = await lake.request<TrainingJob>('GET', `/jobs/${encodeURIComponent(id)}`);
    if (body.status === 'SUCCEEDED' || body.status === 'FAILED' || body.status === 'CANCELLED') return body;
    if (Date.now() > deadline) throw new Error(`job ${id} is still ${body.status} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

describe('training through the local cloud', () => {
  it('trains a submitted job, registers the version, points the alias at it, and serves it', async () => {
    // Prepare
    const request = { dataset: 'iris', target: 'species', task: 'classification', algorithm: 'logistic', modelName: 'iris-trained', alias: 'prod', idempotencyKey: 'iris-e2e' };

    // Act
    const submitted = await lake.request<TrainingJob>('POST', '/jobs', request);
    const replayed = await lake.request<TrainingJob>('POST', '/jobs', request);
    const job = await finishedJob(submitted.body.id);
    const prediction = await lake.request<{ model_version: string; predictions: { label: string; probabilities: number[] }[] }>(
      'POST',
      '/v1/models/iris-trained:predict',
      { instances: [{ sepal_length: 5.1, sepal_width: 3.5, petal_length: 1.4, petal_width: 0.2 }, { sepal_length: 6.3, sepal_width: null, petal_length: 6.0, petal_width: 2.5 }] },
    );
    const listed = await lake.request<{ jobs: TrainingJob[] }>('GET', '/models/iris-trained/jobs');
    const byDataset = await lake.request<{ jobs: TrainingJob[] }>('GET', '/datasets/iris/jobs');

    // Assess
    expect(submitted.status).toBe(202);
    expect(submitted.headers.get('location')).toBe(`/jobs/${encodeURIComponent(submitted.body.id)}`);
    expect(submitted.body).toMatchObject({ status: 'QUEUED', spec: { datasetVersion: 1, features: ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'] } });
    expect(replayed.status).toBe(200);
    expect(replayed.body.id).toBe(submitted.body.id);
    expect(job).toMatchObject({ status: 'SUCCEEDED', modelVersion: 1, attempts: 1 });
    expect(job.metrics?.accuracy).toBeGreaterThan(0.85);
    expect(prediction.status).toBe(200);
    expect(prediction.body.model_version).toBe('1');
    expect(prediction.body.predictions.map((p) => p.label)).toEqual(['setosa', 'virginica']);
    expect(listed.body.jobs.map((j) => j.id)).toContain(job.id);
    expect(byDataset.body.jobs.map((j) => j.id)).toContain(job.id);
  });

  it.each([
    ['an unknown dataset', { dataset: 'nope', target: 'species', task: 'classification', modelName: 'm' }, "dataset 'nope' not found"],
    ['an unknown target', { dataset: 'iris', target: 'colour', task: 'classification', modelName: 'm' }, "target 'colour' is not a column of dataset 'iris' version 1"],
    ['an unknown feature', { dataset: 'iris', target: 'species', features: ['petal'], task: 'classification', modelName: 'm' }, "feature 'petal' is not a column"],
    ['regression of a text target', { dataset: 'iris', target: 'species', task: 'regression', modelName: 'm' }, "target 'species' is string; regression needs a numeric target"],
    ['an algorithm that does not do the task', { dataset: 'iris', target: 'species', task: 'classification', algorithm: 'linear', modelName: 'm' }, "algorithm 'linear' does not do classification"],
    ['a bad hyperparameter', { dataset: 'iris', target: 'species', task: 'classification', hyperparameters: { learningRate: -1 }, modelName: 'm' }, "invalid hyperparameters for 'gbdt'"],
    ['an unknown hyperparameter', { dataset: 'iris', target: 'species', task: 'classification', hyperparameters: { learning_rate: 0.1 }, modelName: 'm' }, 'learning_rate'],
    ['a missing target', { dataset: 'iris', task: 'classification', modelName: 'm' }, 'target'],
    ['class weights for regression', { dataset: 'iris', target: 'sepal_length', task: 'regression', hyperparameters: { classWeight: 'balanced' }, modelName: 'm' }, "hyperparameter 'classWeight' weighs classes; it applies to classification only"],
    ['an unknown class weighting', { dataset: 'iris', target: 'species', task: 'classification', algorithm: 'mlp', hyperparameters: { classWeight: 'auto' }, modelName: 'm' }, "invalid hyperparameters for 'mlp'"],
    ['a job that could outlast the training function', { dataset: 'iris', target: 'species', task: 'classification', algorithm: 'mlp', hyperparameters: { hiddenLayers: [512, 512], maxEpochs: 100_000 }, modelName: 'm' }, 'the job could train for about'],
  ])('refuses %s with a 400 naming the problem, before anything is queued', async (_, body, message) => {
    // Act
    const reply = await lake.request<{ error: string }>('POST', '/jobs', body);

    // Assess
    expect(reply.status).toBe(400);
    expect(reply.body.error).toContain(message);
    // No job names model 'm' (nor does a model of that name exist): 404.
    expect((await lake.request('GET', '/models/m/jobs')).status).toBe(404);
  });

  it('trains by itself when a file lands in a dataset with an auto-train spec', async () => {
    // Prepare
    const defined = await lake.request('PUT', '/datasets/iris-auto', {
      autoTrain: { modelName: 'iris-auto', target: 'species', task: 'classification', algorithm: 'gbdt', alias: 'staging', hyperparameters: { maxIterations: 40, minSamplesLeaf: 5 } },
    });

    // Act
    await lake.drop('raw/iris-auto/iris.csv', await readFile('data/iris.csv'));
    const [version] = await lake.finishedVersions('iris-auto');
    const started = await pollVersion('iris-auto', version!.version);
    const job = await finishedJob(started);
    const alias = await lake.request<{ routes: unknown[] }>('GET', '/models/iris-auto/aliases/staging');

    // Assess
    expect(defined.status).toBe(201);
    expect(job).toMatchObject({ status: 'SUCCEEDED', trigger: 'auto-train', modelVersion: 1, spec: { dataset: 'iris-auto', datasetVersion: 1 } });
    expect(alias.body.routes).toEqual([{ version: 1, weight: 100 }]);
  });

  it('refuses an auto-train spec with bad hyperparameters when the dataset is defined', async () => {
    // Act
    const reply = await lake.request<{ error: string }>('PUT', '/datasets/bad-auto', {
      autoTrain: { modelName: 'x', target: 'y', task: 'classification', hyperparameters: { maxIterations: 0 } },
    });

    // Assess
    expect(reply.status).toBe(400);
    expect(reply.body.error).toContain("invalid hyperparameters for 'gbdt'");
  });

  it('cancels a queued or running job, and refuses to cancel a finished one', async () => {
    // Prepare
    // Many epochs of a wide network: the job is still queued or training when the cancel arrives
    // (and a cancel that arrives after training still stops it before it registers).
    const submitted = await lake.request<TrainingJob>('POST', '/jobs', {
      dataset: 'iris',
      target: 'species',
      task: 'classification',
      algorithm: 'mlp',
      hyperparameters: { hiddenLayers: [512, 512], maxEpochs: 10_000, earlyStopping: false },
      modelName: 'iris-cancelled',
    });
    expect(submitted.status).toBe(202);

    // Act
    const cancelled = await lake.request<TrainingJob>('POST', `/jobs/${encodeURIComponent(submitted.body.id)}/cancel`);
    const job = await finishedJob(submitted.body.id);
    const again = await lake.request<{ error: string }>('POST', `/jobs/${encodeURIComponent(submitted.body.id)}/cancel`);

    // Assess
    expect(cancelled.status).toBe(202);
    expect(job.status).toBe('CANCELLED');
    expect((await lake.request('GET', '/models/iris-cancelled/versions')).status).toBe(404);
    expect(again.status).toBe(409);
  });
});

/** Polls a dataset version until its auto-train outcome is recorded; returns the job id. */
async function pollVersion(dataset: string, version: number, timeoutMs = 30_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { body } = await lake.request<DatasetVersion>('GET', `/datasets/${dataset}/versions/${version}`);
    if (body.autoTrain !== undefined) {
      if ('refused' in body.autoTrain) throw new Error(`auto-train refused: ${body.autoTrain.refused}`);
      return body.autoTrain.jobId;
    }
    if (Date.now() > deadline) throw new Error(`version ${version} of '${dataset}' started no job after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
