/**
 * A message on the training queue that is not a job pointer (a poison message) is retried and
 * then dead-lettered, through the local cloud's SQS event source and the real train function.
 * The training queue's visibility timeout and receive count are shortened so redeliveries
 * happen within the test.
 */
import { GetQueueAttributesCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { topology } from '../../topology/topology.js';
import { startLocalCloud, type LocalCloud } from '../../local/cloud.js';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../local/emulators.js';

let cloud: LocalCloud;
let sqs: SQSClient;

const quickRetries = {
  ...topology,
  queues: topology.queues.map((q) => (q.id === 'training' ? { ...q, visibilityTimeoutSeconds: 1, maxReceiveCount: 2 } : q)),
};

beforeAll(async () => {
  cloud = await startLocalCloud({ stateDir: await mkdtemp(join(tmpdir(), 'training-dlq-')), port: 0, topology: quickRetries });
  sqs = new SQSClient({ region: LOCAL_REGION, endpoint: cloud.endpoints.sqs, credentials: LOCAL_CREDENTIALS });
});
afterAll(async () => {
  sqs?.destroy();
  await cloud?.stop();
});

const messagesIn = async (url: string) => {
  const result = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['ApproximateNumberOfMessages'] }));
  return Number(result.Attributes?.ApproximateNumberOfMessages ?? 0);
};

describe('a poison message on the training queue', () => {
  it.each([
    ['not JSON', 'please train something'],
    ['a job that does not exist', JSON.stringify({ jobId: 'ghost~20260101000000000-00000000' })],
  ])('(%s) ends in the dead-letter queue after its receives', async (_, body) => {
    // Prepare
    const { dlqUrl, url } = cloud.resources.queues.training;
    const before = await messagesIn(dlqUrl);

    // Act
    await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: body }));
    const deadline = Date.now() + 30_000;
    while ((await messagesIn(dlqUrl)) === before && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));

    // Assess
    expect(await messagesIn(dlqUrl)).toBe(before + 1);
  });
});
