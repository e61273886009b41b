/**
 * Ingest (issue 3): the platform's ingestion of a ≥ 200 MB CSV and of its Parquet equivalent
 * (`src/lake` `ingestFile`: sniff, type, convert with rejects, statistics) against DuckDB's plain
 * conversion of the same files, measured in the same run with the same engine limits.
 *
 * Every measurement runs in a fresh process (`bench/lib/ingest-worker.ts`, bundled as a Lambda
 * function would be), so its peak RSS is its own.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { statSync } from 'node:fs';
import { writeCreditCsv } from './lib/credit-csv.js';
import { record, table, verdict } from './lib/record.js';
import { bundleWorker, measure, spawnWorker, type Measure } from './lib/worker-process.js';
import { engineMemoryLimitMb } from '../src/lake/engine-limits.js';

const MiB = 2 ** 20;
const MB = 1e6;
/** 210 MiB (220 MB) of CSV: at least 200 MB in either unit. */
const CSV_BYTES = 210 * MiB;
const REPEATS = 3;
/** Targets from issue 3. */
const TARGET = { csvMiBpsPerCore: 50, parquetMBps: 100, rssMiB: 256, vsDuckdb: 0.3 } as const;
/** Function sizes measured: the smallest that meets the RSS target, and the deployed default. */
const FUNCTION_MEMORY_MB = [256, 2048] as const;

const fmt = (n: number, digits = 1): string => n.toFixed(digits);

/** Measures, prints and records. */
export async function runIngestBench(): Promise<void> {
  const started = performance.now();
  const dir = await mkdtemp(join(tmpdir(), 'ingest-bench-'));
  try {
    const worker = await bundleWorker(dir);
    const csv = join(dir, 'credit.csv');
    console.error('generating the CSV…');
    const generated = await writeCreditCsv(csv, CSV_BYTES);
    const parquet = join(dir, 'credit.parquet');
    const repeat = (task: string, args: (i: number) => string[]) => measure(Array.from({ length: REPEATS }, (_, i) => spawnWorker(worker, task, args(i))));
    const duckdbSettings = (memoryMb: number) => `threads=1;memory_limit=${engineMemoryLimitMb(memoryMb)}MB`;
    const ours = (input: string, memoryMb: number) =>
      repeat('platform-ingest', (i) => [input, join(dir, `work-${memoryMb}-${i}-${input.endsWith('.csv') ? 'csv' : 'pq'}`), `memory_limit_mb=${engineMemoryLimitMb(memoryMb)};threads=1`]);

    const rows: (string | number)[][] = [];
    const checks: string[] = [];
    for (const memoryMb of FUNCTION_MEMORY_MB) {
      const duckCsv = repeat('duckdb-convert', () => [csv, parquet, duckdbSettings(memoryMb)]);
      const csvRun = ours(csv, memoryMb);
      const duckPq = repeat('duckdb-parquet-convert', () => [parquet, join(dir, 'copy.parquet'), duckdbSettings(memoryMb)]);
      const pqRun = ours(parquet, memoryMb);
      const csvBytes = generated.bytes;
      const pqBytes = statSync(parquet).size;
      if (csvRun.last.rows !== generated.rows || pqRun.last.rows !== generated.rows) {
        throw new Error(`row counts disagree: generated ${generated.rows}, CSV ingest ${csvRun.last.rows}, Parquet ingest ${pqRun.last.rows}`);
      }
      const line = (label: string, bytes: number, m: Measure, baseline: Measure) => [
        label,
        `${fmt(bytes / MiB / m.seconds)} MiB/s (${fmt(bytes / MB / m.seconds)} MB/s)`,
        `${fmt(bytes / MiB / m.cpuSeconds)} MiB/s`,
        `${fmt(generated.rows / m.seconds / 1e6, 2)} M`,
        fmt(m.maxRssMiB, 0),
        `${fmt(baseline.seconds / m.seconds, 2)}×`,
        m.last.detail ?? '',
      ];
      rows.push(
        line(`DuckDB CSV → Parquet, ${memoryMb} MB function limits (baseline)`, csvBytes, duckCsv, duckCsv),
        line(`**platform ingest, CSV**, ${memoryMb} MB function`, csvBytes, csvRun, duckCsv),
        line(`DuckDB Parquet → Parquet, ${memoryMb} MB function limits (baseline)`, pqBytes, duckPq, duckPq),
        line(`**platform ingest, Parquet**, ${memoryMb} MB function`, pqBytes, pqRun, duckPq),
      );
      checks.push(
        `- ${memoryMb} MB function: CSV ${fmt(csvBytes / MiB / csvRun.cpuSeconds)} MiB/s per core (target ≥ ${TARGET.csvMiBpsPerCore}): ${verdict(csvBytes / MiB / csvRun.cpuSeconds >= TARGET.csvMiBpsPerCore)}; ` +
          `Parquet ${fmt(pqBytes / MB / pqRun.seconds)} MB/s (target ≥ ${TARGET.parquetMBps}): ${verdict(pqBytes / MB / pqRun.seconds >= TARGET.parquetMBps)}; ` +
          `vs DuckDB CSV ${fmt(duckCsv.seconds / csvRun.seconds, 2)}×, Parquet ${fmt(duckPq.seconds / pqRun.seconds, 2)}× (target ≥ ${TARGET.vsDuckdb}): ${verdict(Math.min(duckCsv.seconds / csvRun.seconds, duckPq.seconds / pqRun.seconds) >= TARGET.vsDuckdb)}; ` +
          `peak RSS ${fmt(Math.max(csvRun.maxRssMiB, pqRun.maxRssMiB), 0)} MiB (target ≤ ${TARGET.rssMiB}${memoryMb > 256 ? ', applies to the 256 MB function' : ''}): ${memoryMb > 256 ? 'n/a' : verdict(Math.max(csvRun.maxRssMiB, pqRun.maxRssMiB) <= TARGET.rssMiB)}`,
      );
    }
    const body = [
      `${fmt(generated.bytes / MiB)} MiB (${fmt(generated.bytes / MB)} MB) of CSV, ${generated.rows} rows (bench/lib/credit-csv.ts: integers, floats, booleans, timestamps, text, empty values); its Parquet equivalent ${fmt(statSync(parquet).size / MB)} MB (DuckDB's output). Median of ${REPEATS} fresh processes; one engine thread; engine memory limit = half the function memory (src/lake/engine-limits.ts), the same for DuckDB's baseline.`,
      '',
      table(['run', 'throughput', 'per core (CPU time)', 'rows/s', 'peak RSS MiB', 'vs baseline', 'detail'], rows),
      '',
      ...checks,
      '',
      `Took ${fmt((performance.now() - started) / 1000, 0)} s.`,
    ].join('\n');
    console.log(body);
    await record('Ingest: platform vs DuckDB', 'npm run bench -- ingest', body);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
