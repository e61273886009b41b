/**
 * Objects announced by an S3 event notification, as S3 writes it into an SQS message body.
 */
import type { S3Event, S3EventRecord } from 'aws-lambda';

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

/** S3's URL encoding of a key in a notification ('+' for spaces), which `decodeS3Key` undoes. */
const encodeS3Key = (key: string): string => encodeURIComponent(key).replaceAll('%20', '+').replaceAll('%2F', '/');

/**
 * The body of an SQS message announcing `object` as created, as S3 writes it: what a queue
 * consumer receives for an upload. For a re-announcement (recovery of a lost message).
 */
export function objectCreatedMessageBody(object: CreatedObject, region: string, at: Date): string {
  const record: S3EventRecord = {
    eventVersion: '2.1',
    eventSource: 'aws:s3',
    awsRegion: region,
    eventTime: at.toISOString(),
    eventName: 'ObjectCreated:Put',
    userIdentity: { principalId: 'local' },
    requestParameters: { sourceIPAddress: '127.0.0.1' },
    responseElements: { 'x-amz-request-id': 'local', 'x-amz-id-2': 'local' },
    s3: {
      s3SchemaVersion: '1.0',
      configurationId: 'recovery',
      bucket: { name: object.bucket, ownerIdentity: { principalId: 'local' }, arn: `arn:aws:s3:::${object.bucket}` },
      object: {
        key: encodeS3Key(object.key),
        size: object.sizeBytes,
        eTag: object.eTag,
        sequencer: object.sequencer ?? '',
        ...(object.versionId === undefined ? {} : { versionId: object.versionId }),
      },
    },
  };
  return JSON.stringify({ Records: [record] } satisfies S3Event);
}
