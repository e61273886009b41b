import { GetObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it } from 'vitest';
import { InputChangedError, readPinned } from './pinned-object.js';

const object = { key: 'raw/d/in.csv', etag: '"abc"', bytes: 100 };

/** What S3 answers a read whose `If-Match` no longer holds (the emulator ignores `If-Match`). */
const preconditionFailed = () => new S3ServiceException({ name: 'PreconditionFailed', $fault: 'client', $metadata: { httpStatusCode: 412 }, message: 'At least one of the pre-conditions you specified did not hold' });

describe('readPinned', () => {
  it('asks S3 for the pinned ETag and range, and takes S3\'s 412 as a changed input', async () => {
    // Prepare
    const s3 = new S3Client({ region: 'us-east-1' });
    const mock = mockClient(s3).on(GetObjectCommand).rejects(preconditionFailed());

    // Act
    const read = readPinned(s3, 'lake', object, 10, 20);

    // Assess
    await expect(read).rejects.toThrow(new InputChangedError('raw/d/in.csv', '"abc"'));
    await expect(read).rejects.toThrow(`input 'raw/d/in.csv' changed after the job was planned (ETag "abc" then); nothing more is scored`);
    expect(mock.commandCalls(GetObjectCommand)[0]?.args[0].input).toEqual({ Bucket: 'lake', Key: 'raw/d/in.csv', IfMatch: '"abc"', Range: 'bytes=10-19' });
  });
});
