/**
 * The async inference queue: a message is a pointer to a request item (`{"requestId": …}`),
 * never its input, so it stays far below SQS's 1 MiB whatever the input's size.
 */
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import * as z from 'zod/mini';
import { callDependency } from '../aws/dependency-errors.js';
import { parseQueueMessage } from '../aws/queue-message.js';

/** The async queue on SQS: sends a request's message. */
export function sqsAsyncQueue(sqs: SQSClient, queueUrl: string): (requestId: string) => Promise<void> {
  return async (requestId) => {
    await callDependency('async inference queue', () => sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify({ requestId }) })));
  };
}

const messageSchema = z.object({ requestId: z.string().check(z.minLength(1), z.maxLength(64)) });

/** The request id of a message body; throws on anything else (the message then ends in the DLQ). */
export function parseAsyncMessage(body: string): string {
  return parseQueueMessage(body, messageSchema, 'async', 'has no requestId').requestId;
}
