/**
 * A job's progress: chunks and rows done, the scoring rate since the job started, and the time
 * left at that rate.
 */
import type { BatchJob, BatchProgress } from './types.js';

/** Progress of `job` at `nowMs` (its end, once finished). */
export function progressOf(job: BatchJob, nowMs: number): BatchProgress {
  const rows = job.rowsScored + job.rowsRejected;
  const started = job.startedAt === undefined ? undefined : Date.parse(job.startedAt);
  const until = job.finishedAt === undefined ? nowMs : Date.parse(job.finishedAt);
  const seconds = started === undefined ? 0 : (until - started) / 1000;
  const rowsPerSecond = seconds > 0 && rows > 0 ? rows / seconds : null;
  const failedRows = job.failedChunks.reduce((sum, chunk) => sum + chunk.rows, 0);
  const left = job.rowsTotal === undefined ? undefined : Math.max(0, job.rowsTotal - rows - failedRows);
  const finished = job.finishedAt !== undefined;
  return {
    chunksDone: job.chunksDone,
    chunksFailed: job.chunksFailed,
    chunksTotal: job.chunksTotal ?? null,
    rows,
    rowsTotal: job.rowsTotal ?? null,
    rowsRejected: job.rowsRejected,
    rowsPerSecond: rowsPerSecond === null ? null : Math.round(rowsPerSecond),
    etaSeconds: finished ? 0 : left === undefined || rowsPerSecond === null ? null : Math.ceil(left / rowsPerSecond),
  };
}
