/**
 * A file larger than the engine's memory limit ingests through the local cloud: 200+ MB of CSV
 * with the function's memory set to 256 MB (DuckDB limited to 128 MB, spilling to disk).
 * Asserts on the produced counts, not on time or memory (those are in `npm run bench`).
 */
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalCloud, type LocalCloud } from '../../local/cloud.js';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../local/emulators.js';
import { lakeApi } from '../support/lake-api.js';

const MIN_BYTES = 200 * 1024 * 1024;
/** Every this many rows, one malformed row (a missing column). */
const BAD_EVERY = 1_000_000;

let cloud: LocalCloud;
let lake: ReturnType<typeof lakeApi>;
let workDir: string;

beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'lake-large-'));
  cloud = await startLocalCloud({ stateDir: join(workDir, 'cloud'), port: 0, functionEnvironment: { AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '256' } });
  lake = lakeApi(cloud);
});
afterAll(async () => {
  lake?.s3.destroy();
  await cloud?.stop();
  await rm(workDir, { recursive: true, force: true });
});

/** Writes a CSV of at least `minBytes`; returns its path and row counts. */
async function generateCsv(minBytes: number): Promise<{ path: string; rows: number; bad: number }> {
  const path = join(workDir, 'big.csv');
  const out = createWriteStream(path);
  out.write('id,amount,category,flag,at\n');
  const categories = ['alpha', 'beta', 'gamma', 'delta'];
  let bytes = 0;
  let rows = 0;
  let bad = 0;
  while (bytes < minBytes) {
    let chunk = '';
    for (let i = 0; i < 10_000; i++) {
      rows += 1;
      const line =
        rows % BAD_EVERY === 0
          ? `${rows},${rows % 997}.25,broken\n`
          : `${rows},${(rows % 9973) / 7},${categories[rows % 4]},${rows % 3 === 0},2024-0${1 + (rows % 9)}-1${rows % 10}T12:00:00Z\n`;
      if (rows % BAD_EVERY === 0) bad += 1;
      chunk += line;
    }
    bytes += Buffer.byteLength(chunk);
    if (!out.write(chunk)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
  return { path, rows, bad };
}

describe('a CSV larger than the ingest engine memory', () => {
  it('ingests in bounded memory with every row accounted for', { timeout: 300_000 }, async () => {
    // Prepare
    const { path, rows, bad } = await generateCsv(MIN_BYTES);
    const { size } = await stat(path);
    // Streamed upload; the emulator does not decode aws-chunked bodies, so no streamed checksum.
    const s3 = new S3Client({ region: LOCAL_REGION, endpoint: cloud.endpoints.s3, credentials: LOCAL_CREDENTIALS, requestChecksumCalculation: 'WHEN_REQUIRED' });

    // Act
    await s3.send(new PutObjectCommand({ Bucket: lake.bucket, Key: 'raw/large/big.csv', Body: createReadStream(path), ContentLength: size }));
    s3.destroy();
    const [version] = await lake.finishedVersions('large', 1, 240_000);

    // Assess
    expect(size).toBeGreaterThanOrEqual(MIN_BYTES);
    expect(version).toMatchObject({ status: 'READY', rowsRead: rows, rowsAccepted: rows - bad, rowsRejected: bad, source: { sizeBytes: size } });
    expect(version?.schema?.columns.map((c) => c.type)).toEqual(['integer', 'float', 'string', 'boolean', 'timestamp']);
    const stats = new Map(version?.statistics?.map((s) => [s.name, s]));
    expect(stats.get('id')).toMatchObject({ min: 1, nulls: 0 });
    expect(stats.get('category')?.top?.map((t) => t.value).sort()).toEqual(['alpha', 'beta', 'delta', 'gamma']);
    const preview = await lake.request<{ rows: unknown[] }>('GET', '/datasets/large/versions/1/preview?limit=3');
    expect(preview.body.rows).toHaveLength(3);
  });
});
