import { PutObjectCommand } from '@aws-sdk/client-s3';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestEmulators, type TestEmulators } from '../../test/support/emulators.js';
import { RegistryTable } from '../storage/table.js';
import { BatchJobStore, newBatchJobId } from './job-store.js';
import { planJob, type PlanDeps } from './plan-job.js';

let env: TestEmulators;
let store: BatchJobStore;

const put = (key: string, body: string | Uint8Array) => env.s3.send(new PutObjectCommand({ Bucket: env.resources.bucketName, Key: key, Body: body }));

/** A version of model `m` taking `x`. */
const resolving = (): PlanDeps => {
  const version = { model: 'm', version: 1, status: 'READY', signature: { inputs: [{ name: 'x', datatype: 'FP32', shape: [-1, 1] }], outputs: [] } };
  return { ...deps(), resolver: { resolve: async () => ({ version }) } } as unknown as PlanDeps;
};

/** A queued job over `key`; its id. */
async function queuedJob(key: string): Promise<string> {
  const id = newBatchJobId(new Date());
  await store.create({ id, model: 'm', input: { kind: 'file', key }, format: 'jsonl', output: { dataset: 'm-predictions', prefix: `predictions/m/batch/${id}/` }, chunkRows: 100, trigger: 'api', submittedBy: 't' });
  return id;
}

/** A planner whose input reading fails for a reason that is not a refusal (as a corrupt Parquet footer does). */
const deps = (): PlanDeps => ({
  jobs: store,
  resolver: { resolve: () => Promise.reject(new Error('the registry read timed out')) },
  s3: env.s3,
  lakeBucket: env.resources.bucketName,
  queues: { score: () => Promise.resolve() },
  maxReceives: 3,
});

beforeAll(async () => {
  env = await startTestEmulators();
  store = new BatchJobStore(new RegistryTable(env.dynamo, env.resources.tableName));
  await env.s3.send(new PutObjectCommand({ Bucket: env.resources.bucketName, Key: 'raw/d/in.csv', Body: 'x\n1\n' }));
  await env.s3.send(new PutObjectCommand({ Bucket: env.resources.bucketName, Key: 'raw/d/clash.csv', Body: 'id,x,prediction_label\na,1,yes\n' }));
});
afterAll(async () => env.stop());

describe('planJob on the emulators', () => {
  it('retries a planning failure, and on the last receive fails the job with the reason instead of leaving it queued', async () => {
    // Prepare
    const id = newBatchJobId(new Date());
    await store.create({ id, model: 'm', input: { kind: 'file', key: 'raw/d/in.csv' }, format: 'jsonl', output: { dataset: 'm-predictions', prefix: `predictions/m/batch/${id}/` }, chunkRows: 2, trigger: 'api', submittedBy: 't' });

    // Act
    await expect(planJob(deps(), id, 1)).rejects.toThrow('timed out');
    const afterFirst = await store.get(id);
    await expect(planJob(deps(), id, 3)).rejects.toThrow('timed out');
    const afterLast = await store.get(id);

    // Assess
    expect(afterFirst).toMatchObject({ status: 'queued', lastError: 'planning attempt 1 of 3 failed: the registry read timed out' });
    expect(afterLast).toMatchObject({ status: 'failed', reason: 'planning failed 3 times; last error: the registry read timed out' });
  });

  it('fails a job whose default pass-through columns would collide with the prediction, naming them', async () => {
    // Prepare: a version taking `x`; the input also has `prediction_label`.
    const id = await queuedJob('raw/d/clash.csv');

    // Act
    const outcome = await planJob(resolving(), id);

    // Assess
    expect(outcome).toMatchObject({ kind: 'failed', reason: expect.stringContaining("'prediction_label', which would collide with the prediction's columns") });
    expect((await store.get(id)).status).toBe('failed');
  });

  const parquet = new Uint8Array(parquetWriteBuffer({ columnData: [{ name: 'x', data: Array.from({ length: 50 }, (_, i) => i), type: 'DOUBLE' }] }));
  it.each([
    ['an empty file', 'raw/d/empty.csv', '', "input 'raw/d/empty.csv' is empty"],
    ['the first 100 bytes of a Parquet file', 'raw/d/cut.parquet', parquet.subarray(0, 100), "input 'raw/d/cut.parquet' is not a readable Parquet file: "],
    ['a header naming a column twice', 'raw/d/twice.csv', 'x,id,X\n1,a,2\n', "input 'raw/d/twice.csv' names column(s) 'x', 'X' more than once in its header"],
    ['JSON Lines', 'batch/m/rows.jsonl', '{"x":1}\n{"x":2}\n', 'JSON Lines input is not supported'],
  ])('fails a job over %s at once, saying why', async (_, key, body, reason) => {
    // Prepare
    await put(key, body);
    const id = await queuedJob(key);

    // Act
    const outcome = await planJob(resolving(), id, 1);

    // Assess
    expect(outcome).toMatchObject({ kind: 'failed', reason: expect.stringContaining(reason) });
    expect(await store.get(id)).toMatchObject({ status: 'failed', reason: expect.stringContaining(reason) });
  });

  it('pins the input it planned, and fails the job when a redelivered plan message finds it changed', async () => {
    // Prepare
    await put('raw/d/pinned.csv', 'id,x\na,1\n');
    const id = await queuedJob('raw/d/pinned.csv');
    const planned = await planJob(resolving(), id, 1);
    const running = await store.get(id);
    await put('raw/d/pinned.csv', 'id,x\nb,2\n');

    // Act
    const replanned = await planJob(resolving(), id, 2);

    // Assess
    expect(planned).toEqual({ kind: 'planned', chunks: 1 });
    expect(running.inputObject).toEqual({ etag: expect.stringMatching(/^"[0-9a-f]+"$/), bytes: 9 });
    expect(replanned).toEqual({ kind: 'failed', reason: expect.stringContaining(`input 'raw/d/pinned.csv' changed after the job was planned (ETag ${running.inputObject!.etag} then, "`) });
    expect((await store.get(id)).status).toBe('failed');
  });
});
