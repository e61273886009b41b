import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestEmulators, type TestEmulators } from '../../test/support/emulators.js';
import { DependencyUnavailableError } from '../errors.js';
import { RegistryTable } from '../storage/table.js';
import { JobStore } from './job-store.js';
import type { JobQueue } from './job-queue.js';
import { submitJob } from './submit-job.js';
import type { JobSpec } from './types.js';

let env: TestEmulators;
let jobs: JobStore;
const spec: JobSpec = { modelName: 'sub', dataset: 'd', datasetVersion: 1, target: 't', features: ['a'], task: 'regression', algorithm: 'linear', hyperparameters: {}, seed: 1 };
const origin = { submittedBy: 'tester', trigger: 'api' as const };

beforeAll(async () => {
  env = await startTestEmulators();
  jobs = new JobStore(new RegistryTable(env.dynamo, env.resources.tableName));
});
afterAll(async () => env.stop());

describe('submitJob', () => {
  it('returns the first job for a repeated idempotency key, re-sending its message only while no worker has it', async () => {
    // Prepare
    const sent: string[] = [];
    const queue: JobQueue = { send: async (id) => void sent.push(id) };

    // Act
    const first = await submitJob({ jobs, queue }, spec, { ...origin, idempotencyKey: 'k' });
    const again = await submitJob({ jobs, queue }, spec, { ...origin, idempotencyKey: 'k' });
    await jobs.claim(first.job.id, 'worker');
    const afterClaim = await submitJob({ jobs, queue }, spec, { ...origin, idempotencyKey: 'k' });

    // Assess
    expect(first.created).toBe(true);
    expect(again).toEqual({ job: first.job, created: false });
    expect(afterClaim).toMatchObject({ created: false, job: { id: first.job.id, status: 'RUNNING' } });
    expect(sent).toEqual([first.job.id, first.job.id]);
  });

  it('queues the job when a submission with an idempotency key is retried after a failed send', async () => {
    // Prepare
    const sent: string[] = [];
    const down: JobQueue = { send: () => Promise.reject(new DependencyUnavailableError('training queue', 1)) };
    const up: JobQueue = { send: async (id) => void sent.push(id) };

    // Act
    const failing = submitJob({ jobs, queue: down }, { ...spec, modelName: 'retry' }, { ...origin, idempotencyKey: 'k2' });
    await expect(failing).rejects.toThrowError(DependencyUnavailableError);
    const retried = await submitJob({ jobs, queue: up }, { ...spec, modelName: 'retry' }, { ...origin, idempotencyKey: 'k2' });

    // Assess
    expect(retried).toMatchObject({ created: false, job: { status: 'QUEUED', attempts: 0 } });
    expect(sent).toEqual([retried.job.id]);
  });

  it('fails a job without an idempotency key when its message cannot be sent, and passes the 503 on', async () => {
    // Prepare
    const queue: JobQueue = { send: () => Promise.reject(new DependencyUnavailableError('training queue', 1)) };

    // Act
    const submitting = submitJob({ jobs, queue }, spec, origin);

    // Assess
    await expect(submitting).rejects.toThrowError(DependencyUnavailableError);
    const [job] = (await jobs.listModelJobs('sub')).items;
    expect(job).toMatchObject({ status: 'FAILED', reason: 'could not be queued: training queue is temporarily unavailable; retry after 1 s' });
  });
});
