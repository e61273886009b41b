/**
 * Async inference requests the previous run of the local cloud left unfinished: its SQS queues
 * live in memory, so their messages are gone; each queued or running request gets one again
 * (a duplicate is harmless: the worker's claim is a conditional write, and a finished request is
 * skipped).
 */
import type { SQSClient } from '@aws-sdk/client-sqs';
import { sqsAsyncQueue } from '../src/async/async-queue.js';
import { AsyncRequestStore } from '../src/async/async-store.js';
import type { RegistryTable } from '../src/storage/table.js';

/** Sends a message for every unfinished async request; returns their ids. */
export async function requeueUnfinishedAsyncRequests(table: RegistryTable, sqs: SQSClient, queueUrl: string): Promise<string[]> {
  const ids = await new AsyncRequestStore(table).unfinished();
  const send = sqsAsyncQueue(sqs, queueUrl);
  for (const id of ids) await send(id);
  return ids;
}
