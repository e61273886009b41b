/**
 * Planning a job (the `batch` function): the version is resolved once (an alias through the
 * registry, as every request is) and recorded, the input is read and split into chunks, and one
 * pointer message per chunk goes to the scoring queue. A redelivered plan message sends the same
 * chunks again (chunks are idempotent) with the version recorded the first time.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { InvalidRequestError, isRefusal, quote } from '../errors.js';
import type { ModelResolver } from '../inference/resolver.js';
import { parseVersionSelector } from '../registry/names.js';
import type { ModelVersion } from '../registry/types.js';
import { planInput, type InputPlan } from './input.js';
import type { BatchJobStore } from './job-store.js';
import type { BatchQueues } from './messages.js';
import type { BatchFeature, BatchJob } from './types.js';
import { InputChangedError } from './pinned-object.js';
import { collidesWithPrediction } from './prediction-columns.js';

/** What planning needs. */
export interface PlanDeps {
  readonly jobs: BatchJobStore;
  readonly resolver: Pick<ModelResolver, 'resolve'>;
  readonly s3: S3Client;
  readonly lakeBucket: string;
  readonly queues: Pick<BatchQueues, 'score'>;
  /** Receives of the batch queue before the DLQ: planning's last attempt records its failure on the job. */
  readonly maxReceives: number;
}

/** What became of a plan message. */
export type PlanOutcome = { readonly kind: 'planned'; readonly chunks: number } | { readonly kind: 'failed'; readonly reason: string } | { readonly kind: 'skipped'; readonly status: string };

/** The version a job scores with: the one it recorded, or its alias resolved now (sticky on the job id). */
async function versionOf(resolver: PlanDeps['resolver'], job: BatchJob): Promise<ModelVersion | number> {
  if (job.version !== undefined) return job.version;
  const selector = job.selector === undefined ? undefined : parseVersionSelector(job.selector);
  return (await resolver.resolve(job.model, selector, job.id)).version;
}

/** Checks that the input has every feature and pass-through column; the pass-through columns (default: the non-feature ones). */
function passThroughOf(job: BatchJob, features: readonly BatchFeature[], plan: InputPlan): readonly string[] {
  const columns = new Set(plan.columns);
  const missing = features.filter((feature) => !columns.has(feature.name)).map((feature) => feature.name);
  if (missing.length > 0) {
    throw new InvalidRequestError(`input ${quote(job.input.key)} lacks the model's feature column(s) ${missing.map(quote).join(', ')} (it has ${plan.columns.join(', ')})`);
  }
  const absent = (job.passThrough ?? []).filter((name) => !columns.has(name));
  if (absent.length > 0) throw new InvalidRequestError(`input ${quote(job.input.key)} has no pass-through column(s) ${absent.map(quote).join(', ')}`);
  if (job.passThrough !== undefined) return job.passThrough;
  const featureNames = new Set(features.map((feature) => feature.name));
  const kept = plan.columns.filter((name) => !featureNames.has(name));
  const clashes = kept.filter(collidesWithPrediction);
  if (clashes.length > 0) {
    throw new InvalidRequestError(
      `input ${quote(job.input.key)} has column(s) ${clashes.map(quote).join(', ')}, which would collide with the prediction's columns in the output: name the columns to keep in passThrough`,
    );
  }
  return kept;
}

/** Plans job `jobId` and hands its chunks to the scoring queue. Refusals (unknown model, bad input) fail the job with their reason. */
export async function planJob(deps: PlanDeps, jobId: string, receiveCount = 1): Promise<PlanOutcome> {
  const job = await deps.jobs.get(jobId);
  if (job.status !== 'queued' && job.status !== 'running') return { kind: 'skipped', status: job.status };
  let planned: { plan: InputPlan; version: number; features: BatchFeature[]; passThrough: readonly string[] };
  try {
    const resolved = await versionOf(deps.resolver, job);
    const version = typeof resolved === 'number' ? resolved : resolved.version;
    const features = typeof resolved === 'number' ? [...(job.features ?? [])] : resolved.signature.inputs.map(({ name, datatype }) => ({ name, datatype }));
    const plan = await planInput(deps.s3, deps.lakeBucket, job.input.key, job.chunkRows);
    // A redelivered plan message: the chunks sent must be the ones of the object the job pinned.
    if (job.inputObject !== undefined && job.inputObject.etag !== plan.object.etag) throw new InputChangedError(job.input.key, job.inputObject.etag, plan.object.etag);
    if (plan.rows === 0) throw new InvalidRequestError(`input ${quote(job.input.key)} has no data rows`);
    planned = { plan, version, features, passThrough: passThroughOf(job, features, plan) };
  } catch (error) {
    const reason = isRefusal(error) ? error.message : isMissingObject(error) ? `input ${quote(job.input.key)} does not exist in the lake` : undefined;
    if (reason === undefined) {
      const lastError = (error as Error).message;
      // While it waits for the retry, the job says why; after the last attempt (the message goes to the DLQ) it fails rather than stay queued.
      if (receiveCount < deps.maxReceives) await deps.jobs.noteRetry(jobId, `planning attempt ${receiveCount} of ${deps.maxReceives} failed: ${lastError}`);
      else await deps.jobs.fail(jobId, `planning failed ${receiveCount} times; last error: ${lastError}`);
      throw error;
    }
    await deps.jobs.fail(jobId, reason);
    return { kind: 'failed', reason };
  }
  const { plan, version, features, passThrough } = planned;
  if (job.status === 'queued') {
    const started = await deps.jobs.start(jobId, { version, features, passThrough, inputObject: { etag: plan.object.etag, bytes: plan.object.bytes }, chunksTotal: plan.chunks.length, rowsTotal: plan.rows, ...(plan.csv === undefined ? {} : { csv: plan.csv }) });
    if (started === undefined) {
      const now = await deps.jobs.get(jobId);
      if (now.status !== 'running') return { kind: 'skipped', status: now.status };
    }
  }
  await deps.queues.score(plan.chunks.map((chunk) => ({ jobId, chunk })));
  return { kind: 'planned', chunks: plan.chunks.length };
}

/** Whether S3 answered that the object does not exist. */
const isMissingObject = (error: unknown): boolean => ['NoSuchKey', 'NotFound'].includes((error as { name?: string }).name ?? '');
