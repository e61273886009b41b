import { HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestEmulators, type TestEmulators } from '../../test/support/emulators.js';
import { ModelVersionUnavailableError } from '../errors.js';
import { doublingServing } from '../../test/support/doubling-serving.js';
import { RegistryTable } from '../storage/table.js';
import { BatchJobStore, newBatchJobId } from './job-store.js';
import { readPart } from './output.js';
import { pinObject } from './pinned-object.js';
import { scoreChunk } from './score-chunk.js';

let env: TestEmulators;
let store: BatchJobStore;
let failuresLeft = 0;

/** Doubles `x`; fails (model not loadable) while `failuresLeft` is above zero. */
const serving = doublingServing({ failFirst: () => (failuresLeft-- > 0 ? new ModelVersionUnavailableError('m', 1, 'loading') : undefined) });

const CSV = 'id,x\na,1\nb,2\nc,3\n';

/** A running job over `key` (pinned as it is now) with the chunks given, two rows each. */
async function runningJob(chunks: { start: number; end: number; rows: number }[], key = 'raw/d/in.csv') {
  const id = newBatchJobId(new Date());
  const { etag, bytes } = await pinObject(env.s3, env.resources.bucketName, key);
  await store.create({ id, model: 'm', input: { kind: 'file', key }, format: 'jsonl', output: { dataset: 'm-predictions', prefix: `predictions/m/batch/${id}/` }, chunkRows: 2, trigger: 'api', submittedBy: 't' });
  await store.start(id, { version: 1, passThrough: ['id'], features: [{ name: 'x', datatype: 'FP32' }], inputObject: { etag, bytes }, csv: { delimiter: ',', escape: '"', columns: ['id', 'x'] }, chunksTotal: chunks.length, rowsTotal: 3 });
  return { id, chunks: chunks.map((c, index) => ({ index, firstRow: index * 2, ...c })) };
}

const put = (key: string, body: string) => env.s3.send(new PutObjectCommand({ Bucket: env.resources.bucketName, Key: key, Body: body }));

beforeAll(async () => {
  env = await startTestEmulators();
  store = new BatchJobStore(new RegistryTable(env.dynamo, env.resources.tableName));
  await put('raw/d/in.csv', CSV);
});
afterAll(async () => env.stop());

const deps = () => ({ jobs: store, serving, s3: env.s3, lakeBucket: env.resources.bucketName, maxReceives: 3 });

describe('scoreChunk on the emulators', () => {
  it('retries a chunk whose worker failed, scores it on the next delivery, and combines the parts once every chunk is done', async () => {
    // Prepare
    const { id, chunks } = await runningJob([{ start: 5, end: 13, rows: 2 }, { start: 13, end: 17, rows: 1 }]);
    failuresLeft = 1;

    // Act
    const failed = scoreChunk(deps(), { jobId: id, chunk: chunks[0]! }, 1);
    await expect(failed).rejects.toThrow(ModelVersionUnavailableError);
    const afterFailure = await store.get(id);
    const first = await scoreChunk(deps(), { jobId: id, chunk: chunks[0]! }, 2);
    const redelivered = await scoreChunk(deps(), { jobId: id, chunk: chunks[0]! }, 1);
    const last = await scoreChunk(deps(), { jobId: id, chunk: chunks[1]! }, 1);
    const job = await store.get(id);
    const combined = await readPart(env.s3, env.resources.bucketName, job.output.key!, 'jsonl');

    // Assess
    expect(afterFailure).toMatchObject({ chunksDone: 0, chunksFailed: 0 });
    expect(first).toEqual({ kind: 'scored', rows: 2, rejected: 0, added: true });
    expect(redelivered).toEqual({ kind: 'scored', rows: 2, rejected: 0, added: false });
    expect(last).toMatchObject({ kind: 'scored', added: true });
    expect(job).toMatchObject({ status: 'succeeded', chunksDone: 2, rowsScored: 3, output: { key: `raw/m-predictions/batch-${id}.jsonl` } });
    expect(combined).toEqual([
      { id: 'a', prediction: 2 },
      { id: 'b', prediction: 4 },
      { id: 'c', prediction: 6 },
    ]);
  });

  it('fails a chunk at once, with its row range, when its bytes hold fewer records than planning counted (a malformed record)', async () => {
    // Prepare: the bytes hold 3 records, the plan says 4 (as when an unterminated quote swallows a record).
    const { id, chunks } = await runningJob([{ start: 5, end: 17, rows: 4 }]);

    // Act
    const result = await scoreChunk(deps(), { jobId: id, chunk: chunks[0]! }, 1);
    const job = await store.get(id);

    // Assess
    expect(result).toMatchObject({ kind: 'failed', reason: expect.stringContaining('rows 1-4 read as 3 records where planning counted 4') });
    expect(job).toMatchObject({ status: 'failed', chunksFailed: 1, rowsScored: 0 });
  });

  it('records a chunk that fails on its last delivery with its reason, and fails the job when no chunk was scored', async () => {
    // Prepare
    const { id, chunks } = await runningJob([{ start: 5, end: 17, rows: 3 }]);
    failuresLeft = 1;

    // Act
    await expect(scoreChunk(deps(), { jobId: id, chunk: chunks[0]! }, 3)).rejects.toThrow(ModelVersionUnavailableError);
    const job = await store.get(id);

    // Assess
    expect(job).toMatchObject({ status: 'failed', chunksFailed: 1, failedChunks: [{ chunk: 0, rows: 3, reason: "model 'm' version 1 cannot be served: loading" }] });
    expect(job.reason).toContain('every chunk failed');
  });

  it('fails the whole job at once when its input is overwritten mid-job, and publishes no output', async () => {
    // Prepare: the same length, other ids (what a chunk would silently mix into the output).
    await put('raw/d/changing.csv', CSV);
    const { id, chunks } = await runningJob([{ start: 5, end: 13, rows: 2 }, { start: 13, end: 17, rows: 1 }], 'raw/d/changing.csv');
    const first = await scoreChunk(deps(), { jobId: id, chunk: chunks[0]! }, 1);
    await put('raw/d/changing.csv', 'id,x\nz,1\ny,2\nw,3\n');

    // Act
    const second = await scoreChunk(deps(), { jobId: id, chunk: chunks[1]! }, 1);
    const job = await store.get(id);

    // Assess
    expect(first).toMatchObject({ kind: 'scored', rows: 2 });
    expect(second).toEqual({ kind: 'failed', reason: expect.stringMatching(/^input 'raw\/d\/changing.csv' changed after the job was planned \(ETag "[0-9a-f]+" then.*\); nothing more is scored$/) });
    expect(job).toMatchObject({ status: 'failed', reason: second.kind === 'failed' ? second.reason : '', chunksDone: 1 });
    expect(job.output.key).toBeUndefined();
  });

  it('rejects a row whose field count is not the header\'s, with its row number, and scores the rest of the chunk', async () => {
    // Prepare
    await put('raw/d/ragged.csv', 'id,x\na,1\nb\nc,3,9\nd,4\n');
    const { id, chunks } = await runningJob([{ start: 5, end: 22, rows: 4 }], 'raw/d/ragged.csv');

    // Act
    const result = await scoreChunk(deps(), { jobId: id, chunk: chunks[0]! }, 1);
    const job = await store.get(id);
    const rejected = await readPart(env.s3, env.resources.bucketName, `${job.output.prefix}rejected/part-00000.jsonl`, 'jsonl');
    const combined = await readPart(env.s3, env.resources.bucketName, job.output.key!, 'jsonl');

    // Assess
    expect(result).toMatchObject({ kind: 'scored', rows: 2, rejected: 2 });
    expect(rejected).toEqual([
      { row: 1, id: 'b', reason: 'row has 1 field; the header has 2' },
      { row: 2, id: 'c', reason: 'row has 3 fields; the header has 2' },
    ]);
    expect(combined).toEqual([
      { id: 'a', prediction: 2 },
      { id: 'd', prediction: 8 },
    ]);
  });

  it('fails a job in which no row was scored, naming the count and the first rejected row, and publishes no output', async () => {
    // Prepare
    await put('raw/d/all-bad.csv', 'id,x\na\nb,2,3\n');
    const { id, chunks } = await runningJob([{ start: 5, end: 15, rows: 2 }], 'raw/d/all-bad.csv');

    // Act
    await scoreChunk(deps(), { jobId: id, chunk: chunks[0]! }, 1);
    const job = await store.get(id);

    // Assess
    expect(job).toMatchObject({ status: 'failed', rowsScored: 0, rowsRejected: 2, reason: 'no row was scored: 2 row(s) rejected; the first rejected, row 0: row has 1 field; the header has 2' });
    expect(job.output.key).toBeUndefined();
    await expect(env.s3.send(new HeadObjectCommand({ Bucket: env.resources.bucketName, Key: `raw/m-predictions/batch-${id}.jsonl` }))).rejects.toThrow();
  });

  it('scores nothing for a cancelled job', async () => {
    // Prepare
    const { id, chunks } = await runningJob([{ start: 5, end: 17, rows: 3 }]);
    await store.cancel(id, 't');

    // Act
    const result = await scoreChunk(deps(), { jobId: id, chunk: chunks[0]! }, 1);

    // Assess
    expect(result).toEqual({ kind: 'skipped', status: 'cancelled' });
    expect((await store.get(id)).chunksDone).toBe(0);
  });
});
