import { DeleteMessageCommand, ReceiveMessageCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';

/**
 * Moves every message of a dead-letter queue back to its source queue, as SQS's DLQ redrive
 * (`StartMessageMoveTask`) does in AWS; the local SQS emulator has no such call. Each message
 * is sent before it is deleted, so a crash can duplicate a message but never lose one (the
 * consumers are idempotent). Returns how many messages were moved.
 */
export async function redriveDeadLetters(sqs: SQSClient, deadLetterQueueUrl: string, queueUrl: string): Promise<number> {
  let moved = 0;
  for (;;) {
    const { Messages: messages = [] } = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: deadLetterQueueUrl, MaxNumberOfMessages: 10, VisibilityTimeout: 30, WaitTimeSeconds: 0 }),
    );
    if (messages.length === 0) return moved;
    for (const message of messages) {
      await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: message.Body ?? '' }));
      await sqs.send(new DeleteMessageCommand({ QueueUrl: deadLetterQueueUrl, ReceiptHandle: message.ReceiptHandle }));
      moved += 1;
    }
  }
}
