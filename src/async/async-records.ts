/**
 * The async worker's work per SQS record: a message points at one request (`{"requestId": …}`).
 * A transient failure, or the last receive's failure, is reported as a batch item failure, so
 * SQS redelivers the message or, after the queue's last receive, moves it to the dead-letter queue.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import { MetricUnit, type Metrics } from '@aws-lambda-powertools/metrics';
import type { SQSRecord } from 'aws-lambda';
import { parseAsyncMessage } from './async-queue.js';
import { runAsyncRequest, type RunAsyncDeps } from './run-async-request.js';

const OUTCOME_METRICS = {
  succeeded: 'AsyncRequestsSucceeded',
  failed: 'AsyncRequestsFailed',
  duplicate: 'DuplicateDeliveries',
  retry: 'AsyncAttemptsRetried',
} as const;

/** The per-record handler of the async worker. */
export function createAsyncRecordHandler(deps: RunAsyncDeps, logger: Logger, metrics: Metrics): (record: SQSRecord) => Promise<void> {
  return async (record) => {
    const requestId = parseAsyncMessage(record.body);
    const outcome = await runAsyncRequest(deps, requestId, Number(record.attributes.ApproximateReceiveCount) || 1);
    metrics.addMetric(OUTCOME_METRICS[outcome.kind], MetricUnit.Count, 1);
    if (outcome.kind === 'retry') {
      logger.warn('async attempt failed; the message will be retried', { requestId, error: outcome.error.message });
      throw outcome.error;
    }
    if (outcome.kind === 'failed' && outcome.deadLetter) {
      logger.error('async request failed at its last receive; the message goes to the dead-letter queue', { requestId, reason: outcome.reason });
      throw new Error(`async request ${requestId} failed: ${outcome.reason}`);
    }
    logger.info('async request handled', { requestId, ...outcome });
  };
}
