import type { JobOrigin, JobStore } from './job-store.js';
import type { JobQueue } from './job-queue.js';
import type { JobSpec, TrainingJob } from './types.js';

/** What submitting needs. */
export interface SubmitDeps {
  readonly jobs: JobStore;
  readonly queue: JobQueue;
}

/**
 * Records a QUEUED job and queues its message. A repeated submission under the same idempotency
 * key returns the first job, and sends its message again while no worker has taken it (a
 * duplicate message is harmless: workers claim jobs, not messages), so retrying after a failed
 * send is how the job gets queued. Without a key, a job whose message cannot be sent is marked
 * FAILED (it would otherwise wait for ever). The send error reaches the caller (DependencyUnavailableError for an SQS outage).
 */
export async function submitJob(deps: SubmitDeps, spec: JobSpec, origin: JobOrigin): Promise<{ job: TrainingJob; created: boolean }> {
  const submitted = await deps.jobs.createJob(spec, origin);
  const unclaimed = submitted.job.status === 'QUEUED' && submitted.job.attempts === 0;
  if (!submitted.created && !unclaimed) return submitted;
  try {
    await deps.queue.send(submitted.job.id);
  } catch (error) {
    if (origin.idempotencyKey === undefined) await deps.jobs.failUnqueued(submitted.job.id, `could not be queued: ${(error as Error).message}`);
    throw error;
  }
  return submitted;
}
