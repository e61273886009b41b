/**
 * Lake keys of async inference (`predictions/async/…`, topology/storage-layout.ts) and the
 * references callers use for uploaded inputs.
 */
import { ASYNC_PREFIX } from '../../topology/storage-layout.js';

const ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Whether `id` can name an async request or upload (a UUID, as the platform makes them). */
export const isAsyncId = (id: string): boolean => ID.test(id);

/** Where an inline input is kept. */
export const inputKey = (id: string): string => `${ASYNC_PREFIX}inputs/${id}`;

/** Where an uploaded input goes (the key its presigned URL is signed for). */
export const uploadKey = (id: string): string => `${ASYNC_PREFIX}uploads/${id}`;

/** Where a request's result goes. */
export const resultKey = (id: string): string => `${ASYNC_PREFIX}results/${id}`;

/** The reference a caller names an uploaded input by: `s3://<lake>/predictions/async/uploads/<id>` (as SageMaker's InputLocation). */
export const inputRefOf = (bucket: string, id: string): string => `s3://${bucket}/${uploadKey(id)}`;

/** The upload id of a reference to this lake's upload prefix; `undefined` for any other reference. */
export function uploadIdOf(bucket: string, ref: string): string | undefined {
  const prefix = `s3://${bucket}/${ASYNC_PREFIX}uploads/`;
  if (!ref.startsWith(prefix)) return undefined;
  const id = ref.slice(prefix.length);
  return isAsyncId(id) ? id : undefined;
}
