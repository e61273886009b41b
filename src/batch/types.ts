/**
 * Batch scoring jobs: a model version scores every row of a lake file or dataset version, chunk by
 * chunk, and its predictions become a dataset version of the lake (README "Batch scoring").
 */

/** Formats a job writes its output in. */
export type BatchOutputFormat = 'parquet' | 'jsonl';

/** What a job scores: a file in the lake, or a dataset version (its curated Parquet). */
export type BatchInput =
  | { readonly kind: 'file'; readonly key: string }
  | { readonly kind: 'dataset'; readonly dataset: string; readonly version: number; readonly key: string };

/** Life of a job. `succeeded` jobs may have rejected rows and failed chunks (counted, with reasons). */
export type BatchJobStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';

/** Statuses after which nothing changes. */
export const FINISHED_BATCH_STATUSES: readonly BatchJobStatus[] = ['succeeded', 'failed', 'cancelled'];

/** A model input the job fills from the column of the same name. */
export interface BatchFeature {
  readonly name: string;
  /** The input's OIP datatype (`FP32`, `INT64`, `BOOL`, `BYTES`…): how a cell becomes a value. */
  readonly datatype: string;
}

/** A slice of the input scored as one unit (one SQS message, one output part). */
export interface BatchChunk {
  /** 0-based; names the output part (`part-00042`). */
  readonly index: number;
  /** First row of the chunk, 0-based over the data rows of the input. */
  readonly firstRow: number;
  readonly rows: number;
  /** CSV: byte offsets `[start, end)` of the chunk's records; Parquet: rows `[start, end)`. */
  readonly start: number;
  readonly end: number;
}

/** How a CSV input is read (fixed when the job is planned). */
export interface CsvLayout {
  readonly delimiter: string;
  readonly escape: string;
  readonly columns: readonly string[];
}

/** A row of a chunk that was not scored (malformed, or refused by the model), and why. */
export interface RejectedRow {
  /** Its index among the chunk's rows. */
  readonly index: number;
  readonly reason: string;
}

/** The object a job's input is, pinned when the job is planned: every chunk reads this one. */
export interface PinnedObject {
  readonly key: string;
  /** S3's ETag of the object (with its quotes). */
  readonly etag: string;
  readonly bytes: number;
}

/** A chunk that could not be scored after every attempt, and why. */
export interface FailedChunk {
  readonly chunk: number;
  readonly rows: number;
  readonly reason: string;
}

/** Where a job's results are. */
export interface BatchOutput {
  /** The lake dataset its predictions become a version of. */
  readonly dataset: string;
  /** Prefix of the per-chunk parts (`…/part-00042.parquet`) and rejected rows (`…/rejected/part-00042.jsonl`). */
  readonly prefix: string;
  /** The combined predictions, dropped under `raw/<dataset>/` for the lake to version once every chunk is done. */
  readonly key?: string;
  /** The dataset version the lake made of them, once ingested. */
  readonly version?: number;
  /**
   * What the lake made of that version: `READY`, or `FAILED` (e.g. the output does not fit the
   * dataset's declared schema) with the lake's `reason`; the job's parts stay either way.
   */
  readonly status?: 'READY' | 'FAILED';
  readonly reason?: string;
}

/** A batch scoring job (the registry table's `BATCHJOB#<id>` item). */
export interface BatchJob {
  readonly id: string;
  readonly model: string;
  /** The alias or version number the request named; none: the model's default alias. */
  readonly selector?: string;
  /** The version every chunk is scored by, resolved once when the job is planned. */
  readonly version?: number;
  readonly input: BatchInput;
  /** The input's ETag and size when the job was planned: a chunk that finds it changed fails the job. */
  readonly inputObject?: Omit<PinnedObject, 'key'>;
  readonly format: BatchOutputFormat;
  /**
   * Input columns copied beside each prediction (ids): the request's or, when it names none,
   * every input column that is not a feature (set when the job is planned).
   */
  readonly passThrough?: readonly string[];
  readonly output: BatchOutput;
  readonly chunkRows: number;
  readonly status: BatchJobStatus;
  readonly trigger: 'api' | 'drop';
  readonly submittedBy: string;
  readonly createdAt: string;
  readonly startedAt?: string;
  readonly finishedAt?: string;
  /** Why the job failed (at planning, its input changed, no row scored, every chunk failed) or was cancelled. */
  readonly reason?: string;
  /** Why its planning failed last, while the job waits (queued) for a retry. */
  readonly lastError?: string;
  readonly features?: readonly BatchFeature[];
  readonly csv?: CsvLayout;
  readonly chunksTotal?: number;
  readonly rowsTotal?: number;
  readonly chunksDone: number;
  readonly chunksFailed: number;
  readonly rowsScored: number;
  readonly rowsRejected: number;
  readonly failedChunks: readonly FailedChunk[];
}

/** A job's progress as the API shows it. */
export interface BatchProgress {
  readonly chunksDone: number;
  readonly chunksFailed: number;
  readonly chunksTotal: number | null;
  readonly rows: number;
  readonly rowsTotal: number | null;
  readonly rowsRejected: number;
  readonly rowsPerSecond: number | null;
  readonly etaSeconds: number | null;
}
