import { describe, expect, it } from 'vitest';
import { createdObjects, decodeS3Key } from './s3-event.js';

/** One S3 notification record, as S3 writes it. */
const record = (key: string, options: { eventName?: string; versionId?: string; size?: number; eTag?: string } = {}) => ({
  eventVersion: '2.1',
  eventSource: 'aws:s3',
  awsRegion: 'eu-west-1',
  eventTime: '2024-05-01T12:00:00.000Z',
  eventName: options.eventName ?? 'ObjectCreated:Put',
  s3: {
    s3SchemaVersion: '1.0',
    configurationId: 'ingest',
    bucket: { name: 'lake-bucket', arn: 'arn:aws:s3:::lake-bucket' },
    object: {
      key,
      size: options.size ?? 12,
      eTag: options.eTag ?? 'etag-1',
      ...(options.versionId === undefined ? {} : { versionId: options.versionId }),
      sequencer: '0065',
    },
  },
});

const body = (...records: unknown[]) => JSON.stringify({ Records: records });

describe('createdObjects', () => {
  it('lists the created object with its bucket, key, ETag, sequencer and size', () => {
    // Act
    const objects = createdObjects(body(record('raw/sales/a.csv', { size: 1234, eTag: 'abc' })));
    // Assess
    expect(objects).toEqual([{ bucket: 'lake-bucket', key: 'raw/sales/a.csv', eTag: 'abc', sequencer: '0065', sizeBytes: 1234 }]);
  });

  it('decodes URL-encoded keys: + for spaces and percent-encoded unicode', () => {
    // Act
    const objects = createdObjects(body(record('raw/sales/M%C3%BCller+Q1+2024.csv'), record('raw/sales/a%2Bb%25.csv')));
    // Assess
    expect(objects.map((o) => o.key)).toEqual(['raw/sales/Müller Q1 2024.csv', 'raw/sales/a+b%.csv']);
  });

  it('keeps the version id when the bucket is versioned, and leaves it out otherwise', () => {
    // Act
    const [versioned, plain, blank] = createdObjects(body(record('raw/s/a.csv', { versionId: 'v-123' }), record('raw/s/b.csv'), record('raw/s/c.csv', { versionId: '' })));
    // Assess
    expect(versioned).toMatchObject({ key: 'raw/s/a.csv', versionId: 'v-123' });
    expect(plain).not.toHaveProperty('versionId');
    expect(blank).not.toHaveProperty('versionId');
  });

  it('lists only ObjectCreated records, of every kind', () => {
    // Act
    const objects = createdObjects(
      body(
        record('raw/s/put.csv'),
        record('raw/s/gone.csv', { eventName: 'ObjectRemoved:Delete' }),
        record('raw/s/multi.csv', { eventName: 'ObjectCreated:CompleteMultipartUpload' }),
        record('raw/s/restored.csv', { eventName: 'ObjectRestore:Completed' }),
        record('raw/s/copy.csv', { eventName: 'ObjectCreated:Copy' }),
      ),
    );
    // Assess
    expect(objects.map((o) => o.key)).toEqual(['raw/s/put.csv', 'raw/s/multi.csv', 'raw/s/copy.csv']);
  });

  it("announces nothing for S3's test event", () => {
    // Prepare
    const test = JSON.stringify({ Service: 'Amazon S3', Event: 's3:TestEvent', Time: '2024-05-01T12:00:00.000Z', Bucket: 'lake-bucket', RequestId: 'r', HostId: 'h' });
    // Act / Assess
    expect(createdObjects(test)).toEqual([]);
  });

  it('announces nothing for an event with no records', () => {
    // Act / Assess
    expect(createdObjects(body())).toEqual([]);
  });

  it('throws for a message that is not an S3 event', () => {
    // Act / Assess
    expect(() => createdObjects(JSON.stringify({ hello: 'world' }))).toThrowError('the message is not an S3 event notification (no Records)');
    expect(() => createdObjects(JSON.stringify({ Records: 'x' }))).toThrowError(/no Records/);
    expect(() => createdObjects('not json')).toThrowError(SyntaxError);
  });
});

describe('decodeS3Key', () => {
  it('decodes percent-encoding and plus signs', () => {
    // Act / Assess
    expect(decodeS3Key('raw/d/a+b%20c%C3%A9.csv')).toBe('raw/d/a b cé.csv');
    expect(decodeS3Key('raw/d/plain.csv')).toBe('raw/d/plain.csv');
  });

  it('takes a key that is not valid encoding as sent', () => {
    // Act / Assess
    expect(decodeS3Key('raw/d/100%+sure.csv')).toBe('raw/d/100%+sure.csv');
    expect(decodeS3Key('raw/d/%C3.csv')).toBe('raw/d/%C3.csv');
  });
});
