import type { JobOrigin, JobStore } from './job-store.js';
import type { JobQueue } from './job-queue.js';
import type { JobSpec, TrainingJob } from './types.js';

/** What submitting needs. */
export interface SubmitDeps {
  readonly jobs: JobStore;
  readonly queue: JobQueue;
}

/**
 * Records a QUEUED job and queues its message. A repeated submission under the same
 * idempotency key returns the first job and queues nothing. When the message cannot be
 * sent, the job is marked FAILED (it would otherwise wait for ever) and the error reaches the caller
 * (503 for an SQS outage).
 */
export async function submitJob(deps: SubmitDeps, spec: JobSpec, origin: JobOrigin): Promise<{ job: TrainingJob; created: boolean }> {
  const submitted = await deps.jobs.createJob(spec, origin);
  if (!submitted.created) return submitted;
  try {
    await deps.queue.send(submitted.job.id);
  } catch (error) {
    await deps.jobs.failUnqueued(submitted.job.id, `could not be queued: ${(error as Error).message}`);
    throw error;
  }
  return submitted;
}
