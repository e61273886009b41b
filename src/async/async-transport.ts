/**
 * What only async submission needs, kept out of the predict function's cold path: the SQS client
 * (and its queue) and the presigner. `container-async.ts` loads this module with a dynamic
 * `import()` at the first request that needs it; it imports no package the synchronous path uses
 * directly, so the bundler keeps tree-shaking those.
 */
import { SQSClient } from '@aws-sdk/client-sqs';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { sqsAsyncQueue } from './async-queue.js';

/** Sends request messages and signs S3 requests. */
export interface AsyncTransport {
  readonly queue: (requestId: string) => Promise<void>;
  /** A presigned URL for an S3 command (a PutObject or GetObject of the lake). */
  sign(client: S3Client, command: PutObjectCommand | GetObjectCommand, expiresInSeconds: number): Promise<string>;
}

/** The async queue at `queueUrl`, and the presigner. */
export function createAsyncTransport(queueUrl: string): AsyncTransport {
  // Two attempts, as every client of the platform (src/aws/clients.ts).
  const sqs = new SQSClient({ maxAttempts: 2 });
  return {
    queue: sqsAsyncQueue(sqs, queueUrl),
    sign: (client, command, expiresIn) => getSignedUrl(client, command, { expiresIn }),
  };
}
