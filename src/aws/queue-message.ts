/**
 * The body of a pointer message on one of the platform's queues: JSON, checked against its
 * schema. Anything else throws, so the message is retried and then dead-lettered.
 */
import * as z from 'zod/mini';

/**
 * The message `body` read as JSON and validated by `schema`; throws an error naming `queue` and
 * what the body lacks (`expected`, e.g. "has no jobId"), with the body's start, otherwise.
 */
export function parseQueueMessage<S extends z.ZodMiniType>(body: string, schema: S, queue: string, expected: string): z.infer<S> {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    throw new Error(`${queue} message is not JSON: ${body.slice(0, 200)}`);
  }
  const parsed = z.safeParse(schema, value);
  if (!parsed.success) throw new Error(`${queue} message ${expected}: ${body.slice(0, 200)}`);
  return parsed.data;
}
