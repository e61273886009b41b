import type { Evaluation, TrainingSpec } from '../ml/pipeline.js';

/**
 * Lifecycle of a training job. Transitions are conditional writes:
 * QUEUED → RUNNING → SUCCEEDED | FAILED | CANCELLED, QUEUED → CANCELLED, and
 * RUNNING → QUEUED when an attempt fails for a transient reason and is retried.
 */
export type JobStatus = 'QUEUED' | 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'CANCELLED';

/** Statuses a job never leaves. */
export const TERMINAL_STATUSES: readonly JobStatus[] = ['SUCCEEDED', 'FAILED', 'CANCELLED'];

/** A validated, fully resolved training request: what the worker runs, exactly. */
export interface JobSpec extends TrainingSpec {
  readonly dataset: string;
  /** The dataset version trained on (resolved from "latest" at submission). */
  readonly datasetVersion: number;
  /** Alias pointed at the new version when the job succeeds. */
  readonly alias?: string;
  /** What the resolution decided that the request did not say (e.g. columns left out of the default features). */
  readonly notes?: readonly string[];
}

/** Where a running job is, written by the worker every few seconds (its heartbeat); `done` once it SUCCEEDED. */
export interface JobProgress {
  /** `refitting`: the second fit, on training + validation rows, with the iterations the first chose (`refit`). */
  readonly stage: 'loading' | 'training' | 'refitting' | 'evaluating' | 'exporting' | 'verifying' | 'registering' | 'done';
  readonly iteration?: number;
  readonly maxIterations?: number;
  readonly loss?: number;
  readonly validationLoss?: number;
  /** Validation accuracy or R², when early stopping watches it (`mlp`). */
  readonly validationScore?: number;
  readonly elapsedSeconds: number;
  readonly updatedAt: string;
}

/** A training job as the API shows it. */
export interface TrainingJob {
  /** `<model>~<time-ordered id>`. */
  readonly id: string;
  readonly status: JobStatus;
  readonly spec: JobSpec;
  /** What started it: an API call (the caller's identity) or a dataset's auto-train spec. */
  readonly submittedBy: string;
  readonly trigger: 'api' | 'auto-train';
  readonly idempotencyKey?: string;
  /** Attempts started so far (a redelivered message after a crash starts another). */
  readonly attempts: number;
  readonly progress?: JobProgress;
  /** Test-split metrics and row counts, once evaluated. */
  readonly metrics?: Readonly<Record<string, number>>;
  readonly evaluation?: Evaluation;
  /** The version number the job is registering (set just before it uploads and registers). */
  readonly registeringVersion?: number;
  /** The model version the job registered. */
  readonly modelVersion?: number;
  /**
   * Why the requested alias was not moved to the new version: it already serves a newer one,
   * only takes APPROVED versions, or the model is no better than the majority-class baseline.
   */
  readonly aliasNotMoved?: string;
  /** Why the job FAILED or was CANCELLED. */
  readonly reason?: string;
  /** The last failed attempt's error, kept while the job is retried. */
  readonly lastError?: string;
  /** Set by a cancel request while the job runs under a live lease; the worker stops at its next heartbeat. */
  readonly cancelRequested?: boolean;
  readonly createdAt: string;
  readonly startedAt?: string;
  readonly finishedAt?: string;
  readonly updatedAt: string;
}
