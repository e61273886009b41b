/**
 * Scores one Lambda batch of a stream through the one inference path (`Serving.predict`):
 * records are decoded and grouped by the version their partition key (the sticky routing key)
 * is routed to, and each group is one model call: a batch is one call unless the alias splits
 * its traffic. A group the model refuses is scored record by record, so a bad record is rejected
 * alone (kept in the output with its reason) and never blocks the shard. A failure the caller
 * cannot fix (a dependency, a model that cannot answer) stops the batch at its first failed
 * record: Lambda resumes the shard from there (`batchItemFailures`), and only the records before
 * it are written, so a retry never duplicates a row.
 */
import { isRefusal } from '../errors.js';
import type { ModelResolver } from '../inference/resolver.js';
import type { Serving } from '../inference/serving.js';
import { assertModelName, parseVersionSelector } from '../registry/names.js';
import type { StreamScoringSpec } from '../../topology/spec.js';
import { parseStreamRecord, type KinesisData, type StreamRecord } from './stream-record.js';
import { crossing } from './threshold.js';

/** One line of a micro-batch: a scored record, or a rejected one with its reason. */
export type ScoredLine =
  | { readonly id: string; readonly key: string; readonly sequenceNumber: string; readonly model: string; readonly version: string; readonly prediction: unknown; readonly score?: number }
  | { readonly id: string; readonly key: string; readonly sequenceNumber: string; readonly error: string };

/** What scoring a batch produced. */
export interface ScoredBatch {
  /** Lines of the records before the first failed one, in the batch's order. */
  readonly lines: readonly ScoredLine[];
  /** Sequence number of the first record that failed (Lambda retries from it), if any. */
  readonly failedAt?: string;
}

type Entry = { readonly data: KinesisData; readonly record?: StreamRecord; readonly error?: string };

/** A fresh record, decoded or rejected with its reason. */
function decode(data: KinesisData): Entry {
  try {
    return { data, record: parseStreamRecord(data) };
  } catch (error) {
    if (!isRefusal(error)) throw error;
    return { data, error: error.message };
  }
}

/** Names the variant (version) of the alias a routing key is served by; keys of one variant share a model call. */
export type VariantOf = (key: string) => Promise<string>;

/**
 * The variant of a key as the resolver routes it (its per-container cache answers). A key whose
 * routing cannot be read forms its own group: serving it then reports the reason.
 */
export function routedVariant(resolver: Pick<ModelResolver, 'resolve'>, scoring: StreamScoringSpec): VariantOf {
  const selector = parseVersionSelector(scoring.alias);
  return async (key) => {
    try {
      return `v${(await resolver.resolve(assertModelName(scoring.model), selector, key)).version.version}`;
    } catch {
      return `key:${key}`;
    }
  };
}

/** Scores a batch's records (in shard order) with the stream's model and alias; keys are grouped by `variantOf`. */
export async function scoreBatch(serving: Pick<Serving, 'predict'>, scoring: StreamScoringSpec, batch: readonly KinesisData[], variantOf: VariantOf): Promise<ScoredBatch> {
  const entries = batch.map(decode);
  const lines = new Map<number, ScoredLine>();
  const failed: number[] = [];
  const groups = new Map<string, number[]>();
  const variants = new Map<string, Promise<string>>();
  for (const [i, entry] of entries.entries()) {
    if (entry.record === undefined) {
      lines.set(i, { id: entry.data.sequenceNumber, key: entry.data.partitionKey, sequenceNumber: entry.data.sequenceNumber, error: entry.error! });
      continue;
    }
    const { key } = entry.record;
    if (!variants.has(key)) variants.set(key, variantOf(key));
    const variant = await variants.get(key)!;
    groups.set(variant, [...(groups.get(variant) ?? []), i]);
  }

  const score = async (indexes: readonly number[]): Promise<void> => {
    const records = indexes.map((i) => entries[i]!.record!);
    try {
      const { model, body } = await serving.predict(
        { model: scoring.model, version: scoring.alias, routingKey: records[0]!.key, requestId: records[0]!.sequenceNumber },
        { instances: records.map((r) => r.features) },
      );
      records.forEach((r, j) => {
        const prediction = body.predictions[j];
        const crossed = scoring.threshold === undefined ? undefined : crossing(prediction, scoring.threshold);
        lines.set(indexes[j]!, { id: r.id, key: r.key, sequenceNumber: r.sequenceNumber, model: model.version.model, version: String(model.version.version), prediction, ...(crossed === undefined ? {} : { score: crossed }) });
      });
    } catch (error) {
      if (!isRefusal(error)) {
        failed.push(...indexes);
        return;
      }
      // Refused: one record of the group is at fault, or all are. Each alone says which.
      if (indexes.length > 1) {
        for (const i of indexes) await score([i]);
        return;
      }
      const r = records[0]!;
      lines.set(indexes[0]!, { id: r.id, key: r.key, sequenceNumber: r.sequenceNumber, error: error.message });
    }
  };
  for (const indexes of groups.values()) await score(indexes);

  const firstFailed = failed.length === 0 ? entries.length : Math.min(...failed);
  const kept = [...lines.entries()].filter(([i]) => i < firstFailed).sort(([a], [b]) => a - b).map(([, line]) => line);
  return firstFailed === entries.length ? { lines: kept } : { lines: kept, failedAt: entries[firstFailed]!.data.sequenceNumber };
}

/**
 * The lake key of a batch's micro-batch: the shard and its first and last sequence numbers, so a
 * retried batch rewrites its object rather than adding one.
 */
export function microBatchKey(model: string, shardId: string, first: string, last: string): string {
  return `predictions/stream/${model}/shard=${shardId}/${first}-${last}.jsonl`;
}

/** A micro-batch's body: JSON Lines. */
export const microBatchBody = (lines: readonly ScoredLine[]): string => lines.map((line) => JSON.stringify(line)).join('\n') + (lines.length > 0 ? '\n' : '');
