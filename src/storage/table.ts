/**
 * The platform's one DynamoDB table (the registry table: models, datasets, jobs, rollouts,
 * serving counters), shared by every context that keeps items in it: its key schema, consistent
 * item reads, queries of a partition's items under a sort-key prefix, paged with cursors tied to
 * their query, and the latest number under a prefix.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, QueryCommand, ScanCommand, type DynamoDBDocumentClient, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import { callDependency } from '../aws/dependency-errors.js';
import { InvalidRequestError } from '../errors.js';
import { decodeCursor, encodeCursor, type CursorShape } from './cursor.js';
import { STORED_NUMBER_RANGE } from './numbers.js';

/** Attribute names of the table and its index. */
export const ATTR = { pk: 'pk', sk: 'sk', gsi1pk: 'gsi1pk', gsi1sk: 'gsi1sk' } as const;

/** Name of the global secondary index that lists models and datasets (by `gsi1pk` = `MODELS` or `DATASETS`). */
export const LIST_INDEX = 'gsi1';

/** A page of results and the opaque cursor of the next page, if any. */
export interface Page<T> {
  readonly items: readonly T[];
  readonly nextCursor?: string;
}

const KEY_ATTRS = [ATTR.pk, ATTR.sk, ATTR.gsi1pk, ATTR.gsi1sk, 'type'] as const;

/** Paging options of list calls. */
export interface PageRequest {
  readonly limit?: number;
  readonly cursor?: string;
}

/** An item without its key attributes. */
export function stripKeys<T>(item: Record<string, unknown>): T {
  const copy = { ...item };
  for (const key of KEY_ATTRS) delete copy[key];
  return copy as T;
}

/** Whether a write failed on its condition. */
export function isConditionFailure(error: unknown): boolean {
  return error instanceof ConditionalCheckFailedException || (error as { name?: string }).name === 'ConditionalCheckFailedException';
}

const clampLimit = (limit: number | undefined): number => Math.min(Math.max(limit ?? 50, 1), 100);

/** A filter on the items a query reads: its expression, and the names and values it uses. */
export interface ItemFilter {
  readonly expression: string;
  readonly names: Readonly<Record<string, string>>;
  readonly values: Readonly<Record<string, unknown>>;
}

/** The items of one partition whose sort keys start with a prefix. */
export interface PrefixQuery {
  readonly pk: string;
  readonly prefix: string;
  /**
   * Highest sort key first.
   *
   * @default false
   */
  readonly newestFirst?: boolean;
  /**
   * Keeps only the items that match.
   *
   * @default - every item
   */
  readonly filter?: ItemFilter;
}

/** The key condition (and filter) of a {@link PrefixQuery}. */
function prefixInput(query: PrefixQuery): Omit<QueryCommandInput, 'TableName'> {
  return {
    KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
    ExpressionAttributeValues: { ':pk': query.pk, ':prefix': query.prefix, ...query.filter?.values },
    ...(query.filter === undefined ? {} : { FilterExpression: query.filter.expression, ExpressionAttributeNames: query.filter.names }),
    ...(query.newestFirst === true ? { ScanIndexForward: false } : {}),
  };
}

/**
 * The registry table, named for error messages as `dependency`. A function creates one per
 * container and hands it to every store, which names itself ({@link RegistryTable.named}).
 */
export class RegistryTable {
  constructor(
    readonly db: DynamoDBDocumentClient,
    readonly tableName: string,
    readonly dependency = 'registry table',
  ) {}

  /** The same table, named `dependency` in errors (a store's own name: `model registry`, `training jobs`…). */
  named(dependency: string): RegistryTable {
    return new RegistryTable(this.db, this.tableName, dependency);
  }

  /** Sends a command, mapping throttling and outages to DependencyUnavailableError. */
  send<T>(call: () => Promise<T>): Promise<T> {
    return callDependency(this.dependency, call).catch((error: unknown) => {
      // The last line of defence behind the request checks that name the field (storableNumbers):
      // DynamoDB refuses a number out of its range whatever field it came from; the caller sent it.
      if ((error as { name?: string }).name === 'ValidationException' && /Number (overflow|underflow)/.test((error as Error).message)) {
        throw new InvalidRequestError(`a number is outside the range the ${this.dependency} stores (${STORED_NUMBER_RANGE})`, error);
      }
      throw error;
    });
  }

  /** A consistent read of one item. */
  async getItem(pk: string, sk: string): Promise<Record<string, unknown> | undefined> {
    const result = await this.send(() => this.db.send(new GetCommand({ TableName: this.tableName, Key: { pk, sk }, ConsistentRead: true })));
    return result.Item;
  }

  /** Every item a query matches, read page after page (for queries whose results stay small). */
  async queryAll(input: Omit<QueryCommandInput, 'TableName' | 'ExclusiveStartKey'>): Promise<Record<string, unknown>[]> {
    const items: Record<string, unknown>[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.send(() => this.db.send(new QueryCommand({ TableName: this.tableName, ...input, ExclusiveStartKey: start })));
      items.push(...(page.Items ?? []));
      start = page.LastEvaluatedKey;
    } while (start !== undefined);
    return items;
  }

  /** The highest `numberAttribute` under a sort-key prefix (0 when there is none). */
  async latestNumber(pk: string, prefix: string, numberAttribute: string): Promise<number> {
    const result = await this.send(() =>
      this.db.send(
        new QueryCommand({
          TableName: this.tableName,
          ...prefixInput({ pk, prefix, newestFirst: true }),
          ExpressionAttributeNames: { '#n': numberAttribute },
          Limit: 1,
          ProjectionExpression: '#n',
          ConsistentRead: true,
        }),
      ),
    );
    const latest = result.Items?.[0]?.[numberAttribute];
    return typeof latest === 'number' ? latest : 0;
  }

  /** Every item of a prefix query, read page after page (for queries whose results stay small), with only `projection`'s attributes when given. */
  allByPrefix(query: PrefixQuery, projection?: Readonly<Record<string, string>>): Promise<Record<string, unknown>[]> {
    const input = prefixInput(query);
    if (projection === undefined) return this.queryAll(input);
    return this.queryAll({
      ...input,
      ProjectionExpression: Object.keys(projection).join(', '),
      ExpressionAttributeNames: { ...input.ExpressionAttributeNames, ...projection },
    });
  }

  /** The first item of a prefix query (a consistent read), or `undefined`. */
  async firstByPrefix(query: PrefixQuery): Promise<Record<string, unknown> | undefined> {
    const result = await this.send(() => this.db.send(new QueryCommand({ TableName: this.tableName, ...prefixInput(query), Limit: 1, ConsistentRead: true })));
    return result.Items?.[0];
  }

  /** One page of a prefix query; its cursor only continues this query (InvalidRequestError otherwise). */
  pageByPrefix<T>(query: PrefixQuery, page: PageRequest): Promise<Page<T>> {
    return this.queryPage<T>(prefixInput(query), page, { [ATTR.pk]: (v) => v === query.pk, [ATTR.sk]: (v) => v.startsWith(query.prefix) });
  }

  /**
   * Every item of one `type` whose `status` is one of `statuses`, by a scan of the whole table:
   * for recovering work whose messages were lost (the local cloud's in-memory queues after a
   * restart), never for a request.
   */
  async scanByStatus(type: string, statuses: readonly string[]): Promise<Record<string, unknown>[]> {
    const values = Object.fromEntries(statuses.map((status, i) => [`:s${i}`, status]));
    const items: Record<string, unknown>[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.send(() =>
        this.db.send(
          new ScanCommand({
            TableName: this.tableName,
            FilterExpression: `#type = :type AND #status IN (${Object.keys(values).join(', ')})`,
            ExpressionAttributeNames: { '#type': 'type', '#status': 'status' },
            ExpressionAttributeValues: { ':type': type, ...values },
            ...(start === undefined ? {} : { ExclusiveStartKey: start }),
          }),
        ),
      );
      items.push(...(page.Items ?? []));
      start = page.LastEvaluatedKey;
    } while (start !== undefined);
    return items;
  }

  /** One page of a query; the cursor is checked against `cursorShape`. */
  async queryPage<T>(
    input: Pick<
      ConstructorParameters<typeof QueryCommand>[0],
      'IndexName' | 'KeyConditionExpression' | 'ExpressionAttributeValues' | 'ScanIndexForward' | 'FilterExpression' | 'ExpressionAttributeNames'
    >,
    page: PageRequest,
    cursorShape: CursorShape,
  ): Promise<Page<T>> {
    const result = await this.send(() =>
      this.db.send(
        new QueryCommand({
          TableName: this.tableName,
          ...input,
          Limit: clampLimit(page.limit),
          ExclusiveStartKey: decodeCursor(page.cursor, cursorShape),
        }),
      ),
    );
    const nextCursor = encodeCursor(result.LastEvaluatedKey);
    return {
      items: (result.Items ?? []).map((item) => stripKeys<T>(item)),
      ...(nextCursor === undefined ? {} : { nextCursor }),
    };
  }
}
