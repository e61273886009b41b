/**
 * Dataset versions a restart would strand. local-aws-sqs keeps messages in memory only, so the
 * S3 notifications of files whose ingestion was running or waiting for a retry (INGESTING,
 * RETRYING) when the previous run stopped are gone. The version items (on disk, in dynalite) are
 * the source of truth: each unfinished version's source is announced on the ingest queue again,
 * delayed until its claim's lease expires, so the delivery takes it over as the redelivery of a
 * crashed attempt's message would in AWS.
 */
import type { SQSClient } from '@aws-sdk/client-sqs';
import { objectCreatedMessageBody } from '../src/aws/s3-event.js';
import type { DatasetStore } from '../src/lake/dataset-store.js';
import { LOCAL_REGION } from './emulators.js';
import { requeueAfterLease } from './requeue.js';

/** Announces the source of every unfinished dataset version again; resolves with them (`dataset vN`). */
export async function requeueUnfinishedIngests(datasets: DatasetStore, sqs: SQSClient, ingestQueueUrl: string, now = new Date()): Promise<string[]> {
  const unfinished = await datasets.unfinishedVersions();
  await requeueAfterLease(
    sqs,
    ingestQueueUrl,
    unfinished.map(({ version, takeoverInMs }) => ({ body: objectCreatedMessageBody(version.source, LOCAL_REGION, now), takeoverInMs })),
  );
  return unfinished.map(({ version }) => `${version.dataset} v${version.version}`);
}
