import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it } from 'vitest';
import { DependencyUnavailableError } from '../errors.js';
import { parseJobMessage, sqsJobQueue } from './job-queue.js';

describe('job messages', () => {
  it('carry only the job id', async () => {
    // Prepare
    const sqs = new SQSClient({ region: 'us-east-1' });
    const mock = mockClient(sqs).on(SendMessageCommand).resolves({ MessageId: 'm1' });

    // Act
    await sqsJobQueue(sqs, 'https://sqs/q').send('churn~20261123000000000-0a1b2c3d');

    // Assess
    expect(mock.commandCalls(SendMessageCommand)[0]?.args[0].input).toEqual({ QueueUrl: 'https://sqs/q', MessageBody: '{"jobId":"churn~20261123000000000-0a1b2c3d"}' });
    expect(parseJobMessage('{"jobId":"churn~20261123000000000-0a1b2c3d"}')).toBe('churn~20261123000000000-0a1b2c3d');
  });

  it.each([
    ['not JSON', 'train please', /training message is not JSON/],
    ['without a job id', '{"job":"x"}', /training message has no jobId/],
    ['with an empty job id', '{"jobId":""}', /training message has no jobId/],
  ])('refuses a poison message %s, so it ends in the dead-letter queue', (_, body, message) => {
    expect(() => parseJobMessage(body)).toThrowError(message);
  });

  it('reports SQS throttling as 503', async () => {
    // Prepare
    const sqs = new SQSClient({ region: 'us-east-1' });
    mockClient(sqs).on(SendMessageCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } }));

    // Act
    const sending = sqsJobQueue(sqs, 'https://sqs/q').send('j');

    // Assess
    await expect(sending).rejects.toThrowError(DependencyUnavailableError);
  });

  it('needs the queue URL from the environment', () => {
    expect(() => sqsJobQueue(new SQSClient({ region: 'us-east-1' }), undefined)).toThrowError(/TRAINING_QUEUE_URL is not set/);
  });
});
