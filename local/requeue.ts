/** Sending recovered work back to its queue once the previous holder's lease is over. */
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';

/** SQS's longest message delay. */
const MAX_DELAY_SECONDS = 900;

/** A message to send again, and in how long its previous holder's lease ends. */
export interface RecoveredMessage {
  readonly body: string;
  readonly takeoverInMs: number;
}

/** Sends each message to the queue, delayed until its takeover (at most SQS's 15 minutes). */
export async function requeueAfterLease(sqs: SQSClient, queueUrl: string, messages: readonly RecoveredMessage[]): Promise<void> {
  for (const { body, takeoverInMs } of messages) {
    await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body, DelaySeconds: Math.min(MAX_DELAY_SECONDS, Math.ceil(takeoverInMs / 1000)) }));
  }
}
