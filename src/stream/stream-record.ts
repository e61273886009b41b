/**
 * The record format of scored streams: each Kinesis record's data is one JSON object
 * `{"id": "tx-1", "features": {"sepal_length": 5.1, …}}`; `features` is one KServe v1 instance
 * (named features, or an array for a model with one input). The routing key is the record's
 * partition key, so a key stays on one variant of a split alias.
 */
import * as z from 'zod/mini';
import { InvalidRequestError } from '../errors.js';
import { parseWith } from '../validation/strict-parse.js';

const recordSchema = z.object({
  /** The caller's id of the record, echoed in the output and events. */
  id: z.optional(z.union([z.string().check(z.minLength(1), z.maxLength(256)), z.number()])),
  features: z.union([z.record(z.string(), z.unknown()), z.array(z.unknown())], { error: 'required: one instance, an object of named features or an array' }),
});

/** A stream record, decoded. */
export interface StreamRecord {
  /** The record's id: its own `id`, or its sequence number. */
  readonly id: string;
  /** The partition key: the routing key of the alias. */
  readonly key: string;
  readonly sequenceNumber: string;
  /** One KServe v1 instance. */
  readonly features: unknown;
}

/** What a Kinesis record carries (the Lambda event's `kinesis` field). */
export interface KinesisData {
  readonly partitionKey: string;
  readonly sequenceNumber: string;
  /** Base64 of the record's bytes. */
  readonly data: string;
}

/**
 * Decodes a record's data.
 *
 * @throws InvalidRequestError naming the problem (not JSON, unknown field, no features).
 */
export function parseStreamRecord(kinesis: KinesisData): StreamRecord {
  const text = Buffer.from(kinesis.data, 'base64').toString('utf8');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new InvalidRequestError('stream record is not JSON: expected {"id": …, "features": {…}}');
  }
  const body = parseWith(recordSchema, json, 'stream record');
  return { id: body.id === undefined ? kinesis.sequenceNumber : String(body.id), key: kinesis.partitionKey, sequenceNumber: kinesis.sequenceNumber, features: body.features };
}
