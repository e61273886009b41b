/**
 * Async inference requests in the registry table, every change one conditional single-item write
 * (dynalite has no transactions, and none is needed).
 *
 * | item            | pk                          | sk        |
 * | --------------- | --------------------------- | --------- |
 * | request         | `ASYNC#<id>`                | `REQUEST` |
 * | idempotency key | `ASYNC#KEY#<sha256 of key>` | `KEY`     |
 *
 * Both carry `expiresAt` (the table's TTL attribute): DynamoDB deletes them after the retention.
 */
import { PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { createHash } from 'node:crypto';
import { ASYNC_PK_PREFIX } from '../../topology/storage-layout.js';
import { ConflictError } from '../errors.js';
import { isConditionFailure, stripKeys, type RegistryTable } from '../storage/table.js';
import { CLAIMABLE, type AnsweredBy, type AsyncRequest, type AsyncResult } from './async-request.js';

const REQUEST_SK = 'REQUEST';
const KEY_SK = 'KEY';
const requestPk = (id: string): string => `${ASYNC_PK_PREFIX}${id}`;
const keyPk = (key: string): string => `${ASYNC_PK_PREFIX}KEY#${createHash('sha256').update(key).digest('hex')}`;

/** An `Idempotency-Key` and the fingerprint of the request it was sent with. */
export interface Idempotency {
  readonly key: string;
  /** sha256 of what the request asks (target, input, encoding): the same key with another fingerprint is a 409. */
  readonly fingerprint: string;
}

/** Async requests on the registry table. */
export class AsyncRequestStore {
  private readonly table: RegistryTable;

  constructor(
    table: RegistryTable,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.table = table.named('async requests');
  }

  /**
   * Claims an idempotency key for a new request id: the id to create (`id`, or the one a first
   * submission under the key claimed and may not have created yet), and the existing request when
   * there is one. ConflictError when the key was used for a different request.
   */
  async claimKey(idempotency: Idempotency, id: string, expiresAt: number): Promise<{ id: string; existing?: AsyncRequest }> {
    const pk = keyPk(idempotency.key);
    try {
      await this.table.send(() =>
        this.table.db.send(
          new PutCommand({
            TableName: this.table.tableName,
            Item: { pk, sk: KEY_SK, type: 'ASYNCKEY', id, fingerprint: idempotency.fingerprint, expiresAt },
            ConditionExpression: 'attribute_not_exists(pk)',
          }),
        ),
      );
      return { id };
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
    const claim = (await this.table.getItem(pk, KEY_SK)) as { id: string; fingerprint: string } | undefined;
    // Expired and deleted between the write and this read: the key is free again.
    if (claim === undefined) return this.claimKey(idempotency, id, expiresAt);
    if (claim.fingerprint !== idempotency.fingerprint) {
      throw new ConflictError(`Idempotency-Key '${idempotency.key}' was already used for a different async request (${claim.id}); use a new key for a new request`);
    }
    const existing = await this.get(claim.id);
    return existing === undefined ? { id: claim.id } : { id: claim.id, existing };
  }

  /** Records a new request; the one already there when its id exists (a retried submission under the same key). */
  async create(request: AsyncRequest): Promise<{ request: AsyncRequest; created: boolean }> {
    try {
      await this.table.send(() =>
        this.table.db.send(
          new PutCommand({
            TableName: this.table.tableName,
            Item: { pk: requestPk(request.id), sk: REQUEST_SK, type: 'ASYNC', ...request },
            ConditionExpression: 'attribute_not_exists(pk)',
          }),
        ),
      );
      return { request, created: true };
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      return { request: (await this.get(request.id))!, created: false };
    }
  }

  /** A request, or `undefined` when there is none (never was, or deleted after it expired). */
  async get(id: string): Promise<AsyncRequest | undefined> {
    const item = await this.table.getItem(requestPk(id), REQUEST_SK);
    return item === undefined ? undefined : stripKeys<AsyncRequest>(item);
  }

  /**
   * Ids of the requests that have not finished, by a scan of the whole table: for recovering
   * requests whose messages were lost (the local cloud's in-memory queues after a restart), never
   * for a request.
   */
  async unfinished(): Promise<string[]> {
    return (await this.table.scanByStatus('ASYNC', CLAIMABLE)).map((item) => (item as { id: string }).id);
  }

  /**
   * Starts an attempt: a queued request (or a running one whose earlier attempt failed or died)
   * becomes running, its attempts counted. `undefined` when it has finished (a duplicate
   * delivery) or is gone.
   */
  async claim(id: string): Promise<AsyncRequest | undefined> {
    const at = this.now().toISOString();
    try {
      const result = await this.table.send(() =>
        this.table.db.send(
          new UpdateCommand({
            TableName: this.table.tableName,
            Key: { pk: requestPk(id), sk: REQUEST_SK },
            UpdateExpression: 'SET #status = :running, attempts = attempts + :one, startedAt = if_not_exists(startedAt, :at)',
            ConditionExpression: `attribute_exists(pk) AND #status IN (${CLAIMABLE.map((status) => `:${status}`).join(', ')})`,
            ExpressionAttributeNames: { '#status': 'status' },
            ExpressionAttributeValues: { ...Object.fromEntries(CLAIMABLE.map((status) => [`:${status}`, status])), ':one': 1, ':at': at },
            ReturnValues: 'ALL_NEW',
          }),
        ),
      );
      return stripKeys<AsyncRequest>(result.Attributes!);
    } catch (error) {
      if (isConditionFailure(error)) return undefined;
      throw error;
    }
  }

  /** Ends a running request with its result and who answered; `false` if it was not running (another attempt ended it). */
  succeed(id: string, answeredBy: AnsweredBy, result: AsyncResult): Promise<boolean> {
    return this.finish(id, 'SET #status = :to, finishedAt = :at, answeredBy = :by, #result = :result REMOVE lastError', {
      ':to': 'succeeded',
      ':by': answeredBy,
      ':result': result,
    });
  }

  /** Ends an unfinished request as failed with `reason` (and the version it failed on, when one took it); `false` if it had already finished. */
  fail(id: string, reason: string, answeredBy?: AnsweredBy): Promise<boolean> {
    return answeredBy === undefined
      ? this.finish(id, 'SET #status = :to, finishedAt = :at, #error = :reason', { ':to': 'failed', ':reason': reason })
      : this.finish(id, 'SET #status = :to, finishedAt = :at, #error = :reason, answeredBy = :by', { ':to': 'failed', ':reason': reason, ':by': answeredBy });
  }

  /** Records why an attempt failed (the request stays running, and its message is retried); `false` if it had finished meanwhile. */
  noteAttemptFailure(id: string, reason: string): Promise<boolean> {
    return this.finish(id, 'SET lastError = :reason, lastErrorAt = :at', { ':reason': reason });
  }

  private async finish(id: string, update: string, values: Record<string, unknown>): Promise<boolean> {
    const names: Record<string, string> = { '#status': 'status' };
    if (update.includes('#result')) names['#result'] = 'result';
    if (update.includes('#error')) names['#error'] = 'error';
    try {
      await this.table.send(() =>
        this.table.db.send(
          new UpdateCommand({
            TableName: this.table.tableName,
            Key: { pk: requestPk(id), sk: REQUEST_SK },
            UpdateExpression: update,
            ConditionExpression: `attribute_exists(pk) AND #status IN (${CLAIMABLE.map((status) => `:${status}`).join(', ')})`,
            ExpressionAttributeNames: names,
            ExpressionAttributeValues: { ...values, ...Object.fromEntries(CLAIMABLE.map((status) => [`:${status}`, status])), ':at': this.now().toISOString() },
          }),
        ),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }
}
