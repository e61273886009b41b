/**
 * A job's input pinned by its ETag: planning reads the object's ETag and size once, and every
 * later read is of that version (`readObjectVersion`), so a job never mixes two versions of its
 * input.
 */
import { HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { AsyncBuffer } from 'hyparquet';
import { callDependency } from '../aws/dependency-errors.js';
import { ObjectChangedError, readObjectVersion } from '../aws/object-version.js';
import { ConflictError, quote } from '../errors.js';
import type { PinnedObject } from './types.js';

/** The input changed after the job was planned: nothing more of it can be scored as planned. */
export class InputChangedError extends ConflictError {
  constructor(key: string, etag: string, now?: string) {
    super(`input ${quote(key)} changed after the job was planned (ETag ${etag} then${now === undefined ? '' : `, ${now} now`}); nothing more is scored`);
  }
}

/** The object at `key` as it is now: its ETag and size (S3's `NotFound` when there is none). */
export async function pinObject(s3: S3Client, bucket: string, key: string): Promise<PinnedObject> {
  const head = await callDependency('lake bucket', () => s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key })));
  return { key, etag: head.ETag ?? '', bytes: head.ContentLength ?? 0 };
}

/**
 * Bytes `[start, end)` of the pinned object (all of it without a range).
 *
 * @throws InputChangedError when the object is no longer the one pinned.
 */
export async function readPinned(s3: S3Client, bucket: string, object: PinnedObject, start?: number, end?: number): Promise<Uint8Array> {
  if (end !== undefined && start !== undefined && end <= start) return new Uint8Array();
  try {
    return await readObjectVersion(s3, bucket, 'lake bucket', object, start, end);
  } catch (error) {
    if (error instanceof ObjectChangedError) throw new InputChangedError(object.key, object.etag, error.now);
    throw error;
  }
}

/** The pinned object as hyparquet's file, every slice a pinned read. */
export function pinnedBuffer(s3: S3Client, bucket: string, object: PinnedObject): AsyncBuffer {
  return {
    byteLength: object.bytes,
    slice: async (start, end) => {
      const bytes = await readPinned(s3, bucket, object, start, end);
      return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
    },
  };
}
