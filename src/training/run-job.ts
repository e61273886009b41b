/**
 * The training worker's work for one job message: take the job under a lease, train on its
 * own thread while a heartbeat writes progress (renewing the lease) and watches for a cancel
 * request, stop at the function's deadline, then register the model and finish the job. Every
 * way a run can end leaves the job in a clear state:
 *
 * | how it ends                              | job                                  | message            |
 * | ---------------------------------------- | ------------------------------------ | ------------------ |
 * | trained, verified, registered            | SUCCEEDED, `modelVersion`, metrics   | deleted            |
 * | … but no better than the majority class  | SUCCEEDED, alias left, `aliasNotMoved` | deleted          |
 * | bad data / request / model (permanent)   | FAILED with the reason               | deleted            |
 * | S3/DynamoDB refuses a request as sent    | FAILED at once with the reason       | deleted            |
 * | cancel requested                         | CANCELLED                            | deleted            |
 * | out of time                              | FAILED with the time limit           | deleted            |
 * | transient (S3, DynamoDB), attempts left  | QUEUED with `lastError`              | retried by SQS     |
 * | transient, last attempt                  | FAILED with the last error           | deleted            |
 * | worker dies (crash, out of memory)       | RUNNING until its lease is stale (no heartbeat for JOB_LEASE_MS); a cancel then ends it at once | redelivered: next attempt takes the lease |
 * | worker finds its lease taken over        | unchanged by it: it registers nothing | retried (its receipt is stale) |
 * | worker died on the last attempt          | FAILED by the queue's final receive  | deleted            |
 * | duplicate delivery, job finished         | unchanged                            | deleted            |
 * | duplicate delivery, job held by a worker | unchanged                            | retried (ends once the holder finishes or dies) |
 */
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { callDependency, isRejectedRequestAwsError } from '../aws/dependency-errors.js';
import { ConflictError, RevisionMismatchError } from '../errors.js';
import type { DatasetStore } from '../lake/dataset-store.js';
import { featureKindOf } from './feature-kinds.js';
import { TrainingFailedError } from '../ml/errors.js';
import { FINISH_RESERVE_MS } from './limits.js';
import type { FeatureKind } from '../ml/features.js';
import { verifyExport, type Evaluation, type PipelineInput, type PipelineProgress } from '../ml/pipeline.js';
import type { TrainingRun } from '../ml/training-thread.js';
import { baselineRefusal } from './alias-guard.js';
import { CANCELLED_WHILE_RUNNING, JobHeartbeat, StopError } from './job-heartbeat.js';
import { LeaseLostError, type JobStore } from './job-store.js';
import { findPublishedVersion, publishModel, type PublishDeps } from './publish-model.js';
import type { ModelVersion } from '../registry/types.js';
import type { TrainingJob } from './types.js';

/** What running a job needs. */
export interface RunJobDeps extends PublishDeps {
  readonly datasets: DatasetStore;
  readonly jobs: JobStore;
  readonly s3: S3Client;
  /** Starts the pipeline (on its own thread in the function). */
  readonly startTraining: (input: PipelineInput, onProgress: (progress: PipelineProgress) => void) => TrainingRun;
  /** Recorded in every version's lineage. */
  readonly codeVersion: string;
  /** How often the heartbeat writes progress, renews the lease and looks for a cancel request. */
  readonly progressIntervalMs: number;
  /**
   * The training queue's receives before the DLQ. Receives before the last one train; the last
   * one only ends a job whose worker died (nothing else would), so every job ends.
   */
  readonly maxReceives: number;
}

/** The invocation running the job. */
export interface Invocation {
  /** Unique per attempt (the Lambda request id): the lease owner. */
  readonly owner: string;
  readonly remainingMs: () => number;
  /** How many times SQS has handed this message out (`ApproximateReceiveCount`), this one included. */
  readonly receiveCount: number;
}

/**
 * How handling a job message ended. `retry`: the message must be redelivered. `leaseLost`: the
 * worker stopped because it no longer held the job (taken over after its lease went stale, or
 * cancelled meanwhile) and registered nothing.
 */
export type JobOutcome =
  | { readonly kind: 'succeeded'; readonly version: number }
  | { readonly kind: 'failed' | 'cancelled'; readonly reason: string }
  | { readonly kind: 'duplicate' | 'busy'; readonly status: string }
  | { readonly kind: 'leaseLost' }
  | { readonly kind: 'retry'; readonly error: Error };

/** Downloads a dataset version's curated files, each into a buffer of its own. */
async function fetchCuratedFiles(deps: RunJobDeps, keys: readonly string[]): Promise<ArrayBuffer[]> {
  return Promise.all(
    keys.map((key) =>
      callDependency('lake', async () => {
        const object = await deps.s3.send(new GetObjectCommand({ Bucket: deps.lakeBucket, Key: key }));
        const bytes = await object.Body!.transformToByteArray();
        return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
      }),
    ),
  );
}

/** The pipeline's input for a job: its dataset version must still be READY. */
async function pipelineInput(deps: RunJobDeps, job: TrainingJob): Promise<PipelineInput> {
  const { spec } = job;
  const version = await deps.datasets.getVersion(spec.dataset, spec.datasetVersion);
  if (version.status !== 'READY' || version.schema === undefined) {
    throw new TrainingFailedError(`dataset '${spec.dataset}' version ${spec.datasetVersion} is ${version.status}, not READY`);
  }
  const types = new Map(version.schema.columns.map((column) => [column.name, column.type]));
  const featureKinds = new Map<string, FeatureKind>();
  for (const name of spec.features) {
    const kind = types.has(name) ? featureKindOf(types.get(name)!) : undefined;
    if (kind === undefined) throw new TrainingFailedError(`feature '${name}' is not a usable column of dataset '${spec.dataset}' version ${spec.datasetVersion}`);
    featureKinds.set(name, kind);
  }
  return {
    spec,
    source: `dataset version ${spec.datasetVersion}`,
    featureKinds,
    files: await fetchCuratedFiles(deps, version.curatedKeys ?? []),
    metadata: {
      training_job: job.id,
      dataset: `${spec.dataset}@${spec.datasetVersion}`,
      algorithm: spec.algorithm,
      task: spec.task,
      code_version: deps.codeVersion,
    },
  };
}

/**
 * Lineage recorded on the version (strings only, as the registry stores it), with how the model
 * was fitted: iterations run and the best one (early stopping), and whether it was refitted.
 */
function lineageOf(deps: RunJobDeps, job: TrainingJob, metrics: Readonly<Record<string, number>>): Record<string, string> {
  const { spec } = job;
  const { iterations, bestIteration, refitRows } = metrics;
  return {
    ...(iterations === undefined ? {} : { iterations: String(iterations) }),
    ...(bestIteration === undefined ? {} : { bestIteration: String(bestIteration) }),
    refit:
      refitRows === undefined
        ? 'no: fitted on the training rows'
        : `refitted on the training + validation rows (${refitRows})${bestIteration === undefined ? '' : ` with the ${bestIteration} iterations chosen on the validation rows`}; metrics from the untouched test rows`,
    trainingJob: job.id,
    dataset: spec.dataset,
    datasetVersion: String(spec.datasetVersion),
    target: spec.target,
    features: spec.features.join(','),
    algorithm: spec.algorithm,
    hyperparameters: JSON.stringify(spec.hyperparameters),
    seed: String(spec.seed),
    codeVersion: deps.codeVersion,
  };
}

/** Trains while the heartbeat writes its progress; stops the run on a cancel request, a lost lease or at the deadline. */
async function train(deps: RunJobDeps, job: TrainingJob, invocation: Invocation, heartbeat: JobHeartbeat) {
  const input = await pipelineInput(deps, job);
  const run = deps.startTraining(input, (progress: PipelineProgress) => heartbeat.report(progress));
  const unsubscribe = heartbeat.onStop((reason) => run.stop(reason));
  const budgetMs = invocation.remainingMs() - FINISH_RESERVE_MS;
  const deadline = setTimeout(
    () => run.stop(new StopError('FAILED', `training did not finish within the worker's time limit (${Math.round(budgetMs / 1000)} s of training); use fewer rows, features or iterations`)),
    Math.max(budgetMs, 0),
  );
  try {
    return await run.result;
  } finally {
    unsubscribe();
    clearTimeout(deadline);
  }
}

/** Handles one job message. */
export async function runJob(deps: RunJobDeps, jobId: string, invocation: Invocation): Promise<JobOutcome> {
  const { jobs } = deps;
  if (invocation.receiveCount >= deps.maxReceives) {
    const current = await jobs.getJob(jobId);
    const reason =
      `the worker stopped without finishing (out of memory, a crash or the time limit) on attempt ${current.attempts}` +
      (current.progress === undefined ? '' : `, during ${current.progress.stage}`) +
      (current.lastError === undefined ? '' : `; earlier: ${current.lastError}`);
    if ((await jobs.endAbandoned(jobId, 'FAILED', reason)) !== undefined) return { kind: 'failed', reason };
  }
  const claim = await jobs.claim(jobId, invocation.owner);
  if (claim.kind === 'finished') return { kind: 'duplicate', status: claim.job.status };
  if (claim.kind === 'busy') return { kind: 'busy', status: claim.job.status };
  const job = claim.job;
  const heartbeat = new JobHeartbeat(jobs, job.id, invocation.owner, deps.progressIntervalMs);
  try {
    if (job.cancelRequested === true) throw new StopError('CANCELLED', CANCELLED_WHILE_RUNNING);
    // An earlier attempt registered the version and died before recording it: finish, don't train again.
    let outcome: { version: ModelVersion; evaluation?: Evaluation } | undefined;
    const published = await findPublishedVersion(deps.registry, job);
    if (published !== undefined) outcome = { version: published };
    else {
      const trained = await train(deps, job, invocation, heartbeat);
      await heartbeat.enter('verifying');
      const result = await verifyExport(trained);
      await heartbeat.enter('registering');
      const version = await publishModel(deps, job, invocation.owner, {
        onnx: result.onnx,
        metrics: result.metrics,
        lineage: lineageOf(deps, job, result.metrics),
        description: `${job.spec.algorithm} ${job.spec.task} of '${job.spec.target}' on ${job.spec.dataset} v${job.spec.datasetVersion}`,
      });
      outcome = { version, ...(result.evaluation ? { evaluation: result.evaluation } : {}) };
    }
    const { version, evaluation } = outcome;
    const aliasNotMoved = job.spec.alias === undefined ? undefined : (baselineRefusal(version.metrics) ?? (await moveAlias(deps, job, job.spec.alias, version.version)));
    await jobs.succeed(job.id, invocation.owner, {
      modelVersion: version.version,
      metrics: { ...version.metrics },
      elapsedSeconds: heartbeat.elapsedSeconds,
      ...(evaluation ? { evaluation } : {}),
      ...(aliasNotMoved === undefined ? {} : { aliasNotMoved }),
    });
    return { kind: 'succeeded', version: version.version };
  } catch (error) {
    return finishFailed(deps, job, invocation, error as Error);
  } finally {
    heartbeat.close();
  }
}

/**
 * Points the job's alias at its version, unless the alias already serves a newer version (a
 * later job finished first, e.g. while this one was being recovered): never moves traffic back.
 * Returns why it did not move the alias, when the alias's own rules refuse the version (it only
 * takes APPROVED versions; a new one is PENDING): the job still succeeds, with that note.
 */
async function moveAlias(deps: RunJobDeps, job: TrainingJob, alias: string, version: number): Promise<string | undefined> {
  const model = job.spec.modelName;
  for (let attempt = 0; ; attempt++) {
    const current = await deps.registry.findAlias(model, alias);
    if (current !== undefined && current.routes.some((route) => route.version > version)) return `alias '${alias}' already serves a newer version`;
    try {
      await deps.registry.setAlias(model, alias, {
        routes: [{ version, weight: 100 }],
        updatedBy: `training job ${job.id}`,
        reason: `trained by job ${job.id}`,
        ...(current === undefined ? {} : { expectedRevision: current.revision }),
      });
      return undefined;
    } catch (error) {
      if (error instanceof ConflictError) return error.message;
      // Changed since it was read: look again (a few times; then the failure is retried with the message).
      if (!(error instanceof RevisionMismatchError) || attempt >= 3) throw error;
    }
  }
}

async function finishFailed(deps: RunJobDeps, job: TrainingJob, invocation: Invocation, error: Error): Promise<JobOutcome> {
  if (error instanceof LeaseLostError) return { kind: 'leaseLost' };
  if (error instanceof StopError) {
    await deps.jobs.fail(job.id, invocation.owner, error.status, error.message);
    return { kind: error.status === 'CANCELLED' ? 'cancelled' : 'failed', reason: error.message };
  }
  if (error instanceof TrainingFailedError) {
    await deps.jobs.fail(job.id, invocation.owner, 'FAILED', error.message, error.metrics);
    return { kind: 'failed', reason: error.message };
  }
  if (isRejectedRequestAwsError(error)) {
    // S3 or DynamoDB refused the request as sent: another attempt would be refused alike.
    const reason = `S3 or DynamoDB refused a request as sent, so it is not retried: ${error.message}`;
    await deps.jobs.fail(job.id, invocation.owner, 'FAILED', reason);
    return { kind: 'failed', reason };
  }
  const lastError = `attempt ${job.attempts}: ${error.message}`;
  // SQS counts receives (also ones that never reached the job), so the receive count decides.
  if (invocation.receiveCount >= deps.maxReceives - 1) {
    const reason = `failed after ${job.attempts} attempts; last error: ${error.message}`;
    await deps.jobs.fail(job.id, invocation.owner, 'FAILED', reason);
    return { kind: 'failed', reason };
  }
  await deps.jobs.release(job.id, invocation.owner, lastError);
  return { kind: 'retry', error };
}
