import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestEmulators, type TestEmulators } from '../../test/support/emulators.js';
import { RegistryTable } from '../storage/table.js';
import { BatchJobStore, newBatchJobId } from './job-store.js';
import { planJob, type PlanDeps } from './plan-job.js';

let env: TestEmulators;
let store: BatchJobStore;

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
    expect(afterFirst.status).toBe('queued');
    expect(afterLast).toMatchObject({ status: 'failed', reason: 'planning failed 3 times; last error: the registry read timed out' });
  });

  it('fails a job whose default pass-through columns would collide with the prediction, naming them', async () => {
    // Prepare: a version taking `x`; the input also has `prediction_label`.
    const id = newBatchJobId(new Date());
    await store.create({ id, model: 'm', input: { kind: 'file', key: 'raw/d/clash.csv' }, format: 'jsonl', output: { dataset: 'm-predictions', prefix: `predictions/m/batch/${id}/` }, chunkRows: 2, trigger: 'api', submittedBy: 't' });
    const version = { model: 'm', version: 1, status: 'READY', signature: { inputs: [{ name: 'x', datatype: 'FP32', shape: [-1, 1] }], outputs: [] } };
    const resolving = { ...deps(), resolver: { resolve: async () => ({ version }) } } as unknown as PlanDeps;

    // Act
    const outcome = await planJob(resolving, id);

    // Assess
    expect(outcome).toMatchObject({ kind: 'failed', reason: expect.stringContaining("'prediction_label', which would collide with the prediction's columns") });
    expect((await store.get(id)).status).toBe('failed');
  });
});
