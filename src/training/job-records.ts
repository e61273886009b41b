/**
 * The training function's work per SQS record: one job message, one job. A message that is
 * not a job pointer, or whose attempt failed for a transient reason, is reported as a batch
 * item failure: SQS redelivers it and, after the queue's last receive, moves it to the DLQ.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import { MetricUnit, type Metrics } from '@aws-lambda-powertools/metrics';
import type { SQSRecord } from 'aws-lambda';
import { parseJobMessage } from './job-queue.js';
import { runJob, type Invocation, type RunJobDeps } from './run-job.js';

const OUTCOME_METRICS = {
  succeeded: 'TrainingJobsSucceeded',
  failed: 'TrainingJobsFailed',
  cancelled: 'TrainingJobsCancelled',
  duplicate: 'DuplicateDeliveries',
  busy: 'DuplicateDeliveries',
  leaseLost: 'TrainingLeasesLost',
  retry: 'TrainingAttemptsRetried',
} as const;

/** Creates the per-record handler of the training function. */
export function createJobRecordHandler(
  deps: RunJobDeps,
  invocation: Omit<Invocation, 'receiveCount'>,
  logger: Logger,
  metrics: Metrics,
): (record: SQSRecord) => Promise<void> {
  return async (record) => {
    const jobId = parseJobMessage(record.body);
    const outcome = await runJob(deps, jobId, { ...invocation, receiveCount: Number(record.attributes.ApproximateReceiveCount) || 1 });
    metrics.addMetric(OUTCOME_METRICS[outcome.kind], MetricUnit.Count, 1);
    if (outcome.kind === 'retry') {
      logger.warn('training attempt failed; the message will be retried', { jobId, error: outcome.error.message });
      throw outcome.error;
    }
    if (outcome.kind === 'busy') {
      // Another worker holds the job: keep the message until that worker has finished or died.
      throw new Error(`training job ${jobId} is held by another worker; the message will be retried`);
    }
    if (outcome.kind === 'leaseLost') {
      // Another delivery took the job over (or a cancel ended it): this receipt is stale, and
      // deleting with it might delete the new holder's delivery. Leave the message alone.
      logger.warn('training worker lost its lease and stopped without registering', { jobId });
      throw new Error(`training job ${jobId} is no longer held by this worker; it stopped without registering anything`);
    }
    logger.info('training job handled', { jobId, ...outcome });
  };
}
