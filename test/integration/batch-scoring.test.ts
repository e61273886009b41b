/**
 * Batch scoring end to end on the local cloud: a model trained from data/credit.csv scores the
 * same file as a job (progress, output dataset with preview), with bad rows, a cancel, an alias
 * moved mid-job, a redelivered chunk, killed workers, and a file dropped under batch/.
 */
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalCloud, type LocalCloud } from '../../local/cloud.js';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../local/emulators.js';
import type { BatchJob, BatchProgress } from '../../src/batch/types.js';
import type { DatasetVersion } from '../../src/lake/types.js';
import type { TrainingJob } from '../../src/training/types.js';
import { topology } from '../../topology/topology.js';
import { lakeApi } from '../support/lake-api.js';

type JobView = BatchJob & { progress: BatchProgress };

let cloud: LocalCloud;
let lake: ReturnType<typeof lakeApi>;
let csv: string;

const FEATURES = ['age', 'income', 'loan_amount', 'term_months', 'late_payments', 'employed', 'purpose', 'housing'];

async function poll<T>(what: string, read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 120_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`${what} not reached after ${timeoutMs} ms: ${JSON.stringify(value).slice(0, 500)}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

const job = async (id: string) => (await lake.request<JobView>('GET', `/batch-jobs/${id}`)).body;
const finished = (id: string) => poll(`job ${id} finished`, () => job(id), (j) => ['succeeded', 'failed', 'cancelled'].includes(j.status));

/** Points an alias of the credit model at one version (a conditional write on the revision read: "0" creates it). */
async function pointAlias(alias: string, version: number) {
  const current = await lake.request('GET', `/models/credit/aliases/${alias}`);
  const etag = current.status === 200 ? current.headers.get('etag')! : '"0"';
  return lake.request('PUT', `/models/credit/aliases/${alias}`, { routes: [{ version, weight: 100 }] }, { 'if-match': etag });
}

/** Trains a version of the credit model on the credit dataset; its number. */
async function train(algorithm: string): Promise<number> {
  const submitted = await lake.request<TrainingJob>('POST', '/jobs', { dataset: 'credit', target: 'default', features: FEATURES, task: 'classification', algorithm, modelName: 'credit' });
  const trained = await poll('training', async () => (await lake.request<TrainingJob>('GET', `/jobs/${encodeURIComponent(submitted.body.id)}`)).body, (j) => ['SUCCEEDED', 'FAILED'].includes(j.status), 300_000);
  expect(trained.status).toBe('SUCCEEDED');
  return trained.modelVersion!;
}

/**
 * The platform, with a scoring queue whose messages come back 10 s after a worker dies with them
 * (360 s in the stack), so a killed worker's chunk is redelivered within the test.
 */
const quickRedelivery = { ...topology, queues: topology.queues.map((queue) => (queue.id === 'scoring' ? { ...queue, visibilityTimeoutSeconds: 10 } : queue)) };

/** Kills (SIGKILL) every container of `functionId` this process started; how many. */
async function killContainers(functionId: string): Promise<number> {
  let killed = 0;
  for (const pid of (await readdir('/proc')).filter((entry) => /^\d+$/.test(entry))) {
    try {
      const parent = Number((await readFile(`/proc/${pid}/stat`, 'utf8')).replace(/^.*\) /s, '').split(' ')[1]);
      if (parent !== process.pid) continue;
      if (!(await readFile(`/proc/${pid}/environ`, 'utf8')).split('\0').includes(`AWS_LAMBDA_FUNCTION_NAME=${functionId}`)) continue;
      process.kill(Number(pid), 'SIGKILL');
      killed++;
    } catch {
      // Gone meanwhile.
    }
  }
  return killed;
}

beforeAll(async () => {
  cloud = await startLocalCloud({ stateDir: await mkdtemp(join(tmpdir(), 'batch-cloud-')), port: 0, topology: quickRedelivery });
  lake = lakeApi(cloud);
  csv = await readFile('data/credit.csv', 'utf8');
  await lake.drop('raw/credit/credit.csv', csv);
  expect((await lake.finishedVersions('credit'))[0]?.status).toBe('READY');
  expect(await train('gbdt')).toBe(1);
  expect(await train('logistic')).toBe(2);
  expect((await pointAlias('prod', 1)).status).toBe(200);
  expect((await pointAlias('candidate', 2)).status).toBe(200);
}, 600_000);
afterAll(async () => {
  lake?.s3.destroy();
  await cloud?.stop();
});

describe('batch scoring through the local cloud', () => {
  it('scores credit.csv chunk by chunk with progress, and its output becomes a dataset version with a preview', async () => {
    // Act
    const submitted = await lake.request<JobView>('POST', '/batch-jobs', { model: 'credit', version: 'prod', input: { key: 'raw/credit/credit.csv' }, passThrough: ['applicant_id'], chunkRows: 1000, outputDataset: 'credit-scores' });
    const done = await finished(submitted.body.id);
    const withVersion = await poll('output version', () => job(submitted.body.id), (j) => j.output.version !== undefined, 60_000);
    const version = (await lake.request<DatasetVersion>('GET', `/datasets/credit-scores/versions/${withVersion.output.version}`)).body;
    const preview = (await lake.request<{ rows: Record<string, unknown>[] }>('GET', `/datasets/credit-scores/versions/${withVersion.output.version}/preview?limit=3`)).body;
    const listed = (await lake.request<{ jobs: JobView[] }>('GET', '/batch-jobs')).body;
    const direct = await lake.request<{ predictions: { label: unknown }[] }>('POST', '/v1/models/credit/versions/1:predict', {
      instances: [{ age: 71, income: 12685.08, loan_amount: 9731.1, term_months: 60, late_payments: 0, employed: false, purpose: 'other', housing: 'own' }],
    });

    // Assess
    expect(submitted.status).toBe(202);
    expect(submitted.headers.get('location')).toBe(`/batch-jobs/${submitted.body.id}`);
    expect(done).toMatchObject({ status: 'succeeded', version: 1, chunksTotal: 5, chunksDone: 5, rowsScored: 5000, rowsRejected: 0, output: { dataset: 'credit-scores', key: `raw/credit-scores/batch-${submitted.body.id}.parquet` } });
    expect(done.progress).toMatchObject({ rows: 5000, rowsTotal: 5000, etaSeconds: 0 });
    expect(version).toMatchObject({ status: 'READY', rowsAccepted: 5000 });
    expect(version.schema?.columns.map((c) => c.name)).toEqual(expect.arrayContaining(['applicant_id', 'prediction_label']));
    expect(preview.rows[0]).toMatchObject({ applicant_id: 'A00001', prediction_label: direct.body.predictions[0]!.label });
    expect(listed.jobs.map((j) => j.id)).toContain(submitted.body.id);
  }, 180_000);

  it('scores a dataset version by row ranges of its curated Parquet', async () => {
    // Act
    const submitted = await lake.request<JobView>('POST', '/batch-jobs', { model: 'credit', version: 1, input: { dataset: 'credit', version: 1 }, passThrough: ['applicant_id'], chunkRows: 2000, format: 'jsonl' });
    const done = await finished(submitted.body.id);
    const last = new TextDecoder().decode(await lake.read(`${done.output.prefix}part-00002.jsonl`)).trim().split('\n');

    // Assess
    expect(submitted.body.input).toEqual({ kind: 'dataset', dataset: 'credit', version: 1, key: 'curated/credit/v=1/part-00000.parquet' });
    expect(done).toMatchObject({ status: 'succeeded', chunksTotal: 3, rowsScored: 5000 });
    expect(done.csv).toBeUndefined();
    expect(last).toHaveLength(1000);
    expect(JSON.parse(last.at(-1)!)).toMatchObject({ applicant_id: 'A05000' });
  }, 180_000);

  it('keeps rows it cannot score beside the output with their reasons, and scores the rest', async () => {
    // Prepare
    const [header, ...lines] = csv.trim().split('\n');
    const bad = [header, lines[0], lines[1]!.replace(/^(A\d+),\d+,/, '$1,not-a-number,'), lines[2]].join('\n');
    await lake.drop('raw/credit-bad/bad.csv', bad);

    // Act
    const submitted = await lake.request<JobView>('POST', '/batch-jobs', { model: 'credit', version: 1, input: { key: 'raw/credit-bad/bad.csv' }, passThrough: ['applicant_id'], format: 'jsonl' });
    const done = await finished(submitted.body.id);
    const rejected = new TextDecoder().decode(await lake.read(`${done.output.prefix}rejected/part-00000.jsonl`));
    const part = new TextDecoder().decode(await lake.read(`${done.output.prefix}part-00000.jsonl`));

    // Assess
    expect(done).toMatchObject({ status: 'succeeded', rowsScored: 2, rowsRejected: 1 });
    expect(JSON.parse(rejected)).toMatchObject({ row: 1, applicant_id: 'A00002', reason: expect.stringContaining('age') });
    expect(part.trim().split('\n').map((line) => (JSON.parse(line) as { applicant_id: string }).applicant_id)).toEqual(['A00001', 'A00003']);
  }, 180_000);

  it('fails a job whose input lacks a feature, naming it', async () => {
    // Prepare
    await lake.drop('raw/credit-narrow/narrow.csv', 'applicant_id,age\nA1,30\n');

    // Act
    const submitted = await lake.request<JobView>('POST', '/batch-jobs', { model: 'credit', input: { key: 'raw/credit-narrow/narrow.csv' } });
    const done = await finished(submitted.body.id);

    // Assess
    expect(done.status).toBe('failed');
    expect(done.reason).toContain("'income'");
  }, 180_000);

  it('gives an identical rerun the version its identical output was recorded on (no new version)', async () => {
    // Act
    const runs: JobView[] = [];
    for (let i = 0; i < 2; i++) {
      const submitted = await lake.request<JobView>('POST', '/batch-jobs', { model: 'credit', version: 1, input: { key: 'raw/credit/credit.csv' }, passThrough: ['applicant_id'], chunkRows: 5000, outputDataset: 'credit-rerun' });
      await finished(submitted.body.id);
      runs.push(await poll('output version', () => job(submitted.body.id), (j) => j.output.version !== undefined, 60_000));
    }

    // Assess
    expect(runs.map((run) => run.status)).toEqual(['succeeded', 'succeeded']);
    expect(runs[1]!.output.version).toBe(runs[0]!.output.version);
  }, 240_000);

  it('answers 404 for an unknown model or alias at submission, recording no job', async () => {
    // Act
    const model = await lake.request<{ error: string }>('POST', '/batch-jobs', { model: 'nope', input: { key: 'raw/credit/credit.csv' } });
    const alias = await lake.request<{ error: string }>('POST', '/batch-jobs', { model: 'credit', version: 'nope', input: { key: 'raw/credit/credit.csv' } });

    // Assess
    expect([model.status, alias.status]).toEqual([404, 404]);
    expect(model.body.error).toContain("model 'nope' not found");
    expect(alias.body.error).toContain("no alias 'nope'");
  }, 180_000);

  it.each([
    ['an input outside the lake zones', { model: 'credit', input: { key: 'models/x.onnx' } }, 'invalid input key'],
    ['a bad version', { model: 'credit', version: '-1', input: { key: 'raw/credit/credit.csv' } }, 'invalid version'],
    ['an unknown format', { model: 'credit', input: { key: 'raw/credit/credit.csv' }, format: 'csv' }, 'format'],
    ['a pass-through column named like a prediction', { model: 'credit', input: { key: 'raw/credit/credit.csv' }, passThrough: ['prediction'] }, 'collide'],
    ['the input dataset as the output dataset', { model: 'credit', input: { key: 'raw/credit/credit.csv' }, outputDataset: 'credit' }, "is the input's own dataset"],
    ['a dataset input without its version', { model: 'credit', input: { dataset: 'credit' } }, 'input: expected {"key": "raw/…"}'],
    ['no input', { model: 'credit' }, 'input: expected {"key": "raw/…"}'],
    ['a null version', { model: 'credit', version: null, input: { key: 'raw/credit/credit.csv' } }, 'version: expected an alias name or a version number'],
    ['an input key over 1,024 UTF-8 bytes', { model: 'credit', input: { key: `raw/${'é'.repeat(600)}` } }, "1204 UTF-8 bytes, over S3's 1024"],
  ])('refuses %s with a 400 naming the problem', async (_, body, message) => {
    // Act
    const reply = await lake.request<{ error: string }>('POST', '/batch-jobs', body);

    // Assess
    expect(reply.status).toBe(400);
    expect(reply.body.error).toContain(message);
  }, 180_000);

  it('keeps the version it resolved when the alias moves mid-job, and adds a redelivered chunk once', async () => {
    // Prepare
    const submitted = await lake.request<JobView>('POST', '/batch-jobs', { model: 'credit', version: 'prod', input: { key: 'raw/credit/credit.csv' }, chunkRows: 100 });
    const running = await poll('running', () => job(submitted.body.id), (j) => j.version !== undefined);
    const sqs = new SQSClient({ region: LOCAL_REGION, endpoint: cloud.endpoints.sqs, credentials: LOCAL_CREDENTIALS });

    // Act
    const moved = await pointAlias('prod', 2);
    await sqs.send(new SendMessageCommand({ QueueUrl: cloud.resources.queues.scoring.url, MessageBody: JSON.stringify({ jobId: running.id, chunk: { index: 0, firstRow: 0, rows: 100, start: 0, end: 0 } }) }));
    const done = await finished(submitted.body.id);
    sqs.destroy();

    // Assess
    expect(running.version).toBe(1);
    expect(moved.status).toBe(200);
    expect(done).toMatchObject({ status: 'succeeded', version: 1, chunksTotal: 50, chunksDone: 50, rowsScored: 5000 });
  }, 180_000);

  it('survives killed workers: every row scored once, in input order, no chunk failed', async () => {
    // Prepare
    const submitted = await lake.request<JobView>('POST', '/batch-jobs', { model: 'credit', version: '1', input: { key: 'raw/credit/credit.csv' }, chunkRows: 100, format: 'jsonl', passThrough: ['applicant_id'], outputDataset: 'credit-killed' });

    // Act: kill the scoring containers three times as the job runs (their chunk in flight comes back after the visibility timeout).
    let killed = 0;
    for (const chunksDone of [3, 15, 30]) {
      await poll(`${chunksDone} chunks done`, () => job(submitted.body.id), (j) => j.chunksDone >= chunksDone || j.status !== 'running');
      killed += await killContainers('scoring');
    }
    const done = await finished(submitted.body.id);
    const ids = new TextDecoder()
      .decode(await lake.read(done.output.key!))
      .trim()
      .split('\n')
      .map((line) => (JSON.parse(line) as { applicant_id: string }).applicant_id);

    // Assess
    expect(killed).toBeGreaterThan(0);
    expect(done).toMatchObject({ status: 'succeeded', chunksTotal: 50, chunksDone: 50, chunksFailed: 0, rowsScored: 5000 });
    expect(ids).toEqual(csv.trim().split('\n').slice(1).map((line) => line.split(',')[0]));
  }, 240_000);

  it('cancels a running job: no further chunk is scored, finished parts stay', async () => {
    // Prepare
    const submitted = await lake.request<JobView>('POST', '/batch-jobs', { model: 'credit', version: 1, input: { key: 'raw/credit/credit.csv' }, chunkRows: 100 });

    // Act
    const cancelled = await lake.request<JobView>('POST', `/batch-jobs/${submitted.body.id}/cancel`);
    const again = await lake.request<{ error: string }>('POST', `/batch-jobs/${submitted.body.id}/cancel`);
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    const later = await job(submitted.body.id);

    // Assess
    expect(cancelled.status).toBe(202);
    expect(cancelled.body.status).toBe('cancelled');
    expect(again.status).toBe(409);
    expect(later.status).toBe('cancelled');
    expect(later.chunksDone).toBeLessThan(50);
  }, 180_000);

  it('starts a job for a file dropped under batch/<model>/<alias>/', async () => {
    // Act
    await lake.drop('batch/credit/candidate/today.csv', csv);
    const listed = await poll(
      'drop job',
      async () => (await lake.request<{ jobs: JobView[] }>('GET', '/batch-jobs')).body.jobs.find((j) => j.input.key === 'batch/credit/candidate/today.csv'),
      (found) => found !== undefined,
    );
    const done = await finished(listed!.id);

    // Assess
    expect(done).toMatchObject({ status: 'succeeded', trigger: 'drop', version: 2, rowsScored: 5000, output: { dataset: 'credit-predictions' } });
    expect(done.passThrough).toEqual(['applicant_id', 'account_opened', 'default']);
  }, 180_000);

  it('fails a job at once, publishing nothing, when its input is overwritten mid-job', async () => {
    // Prepare: 80,000 rows in 800 chunks, overwritten as soon as the job is planned (four workers
    // score them in seconds, the overwrite lands in a fraction of one); the copy has the same length and other ids.
    const [header, ...lines] = csv.trim().split('\n');
    const big = [header, ...Array.from({ length: 16 }, () => lines).flat()].join('\n');
    await lake.drop('raw/credit-big/big.csv', big);
    const submitted = await lake.request<JobView>('POST', '/batch-jobs', { model: 'credit', version: 1, input: { key: 'raw/credit-big/big.csv' }, passThrough: ['applicant_id'], chunkRows: 100 });
    const running = await poll('planned', () => job(submitted.body.id), (j) => j.inputObject !== undefined, 120_000);

    // Act
    await lake.drop('raw/credit-big/big.csv', big.replace(/^A/gm, 'Z'));
    const done = await finished(submitted.body.id);

    // Assess
    expect(running.inputObject).toMatchObject({ etag: expect.stringMatching(/^"[0-9a-f]+"$/), bytes: Buffer.byteLength(big) });
    expect(done.status).toBe('failed');
    expect(done.reason).toMatch(/^input 'raw\/credit-big\/big.csv' changed after the job was planned \(ETag "[0-9a-f]+" then, "[0-9a-f]+" now\); nothing more is scored$/);
    expect(done.rowsScored).toBeLessThan(80_000);
    expect(done.output.key).toBeUndefined();
  }, 180_000);

  it('fails a job over an empty file dropped under batch/ at once, saying it is empty', async () => {
    // Act
    await lake.drop('batch/credit/empty.csv', '');
    const listed = await poll(
      'drop job',
      async () => (await lake.request<{ jobs: JobView[] }>('GET', '/batch-jobs')).body.jobs.find((j) => j.input.key === 'batch/credit/empty.csv'),
      (found) => found !== undefined,
    );
    const done = await finished(listed!.id);

    // Assess
    expect(done).toMatchObject({ status: 'failed', reason: "input 'batch/credit/empty.csv' is empty" });
  }, 180_000);

  it('rejects rows whose field count is not the header\'s with their row numbers, and scores the rest', async () => {
    // Prepare
    const [header, ...lines] = csv.trim().split('\n');
    const short = lines[1]!.split(',').slice(0, 7).join(',');
    await lake.drop('raw/credit-ragged/ragged.csv', [header, lines[0], short, `${lines[2]},surplus`, lines[3]].join('\n'));

    // Act
    const submitted = await lake.request<JobView>('POST', '/batch-jobs', { model: 'credit', version: 1, input: { key: 'raw/credit-ragged/ragged.csv' }, passThrough: ['applicant_id'], format: 'jsonl' });
    const done = await finished(submitted.body.id);
    const rejected = new TextDecoder().decode(await lake.read(`${done.output.prefix}rejected/part-00000.jsonl`)).trim().split('\n').map((line) => JSON.parse(line) as unknown);

    // Assess
    expect(done).toMatchObject({ status: 'succeeded', rowsScored: 2, rowsRejected: 2 });
    expect(rejected).toEqual([
      { row: 1, applicant_id: 'A00002', reason: 'row has 7 fields; the header has 11' },
      { row: 2, applicant_id: 'A00003', reason: 'row has 12 fields; the header has 11' },
    ]);
  }, 180_000);

  it('fails a job in which no row was scored, naming the count and the first rejected row', async () => {
    // Prepare
    const [header, ...lines] = csv.trim().split('\n');
    await lake.drop('raw/credit-allbad/allbad.csv', [header, lines[0]!.replace(/^(A\d+),\d+,/, '$1,old,'), lines[1]!.split(',').slice(0, 3).join(',')].join('\n'));

    // Act
    const submitted = await lake.request<JobView>('POST', '/batch-jobs', { model: 'credit', version: 1, input: { key: 'raw/credit-allbad/allbad.csv' } });
    const done = await finished(submitted.body.id);

    // Assess
    expect(done).toMatchObject({ status: 'failed', rowsScored: 0, rowsRejected: 2 });
    expect(done.reason).toMatch(/^no row was scored: 2 row\(s\) rejected; the first rejected, row 0: input 'age': /);
    expect(done.output.key).toBeUndefined();
  }, 180_000);

  it('shows the output version the lake failed, with its reason, when the output does not fit the dataset\'s declared schema', async () => {
    // Prepare
    const defined = await lake.request('PUT', '/datasets/credit-strict', { schema: { columns: [{ name: 'applicant_id', type: 'string' }, { name: 'score', type: 'float' }] } }, { 'if-match': '"0"' });

    // Act
    const submitted = await lake.request<JobView>('POST', '/batch-jobs', { model: 'credit', version: 1, input: { key: 'raw/credit/credit.csv' }, passThrough: ['applicant_id'], outputDataset: 'credit-strict' });
    await finished(submitted.body.id);
    const shown = await poll('output version', () => job(submitted.body.id), (j) => j.output.status !== undefined, 60_000);

    // Assess
    expect(defined.status).toBe(201);
    expect(shown).toMatchObject({ status: 'succeeded', output: { version: 1, status: 'FAILED', reason: expect.stringContaining("declared column 'score' missing from the file") } });
  }, 180_000);
});
