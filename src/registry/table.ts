/**
 * Reads shared by every context that keeps items in the registry table (models, datasets):
 * consistent item reads, paged queries with cursors tied to their query, and the latest
 * number under a sort-key prefix.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, QueryCommand, type DynamoDBDocumentClient, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import { callDependency } from '../aws/dependency-errors.js';
import { decodeCursor, encodeCursor, type CursorShape } from './cursor.js';
import { ATTR } from './keys.js';
import type { Page } from './types.js';

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

/** The registry table, named for error messages as `dependency`. */
export class RegistryTable {
  constructor(
    readonly db: DynamoDBDocumentClient,
    readonly tableName: string,
    readonly dependency: string,
  ) {}

  /** Sends a command, mapping throttling and outages to 503. */
  send<T>(call: () => Promise<T>): Promise<T> {
    return callDependency(this.dependency, call);
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
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
          ExpressionAttributeValues: { ':pk': pk, ':prefix': prefix },
          ExpressionAttributeNames: { '#n': numberAttribute },
          ScanIndexForward: false,
          Limit: 1,
          ProjectionExpression: '#n',
          ConsistentRead: true,
        }),
      ),
    );
    const latest = result.Items?.[0]?.[numberAttribute];
    return typeof latest === 'number' ? latest : 0;
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
