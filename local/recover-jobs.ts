/**
 * Training jobs a restart would strand. local-aws-sqs keeps messages in memory only, so the
 * messages of jobs that were queued or running when the previous run stopped (or was killed)
 * are gone, and their workers went with it. The job items (on disk, in dynalite) are the
 * source of truth: each unfinished job gets its message again, delayed until its last worker's
 * lease is stale, so the delivery takes it over as the redelivery of a crashed worker's message
 * would in AWS.
 */
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { jobMessageBody } from '../src/training/job-queue.js';
import type { JobStore } from '../src/training/job-store.js';

/** SQS's longest message delay. */
const MAX_DELAY_SECONDS = 900;

/** Sends a message for every QUEUED or RUNNING job; resolves with their ids. */
export async function requeueUnfinishedJobs(jobs: JobStore, sqs: SQSClient, trainingQueueUrl: string): Promise<string[]> {
  const unfinished = await jobs.unfinishedJobs();
  for (const { job, takeoverInMs } of unfinished) {
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: trainingQueueUrl,
        MessageBody: jobMessageBody(job.id),
        DelaySeconds: Math.min(MAX_DELAY_SECONDS, Math.ceil(takeoverInMs / 1000)),
      }),
    );
  }
  return unfinished.map(({ job }) => job.id);
}
