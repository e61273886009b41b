/**
 * `npm run bench -- batch-scoring [--rows=N]`: rows/s of one batch scoring worker against raw
 * `session.run` on the same batches. Two models are trained from data/credit.csv through the
 * local cloud's training path (GBDT and MLP); then N credit-like rows (credit.csv's rows,
 * repeated) are scored in this process exactly as a scoring worker scores a chunk
 * (`scoreRows`: tensors built from the columns, served through `createServing` and `createContainerServing('batch', …)`),
 * 5,000 rows a call. Every `session.run` inside those calls is timed (bench/lib/session-timer.ts):
 * the raw baseline is the model's own run on the very tensors of each batch, so the ratio is the
 * share of a worker's scoring time spent in ONNX Runtime. Then whole jobs over N rows with unique ids run
 * on the local cloud with 1, 2 and 4 scoring workers (the trigger's `maxConcurrency`), timed by the job.
 */
import { readFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { createAwsClients } from '../src/aws/clients.js';
import { planInput, readChunk, tableOfRecords, type InputTable } from '../src/batch/input.js';
import { curatedKey } from '../src/lake/zones.js';
import { encodeTable, outputTable } from '../src/batch/output.js';
import { columnInputs, scoreRows, ROWS_PER_CALL } from '../src/batch/score.js';
import type { BatchFeature } from '../src/batch/types.js';
import { loadConfig } from '../src/config.js';
import { createContainerServing } from '../src/inference/container-serving.js';
import { createServing } from '../src/inference/serving.js';
import { createObservability } from '../src/runtime/observability.js';
import { topology } from '../topology/topology.js';
import type { Topology } from '../topology/spec.js';
import { containerEnvironment, startLocalCloud, type LocalCloud } from '../local/cloud.js';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ENV } from '../topology/environment.js';
import { record, table, verdict } from './lib/record.js';
import { instrumentSessionRun } from './lib/session-timer.js';
import { withQuietStdout } from './lib/platform.js';

const FEATURES = ['age', 'income', 'loan_amount', 'term_months', 'late_payments', 'employed', 'purpose', 'housing'];
const TARGET_RATIO = 0.8;
/** Kept beside the predictions, as a job's `passThrough` keeps ids. */
const PASS_THROUGH = ['applicant_id'];

type Api = (method: string, path: string, body?: unknown, headers?: Record<string, string>) => Promise<{ status: number; headers: Headers; body: Record<string, unknown> }>;

async function trainVersion(api: Api, algorithm: string): Promise<{ version: number; features: BatchFeature[] }> {
  const submitted = await api('POST', '/jobs', { dataset: 'credit', target: 'default', features: FEATURES, task: 'classification', algorithm, modelName: `credit-${algorithm}` });
  if (submitted.status !== 202) throw new Error(`training ${algorithm} refused: ${JSON.stringify(submitted.body)}`);
  for (;;) {
    const job = (await api('GET', `/jobs/${encodeURIComponent(String(submitted.body['id']))}`)).body;
    if (job['status'] === 'FAILED') throw new Error(`training ${algorithm} failed: ${String(job['error'] ?? job['reason'])}`);
    if (job['status'] === 'SUCCEEDED') {
      const version = Number(job['modelVersion']);
      const described = (await api('GET', `/models/credit-${algorithm}/versions/${version}`)).body as { signature: { inputs: BatchFeature[] } };
      return { version, features: described.signature.inputs.map(({ name, datatype }) => ({ name, datatype })) };
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

/** Runs the benchmark and appends its table to BENCHMARKS.md. */
export async function runBatchScoringBench(): Promise<void> {
  const rowsArg = process.argv.find((arg) => arg.startsWith('--rows='));
  const totalRows = rowsArg === undefined ? 1_000_000 : Number(rowsArg.slice('--rows='.length));
  const stateDir = await mkdtemp(join(tmpdir(), 'bench-batch-'));
  const cloud = await startLocalCloud({ stateDir, port: 0 });
  const api = apiOf(cloud);
  let body: string;
  let gbdtVersion: number;
  try {
    const csv = await readFile('data/credit.csv', 'utf8');
    const { S3Client, PutObjectCommand } = await import('@aws-sdk/client-s3');
    const { LOCAL_CREDENTIALS, LOCAL_REGION } = await import('../local/emulators.js');
    const s3 = new S3Client({ region: LOCAL_REGION, endpoint: cloud.endpoints.s3, credentials: LOCAL_CREDENTIALS, forcePathStyle: true });
    await s3.send(new PutObjectCommand({ Bucket: cloud.resources.bucketName, Key: 'raw/credit/credit.csv', Body: csv }));
    let datasetVersion: number;
    for (;;) {
      const versions = (await api('GET', '/datasets/credit/versions')).body['versions'] as { status: string; version: number }[] | undefined;
      const ready = versions?.find((v) => v.status === 'READY');
      if (ready !== undefined) {
        datasetVersion = ready.version;
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const models = { gbdt: await trainVersion(api, 'gbdt'), mlp: await trainVersion(api, 'mlp') };
    gbdtVersion = models.gbdt.version;

    // The scoring function's container, in this process.
    const spec = topology.functions.find((fn) => fn.id === 'scoring')!;
    Object.assign(process.env, containerEnvironment(topology, spec, cloud.endpoints, cloud.resources, cloud.stateDir), { [ENV.modelCacheDir]: await mkdtemp(join(tmpdir(), 'bench-batch-cache-')) });
    const deps = createContainerServing('batch', loadConfig(), createAwsClients(), createObservability('bench'));
    const serving = createServing(deps);
    const timer = instrumentSessionRun();

    const [header, ...lines] = csv.trim().split('\n');
    const columns = header!.split(',');
    // Empty cells are missing values, as the scoring function reads them (src/batch/input.ts).
    const source = lines.map((line) => Object.fromEntries(line.split(',').map((cell, i) => [columns[i]!, cell === '' ? null : cell])));
    const rows = Array.from({ length: totalRows }, (_, i) => source[i % source.length]!);
    const repeated = (chunks: readonly InputTable[]) => Array.from({ length: Math.ceil(totalRows / ROWS_PER_CALL) }, (_, i) => chunks[i % chunks.length]!);
    // The chunks' tables as the scoring function reads them (src/batch/input.ts), ROWS_PER_CALL rows each: a CSV file's
    // cells are text; a dataset version's curated Parquet holds typed values.
    const csvTables = Array.from({ length: Math.ceil(totalRows / ROWS_PER_CALL) }, (_, i) => tableOfRecords(rows.slice(i * ROWS_PER_CALL, (i + 1) * ROWS_PER_CALL)));
    const parquetKey = curatedKey('credit', datasetVersion);
    const parquetPlan = await planInput(s3, cloud.resources.bucketName, parquetKey, ROWS_PER_CALL);
    const parquetTables = repeated(await Promise.all(parquetPlan.chunks.map((chunk) => readChunk(s3, cloud.resources.bucketName, parquetPlan.object, chunk, undefined))));
    const inputs = { 'CSV file': csvTables, 'dataset version (Parquet)': parquetTables };

    const results: (string | number)[][] = [];
    let allMet = true;
    for (const [name, { version, features }] of Object.entries(models)) {
      const target = { model: `credit-${name}`, version: String(version) };
      await scoreRows(serving, target, features, csvTables[0]!); // load and warm
      const served = await deps.backends.open((await deps.resolver.resolve(target.model, { kind: 'number', version })).version);
      for (const [input, tables] of Object.entries(inputs)) {
        const scoredRows = tables.reduce((sum, table) => sum + table.rows, 0);
        let runMs = 0;
        let wallMs = 0;
        let encodeMs = 0;
        let conversionMs = 0;
        await withQuietStdout(async () => {
          for (const table of tables) {
            const start = performance.now();
            const scored = await scoreRows(serving, target, features, table);
            const scoredAt = performance.now();
            wallMs += scoredAt - start;
            runMs += timer.last() / 1000;
            if (scored.rejected.length > 0) throw new Error(`${scored.rejected.length} rows refused: ${scored.rejected[0]!.reason}`);
            encodeTable(outputTable(table, scored, PASS_THROUGH), 'parquet');
            encodeMs += performance.now() - scoredAt;
          }
          const start = performance.now();
          for (const table of tables) columnInputs(served, features, table, 0, table.rows);
          conversionMs = performance.now() - start;
        });
        const workerRate = scoredRows / (wallMs / 1000);
        const rawRate = scoredRows / (runMs / 1000);
        const ratio = workerRate / rawRate;
        allMet &&= ratio >= TARGET_RATIO;
        const partRate = Math.round(scoredRows / ((wallMs + encodeMs) / 1000)).toLocaleString('en');
        results.push([name, input, scoredRows.toLocaleString('en'), Math.round(rawRate).toLocaleString('en'), Math.round(workerRate).toLocaleString('en'), ratio.toFixed(2), `${((conversionMs / wallMs) * 100).toFixed(0)} %`, verdict(ratio >= TARGET_RATIO), partRate]);
      }
    }
    body = [
      `Credit-like rows (data/credit.csv repeated to about ${totalRows.toLocaleString('en')}), models trained from credit.csv by the platform (8 named features, one input each), ${ROWS_PER_CALL.toLocaleString('en')} rows a call.`,
      'Inputs: the CSV file itself (cells are text), and the dataset version the lake made of it (its curated Parquet, read by the worker\'s own reader: typed values).',
      'Worker: `scoreRows` as the scoring function runs it (a chunk\'s cells by column → one tensor per feature → `Serving.serve` → the version\'s ONNX session → prediction columns), S3 reads and part writes excluded.',
      'Raw: the time of every `session.run` inside those calls (the same batches and tensors), so the ratio is the share of worker time spent in ONNX Runtime.',
      `Last column: the same, plus the chunk's output part as the worker encodes it (Parquet, with the pass-through column ${PASS_THROUGH.map((c) => `\`${c}\``).join(', ')}), not uploaded.`,
      '',
      table(['model', 'input', 'rows', 'raw session.run rows/s', 'worker rows/s', 'ratio', 'cells → tensors share', `≥ ${TARGET_RATIO}`, 'rows/s with the part encoded'], results),
    ].join('\n');
    console.log(body);
    if (!allMet) console.error('batch scoring missed its target ratio');
    s3.destroy();
  } finally {
    await cloud.stop();
  }

  const file = creditRows(await readFile('data/credit.csv', 'utf8'), totalRows);
  const totals: (string | number)[][] = [];
  let oneWorker: number | undefined;
  for (const workers of WORKERS) {
    const seconds = await jobSeconds(stateDir, workers, `batch/credit-gbdt/${gbdtVersion}/credit-${workers}-workers.csv`, file);
    oneWorker ??= seconds;
    totals.push([workers, totalRows.toLocaleString('en'), seconds.toFixed(1), Math.round(totalRows / seconds).toLocaleString('en'), `${(oneWorker / seconds).toFixed(2)}×`]);
  }
  const totalsBody = [
    '',
    `Whole jobs on the local cloud (\`npm start\`'s code: function bundles in their own processes): ${totalRows.toLocaleString('en')} credit-like rows with unique ids (a ${(file.length / 1e6).toFixed(0)} MB CSV) dropped under \`batch/credit-gbdt/<version>/\`, the GBDT model, 5,000-row chunks, the scoring trigger's \`maxConcurrency\` set to 1, 2 and 4 (the stack's is 4). Time: the job's creation to its end (planning, every chunk, combining the parts into the output drop), from the job's own timestamps. The machine has 2 cores, so 4 workers share them.`,
    '',
    table(['scoring workers', 'rows', 'job seconds', 'rows/s', 'speed-up against 1 worker'], totals),
  ].join('\n');
  console.log(totalsBody);
  if (!process.argv.includes('--quick')) await record('Batch scoring: rows/s per worker against raw session.run, and whole jobs with 1, 2 and 4 workers', `npm run bench -- batch-scoring${rowsArg === undefined ? '' : ` ${rowsArg}`}`, body + '\n' + totalsBody);
}

/** Scoring workers the whole-job runs use. */
const WORKERS = [1, 2, 4];

/** The platform's topology with `workers` as the scoring trigger's concurrency. */
function withScoringWorkers(workers: number): Topology {
  return {
    ...topology,
    functions: topology.functions.map((fn) => (fn.id === 'scoring' ? { ...fn, queueTriggers: fn.queueTriggers.map((trigger) => ({ ...trigger, maxConcurrency: workers })) } : fn)),
  };
}

/** `rows` rows of credit.csv, repeated, each with an id of its own (`A0000000`…), as one CSV text. */
function creditRows(csv: string, rows: number): string {
  const [header, ...lines] = csv.trim().split('\n');
  const out = [header!];
  for (let i = 0; i < rows; i++) out.push(`A${String(i).padStart(7, '0')}${lines[i % lines.length]!.slice(lines[i % lines.length]!.indexOf(','))}`);
  return `${out.join('\n')}\n`;
}

/** Seconds of the job a drop of `file` at `key` starts, on a local cloud (over `stateDir`) whose scoring trigger runs `workers` at once. */
async function jobSeconds(stateDir: string, workers: number, key: string, file: string): Promise<number> {
  const cloud = await startLocalCloud({ stateDir, port: 0, topology: withScoringWorkers(workers) });
  try {
    const api = apiOf(cloud);
    const { S3Client, PutObjectCommand } = await import('@aws-sdk/client-s3');
    const { LOCAL_CREDENTIALS, LOCAL_REGION } = await import('../local/emulators.js');
    const s3 = new S3Client({ region: LOCAL_REGION, endpoint: cloud.endpoints.s3, credentials: LOCAL_CREDENTIALS, forcePathStyle: true });
    await s3.send(new PutObjectCommand({ Bucket: cloud.resources.bucketName, Key: key, Body: file }));
    s3.destroy();
    for (;;) {
      const jobs = (await api('GET', '/batch-jobs?limit=5')).body['jobs'] as { input: { key?: string }; status: string; createdAt: string; finishedAt?: string; reason?: string }[];
      const job = jobs.find((j) => j.input.key === key);
      if (job?.status === 'succeeded') return (Date.parse(job.finishedAt!) - Date.parse(job.createdAt)) / 1000;
      if (job !== undefined && job.status !== 'queued' && job.status !== 'running') throw new Error(`job over ${key} ended ${job.status}: ${job.reason}`);
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  } finally {
    await cloud.stop();
  }
}

/** A caller of a local cloud's API with its key. */
function apiOf(cloud: LocalCloud): Api {
  return async (method, path, body, headers = {}) => {
    const response = await fetch(`${cloud.baseUrl}${path}`, { method, headers: { 'x-api-key': cloud.apiKey, 'content-type': 'application/json', ...headers }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
    const text = await response.text();
    return { status: response.status, headers: response.headers, body: (text === '' ? {} : JSON.parse(text)) as Record<string, unknown> };
  };
}
