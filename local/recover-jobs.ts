/**
 * Training jobs a restart would strand. local-aws-sqs keeps messages in memory only, so the
 * messages of jobs that were queued or running when the previous run stopped (or was killed)
 * are gone, and their workers went with it. The job items (on disk, in dynalite) are the
 * source of truth: each unfinished job gets its message again, delayed until its last worker's
 * lease is stale, so the delivery takes it over as the redelivery of a crashed worker's message
 * would in AWS.
 */
import type { SQSClient } from '@aws-sdk/client-sqs';
import { jobMessageBody } from '../src/training/job-queue.js';
import type { JobStore } from '../src/training/job-store.js';
import { requeueAfterLease } from './requeue.js';

/** Sends a message for every QUEUED or RUNNING job; resolves with their ids. */
export async function requeueUnfinishedJobs(jobs: JobStore, sqs: SQSClient, trainingQueueUrl: string): Promise<string[]> {
  const unfinished = await jobs.unfinishedJobs();
  await requeueAfterLease(sqs, trainingQueueUrl, unfinished.map(({ job, takeoverInMs }) => ({ body: jobMessageBody(job.id), takeoverInMs })));
  return unfinished.map(({ job }) => job.id);
}
