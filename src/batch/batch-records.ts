/**
 * The batch functions' work per SQS record. `batch` queue: a plan message (`{"jobId"}`) or an S3
 * notification of files dropped under `batch/` (each starts a job, planned at once). `scoring`
 * queue: one chunk. A failed record is reported as a batch item failure: SQS redelivers it and,
 * after the queue's last receive, moves it to the DLQ (a chunk's reason is on its job by then).
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import type { SQSRecord } from 'aws-lambda';
import { createdObjects } from '../aws/s3-event.js';
import { isRefusal } from '../errors.js';
import { jobForDrop } from './drop.js';
import { parseChunkMessage, planMessageJobId } from './messages.js';
import { planJob, type PlanDeps } from './plan-job.js';
import { scoreChunk, type ScoreChunkDeps } from './score-chunk.js';

/** The record handler of the `batch` function (planning and drops). */
export function createPlanRecordHandler(deps: PlanDeps, logger: Logger, now: () => Date = () => new Date()): (record: SQSRecord) => Promise<void> {
  return async (record) => {
    const receiveCount = Number(record.attributes.ApproximateReceiveCount) || 1;
    const plan = async (jobId: string) => {
      try {
        logger.info('batch job planned', { jobId, ...(await planJob(deps, jobId, receiveCount)) });
      } catch (error) {
        logger.warn('batch job planning failed; the message will be retried', { jobId, receiveCount, error: (error as Error).message });
        throw error;
      }
    };
    const body: unknown = JSON.parse(record.body);
    const jobId = planMessageJobId(body);
    if (jobId !== undefined) return plan(jobId);
    for (const object of createdObjects(record.body)) {
      try {
        const started = await jobForDrop(deps.jobs, object, now());
        if ('refused' in started) logger.warn('drop under batch/ starts no job', { key: object.key, reason: started.refused });
        else await plan(started.jobId);
      } catch (error) {
        // A key naming no valid model can never start a job: logged, not retried.
        if (!isRefusal(error)) throw error;
        logger.warn('drop under batch/ starts no job', { key: object.key, reason: error.message });
      }
    }
  };
}

/** The record handler of the `scoring` function. */
export function createScoreRecordHandler(deps: ScoreChunkDeps, logger: Logger): (record: SQSRecord) => Promise<void> {
  return async (record) => {
    const message = parseChunkMessage(record.body);
    const receiveCount = Number(record.attributes.ApproximateReceiveCount) || 1;
    try {
      logger.info('batch chunk handled', { jobId: message.jobId, chunk: message.chunk.index, ...(await scoreChunk(deps, message, receiveCount)) });
    } catch (error) {
      logger.warn('batch chunk failed; the message will be retried', { jobId: message.jobId, chunk: message.chunk.index, receiveCount, error: (error as Error).message });
      throw error;
    }
  };
}
