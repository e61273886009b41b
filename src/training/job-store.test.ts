import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestEmulators, type TestEmulators } from '../../test/support/emulators.js';
import { ConflictError, NotFoundError } from '../errors.js';
import { RegistryTable } from '../storage/table.js';
import { JOB_LEASE_MS, JobStore, LeaseLostError } from './job-store.js';
import type { JobSpec } from './types.js';

let env: TestEmulators;
let clock = Date.parse('2026-11-23T10:00:00Z');
let store: JobStore;

const spec = (overrides: Partial<JobSpec> = {}): JobSpec => ({
  modelName: 'churn',
  dataset: 'customers',
  datasetVersion: 3,
  target: 'churned',
  features: ['age', 'plan'],
  task: 'classification',
  algorithm: 'gbdt',
  hyperparameters: { learningRate: 0.1 },
  seed: 42,
  ...overrides,
});
const origin = { submittedBy: 'tester', trigger: 'api' as const };
const progress = (iteration: number) => ({ stage: 'training' as const, iteration, elapsedSeconds: iteration, updatedAt: new Date(clock).toISOString() });

beforeAll(async () => {
  env = await startTestEmulators();
  store = new JobStore(new RegistryTable(env.dynamo, env.resources.tableName), () => new Date(clock));
});
afterAll(async () => env.stop());

describe('JobStore on dynalite', () => {
  it('records a QUEUED job readable by id and listed under its model and its dataset, newest first', async () => {
    // Act
    const first = await store.createJob(spec({ modelName: 'listed', dataset: 'listed-data' }), origin);
    clock += 1000;
    const second = await store.createJob(spec({ modelName: 'listed', dataset: 'listed-data' }), origin);

    // Assess
    expect(first.created).toBe(true);
    expect(first.job).toMatchObject({ status: 'QUEUED', attempts: 0, submittedBy: 'tester', trigger: 'api' });
    expect(first.job.id).toMatch(/^listed~\d{17}-[0-9a-f]{8}$/);
    expect(await store.getJob(first.job.id)).toEqual(first.job);
    expect((await store.listModelJobs('listed')).items.map((j) => j.id)).toEqual([second.job.id, first.job.id]);
    expect((await store.listDatasetJobs('listed-data')).items.map((j) => j.id)).toEqual([second.job.id, first.job.id]);
  });

  it('answers 404 for ids that do not exist or cannot exist', async () => {
    await expect(store.getJob('churn~20260101000000000-00000000')).rejects.toThrowError(NotFoundError);
    await expect(store.getJob('no-separator')).rejects.toThrowError(NotFoundError);
    await expect(store.getJob('bad name!~20260101000000000-00000000')).rejects.toThrowError(NotFoundError);
  });

  it('returns the first job for a repeated idempotency key and refuses the key for a different request', async () => {
    // Act
    const first = await store.createJob(spec(), { ...origin, idempotencyKey: 'nightly-1' });
    const again = await store.createJob(spec(), { ...origin, idempotencyKey: 'nightly-1' });
    const different = store.createJob(spec({ target: 'plan' }), { ...origin, idempotencyKey: 'nightly-1' });

    // Assess
    expect(again).toEqual({ job: first.job, created: false });
    await expect(different).rejects.toThrowError(ConflictError);
  });

  it('lets exactly one of many concurrent workers claim a job, and counts the attempt', async () => {
    // Prepare
    const { job } = await store.createJob(spec(), origin);

    // Act
    const claims = await Promise.all(Array.from({ length: 8 }, (_, i) => store.claim(job.id, `worker-${i}`)));

    // Assess
    expect(claims.filter((c) => c.kind === 'claimed')).toHaveLength(1);
    expect(claims.filter((c) => c.kind === 'busy')).toHaveLength(7);
    expect(await store.getJob(job.id)).toMatchObject({ status: 'RUNNING', attempts: 1 });
  });

  it('hands a job whose worker stopped sending heartbeats to the next delivery, and locks the silent worker out', async () => {
    // Prepare
    const { job } = await store.createJob(spec(), origin);
    await store.claim(job.id, 'dead-worker');

    // Act
    const early = await store.claim(job.id, 'next-worker');
    clock += JOB_LEASE_MS + 1;
    const late = await store.claim(job.id, 'next-worker');

    // Assess
    expect(early.kind).toBe('busy');
    expect(late).toMatchObject({ kind: 'claimed', job: { status: 'RUNNING', attempts: 2 } });
    await expect(store.recordProgress(job.id, 'dead-worker', progress(1))).rejects.toThrowError(LeaseLostError);
    await expect(store.markRegistering(job.id, 'dead-worker', 1)).rejects.toThrowError(LeaseLostError);
    await expect(store.recordProgress(job.id, 'next-worker', progress(2))).resolves.toEqual({ cancelRequested: false });
    expect((await store.getJob(job.id)).progress).toMatchObject({ iteration: 2 });
  });

  it('keeps a job with its worker for as long as the heartbeats go on, however long it runs', async () => {
    // Prepare
    const { job } = await store.createJob(spec(), origin);
    await store.claim(job.id, 'live-worker');

    // Act: heartbeats for 20 lease windows, each within the window of the one before.
    for (let beat = 1; beat <= 20; beat++) {
      clock += JOB_LEASE_MS - 1;
      await store.recordProgress(job.id, 'live-worker', progress(beat));
    }
    clock += JOB_LEASE_MS - 1;
    const other = await store.claim(job.id, 'other-worker');
    const cancel = await store.requestCancel(job.id);

    // Assess: still held, so the cancel is left to the worker.
    expect(other.kind).toBe('busy');
    expect(cancel).toMatchObject({ status: 'RUNNING', cancelRequested: true });
  });

  it('records progress whose loss is beyond 2^53 (a squared error in large units), so cancels keep being seen', async () => {
    // Prepare
    const { job } = await store.createJob(spec(), origin);
    await store.claim(job.id, 'w');
    await store.requestCancel(job.id);

    // Act
    const seen = await store.recordProgress(job.id, 'w', { ...progress(1), loss: 3.7e19, validationLoss: 1.2e20 });

    // Assess
    expect(seen).toEqual({ cancelRequested: true });
    expect((await store.getJob(job.id)).progress).toMatchObject({ loss: 3.7e19 });
  });

  it('finishes a job once: SUCCEEDED with its version and metrics at stage done, then duplicates find it finished', async () => {
    // Prepare
    const { job } = await store.createJob(spec(), origin);
    await store.claim(job.id, 'w');
    await store.recordProgress(job.id, 'w', { stage: 'registering', elapsedSeconds: 11, updatedAt: new Date(clock).toISOString() });

    // Act
    await store.markRegistering(job.id, 'w', 4);
    await store.succeed(job.id, 'w', {
      modelVersion: 4,
      metrics: { accuracy: 0.9 },
      elapsedSeconds: 12,
      evaluation: { classNames: ['no', 'yes'], confusionMatrix: [[5, 1], [0, 4]] },
    });
    const duplicate = await store.claim(job.id, 'w2');

    // Assess
    expect(duplicate).toMatchObject({
      kind: 'finished',
      job: { status: 'SUCCEEDED', modelVersion: 4, registeringVersion: 4, metrics: { accuracy: 0.9 }, progress: { stage: 'done', elapsedSeconds: 12 } },
    });
    expect(duplicate.job.finishedAt).toBeDefined();
    await expect(store.fail(job.id, 'w', 'FAILED', 'too late')).rejects.toThrowError(LeaseLostError);
  });

  it('puts a job back in the queue after a transient failure, keeping the error', async () => {
    // Prepare
    const { job } = await store.createJob(spec(), origin);
    await store.claim(job.id, 'w');

    // Act
    await store.release(job.id, 'w', 'attempt 1: S3 unavailable');
    const retried = await store.claim(job.id, 'w2');

    // Assess
    expect(retried).toMatchObject({ kind: 'claimed', job: { status: 'RUNNING', attempts: 2, lastError: 'attempt 1: S3 unavailable' } });
  });

  it('cancels a queued job at once, flags a running one for its worker, and refuses a finished one', async () => {
    // Prepare
    const queued = (await store.createJob(spec(), origin)).job;
    const running = (await store.createJob(spec(), origin)).job;
    await store.claim(running.id, 'w');

    // Act
    const cancelledQueued = await store.requestCancel(queued.id);
    const flagged = await store.requestCancel(running.id);
    const seenByWorker = await store.recordProgress(running.id, 'w', progress(3));
    await store.fail(running.id, 'w', 'CANCELLED', 'cancelled while running');

    // Assess
    expect(cancelledQueued).toMatchObject({ status: 'CANCELLED', reason: 'cancelled before it started' });
    expect((await store.claim(queued.id, 'w')).kind).toBe('finished');
    expect(flagged).toMatchObject({ status: 'RUNNING', cancelRequested: true });
    expect(seenByWorker).toEqual({ cancelRequested: true });
    expect(await store.getJob(running.id)).toMatchObject({ status: 'CANCELLED', reason: 'cancelled while running' });
    await expect(store.requestCancel(running.id)).rejects.toThrowError(ConflictError);
  });

  it('cancels a running job at once when its worker died (no heartbeat within the lease), and the dead worker cannot write', async () => {
    // Prepare
    const { job } = await store.createJob(spec(), origin);
    await store.claim(job.id, 'dead-worker');
    await store.recordProgress(job.id, 'dead-worker', progress(1));
    clock += JOB_LEASE_MS + 1;

    // Act
    const cancelled = await store.requestCancel(job.id);

    // Assess
    expect(cancelled).toMatchObject({ status: 'CANCELLED', reason: 'cancelled; its worker had stopped (no heartbeat for over 30 s)' });
    expect(cancelled.finishedAt).toBeDefined();
    expect((await store.claim(job.id, 'next-worker')).kind).toBe('finished');
    await expect(store.recordProgress(job.id, 'dead-worker', progress(2))).rejects.toThrowError(LeaseLostError);
  });

  it('fails a job whose message could not be queued, unless a worker already took it', async () => {
    // Prepare
    const lost = (await store.createJob(spec(), origin)).job;
    const taken = (await store.createJob(spec(), origin)).job;
    await store.claim(taken.id, 'w');

    // Act
    await store.failUnqueued(lost.id, 'could not be queued: SQS down');
    await store.failUnqueued(taken.id, 'could not be queued: SQS down');

    // Assess
    expect(await store.getJob(lost.id)).toMatchObject({ status: 'FAILED', reason: 'could not be queued: SQS down' });
    expect(await store.getJob(taken.id)).toMatchObject({ status: 'RUNNING' });
  });
});
