import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestEmulators, type TestEmulators } from '../../test/support/emulators.js';
import { ConflictError, NotFoundError } from '../errors.js';
import { RegistryTable } from '../storage/table.js';
import { BatchJobStore, newBatchJobId, type NewBatchJob } from './job-store.js';

let env: TestEmulators;
let clock = Date.parse('2026-12-04T10:00:00Z');
let store: BatchJobStore;

const newJob = (): NewBatchJob => {
  const id = newBatchJobId(new Date(clock));
  return { id, model: 'credit', input: { kind: 'file', key: 'raw/credit/credit.csv' }, format: 'parquet', output: { dataset: 'credit-predictions', prefix: `predictions/credit/batch/${id}/` }, chunkRows: 1000, trigger: 'api', submittedBy: 'tester' };
};
const plan = { version: 3, passThrough: ['applicant_id'], features: [{ name: 'age', datatype: 'FP32' }], inputObject: { etag: '"e1"', bytes: 100 }, chunksTotal: 2, rowsTotal: 1500 };

beforeAll(async () => {
  env = await startTestEmulators();
  store = new BatchJobStore(new RegistryTable(env.dynamo, env.resources.tableName), () => new Date(clock));
});
afterAll(async () => env.stop());

describe('BatchJobStore on dynalite', () => {
  it('adds a chunk once: a redelivered chunk changes no count', async () => {
    // Prepare
    const { job } = await store.create(newJob());
    await store.start(job.id, plan);

    // Act
    const first = await store.completeChunk(job.id, { kind: 'scored', chunk: 0, rowsScored: 990, rowsRejected: 10 });
    const again = await store.completeChunk(job.id, { kind: 'scored', chunk: 0, rowsScored: 990, rowsRejected: 10 });
    const failed = await store.completeChunk(job.id, { kind: 'failed', chunk: 1, rows: 500, reason: 'model down' });
    const failedAgain = await store.completeChunk(job.id, { kind: 'failed', chunk: 1, rows: 500, reason: 'model down' });

    // Assess
    expect(first.added).toBe(true);
    expect(again.added).toBe(false);
    expect(failed.added).toBe(true);
    expect(failedAgain.added).toBe(false);
    expect(failedAgain.job).toMatchObject({ status: 'running', version: 3, chunksDone: 1, chunksFailed: 1, rowsScored: 990, rowsRejected: 10, failedChunks: [{ chunk: 1, rows: 500, reason: 'model down' }] });
    expect(failedAgain.job).not.toHaveProperty('doneChunks');
  });

  it('starts a queued job once, and keeps the version it recorded first', async () => {
    // Prepare
    const { job } = await store.create(newJob());

    // Act
    const started = await store.start(job.id, plan);
    const restarted = await store.start(job.id, { ...plan, version: 4 });

    // Assess
    expect(started).toMatchObject({ status: 'running', version: 3, chunksTotal: 2 });
    expect(restarted).toBeUndefined();
    expect((await store.get(job.id)).version).toBe(3);
  });

  it('cancels a queued or running job, refuses a finished one (409), and answers 404 for unknown ids', async () => {
    // Prepare
    const { job } = await store.create(newJob());

    // Act
    const cancelled = await store.cancel(job.id, 'tester');

    // Assess
    expect(cancelled).toMatchObject({ status: 'cancelled', reason: 'cancelled by tester' });
    await expect(store.cancel(job.id, 'tester')).rejects.toThrow(new ConflictError(`batch job '${job.id}' has already been cancelled`));
    expect(await store.start(job.id, plan)).toBeUndefined();
    await expect(store.get('nope')).rejects.toThrow(NotFoundError);
    await expect(store.cancel('20261204100000000-00000000', 'tester')).rejects.toThrow(NotFoundError);
  });

  it('says a finished job has already succeeded, and keeps what became of its output version (FAILED and why)', async () => {
    // Prepare
    const { job } = await store.create(newJob());
    await store.start(job.id, plan);
    await store.completeChunk(job.id, { kind: 'scored', chunk: 0, rowsScored: 1000, rowsRejected: 0 });
    await store.completeChunk(job.id, { kind: 'scored', chunk: 1, rowsScored: 500, rowsRejected: 0 });
    await store.succeed(job.id, 'raw/m-predictions/batch-x.parquet');

    // Act
    const refused = await store.cancel(job.id, 'tester').then(undefined, (error: unknown) => error);
    await store.recordOutputVersion(job.id, { version: 4, status: 'FAILED', reason: "column 'score' is missing" });

    // Assess
    expect(refused).toEqual(new ConflictError(`batch job '${job.id}' has already succeeded`));
    expect((await store.get(job.id)).output).toMatchObject({ key: 'raw/m-predictions/batch-x.parquet', version: 4, status: 'FAILED', reason: "column 'score' is missing" });
  });

  it('records why a queued job waits for a retry of its planning, and forgets it once the job starts', async () => {
    // Prepare
    const { job } = await store.create(newJob());

    // Act
    await store.noteRetry(job.id, 'planning attempt 1 of 3 failed: throttled');
    const waiting = await store.get(job.id);
    const started = await store.start(job.id, plan);

    // Assess
    expect(waiting.lastError).toBe('planning attempt 1 of 3 failed: throttled');
    expect(started?.lastError).toBeUndefined();
  });

  it('gives a redelivered drop the job of its first delivery, and lists jobs newest first', async () => {
    // Prepare
    const firstId = newBatchJobId(new Date(clock));
    clock += 1000;

    // Act
    const first = await store.claimDrop('batch/credit/x.csv\netag', firstId);
    const second = await store.claimDrop('batch/credit/x.csv\netag', newBatchJobId(new Date(clock)));
    const { job: newer } = await store.create(newJob());
    const listed = await store.list({ limit: 2 });

    // Assess
    expect(first).toBe(firstId);
    expect(second).toBe(firstId);
    expect(listed.items[0]?.id).toBe(newer.id);
  });

  it('refuses to cancel a job whose chunks are all done (its output is being published)', async () => {
    // Prepare
    const { job } = await store.create(newJob());
    await store.start(job.id, plan);
    await store.completeChunk(job.id, { kind: 'scored', chunk: 0, rowsScored: 1000, rowsRejected: 0 });
    await store.completeChunk(job.id, { kind: 'scored', chunk: 1, rowsScored: 500, rowsRejected: 0 });

    // Act + Assess
    await expect(store.cancel(job.id, 'tester')).rejects.toThrow(/has scored every chunk and is publishing its output/);
    expect((await store.get(job.id)).status).toBe('running');
  });

  it('cancels a running job with chunks left', async () => {
    // Prepare
    const { job } = await store.create(newJob());
    await store.start(job.id, plan);
    await store.completeChunk(job.id, { kind: 'scored', chunk: 0, rowsScored: 1000, rowsRejected: 0 });

    // Act
    const cancelled = await store.cancel(job.id, 'tester');

    // Assess
    expect(cancelled).toMatchObject({ status: 'cancelled', reason: 'cancelled by tester' });
  });
});
