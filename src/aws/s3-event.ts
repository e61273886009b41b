/**
 * Objects announced by an S3 event notification, as S3 writes it into an SQS message body.
 */
import type { S3Event } from 'aws-lambda';

/** An object S3 announced as created. */
export interface CreatedObject {
  readonly bucket: string;
  readonly key: string;
  readonly eTag: string;
  readonly versionId?: string;
  /** S3's event sequencer: tells two uploads of the same bytes to one key of an unversioned bucket apart. */
  readonly sequencer?: string;
  readonly sizeBytes: number;
}

/** S3 URL-encodes keys in notifications, with '+' for spaces; a key that is not valid encoding is taken as sent. */
export function decodeS3Key(key: string): string {
  try {
    return decodeURIComponent(key.replace(/\+/g, ' '));
  } catch {
    return key;
  }
}

/**
 * The created objects an SQS message body announces. S3's `s3:TestEvent` (sent when a
 * notification is configured) announces none.
 *
 * @throws Error when the body is not an S3 event.
 */
export function createdObjects(body: string): CreatedObject[] {
  const event = JSON.parse(body) as Partial<S3Event> & { Event?: string };
  if (event.Event === 's3:TestEvent') return [];
  if (!Array.isArray(event.Records)) throw new Error('the message is not an S3 event notification (no Records)');
  return event.Records.filter((r) => r.eventName.startsWith('ObjectCreated')).map((r) => ({
    bucket: r.s3.bucket.name,
    key: decodeS3Key(r.s3.object.key),
    eTag: r.s3.object.eTag,
    ...(r.s3.object.versionId ? { versionId: r.s3.object.versionId } : {}),
    ...(r.s3.object.sequencer ? { sequencer: String(r.s3.object.sequencer) } : {}),
    sizeBytes: r.s3.object.size,
  }));
}
