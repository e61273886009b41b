import type { S3Event, S3EventRecord } from 'aws-lambda';
import type { FunctionSpec } from '../infra/topology.js';
import type { Invoke } from './gateway.js';

/** How S3-triggered invocations are retried: Lambda's asynchronous invocation makes 2 retries. */
export interface AsyncRetryPolicy {
  readonly delaysMs: readonly number[];
}

/** Lambda's policy, with delays shortened for a laptop. */
export const DEFAULT_ASYNC_RETRY: AsyncRetryPolicy = { delaysMs: [1_000, 2_000] };

/** What the dispatcher reports about deliveries that failed for good. */
export type DeliveryFailure = (functionId: string, record: S3EventRecord, error: unknown) => void;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function decodeKey(key: string): string {
  // S3 notifications URL-encode keys, with '+' for spaces.
  try {
    return decodeURIComponent(key.replace(/\+/g, ' '));
  } catch {
    return key;
  }
}

/** Whether a function's bucket trigger matches an `ObjectCreated` record. */
export function triggers(spec: FunctionSpec, record: S3EventRecord): boolean {
  if (!record.eventName.startsWith('ObjectCreated')) return false;
  const key = decodeKey(record.s3.object.key);
  return spec.bucketTriggers.some((t) => key.startsWith(t.prefix) && (t.suffix === undefined || key.endsWith(t.suffix)));
}

/**
 * Delivers bucket notifications to the functions whose triggers match, one record
 * per event as S3 sends them, asynchronously with Lambda's retry semantics:
 * a failed invocation is retried after each delay, then reported as failed.
 * Resolves when every delivery has finished.
 */
export function createS3Dispatcher(
  functions: readonly FunctionSpec[],
  invoke: Invoke,
  onFailure: DeliveryFailure,
  retry: AsyncRetryPolicy = DEFAULT_ASYNC_RETRY,
): (event: S3Event) => Promise<void> {
  const deliver = async (functionId: string, record: S3EventRecord): Promise<void> => {
    const event: S3Event = { Records: [record] };
    for (let attempt = 0; ; attempt++) {
      try {
        await invoke(functionId, event);
        return;
      } catch (error) {
        const delay = retry.delaysMs[attempt];
        if (delay === undefined) {
          onFailure(functionId, record, error);
          return;
        }
        await sleep(delay);
      }
    }
  };
  return async (event) => {
    const deliveries = event.Records.flatMap((record) =>
      functions.filter((fn) => triggers(fn, record)).map((fn) => deliver(fn.id, record)),
    );
    await Promise.all(deliveries);
  };
}
