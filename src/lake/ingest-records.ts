/**
 * The ingest function's work per SQS record: each record carries one S3 event notification;
 * each object it announces is ingested. A record whose ingestion fails for a transient reason
 * is reported as a batch item failure, so SQS redelivers it and, after the queue's last
 * receive, moves it to the dead-letter queue.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { SQSRecord } from 'aws-lambda';
import { ingestObject, type IngestDeps } from './ingest-object.js';
import { createdObjects } from '../aws/s3-event.js';

/**
 * Called with every version an object became, also on duplicate deliveries (a redelivery after a
 * crash must still get its follow-up done): the training service's auto-train. Must be idempotent.
 */
export type VersionFollowUp = (dataset: string, version: number) => Promise<unknown>;

/** Creates the per-record handler of the ingest function. */
export function createIngestRecordHandler(deps: IngestDeps, followUp: VersionFollowUp, logger: Logger, metrics: Metrics): (record: SQSRecord) => Promise<void> {
  return async (record) => {
    for (const object of createdObjects(record.body)) {
      const outcome = await ingestObject(deps, object);
      switch (outcome.kind) {
        case 'ingested':
          logger.info('dataset version recorded', { key: object.key, ...outcome });
          metrics.addMetric(outcome.status === 'READY' ? 'DatasetVersionsReady' : 'DatasetVersionsFailed', MetricUnit.Count, 1);
          await followUp(outcome.dataset, outcome.version);
          break;
        case 'duplicate':
          logger.info('duplicate delivery ignored', { key: object.key, ...outcome });
          metrics.addMetric('DuplicateDeliveries', MetricUnit.Count, 1);
          await followUp(outcome.dataset, outcome.version);
          break;
        case 'unchanged':
          logger.info('same bytes as the latest version: recorded on it as a duplicate drop, no new version', { key: object.key, ...outcome });
          metrics.addMetric('DuplicateDrops', MetricUnit.Count, 1);
          await followUp(outcome.dataset, outcome.version);
          break;
        case 'ignored':
          // Not a dataset file (folder placeholder, or outside any dataset): logged, not retried.
          logger.warn('object not ingested', { key: object.key, reason: outcome.reason });
          metrics.addMetric('ObjectsNotIngested', MetricUnit.Count, 1);
          break;
      }
    }
  };
}
