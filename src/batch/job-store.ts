/**
 * Batch scoring jobs in the registry table, every change one conditional single-item write
 * (dynalite has no transactions; one item per job keeps its counters exact).
 *
 * | item | pk               | sk     | gsi1pk      | gsi1sk |
 * | ---- | ---------------- | ------ | ----------- | ------ |
 * | job  | `BATCHJOB#<id>`  | `#JOB` | `BATCHJOBS` | id     |
 *
 * Ids are time-ordered (`<yyyyMMddHHmmssSSS>-<8 hex>`), so the index lists jobs newest first.
 * A chunk's completion adds its counts and its index to the job's set of finished chunks in one
 * update conditioned on the index not being in the set: a redelivered chunk adds nothing.
 */
import { PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { createHash, randomBytes } from 'node:crypto';
import { ConflictError, NotFoundError, quote } from '../errors.js';
import { ATTR, isConditionFailure, LIST_INDEX, stripKeys, type Page, type PageRequest, type RegistryTable } from '../storage/table.js';
import { FINISHED_BATCH_STATUSES, type BatchFeature, type BatchJob, type BatchOutput, type CsvLayout } from './types.js';

const JOB_SK = '#JOB';
const LIST_PK = 'BATCHJOBS';
const jobPk = (id: string): string => `BATCHJOB#${id}`;
const ID = /^[0-9]{17}-[0-9a-f]{8}$/;

/** A new job's id: UTC `yyyyMMddHHmmssSSS` and 32 random bits (time-ordered). */
export const newBatchJobId = (at: Date): string => `${at.toISOString().replace(/[-:TZ.]/g, '')}-${randomBytes(4).toString('hex')}`;

/** What a new job is made of (the store adds its status and counters). */
export type NewBatchJob = Omit<BatchJob, 'createdAt' | 'status' | 'chunksDone' | 'chunksFailed' | 'rowsScored' | 'rowsRejected' | 'failedChunks'>;

/** What planning fixed: the version, the features, the layout and the chunk count. */
export interface BatchPlan {
  readonly version: number;
  /** The input columns copied beside the predictions (the request's, or every column that is not a feature). */
  readonly passThrough: readonly string[];
  readonly features: readonly BatchFeature[];
  /** The input's ETag and size as planned. */
  readonly inputObject: NonNullable<BatchJob['inputObject']>;
  readonly csv?: CsvLayout;
  readonly chunksTotal: number;
  readonly rowsTotal: number;
}

/** A chunk's outcome, added to the job's counts once. */
export type ChunkOutcome =
  | { readonly kind: 'scored'; readonly chunk: number; readonly rowsScored: number; readonly rowsRejected: number }
  | { readonly kind: 'failed'; readonly chunk: number; readonly rows: number; readonly reason: string };

const internal = ['doneChunks', 'type'] as const;

/** A job item without its keys and bookkeeping. */
function toJob(item: Record<string, unknown>): BatchJob {
  const job = stripKeys<Record<string, unknown>>(item);
  for (const name of internal) delete job[name];
  return job as unknown as BatchJob;
}

/** Batch jobs on the registry table. */
export class BatchJobStore {
  private readonly table: RegistryTable;

  constructor(
    table: RegistryTable,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.table = table.named('batch jobs');
  }

  /**
   * Records a queued job. A job whose id exists already (a drop notified twice) is returned as it
   * is, with `created: false`.
   */
  async create(job: NewBatchJob): Promise<{ job: BatchJob; created: boolean }> {
    const item: BatchJob = {
      ...job,
      status: 'queued',
      createdAt: this.now().toISOString(),
      chunksDone: 0,
      chunksFailed: 0,
      rowsScored: 0,
      rowsRejected: 0,
      failedChunks: [],
    };
    try {
      await this.table.send(() =>
        this.table.db.send(
          new PutCommand({
            TableName: this.table.tableName,
            Item: { [ATTR.pk]: jobPk(job.id), [ATTR.sk]: JOB_SK, [ATTR.gsi1pk]: LIST_PK, [ATTR.gsi1sk]: job.id, type: 'BATCHJOB', ...item },
            ConditionExpression: 'attribute_not_exists(pk)',
          }),
        ),
      );
      return { job: item, created: true };
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      return { job: await this.get(job.id), created: false };
    }
  }

  /**
   * The id of the job a dropped object starts: `id` for its first delivery, the first delivery's id
   * for a redelivery (one conditional put on `BATCHDROP#<source>`), so a drop starts one job.
   */
  async claimDrop(source: string, id: string): Promise<string> {
    const pk = `BATCHDROP#${createHash('sha256').update(source).digest('hex')}`;
    try {
      await this.table.send(() =>
        this.table.db.send(new PutCommand({ TableName: this.table.tableName, Item: { [ATTR.pk]: pk, [ATTR.sk]: '#DROP', jobId: id }, ConditionExpression: 'attribute_not_exists(pk)' })),
      );
      return id;
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      const claimed = await this.table.getItem(pk, '#DROP');
      return String(claimed?.['jobId']);
    }
  }

  /** A job by id (NotFoundError when there is none). */
  async get(id: string): Promise<BatchJob> {
    const item = ID.test(id) ? await this.table.getItem(jobPk(id), JOB_SK) : undefined;
    if (item === undefined) throw new NotFoundError(`no batch job ${quote(id)}`);
    return toJob(item);
  }

  /** Jobs, newest first. */
  async list(page: PageRequest = {}): Promise<Page<BatchJob>> {
    const found = await this.table.queryPage<Record<string, unknown>>(
      { IndexName: LIST_INDEX, KeyConditionExpression: 'gsi1pk = :pk', ExpressionAttributeValues: { ':pk': LIST_PK }, ScanIndexForward: false },
      page,
      { [ATTR.pk]: (v) => v.startsWith('BATCHJOB#'), [ATTR.sk]: (v) => v === JOB_SK, [ATTR.gsi1pk]: (v) => v === LIST_PK, [ATTR.gsi1sk]: (v) => ID.test(v) },
    );
    return { ...found, items: found.items.map(toJob) };
  }

  /**
   * queued → running with the plan (the version every chunk uses). Undefined when the job is no
   * longer queued (cancelled, or planned by an earlier delivery).
   */
  async start(id: string, plan: BatchPlan): Promise<BatchJob | undefined> {
    const at = this.now().toISOString();
    return this.update(
      id,
      'SET #status = :running, #version = :version, #passThrough = :passThrough, #features = :features, #inputObject = :inputObject, #chunksTotal = :chunks, #rowsTotal = :rows, #startedAt = :at' +
        (plan.csv === undefined ? '' : ', #csv = :csv') +
        ' REMOVE #lastError',
      '#status = :queued',
      {
        ':running': 'running',
        ':queued': 'queued',
        ':version': plan.version,
        ':passThrough': plan.passThrough,
        ':features': plan.features,
        ':inputObject': plan.inputObject,
        ':chunks': plan.chunksTotal,
        ':rows': plan.rowsTotal,
        ':at': at,
        ...(plan.csv === undefined ? {} : { ':csv': plan.csv }),
      },
    );
  }

  /**
   * Adds a chunk's outcome to the job, once: a redelivered chunk's second outcome changes nothing.
   * Returns the job after the write, and whether this call added it.
   */
  async completeChunk(id: string, outcome: ChunkOutcome): Promise<{ job: BatchJob; added: boolean }> {
    const [update, values] =
      outcome.kind === 'scored'
        ? ['SET #chunksDone = #chunksDone + :one, #rowsScored = #rowsScored + :scored, #rowsRejected = #rowsRejected + :rejected', { ':scored': outcome.rowsScored, ':rejected': outcome.rowsRejected }]
        : [
            'SET #chunksFailed = #chunksFailed + :one, #failedChunks = list_append(#failedChunks, :failed)',
            { ':failed': [{ chunk: outcome.chunk, rows: outcome.rows, reason: outcome.reason }] },
          ];
    const job = await this.update(id, `${update} ADD #doneChunks :chunk`, 'attribute_exists(pk) AND NOT contains(#doneChunks, :index)', {
      ':one': 1,
      ':chunk': new Set([outcome.chunk]),
      ':index': outcome.chunk,
      ...values,
    });
    return job === undefined ? { job: await this.get(id), added: false } : { job, added: true };
  }

  /** running → succeeded with the combined output's key. Undefined when the job was no longer running. */
  async succeed(id: string, outputKey: string): Promise<BatchJob | undefined> {
    return this.update(id, 'SET #status = :succeeded, #finishedAt = :at, #output.#key = :key', '#status = :running', {
      ':succeeded': 'succeeded',
      ':running': 'running',
      ':at': this.now().toISOString(),
      ':key': outputKey,
    });
  }

  /** queued or running → failed with a reason. */
  async fail(id: string, reason: string): Promise<BatchJob | undefined> {
    return this.update(id, 'SET #status = :failed, #finishedAt = :at, #reason = :reason', '#status IN (:queued, :running)', {
      ':failed': 'failed',
      ':queued': 'queued',
      ':running': 'running',
      ':at': this.now().toISOString(),
      ':reason': reason,
    });
  }

  /** Records why a queued job's planning failed and will be retried (shown as `lastError` until it starts or fails). */
  async noteRetry(id: string, lastError: string): Promise<void> {
    await this.update(id, 'SET #lastError = :error', '#status = :queued', { ':error': lastError, ':queued': 'queued' });
  }

  /** Records the dataset version the lake made of the output, and what became of it (READY, or FAILED and why). */
  async recordOutputVersion(id: string, version: Required<Pick<BatchOutput, 'version' | 'status'>> & Pick<BatchOutput, 'reason'>): Promise<void> {
    await this.update(id, `SET #output.#version = :version, #output.#status = :status${version.reason === undefined ? '' : ', #output.#reason = :reason'}`, 'attribute_exists(pk)', {
      ':version': version.version,
      ':status': version.status,
      ...(version.reason === undefined ? {} : { ':reason': version.reason }),
    });
  }

  /**
   * queued or running with chunks left → cancelled: workers score no further chunk; parts already
   * written stay. ConflictError for a finished job, or one whose chunks are all done (its output
   * is being combined and published: it ends succeeded or failed).
   */
  async cancel(id: string, by: string): Promise<BatchJob> {
    const chunksLeft = '#status = :queued OR (#status = :running AND (attribute_not_exists(#doneChunks) OR size(#doneChunks) < #chunksTotal))';
    const job = await this.update(id, 'SET #status = :cancelled, #finishedAt = :at, #reason = :reason', chunksLeft, {
      ':cancelled': 'cancelled',
      ':queued': 'queued',
      ':running': 'running',
      ':at': this.now().toISOString(),
      ':reason': `cancelled by ${by}`,
    });
    if (job !== undefined) return job;
    const current = await this.get(id);
    if (FINISHED_BATCH_STATUSES.includes(current.status)) throw new ConflictError(`batch job ${quote(id)} has already ${current.status === 'cancelled' ? 'been cancelled' : current.status}`);
    if (current.chunksTotal !== undefined && current.chunksDone + current.chunksFailed >= current.chunksTotal) {
      throw new ConflictError(`batch job ${quote(id)} has scored every chunk and is publishing its output; it can no longer be cancelled`);
    }
    throw new ConflictError(`batch job ${quote(id)} changed while being cancelled; try again`);
  }

  /** One conditional update; the job after it, or undefined when the condition failed. */
  private async update(id: string, expression: string, condition: string, values: Record<string, unknown>): Promise<BatchJob | undefined> {
    const names = Object.fromEntries([...`${expression} ${condition}`.matchAll(/#(\w+)/g)].map(([name, attribute]) => [name, attribute!]));
    try {
      const result = await this.table.send(() =>
        this.table.db.send(
          new UpdateCommand({
            TableName: this.table.tableName,
            Key: { [ATTR.pk]: jobPk(id), [ATTR.sk]: JOB_SK },
            UpdateExpression: expression,
            ConditionExpression: condition,
            ExpressionAttributeNames: names,
            ExpressionAttributeValues: values,
            ReturnValues: 'ALL_NEW',
          }),
        ),
      );
      return result.Attributes === undefined ? undefined : toJob(result.Attributes);
    } catch (error) {
      if (isConditionFailure(error)) return undefined;
      throw error;
    }
  }
}
