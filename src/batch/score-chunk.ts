/**
 * Scoring one chunk (the `scoring` function): its rows are read from the input, scored through
 * the one inference path with the job's recorded version, and written as the chunk's own part
 * (and rejected rows beside it); then its counts are added to the job once. A redelivery rewrites
 * the same part and adds nothing. The chunk that completes the job combines the parts into one
 * file dropped into the output dataset, which the lake then versions.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import type { Serving } from '../inference/serving.js';
import { readChunk, tableOfRecords } from './input.js';
import { InputChangedError } from './pinned-object.js';
import { InvalidRequestError } from '../errors.js';
import type { BatchJobStore, ChunkOutcome } from './job-store.js';
import type { ChunkMessage } from './messages.js';
import { combinedKey, contentTypeOf, encodeRejected, encodeTable, outputTable, partKey, putObject, readPart, rejectedPartKey } from './output.js';
import { scoreRows } from './score.js';
import type { BatchJob } from './types.js';

/** What a scoring worker needs. */
export interface ScoreChunkDeps {
  readonly jobs: BatchJobStore;
  readonly serving: Serving;
  readonly s3: S3Client;
  readonly lakeBucket: string;
  /** Deliveries of a chunk message before SQS moves it to the DLQ: the last one records the chunk as failed. */
  readonly maxReceives: number;
}

/** What became of a chunk message. */
export type ChunkResult =
  | { readonly kind: 'scored'; readonly rows: number; readonly rejected: number; readonly added: boolean }
  /** The job is not running (cancelled, failed, finished): nothing scored. */
  | { readonly kind: 'skipped'; readonly status: string }
  /** The chunk cannot be read as planned (a malformed record: the chunk fails; a changed input: the job fails), at once, with the reason. */
  | { readonly kind: 'failed'; readonly reason: string };

/** Combines the parts of a job whose chunks are all done, drops the result into its output dataset, and marks it succeeded (or failed, publishing nothing, when no row was scored). */
export async function finishIfComplete(deps: Pick<ScoreChunkDeps, 'jobs' | 's3' | 'lakeBucket'>, job: BatchJob): Promise<void> {
  if (job.status !== 'running' || job.chunksTotal === undefined || job.chunksDone + job.chunksFailed < job.chunksTotal) return;
  if (job.chunksDone === 0) {
    await deps.jobs.fail(job.id, `every chunk failed; the first: ${job.failedChunks[0]?.reason ?? 'unknown'}`);
    return;
  }
  const failed = new Set(job.failedChunks.map((chunk) => chunk.chunk));
  if (job.rowsScored === 0) {
    // Nothing to publish (a dataset version needs rows): the job fails, saying why with the first rejected row.
    let first = 0;
    while (failed.has(first)) first++;
    const [row] = await readPart(deps.s3, deps.lakeBucket, rejectedPartKey(job.output.prefix, first), 'jsonl');
    await deps.jobs.fail(job.id, `no row was scored: ${job.rowsRejected} row(s) rejected${job.chunksFailed > 0 ? ` and ${job.chunksFailed} chunk(s) failed` : ''}; the first rejected, row ${String(row?.['row'])}: ${String(row?.['reason'])}`);
    return;
  }
  const rows: Record<string, unknown>[] = [];
  for (let index = 0; index < job.chunksTotal; index++) {
    if (!failed.has(index)) rows.push(...(await readPart(deps.s3, deps.lakeBucket, partKey(job.output.prefix, index, job.format), job.format)));
  }
  const key = combinedKey(job.output.dataset, job.id, job.format);
  await putObject(deps.s3, deps.lakeBucket, key, encodeTable(tableOfRecords(rows), job.format), contentTypeOf(job.format));
  await deps.jobs.succeed(job.id, key);
}

/** Scores one chunk of a running job; on its last delivery a failure is recorded on the job (with its reason) before it is thrown. */
export async function scoreChunk(deps: ScoreChunkDeps, message: ChunkMessage, receiveCount: number): Promise<ChunkResult> {
  const job = await deps.jobs.get(message.jobId);
  if (job.status !== 'running' || job.version === undefined || job.inputObject === undefined) return { kind: 'skipped', status: job.status };
  const { chunk } = message;
  /** Records the chunk failed with `reason`, at once (a redelivery would read the same). */
  const failChunk = async (reason: string): Promise<ChunkResult> => {
    const { job: after } = await deps.jobs.completeChunk(job.id, { kind: 'failed', chunk: chunk.index, rows: chunk.rows, reason });
    await finishIfComplete(deps, after);
    return { kind: 'failed', reason };
  };
  let outcome: ChunkOutcome;
  try {
    const table = await readChunk(deps.s3, deps.lakeBucket, { key: job.input.key, ...job.inputObject }, chunk, job.csv);
    if (table.rows !== chunk.rows) {
      // Never a silent loss: the whole chunk fails with its row range, as a retry would read the same.
      const reason = `rows ${chunk.firstRow + 1}-${chunk.firstRow + chunk.rows} read as ${table.rows} record${table.rows === 1 ? '' : 's'} where planning counted ${chunk.rows}: a malformed record (e.g. an unterminated quote) in that range`;
      return await failChunk(reason);
    }
    const target = { model: job.model, version: String(job.version), routingKey: job.id, requestId: `${job.id}-${chunk.index}` };
    const scored = await scoreRows(deps.serving, target, job.features ?? [], table);
    const passThrough = job.passThrough ?? [];
    if (scored.rejected.length > 0) {
      await putObject(deps.s3, deps.lakeBucket, rejectedPartKey(job.output.prefix, chunk.index), encodeRejected(table, scored.rejected, chunk.firstRow, passThrough), contentTypeOf('jsonl'));
    }
    await putObject(deps.s3, deps.lakeBucket, partKey(job.output.prefix, chunk.index, job.format), encodeTable(outputTable(table, scored, passThrough), job.format), contentTypeOf(job.format));
    outcome = { kind: 'scored', chunk: chunk.index, rowsScored: table.rows - scored.rejected.length, rowsRejected: scored.rejected.length };
  } catch (error) {
    if (error instanceof InputChangedError) {
      // Every chunk would read the changed object: the job fails at once, and publishes nothing.
      await deps.jobs.fail(job.id, error.message);
      return { kind: 'failed', reason: error.message };
    }
    if (error instanceof InvalidRequestError) {
      // Its input refused (unreadable rows): a redelivery would read the same, so the chunk fails now.
      return failChunk(error.message);
    }
    if (receiveCount >= deps.maxReceives) {
      const { job: after } = await deps.jobs.completeChunk(job.id, { kind: 'failed', chunk: chunk.index, rows: chunk.rows, reason: (error as Error).message });
      await finishIfComplete(deps, after);
    }
    throw error;
  }
  const { job: after, added } = await deps.jobs.completeChunk(job.id, outcome);
  await finishIfComplete(deps, after);
  return { kind: 'scored', rows: outcome.rowsScored, rejected: outcome.rowsRejected, added };
}
