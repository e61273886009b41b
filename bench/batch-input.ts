/**
 * `npm run bench -- batch-input [--mb=N]`: what a scoring worker's chunk read costs now that it
 * is pinned and checked (src/batch/pinned-object.ts, src/batch/input.ts `readChunk`: `GetObject`
 * with `If-Match`, the answer's ETag compared, every record's field count checked, cells laid out
 * by column) against a plain ranged `GetObject` of the same bytes parsed into records by the same
 * CSV reader, in the same run against s3rver. Rounds alternate the two, so drift hits both.
 */
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { LOCAL_CREDENTIALS, LOCAL_REGION, startEmulators } from '../local/emulators.js';
import { planInput, readChunk } from '../src/batch/input.js';
import { DEFAULT_CHUNK_ROWS } from '../src/batch/chunk-plan.js';
import { parseCsvRecords } from '../src/lake/csv-dialect.js';
import { writeCreditCsv } from './lib/credit-csv.js';
import { record, table } from './lib/record.js';

const BUCKET = 'bench-lake';
const KEY = 'raw/bench/credit.csv';
const ROUNDS = 5;

/** Runs the benchmark and appends its table to BENCHMARKS.md. */
export async function runBatchInputBench(): Promise<void> {
  const mbArg = process.argv.find((arg) => arg.startsWith('--mb='));
  const megabytes = mbArg === undefined ? 64 : Number(mbArg.slice('--mb='.length));
  const stateDir = await mkdtemp(join(tmpdir(), 'bench-batch-input-'));
  const emulators = await startEmulators({ stateDir, ports: { dynamodb: 0, s3: 0, sqs: 0, sagemaker: 0, kinesis: 0 }, buckets: [BUCKET] });
  const s3 = new S3Client({ region: LOCAL_REGION, endpoint: emulators.endpoints.s3, credentials: LOCAL_CREDENTIALS, forcePathStyle: true, requestChecksumCalculation: 'WHEN_REQUIRED' });
  try {
    const file = join(stateDir, 'credit.csv');
    const { rows } = await writeCreditCsv(file, megabytes * 2 ** 20);
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: KEY, Body: await readFile(file) }));
    const plan = await planInput(s3, BUCKET, KEY, DEFAULT_CHUNK_ROWS);
    const csv = plan.csv!;

    /** Every chunk read the plain way: a ranged GetObject, its bytes parsed into records. */
    const plain = async () => {
      let records = 0;
      for (const chunk of plan.chunks) {
        const read = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: KEY, Range: `bytes=${chunk.start}-${chunk.end - 1}` }));
        records += parseCsvRecords(new TextDecoder().decode(await read.Body!.transformToByteArray()), csv.delimiter, csv.escape, true).length;
      }
      return records;
    };
    /** Every chunk read as a worker reads it. */
    const pinned = async () => {
      let records = 0;
      for (const chunk of plan.chunks) records += (await readChunk(s3, BUCKET, plan.object, chunk, csv)).rows;
      return records;
    };

    const times = { plain: [] as number[], pinned: [] as number[] };
    for (let round = 0; round < ROUNDS; round++) {
      for (const [name, read] of round % 2 === 0 ? ([['plain', plain], ['pinned', pinned]] as const) : ([['pinned', pinned], ['plain', plain]] as const)) {
        const start = performance.now();
        const records = await read();
        times[name].push(performance.now() - start);
        if (records < rows) throw new Error(`${name} read ${records} records of ${rows}`);
      }
    }
    const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
    const rate = (ms: number) => Math.round(rows / (ms / 1000));
    const [plainMs, pinnedMs] = [median(times.plain), median(times.pinned)];
    const body = [
      `A credit-like CSV of ${megabytes} MiB (${rows.toLocaleString('en')} rows, ${plan.chunks.length} chunks of ${DEFAULT_CHUNK_ROWS.toLocaleString('en')} rows) in s3rver; every chunk read once per round, ${ROUNDS} rounds alternating, medians.`,
      'Baseline: a plain ranged `GetObject` of each chunk, its bytes parsed into records by the lake\'s CSV reader.',
      'Pinned: `readChunk` as a scoring worker runs it: the same ranged `GetObject` with `If-Match: <ETag>`, the answer\'s ETag compared, each record\'s field count checked against the header, cells laid out by column.',
      '',
      table(
        ['read', 'ms (median)', 'rows/s', 'ratio to baseline (rows/s)'],
        [
          ['baseline: plain ranged GetObject + parse', Math.round(plainMs), rate(plainMs).toLocaleString('en'), '1.00'],
          ['pinned readChunk (If-Match, ETag, field counts, columns)', Math.round(pinnedMs), rate(pinnedMs).toLocaleString('en'), (plainMs / pinnedMs).toFixed(2)],
        ],
      ),
    ].join('\n');
    console.log(body);
    if (!process.argv.includes('--quick')) await record('Batch input: pinned, checked chunk reads against plain ranged reads', `npm run bench -- batch-input${mbArg === undefined ? '' : ` ${mbArg}`}`, body);
  } finally {
    s3.destroy();
    await emulators.close();
    await rm(stateDir, { recursive: true, force: true });
  }
}
