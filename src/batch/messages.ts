/**
 * The batch queues' messages, pointers only (never rows): `{"jobId"}` on the `batch` queue asks
 * for a job to be planned; `{"jobId", "chunk"}` on the `scoring` queue asks for one chunk to be
 * scored (its row or byte range, a few numbers).
 */
import { SendMessageBatchCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import * as z from 'zod/mini';
import { callDependency } from '../aws/dependency-errors.js';
import type { BatchChunk } from './types.js';
import { parseQueueMessage } from '../aws/queue-message.js';

/** A chunk to score. */
export interface ChunkMessage {
  readonly jobId: string;
  readonly chunk: BatchChunk;
}

/** Sends batch messages. */
export interface BatchQueues {
  /** Asks for a job to be planned. */
  plan(jobId: string): Promise<void>;
  /** Hands chunks to the scoring workers, ten per SQS call. */
  score(messages: readonly ChunkMessage[]): Promise<void>;
}

/** The batch queues on SQS; `urls` names the ones this function sends to. */
export function sqsBatchQueues(sqs: SQSClient, urls: { readonly batch?: string; readonly scoring?: string }): BatchQueues {
  const need = (queue: 'batch' | 'scoring') => {
    const url = urls[queue];
    if (url === undefined) throw new Error(`this function has no send access to the ${queue} queue`);
    return url;
  };
  return {
    plan: async (jobId) => {
      await callDependency('batch queue', () => sqs.send(new SendMessageCommand({ QueueUrl: need('batch'), MessageBody: JSON.stringify({ jobId }) })));
    },
    score: async (messages) => {
      for (let i = 0; i < messages.length; i += 10) {
        const entries = messages.slice(i, i + 10).map((message) => ({ Id: String(message.chunk.index), MessageBody: JSON.stringify(message) }));
        const result = await callDependency('scoring queue', () => sqs.send(new SendMessageBatchCommand({ QueueUrl: need('scoring'), Entries: entries })));
        if ((result.Failed ?? []).length > 0) throw new Error(`the scoring queue refused ${result.Failed!.length} chunk message(s): ${result.Failed![0]!.Message ?? result.Failed![0]!.Code}`);
      }
    },
  };
}

const count = z.number().check(z.int(), z.nonnegative());
const chunkSchema = z.object({ jobId: z.string().check(z.minLength(1)), chunk: z.object({ index: count, firstRow: count, rows: count, start: count, end: count }) });

/** The job id of a plan message, or undefined when the body is not one (an S3 event). */
export function planMessageJobId(body: unknown): string | undefined {
  const parsed = z.safeParse(z.object({ jobId: z.string().check(z.minLength(1)) }), body);
  return parsed.success ? parsed.data.jobId : undefined;
}

/** A chunk message; throws on anything else (the message then ends in the DLQ). */
export function parseChunkMessage(body: string): ChunkMessage {
  return parseQueueMessage(body, chunkSchema, 'scoring', 'is not a chunk pointer');
}
