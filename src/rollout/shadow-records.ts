/**
 * The shadow function's work per SQS record: each record carries one S3 event notification; each
 * `shadow-requests/` object it announces is compared (shadow-worker.ts). A record whose objects
 * fail for a transient reason is reported as a batch item failure, so SQS redelivers it and,
 * after the queue's last receive, moves it to the dead-letter queue.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import { MetricUnit, type Metrics } from '@aws-lambda-powertools/metrics';
import type { SQSRecord } from 'aws-lambda';
import { createdObjects } from '../aws/s3-event.js';
import { processShadowObject, type ShadowWorkerDeps } from './shadow-worker.js';

/** Creates the per-record handler of the shadow function. */
export function createShadowRecordHandler(deps: ShadowWorkerDeps, logger: Logger, metrics: Metrics): (record: SQSRecord) => Promise<void> {
  return async (record) => {
    for (const { bucket, key } of createdObjects(record.body)) {
      const outcome = await processShadowObject(deps, bucket, key);
      if (outcome.kind === 'ignored') {
        logger.warn('object not compared', { key, reason: outcome.reason });
        continue;
      }
      const { skipped, ...counts } = outcome;
      for (const line of skipped) logger.warn('malformed shadow copy skipped', { key, ...line });
      logger.info('shadow copies compared', { key, ...counts, skipped: skipped.length });
      metrics.addMetric('ShadowCopies', MetricUnit.Count, outcome.copies);
      metrics.addMetric('ShadowErrors', MetricUnit.Count, outcome.shadowErrors);
      metrics.addMetric('ShadowLinesSkipped', MetricUnit.Count, skipped.length);
      if (outcome.alreadyCounted > 0) metrics.addMetric('DuplicateDeliveries', MetricUnit.Count, 1);
    }
  };
}
