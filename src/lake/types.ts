import type * as z from 'zod/mini';
import type { CreatedObject } from '../aws/s3-event.js';
import type { DatasetSchema, SchemaColumn } from './schema.js';
import type { SourceFormat } from './source-format.js';
import type { ColumnStatistics } from './statistics.js';

/**
 * What to train automatically when a version of the dataset becomes READY: a training request
 * without its dataset. The lake stores it without reading it; the training context checks it when
 * the definition is saved ({@link AutoTrainChecker}) and reads it when a version is READY.
 */
export type AutoTrainSpec = Readonly<Record<string, unknown>>;

/** How the training context checks an auto-train spec when a dataset definition is saved. */
export interface AutoTrainChecker {
  /** The spec's shape, checked strictly with the rest of the definition's body. */
  readonly schema: z.ZodMiniType<AutoTrainSpec>;
  /**
   * Throws an InvalidRequestError naming what is wrong with the spec (algorithm for the task, hyperparameters,
   * and, when the definition declares a schema, the columns it names).
   */
  check(spec: AutoTrainSpec, declared: readonly SchemaColumn[] | undefined, dataset: string): void;
}

/** A dataset definition: the rules its dropped files are ingested under. */
export interface DatasetDefinition {
  readonly name: string;
  readonly description: string;
  /** Declared schema; without one, each version's schema is inferred. */
  readonly schema?: DatasetSchema;
  /** Largest share of rejected rows (0–1) a READY version may have. */
  readonly rejectThreshold: number;
  readonly autoTrain?: AutoTrainSpec;
  readonly createdAt: string;
  readonly updatedAt: string;
  /** Bumped by every update (ETag / If-Match). */
  readonly revision: number;
}

/** The S3 object a dataset version was ingested from. */
export type SourceObject = CreatedObject;

/** A later drop of the same bytes, under the same dataset definition, as a version's source. */
export interface DuplicateDrop {
  readonly source: SourceObject;
  readonly droppedAt: string;
}

/** Lifecycle of a dataset version. RETRYING: an attempt failed for a transient reason and the event is retried (or waits in the DLQ). */
export type DatasetVersionStatus = 'INGESTING' | 'RETRYING' | 'READY' | 'FAILED';

/** An immutable, numbered dataset version. */
export interface DatasetVersion {
  readonly dataset: string;
  readonly version: number;
  readonly status: DatasetVersionStatus;
  readonly source: SourceObject;
  readonly reason?: string;
  readonly format?: SourceFormat;
  readonly gzip?: boolean;
  readonly rowsRead?: number;
  readonly rowsAccepted?: number;
  readonly rowsRejected?: number;
  readonly schema?: { readonly columns: readonly SchemaColumn[]; readonly inferred: boolean };
  readonly statistics?: readonly ColumnStatistics[];
  readonly notes?: readonly string[];
  /** Keys of the curated Parquet objects. */
  readonly curatedKeys?: readonly string[];
  /** Key of the rejected rows (JSON Lines), when there are any. */
  readonly rejectedKey?: string;
  /** Attempts made (redeliveries included). */
  readonly attempts: number;
  /** Why the last failed attempt failed (transient errors). */
  readonly lastError?: string;
  readonly createdAt: string;
  readonly finishedAt?: string;
  readonly durationMs?: number;
  /** What the dataset's auto-train spec did with this version: the job it started, or why it refused. */
  readonly autoTrain?: AutoTrainOutcome;
  /** How many later drops had the same bytes while this was the latest version, under the same definition (no new version for them). */
  readonly duplicateDrops?: number;
  /** The last of those drops. */
  readonly lastDuplicateDrop?: DuplicateDrop;
}

/** The training job a READY version started, or why its auto-train spec could not start one. */
export type AutoTrainOutcome = { readonly jobId: string } | { readonly refused: string };
