/**
 * Runs `bench/lib/ingest-worker.ts` measurements, each in a fresh process so that its peak RSS
 * is its own, from a bundle built as the stack builds a function.
 */
import { spawnSync } from 'node:child_process';
import { symlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';
import type { WorkerResult } from './ingest-worker.js';
import { summarize } from './stats.js';

const MiB = 2 ** 20;

/** Bundles the worker into `dir`; the native/wasm packages stay external (resolved from the repository). */
export async function bundleWorker(dir: string): Promise<string> {
  const outfile = join(dir, 'worker.mjs');
  await build({
    entryPoints: ['bench/lib/ingest-worker.ts'],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    external: ['@duckdb/node-api', 'parquet-wasm'],
    // papaparse is CommonJS and requires Node builtins
    banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
    logLevel: 'warning',
  });
  // the externals resolve from the bundle's directory
  await symlink(resolve('node_modules'), join(dir, 'node_modules'), 'dir');
  return outfile;
}

/** Runs one worker task and returns its result; `heapCapMb` caps the V8 heap as a small function would. */
export function spawnWorker(worker: string, task: string, args: readonly string[], heapCapMb?: number): WorkerResult {
  const flags = heapCapMb === undefined ? [] : [`--max-old-space-size=${heapCapMb}`];
  const child = spawnSync(process.execPath, [...flags, worker, task, ...args], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    timeout: 600_000,
    maxBuffer: 1 << 20,
  });
  if (child.status !== 0) throw new Error(`worker ${task} ${args.join(' ')} failed (status ${child.status}, signal ${child.signal})`);
  const result = JSON.parse(child.stdout.trim().split('\n').at(-1)!) as WorkerResult;
  console.error(
    `  ${task}${heapCapMb === undefined ? '' : ` (heap ${heapCapMb} MB)`} ${args.slice(2).join(' ')}: ${result.seconds.toFixed(2)} s, ${(result.maxRssBytes / MiB).toFixed(0)} MiB`,
  );
  return result;
}

/** One contender's runs, summarised. */
export interface Measure {
  readonly runs: readonly WorkerResult[];
  /** Median wall time. */
  readonly seconds: number;
  /** Median CPU time (all threads). */
  readonly cpuSeconds: number;
  readonly cpuPerWall: number;
  readonly maxRssMiB: number;
  readonly last: WorkerResult;
}

/** Summarises repeated runs of one measurement. */
export function measure(runs: readonly WorkerResult[]): Measure {
  return {
    runs,
    seconds: summarize(runs.map((r) => r.seconds)).p50,
    cpuSeconds: summarize(runs.map((r) => r.cpuSeconds)).p50,
    cpuPerWall: runs.reduce((a, r) => a + r.cpuSeconds / r.seconds, 0) / runs.length,
    maxRssMiB: Math.max(...runs.map((r) => r.maxRssBytes)) / MiB,
    last: runs.at(-1)!,
  };
}
