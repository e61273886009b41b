import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { lambdaContext } from '../../test/support/api-event.js';
import type { handler as ShadowHandler } from './handler.js';

// Faults the emulators cannot produce, injected under the real handler module.
const s3 = mockClient(S3Client);
let handler: typeof ShadowHandler;

const record = (messageId: string, body: unknown): SQSRecord =>
  ({ messageId, body: JSON.stringify(body), attributes: { ApproximateReceiveCount: '1' }, eventSource: 'aws:sqs' }) as unknown as SQSRecord;
const created = (key: string) => ({
  Records: [{ eventName: 'ObjectCreated:Put', s3: { bucket: { name: 'lake' }, object: { key, eTag: 'e', size: 1 } } }],
});

beforeAll(async () => {
  process.env['REGISTRY_TABLE'] = 'registry';
  process.env['LAKE_BUCKET'] = 'lake';
  process.env['AWS_REGION'] = 'us-east-1';
  process.env['MODEL_CACHE_DIR'] = await mkdtemp(join(tmpdir(), 'shadow-cache-'));
  process.env['POWERTOOLS_DEV'] = 'true';
  process.env['POWERTOOLS_LOG_LEVEL'] = 'CRITICAL';
  process.env['POWERTOOLS_METRICS_DISABLED'] = 'true';
  ({ handler } = await import('./handler.js'));
});
beforeEach(() => s3.reset());

describe('shadow handler', () => {
  it('reports a record whose object cannot be read for now as a batch item failure, and acknowledges the others', async () => {
    // Prepare
    s3.on(GetObjectCommand).rejects(Object.assign(new Error('slow down'), { name: 'SlowDown', $metadata: { httpStatusCode: 503 } }));
    const event: SQSEvent = {
      Records: [
        record('throttled', created('shadow-requests/iris/2026-11-24/2026-11-24T010203000Z-c-1.jsonl')),
        record('test-event', { Event: 's3:TestEvent' }),
        record('elsewhere', created('raw/iris/iris.csv')),
      ],
    };

    // Act
    const response = await handler(event, lambdaContext);

    // Assess
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: 'throttled' }] });
    expect(s3.commandCalls(GetObjectCommand)).toHaveLength(1);
  });
});
