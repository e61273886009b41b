/**
 * Comparison counters of shadow traffic in the registry table: one item per model alias, minute
 * and (primary, shadow) version pair, so any time range is summed from a handful of items.
 *
 * | item              | pk                       | sk                                                 |
 * | ----------------- | ------------------------ | -------------------------------------------------- |
 * | minute of counts  | `SHADOW#<model>#<alias>` | `<yyyy-mm-ddThh:mmZ>#<10-digit primary>#<10-digit shadow>` |
 *
 * Attributes: `copies`, `shadowErrors`, `categoricalCompared`, `agreed`, `numericCompared`,
 * `absDiffSum` (see {@link ComparisonCounts}), `sources` (the string set of the `shadow-requests/`
 * objects already counted, which makes adding idempotent) and `expiresAt` (epoch seconds,
 * {@link RETENTION_DAYS} after the minute: the table's TTL attribute).
 */
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { createHash } from 'node:crypto';
import { isConditionFailure, type RegistryTable } from '../storage/table.js';
import { SHADOW_COUNTERS, SHADOW_PK_PREFIX } from '../../topology/storage-layout.js';
import type { ComparisonCounts } from './shadow-compare.js';

/** How long counters are kept (DynamoDB TTL removes them afterwards). */
export const RETENTION_DAYS = 30;

/** Counters of one group of copies. */
export interface ShadowCounters extends ComparisonCounts {
  /** Copies the shadow version was asked to answer. */
  readonly copies: number;
  /** Of those, how many it failed to answer (not compared). */
  readonly shadowErrors: number;
}

/** Which counters item a group of copies adds to. */
export interface ShadowGroup {
  readonly model: string;
  readonly alias: string;
  /** Any instant of the minute (the time the primary answered). */
  readonly at: Date;
  readonly primaryVersion: number;
  readonly shadowVersion: number;
}

/** One (primary, shadow) version pair over a time range. */
export interface ShadowSummary {
  readonly primaryVersion: number;
  readonly shadowVersion: number;
  readonly copies: number;
  readonly shadowErrors: number;
  /** Share of the primary's labels the shadow reproduced; `null` when no label was compared. */
  readonly agreementRate: number | null;
  /** Mean absolute difference of the numeric outputs; `null` when none was compared. */
  readonly meanAbsDiff: number | null;
  readonly categoricalCompared: number;
  readonly numericCompared: number;
  /** First and last minutes with copies (`yyyy-mm-ddThh:mmZ`). */
  readonly firstMinute: string;
  readonly lastMinute: string;
}

/** The minute of an instant, as it appears in sort keys: `2026-11-24T01:02Z`. */
export function minuteOf(at: Date): string {
  return `${at.toISOString().slice(0, 16)}Z`;
}

const pkOf = (model: string, alias: string): string => `${SHADOW_PK_PREFIX}${model}#${alias}`;
const pad = (version: number): string => String(version).padStart(10, '0');

type Counter = (typeof SHADOW_COUNTERS)[number];
type StoredCounters = Record<Counter, number> & { minute: string; primaryVersion: number; shadowVersion: number };
/** What a summary reads of each item: everything but `sources`, the bulk of it. */
const PROJECTED = ['minute', 'primaryVersion', 'shadowVersion', ...SHADOW_COUNTERS] as const;

/** Shadow comparison counters, in the registry table. */
export class ShadowComparisons {
  private readonly table: RegistryTable;

  constructor(table: RegistryTable) {
    this.table = table.named('shadow comparisons');
  }

  /**
   * Adds a group's counters on behalf of `source` (the `shadow-requests/` object they were
   * computed from): a single conditional update, so a redelivered object is counted once.
   *
   * @returns false when `source` was already counted in this item (nothing changed).
   */
  async add(group: ShadowGroup, counters: ShadowCounters, source: string): Promise<boolean> {
    // 16 hex digits of the key's hash keep the set small (thousands of sources fit in an item).
    const sourceId = createHash('sha256').update(source).digest('hex').slice(0, 16);
    const minute = minuteOf(group.at);
    const expiresAt = Math.floor(group.at.getTime() / 60_000) * 60 + RETENTION_DAYS * 86_400;
    try {
      await this.table.send(() =>
        this.table.db.send(
          new UpdateCommand({
            TableName: this.table.tableName,
            Key: { pk: pkOf(group.model, group.alias), sk: `${minute}#${pad(group.primaryVersion)}#${pad(group.shadowVersion)}` },
            UpdateExpression: `SET #type = :type, #minute = :minute, #primary = :primary, #shadow = :shadow, #expiresAt = :expiresAt ADD ${SHADOW_COUNTERS.map((c) => `#${c} :${c}`).join(', ')}, #sources :sources`,
            ConditionExpression: 'NOT contains(#sources, :source)',
            ExpressionAttributeNames: {
              '#type': 'type',
              '#minute': 'minute',
              '#primary': 'primaryVersion',
              '#shadow': 'shadowVersion',
              '#expiresAt': 'expiresAt',
              '#sources': 'sources',
              ...Object.fromEntries(SHADOW_COUNTERS.map((c) => [`#${c}`, c])),
            },
            ExpressionAttributeValues: {
              ':type': 'SHADOW_COMPARISON',
              ':minute': minute,
              ':primary': group.primaryVersion,
              ':shadow': group.shadowVersion,
              ':expiresAt': expiresAt,
              ':sources': new Set([sourceId]),
              ':source': sourceId,
              ...Object.fromEntries(SHADOW_COUNTERS.map((c) => [`:${c}`, counters[c]])),
            },
          }),
        ),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  /** Counters per (primary, shadow) version pair over the minutes from `since`'s on, ordered by pair. */
  async summary(model: string, alias: string, since: Date): Promise<ShadowSummary[]> {
    const pairs = new Map<string, { first: StoredCounters; last: StoredCounters; sums: Record<Counter, number> }>();
    const items = await this.table.queryAll({
      KeyConditionExpression: 'pk = :pk AND sk >= :from',
      ExpressionAttributeValues: { ':pk': pkOf(model, alias), ':from': minuteOf(since) },
      ProjectionExpression: PROJECTED.map((a) => `#${a}`).join(', '),
      ExpressionAttributeNames: Object.fromEntries(PROJECTED.map((a) => [`#${a}`, a])),
    });
    for (const item of items as unknown as StoredCounters[]) {
      const key = `${pad(item.primaryVersion)}#${pad(item.shadowVersion)}`;
      const pair = pairs.get(key);
      // Items come in minute order: the first seen of a pair is its first minute.
      if (pair === undefined) pairs.set(key, { first: item, last: item, sums: { ...item } });
      else {
        pair.last = item;
        for (const c of SHADOW_COUNTERS) pair.sums[c] += item[c];
      }
    }

    return [...pairs.keys()].sort().map((key) => {
      const { first, last, sums } = pairs.get(key)!;
      return {
        primaryVersion: first.primaryVersion,
        shadowVersion: first.shadowVersion,
        copies: sums.copies,
        shadowErrors: sums.shadowErrors,
        agreementRate: sums.categoricalCompared === 0 ? null : sums.agreed / sums.categoricalCompared,
        meanAbsDiff: sums.numericCompared === 0 ? null : sums.absDiffSum / sums.numericCompared,
        categoricalCompared: sums.categoricalCompared,
        numericCompared: sums.numericCompared,
        firstMinute: first.minute,
        lastMinute: last.minute,
      };
    });
  }
}
