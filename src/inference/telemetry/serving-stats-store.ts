/**
 * Serving counters in the registry table, one item per model version, alias and time bucket:
 *
 * | item            | pk                                  | sk                                     |
 * | --------------- | ----------------------------------- | -------------------------------------- |
 * | counter bucket  | `STATS#<model>#<version>#<alias>`   | bucket start, epoch seconds, 10 digits |
 *
 * (`<alias>` is empty for requests that named the version.) Rollout guards read the traffic the
 * rolled-out alias sent to a version, not what other aliases or direct calls did with it.
 *
 * Attributes: `requests`, `rejected`, `failed`, `fallbacks`, `l<i>` (requests in latency bucket i), `flushes`
 * (the ids of the flushes already added) and `expiresAt` (DynamoDB TTL). Counters have their own
 * partitions, so the predict function may be allowed to write them (IAM `dynamodb:LeadingKeys`
 * `STATS#*`) and nothing else, and a busy version never heats its model's partition.
 */
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { isConditionFailure, type RegistryTable } from '../../storage/table.js';
import { LATENCY_BUCKETS, STATS_PK_PREFIX } from '../../../topology/storage-layout.js';
import { addStats, EMPTY_STATS, STATS_BUCKET_SECONDS, type VersionStats } from './serving-stats.js';

/** How long counter buckets are kept. */
export const STATS_RETENTION_DAYS = 30;

const statsPk = (model: string, version: number, alias: string | undefined): string => `${STATS_PK_PREFIX}${model}#${version}#${alias ?? ''}`;
const bucketSk = (bucketStart: number): string => String(bucketStart).padStart(10, '0');

/** The bucket (its start, in epoch seconds) a time falls in. */
export const bucketOf = (at: Date | number): number => Math.floor(+at / 1000 / STATS_BUCKET_SECONDS) * STATS_BUCKET_SECONDS;

/** The start of the first bucket that lies wholly at or after `at` (a window from there holds nothing from before `at`). */
export const firstWholeBucketFrom = (at: Date): Date => new Date(Math.ceil(at.getTime() / 1000 / STATS_BUCKET_SECONDS) * STATS_BUCKET_SECONDS * 1000);

/** Counters of model versions on the registry table. */
export class ServingStatsStore {
  private readonly table: RegistryTable;

  constructor(table: RegistryTable) {
    this.table = table.named('serving counters');
  }

  /**
   * Adds counts to a version's bucket, once per `flushId`: a retried write (or a repeated flush)
   * with the same id adds nothing. Returns whether the counts were added.
   */
  async add(model: string, alias: string | undefined, version: number, bucketStart: number, stats: VersionStats, flushId: string): Promise<boolean> {
    const names: Record<string, string> = {
      '#requests': 'requests',
      '#rejected': 'rejected',
      '#failed': 'failed',
      '#fallbacks': 'fallbacks',
      '#flushes': 'flushes',
      '#expiresAt': 'expiresAt',
    };
    const values: Record<string, unknown> = {
      ':requests': stats.requests,
      ':rejected': stats.rejected,
      ':failed': stats.failed,
      ':fallbacks': stats.fallbacks,
      ':flush': flushId,
      ':flushes': new Set([flushId]),
      ':expiresAt': bucketStart + STATS_RETENTION_DAYS * 86_400,
    };
    const adds = ['#requests :requests', '#rejected :rejected', '#failed :failed', '#fallbacks :fallbacks', '#flushes :flushes'];
    stats.latency.forEach((count, bucket) => {
      if (count === 0) return;
      names[`#l${bucket}`] = `l${bucket}`;
      values[`:l${bucket}`] = count;
      adds.push(`#l${bucket} :l${bucket}`);
    });
    try {
      await this.table.send(() =>
        this.table.db.send(
          new UpdateCommand({
            TableName: this.table.tableName,
            Key: { pk: statsPk(model, version, alias), sk: bucketSk(bucketStart) },
            UpdateExpression: `ADD ${adds.join(', ')} SET #expiresAt = if_not_exists(#expiresAt, :expiresAt)`,
            ConditionExpression: 'NOT contains(#flushes, :flush)',
            ExpressionAttributeNames: names,
            ExpressionAttributeValues: values,
          }),
        ),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  /** The counts of the requests an alias sent to a version over the buckets from the one `from` falls in to the one `to` falls in. */
  async window(model: string, alias: string | undefined, version: number, from: Date, to: Date): Promise<VersionStats> {
    if (bucketOf(from) > bucketOf(to)) return EMPTY_STATS;
    const items = await this.table.queryAll({
      KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
      ExpressionAttributeValues: { ':pk': statsPk(model, version, alias), ':from': bucketSk(bucketOf(from)), ':to': bucketSk(bucketOf(to)) },
      ConsistentRead: true,
    });
    const total = items.map(statsOf).reduce(addStats, EMPTY_STATS);
    return total;
  }
}

function statsOf(item: Record<string, unknown>): VersionStats {
  const count = (name: string) => (typeof item[name] === 'number' ? (item[name] as number) : 0);
  return {
    requests: count('requests'),
    rejected: count('rejected'),
    failed: count('failed'),
    fallbacks: count('fallbacks'),
    latency: Array.from({ length: LATENCY_BUCKETS }, (_, bucket) => count(`l${bucket}`)),
  };
}
