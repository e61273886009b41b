/**
 * The training queue: a message is a pointer to a job item (`{"jobId": …}`), never data,
 * so it stays far below SQS's 1 MiB and the job item stays the one source of truth.
 */
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import * as z from 'zod/mini';
import { callDependency } from '../aws/dependency-errors.js';
import { parseQueueMessage } from '../aws/queue-message.js';

/** Sends job messages. */
export interface JobQueue {
  send(jobId: string): Promise<void>;
}

/** The body of a job's message. */
export const jobMessageBody = (jobId: string): string => JSON.stringify({ jobId });

/** The training queue on SQS; its URL comes from the function's environment. */
export function sqsJobQueue(sqs: SQSClient, queueUrl: string | undefined): JobQueue {
  if (queueUrl === undefined) throw new Error('TRAINING_QUEUE_URL is not set: this function has no send access to the training queue');
  return {
    send: async (jobId) => {
      await callDependency('training queue', () => sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: jobMessageBody(jobId) })));
    },
  };
}

const messageSchema = z.object({ jobId: z.string().check(z.minLength(1), z.maxLength(512)) });

/** The job id of a message body; throws on anything else (the message then ends in the DLQ). */
export function parseJobMessage(body: string): string {
  return parseQueueMessage(body, messageSchema, 'training', 'has no jobId').jobId;
}
