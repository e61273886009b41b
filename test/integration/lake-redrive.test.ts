/**
 * An ingest event that keeps failing lands in the dead-letter queue with its reason recorded on
 * the dataset version, and a redrive finishes it once the cause is gone. The ingest queue's
 * visibility timeout and receive count are shortened so redeliveries happen within the test.
 */
import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { topology } from '../../topology/topology.js';
import { startLocalCloud, type LocalCloud } from '../../local/cloud.js';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../local/emulators.js';
import { redriveDeadLetters } from '../../local/redrive.js';
import type { DatasetVersion } from '../../src/lake/types.js';
import { lakeApi } from '../support/lake-api.js';

let cloud: LocalCloud;
let lake: ReturnType<typeof lakeApi>;
let sqs: SQSClient;
let stateDir: string;

const quickRetries = {
  ...topology,
  queues: topology.queues.map((q) => (q.id === 'ingest' ? { ...q, visibilityTimeoutSeconds: 1, maxReceiveCount: 2 } : q)),
};

beforeAll(async () => {
  stateDir = await mkdtemp(join(tmpdir(), 'lake-redrive-'));
  cloud = await startLocalCloud({ stateDir, port: 0, topology: quickRetries });
  lake = lakeApi(cloud);
  sqs = new SQSClient({ region: LOCAL_REGION, endpoint: cloud.endpoints.sqs, credentials: LOCAL_CREDENTIALS });
});
afterAll(async () => {
  sqs?.destroy();
  lake?.s3.destroy();
  await cloud?.stop();
});

async function poll<T>(read: () => Promise<T>, done: (value: T) => boolean, what: string): Promise<T> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const deadLetters = async () => {
  const result = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: cloud.resources.queues.ingest.dlqUrl, AttributeNames: ['ApproximateNumberOfMessages'] }));
  return Number(result.Attributes?.ApproximateNumberOfMessages ?? 0);
};

describe('an ingest event that keeps failing', () => {
  it('is dead-lettered with the reason on its version, and a redrive finishes it', async () => {
    // Prepare: the ingest function's scratch space is unusable (a file where its folder should be).
    const scratch = join(stateDir, 'tmp', 'ingest', 'scratch');
    await mkdir(join(stateDir, 'tmp', 'ingest'), { recursive: true });
    await writeFile(scratch, 'not a folder');

    // Act: the drop fails on every delivery and ends in the dead-letter queue.
    await lake.drop('raw/flaky/data.csv', 'a,b\n1,2\n');
    await poll(deadLetters, (n) => n === 1, 'the dead-lettered event');
    const failing = await poll(
      async () => (await lake.versions('flaky'))[0],
      (v): v is DatasetVersion => v?.attempts === 2 && v.status === 'RETRYING',
      'the second failed attempt',
    );
    await rm(scratch);
    const moved = await redriveDeadLetters(sqs, cloud.resources.queues.ingest.dlqUrl, cloud.resources.queues.ingest.url);
    const [finished] = await lake.finishedVersions('flaky');

    // Assess
    expect(failing?.lastError).toMatch(/^attempt 2 failed: EEXIST/);
    expect(moved).toBe(1);
    expect(finished).toMatchObject({ version: 1, status: 'READY', attempts: 3, rowsAccepted: 1 });
    expect(finished?.lastError).toBeUndefined();
    expect(await deadLetters()).toBe(0);
    expect(await lake.versions('flaky')).toHaveLength(1);
  });
});
