/**
 * Reading an S3 object as of one version of it, named by its ETag: `If-Match` asks S3 for that
 * version (412 once the object was overwritten, 416 for a range it no longer has), and the ETag of
 * the answer is compared too (an emulator may ignore `If-Match`). Async uploads and batch inputs
 * are read so: a request or job never mixes in bytes put after it was accepted.
 */
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { callDependency } from './dependency-errors.js';

/** An object as of one version: its key and ETag. */
export interface ObjectVersion {
  readonly key: string;
  readonly etag: string;
}

/** The object is no longer the version read for: `now` is its ETag when the answer named one (not for a 412 or 416). */
export class ObjectChangedError extends Error {
  constructor(
    readonly object: ObjectVersion,
    readonly now?: string,
  ) {
    super(`object ${object.key} is no longer ETag ${object.etag}${now === undefined ? '' : ` (now ${now})`}`);
    this.name = 'ObjectChangedError';
  }
}

/** Whether S3 refused a read for its precondition (412) or its range (416): the object is not the version asked for. */
function refusedAsChanged(error: unknown): boolean {
  const { name, $metadata } = error as { name?: string; $metadata?: { httpStatusCode?: number } };
  return name === 'PreconditionFailed' || name === 'InvalidRange' || $metadata?.httpStatusCode === 412 || $metadata?.httpStatusCode === 416;
}

/**
 * The bytes of `object` as of its ETag (bytes `[start, end)` with a range), read from `bucket`
 * through `dependency` (its name in a transient failure's message).
 *
 * @throws ObjectChangedError when the object is no longer that version.
 */
export async function readObjectVersion(s3: S3Client, bucket: string, dependency: string, object: ObjectVersion, start?: number, end?: number): Promise<Uint8Array> {
  const range = start === undefined ? {} : { Range: `bytes=${start}-${end === undefined ? '' : end - 1}` };
  let read;
  try {
    read = await callDependency(dependency, () => s3.send(new GetObjectCommand({ Bucket: bucket, Key: object.key, IfMatch: object.etag, ...range })));
  } catch (error) {
    if (refusedAsChanged(error)) throw new ObjectChangedError(object);
    throw error;
  }
  const bytes = (await read.Body?.transformToByteArray()) ?? new Uint8Array();
  if (read.ETag !== undefined && read.ETag !== object.etag) throw new ObjectChangedError(object, read.ETag);
  return bytes;
}
