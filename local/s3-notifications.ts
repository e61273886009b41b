import type { S3Event, S3EventRecord } from 'aws-lambda';
import type { LakeNotificationSpec, QueueId, QueueSpec } from '../topology/spec.js';
import { decodeS3Key } from '../src/aws/s3-event.js';

/** How a failed notification is retried: S3 retries delivery to its destinations. */
export interface DeliveryRetryPolicy {
  readonly delaysMs: readonly number[];
}

/** Two retries, with delays short enough for a laptop. */
export const DEFAULT_DELIVERY_RETRY: DeliveryRetryPolicy = { delaysMs: [1_000, 2_000] };

/** Sends a message body to a queue. */
export type SendToQueue = (queueId: QueueId, body: string) => Promise<void>;

/** What the dispatcher reports about deliveries that failed for good. */
export type DeliveryFailure = (queueId: QueueId, record: S3EventRecord, error: unknown) => void;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Whether a lake notification matches an S3 record: an `ObjectCreated` event whose decoded key has the prefix and suffix. */
export function matches(notifications: readonly LakeNotificationSpec[], record: S3EventRecord): boolean {
  if (!record.eventName.startsWith('ObjectCreated')) return false;
  const key = decodeS3Key(record.s3.object.key);
  return notifications.some((n) => key.startsWith(n.prefix) && (n.suffix === undefined || key.endsWith(n.suffix)));
}

/**
 * Sends bucket notifications to the queues whose lake notifications match, one record per
 * message as S3 sends them (the body is the S3 event JSON). A failed send is retried after
 * each delay, then reported. Resolves when every delivery has finished.
 */
export function createS3Dispatcher(
  queues: readonly QueueSpec[],
  send: SendToQueue,
  onFailure: DeliveryFailure,
  retry: DeliveryRetryPolicy = DEFAULT_DELIVERY_RETRY,
): (event: S3Event) => Promise<void> {
  const deliver = async (queueId: QueueId, record: S3EventRecord): Promise<void> => {
    const body = JSON.stringify({ Records: [record] } satisfies S3Event);
    for (let attempt = 0; ; attempt++) {
      try {
        await send(queueId, body);
        return;
      } catch (error) {
        const delay = retry.delaysMs[attempt];
        if (delay === undefined) {
          onFailure(queueId, record, error);
          return;
        }
        await sleep(delay);
      }
    }
  };
  return async (event) => {
    const deliveries = event.Records.flatMap((record) =>
      queues.filter((queue) => matches(queue.lakeNotifications ?? [], record)).map((queue) => deliver(queue.id, record)),
    );
    await Promise.all(deliveries);
  };
}
