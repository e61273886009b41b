/**
 * Training jobs in the registry table, every transition one conditional single-item write.
 *
 * | item            | pk             | sk                          | gsi1pk                  | gsi1sk  |
 * | --------------- | -------------- | --------------------------- | ----------------------- | ------- |
 * | job             | `MODEL#<name>` | `JOB#<time-ordered id>`     | `JOBS#DATASET#<name>`   | same id |
 * | idempotency key | `MODEL#<name>` | `JOBKEY#<sha256 of key>`    |                         |         |
 *
 * Jobs live in the partition of the model they produce, so "jobs of a model" is one query
 * (newest first), and the index lists the jobs of a dataset. The id carries the model
 * name (`<model>~<time-ordered id>`), so a job is read by id alone.
 */
import { PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { createHash, randomBytes } from 'node:crypto';
import { ConflictError, NotFoundError, quote } from '../errors.js';
import { modelPk } from '../registry/keys.js';
import { ATTR, isConditionFailure, LIST_INDEX, stripKeys, type Page, type PageRequest, type RegistryTable } from '../storage/table.js';
import { toStorable } from '../storage/numbers.js';
import { assertModelName } from '../registry/names.js';
import type { Evaluation } from '../ml/pipeline.js';
import type { JobProgress, JobSpec, TrainingJob } from './types.js';

const JOB_PREFIX = 'JOB#';
const JOB_KEY_PREFIX = 'JOBKEY#';
const ID_SEPARATOR = '~';
const datasetJobsPk = (dataset: string): string => `JOBS#DATASET#${dataset}`;

/** Who and what submitted a job. */
export interface JobOrigin {
  readonly submittedBy: string;
  readonly trigger: TrainingJob['trigger'];
  readonly idempotencyKey?: string;
  /**
   * What the caller asked, as a replay under the same key must ask it again (a request for the
   * "latest" version stays the same request after a new version lands).
   *
   * @default the resolved spec
   */
  readonly request?: unknown;
}

/**
 * How long a worker's lease on a RUNNING job lasts without a heartbeat. The worker renews it
 * with every progress write (every 5 s), so a lease this old means six heartbeats were missed:
 * its worker died (crash, out of memory, time limit). Such a job can be cancelled at once and
 * is taken over by the next delivery of its message.
 */
export const JOB_LEASE_MS = 30_000;

/** A job that has not finished, and when its worker's lease is stale (now, for a QUEUED job). */
export interface UnfinishedJob {
  readonly job: TrainingJob;
  /** Milliseconds until a delivery can take the job over (0: at once). */
  readonly takeoverInMs: number;
}

/** The outcome of a worker's attempt to take a job. */
export type JobClaim =
  | { readonly kind: 'claimed'; readonly job: TrainingJob }
  /** Already finished (a duplicate message): nothing to do. */
  | { readonly kind: 'finished'; readonly job: TrainingJob }
  /** Another worker holds a live lease on it. */
  | { readonly kind: 'busy'; readonly job: TrainingJob };

/** Thrown when a worker writes to a job it no longer holds (its lease was taken over, or the job was cancelled). */
export class LeaseLostError extends Error {
  constructor(id: string) {
    super(`job ${id} is no longer held by this worker`);
    this.name = 'LeaseLostError';
  }
}

interface JobKey {
  readonly model: string;
  readonly sk: string;
}

/** Splits a job id into its model and sort key; NotFoundError for ids that cannot exist. */
function keyOf(id: string): JobKey {
  const at = id.lastIndexOf(ID_SEPARATOR);
  const model = id.slice(0, Math.max(at, 0));
  const stamp = id.slice(at + 1);
  if (at <= 0 || !/^[0-9]{17}-[0-9a-f]{8}$/.test(stamp)) throw new NotFoundError(`no training job ${quote(id)}`);
  try {
    assertModelName(model);
  } catch {
    throw new NotFoundError(`no training job ${quote(id)}`);
  }
  return { model, sk: `${JOB_PREFIX}${stamp}` };
}

/** A time-ordered id part: UTC `yyyyMMddHHmmssSSS` and 32 random bits. */
function newStamp(at: Date): string {
  return `${at.toISOString().replace(/[-:TZ.]/g, '')}-${randomBytes(4).toString('hex')}`;
}

type JobItem = TrainingJob & { leaseOwner?: string; leaseUntil?: number };

/** A job item without its keys and lease (the lease is the workers' business). */
const toJob = (item: Record<string, unknown>): TrainingJob => {
  const job: JobItem = stripKeys<JobItem>(item);
  delete job.leaseOwner;
  delete job.leaseUntil;
  return job;
};

/** Training jobs on the registry table. */
export class JobStore {
  /**
   * @param leaseMs - How long a worker's lease lasts without a heartbeat.
   * @default JOB_LEASE_MS
   */
  private readonly table: RegistryTable;

  constructor(
    table: RegistryTable,
    private readonly now: () => Date = () => new Date(),
    private readonly leaseMs: number = JOB_LEASE_MS,
  ) {
    this.table = table.named('training jobs');
  }

  /**
   * Records a QUEUED job. With an idempotency key, the first submission creates the job
   * and later ones with the same key return it (`created: false`); a different request
   * under a used key is a ConflictError.
   */
  async createJob(spec: JobSpec, origin: JobOrigin): Promise<{ job: TrainingJob; created: boolean }> {
    const at = this.now();
    let stamp = newStamp(at);
    if (origin.idempotencyKey !== undefined) {
      const claimed = await this.claimIdempotencyKey(spec, origin.idempotencyKey, origin.request ?? spec, stamp);
      if (claimed.existing !== undefined) return { job: claimed.existing, created: false };
      stamp = claimed.stamp;
    }
    const id = `${spec.modelName}${ID_SEPARATOR}${stamp}`;
    const job: TrainingJob = {
      id,
      status: 'QUEUED',
      spec,
      submittedBy: origin.submittedBy,
      trigger: origin.trigger,
      ...(origin.idempotencyKey === undefined ? {} : { idempotencyKey: origin.idempotencyKey }),
      attempts: 0,
      createdAt: at.toISOString(),
      updatedAt: at.toISOString(),
    };
    try {
      await this.table.send(() =>
        this.table.db.send(
          new PutCommand({
            TableName: this.table.tableName,
            Item: {
              pk: modelPk(spec.modelName),
              sk: `${JOB_PREFIX}${stamp}`,
              gsi1pk: datasetJobsPk(spec.dataset),
              gsi1sk: stamp,
              type: 'JOB',
              ...job,
            },
            ConditionExpression: 'attribute_not_exists(pk)',
          }),
        ),
      );
    } catch (error) {
      // The key's claim survived a crash between its write and this one: the job exists now.
      if (isConditionFailure(error)) return { job: await this.getJob(id), created: false };
      throw error;
    }
    return { job, created: true };
  }

  /** The key's job stamp: newly claimed, or the existing job (when the request matches). */
  private async claimIdempotencyKey(spec: JobSpec, key: string, request: unknown, stamp: string): Promise<{ stamp: string; existing?: TrainingJob }> {
    const pk = modelPk(spec.modelName);
    const sk = `${JOB_KEY_PREFIX}${createHash('sha256').update(key).digest('hex')}`;
    const fingerprint = createHash('sha256').update(JSON.stringify(request)).digest('hex');
    try {
      await this.table.send(() =>
        this.table.db.send(
          new PutCommand({
            TableName: this.table.tableName,
            Item: { pk, sk, type: 'JOBKEY', stamp, fingerprint, createdAt: this.now().toISOString() },
            ConditionExpression: 'attribute_not_exists(pk)',
          }),
        ),
      );
      return { stamp };
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
    const claim = (await this.table.getItem(pk, sk)) as { stamp: string; fingerprint: string };
    if (claim.fingerprint !== fingerprint) {
      throw new ConflictError(`idempotency key '${key}' was already used for a different training request`);
    }
    const existing = await this.table.getItem(pk, `${JOB_PREFIX}${claim.stamp}`);
    return existing === undefined ? { stamp: claim.stamp } : { stamp: claim.stamp, existing: toJob(existing) };
  }

  /** Reads a job; NotFoundError if there is none. */
  async getJob(id: string): Promise<TrainingJob> {
    const { model, sk } = keyOf(id);
    const item = await this.table.getItem(modelPk(model), sk);
    if (item === undefined) throw new NotFoundError(`no training job '${id}'`);
    return toJob(item);
  }

  /** Jobs that produce a model, newest first. */
  async listModelJobs(model: string, page: PageRequest = {}): Promise<Page<TrainingJob>> {
    const found = await this.table.pageByPrefix<Record<string, unknown>>({ pk: modelPk(model), prefix: JOB_PREFIX, newestFirst: true }, page);
    return { ...found, items: found.items.map(toJob) };
  }

  /** Jobs that train on a dataset, newest first. */
  async listDatasetJobs(dataset: string, page: PageRequest = {}): Promise<Page<TrainingJob>> {
    const found = await this.table.queryPage<Record<string, unknown>>(
      {
        IndexName: LIST_INDEX,
        KeyConditionExpression: 'gsi1pk = :pk',
        ExpressionAttributeValues: { ':pk': datasetJobsPk(dataset) },
        ScanIndexForward: false,
      },
      page,
      {
        [ATTR.pk]: (v) => v.startsWith('MODEL#'),
        [ATTR.sk]: (v) => v.startsWith(JOB_PREFIX),
        [ATTR.gsi1pk]: (v) => v === datasetJobsPk(dataset),
        [ATTR.gsi1sk]: () => true,
      },
    );
    return { ...found, items: found.items.map(toJob) };
  }

  /**
   * Every QUEUED or RUNNING job, by a scan of the whole table: for recovering jobs whose messages
   * were lost (the local cloud's in-memory queue after a restart), never for a request.
   */
  async unfinishedJobs(): Promise<UnfinishedJob[]> {
    const now = this.now().getTime();
    const found: UnfinishedJob[] = [];
    for (const item of await this.table.scanByStatus('JOB', ['QUEUED', 'RUNNING'])) {
      const leaseUntil = item['status'] === 'RUNNING' && typeof item['leaseUntil'] === 'number' ? item['leaseUntil'] : now;
      found.push({ job: toJob(item), takeoverInMs: Math.max(0, leaseUntil + 1 - now) });
    }
    return found;
  }

  /**
   * Takes a job for one attempt: QUEUED, or RUNNING under a stale lease (its worker stopped
   * sending heartbeats), becomes RUNNING under `owner`'s lease with one more attempt. The
   * lease lasts {@link JOB_LEASE_MS} and every write of the holder renews it.
   */
  async claim(id: string, owner: string): Promise<JobClaim> {
    const now = this.now().getTime();
    const claimed = await this.update(
      id,
      'SET #status = :running, #leaseOwner = :owner, #leaseUntil = :until, #attempts = #attempts + :one, #updatedAt = :at, #startedAt = if_not_exists(#startedAt, :at)',
      'attribute_exists(pk) AND (#status = :queued OR (#status = :running AND #leaseUntil < :now))',
      { ':running': 'RUNNING', ':queued': 'QUEUED', ':owner': owner, ':until': now + this.leaseMs, ':now': now, ':one': 1 },
    );
    if (claimed !== undefined) return { kind: 'claimed', job: toJob(claimed) };
    const job = await this.getJob(id);
    return job.status === 'RUNNING' || job.status === 'QUEUED' ? { kind: 'busy', job } : { kind: 'finished', job };
  }

  /**
   * The worker's heartbeat: writes progress and renews its lease; tells whether a cancel was
   * requested. Throws {@link LeaseLostError} when the worker no longer holds the job.
   */
  async recordProgress(id: string, owner: string, progress: JobProgress): Promise<{ cancelRequested: boolean }> {
    const attributes = await this.renewHeld(id, owner, 'SET #progress = :progress, #updatedAt = :at', { ':progress': toStorable(progress) });
    return { cancelRequested: attributes.cancelRequested === true };
  }

  /**
   * Records the version number the worker is about to register, and renews its lease: the
   * registration that follows at once cannot be overtaken by another attempt (that needs a
   * lease {@link JOB_LEASE_MS} old). Throws {@link LeaseLostError} when the worker no longer
   * holds the job: it must then register nothing.
   */
  async markRegistering(id: string, owner: string, version: number): Promise<void> {
    await this.renewHeld(id, owner, 'SET #registeringVersion = :version, #updatedAt = :at', { ':version': version });
  }

  /** RUNNING → SUCCEEDED with the registered version and its metrics; its progress stage becomes `done`. */
  async succeed(
    id: string,
    owner: string,
    outcome: { modelVersion: number; metrics: Record<string, number>; elapsedSeconds: number; evaluation?: Evaluation; aliasNotMoved?: string },
  ): Promise<void> {
    const set = ['#modelVersion = :version', '#metrics = :metrics', '#progress = :done'];
    if (outcome.evaluation !== undefined) set.push('#evaluation = :evaluation');
    if (outcome.aliasNotMoved !== undefined) set.push('#aliasNotMoved = :aliasNotMoved');
    await this.finish(id, owner, 'SUCCEEDED', `SET ${set.join(', ')}`, {
      ':version': outcome.modelVersion,
      ':done': { stage: 'done', elapsedSeconds: outcome.elapsedSeconds, updatedAt: this.now().toISOString() } satisfies JobProgress,
      ':metrics': toStorable(outcome.metrics),
      ...(outcome.evaluation === undefined ? {} : { ':evaluation': toStorable(outcome.evaluation) }),
      ...(outcome.aliasNotMoved === undefined ? {} : { ':aliasNotMoved': outcome.aliasNotMoved }),
    });
  }

  /** RUNNING → FAILED (or CANCELLED) with its reason; metrics computed before the failure are kept. */
  async fail(id: string, owner: string, status: 'FAILED' | 'CANCELLED', reason: string, metrics?: Record<string, number>): Promise<void> {
    await this.finish(id, owner, status, 'SET #reason = :reason' + (metrics ? ', #metrics = :metrics' : ''), {
      ':reason': reason,
      ...(metrics ? { ':metrics': toStorable(metrics) } : {}),
    });
  }

  /** RUNNING → QUEUED after a transient failure: the message's redelivery starts the next attempt. */
  async release(id: string, owner: string, lastError: string): Promise<void> {
    await this.updateHeld(id, owner, 'SET #status = :queued, #lastError = :error, #updatedAt = :at REMOVE #leaseOwner, #leaseUntil', {
      ':queued': 'QUEUED',
      ':error': lastError,
    });
  }

  /** A QUEUED job whose message could not be sent: FAILED, so it does not wait for ever (unless a worker took it: the message did arrive). */
  async failUnqueued(id: string, reason: string): Promise<void> {
    await this.update(id, 'SET #status = :failed, #reason = :reason, #updatedAt = :at, #finishedAt = :at', '#status = :queued AND #attempts = :zero', {
      ':failed': 'FAILED',
      ':queued': 'QUEUED',
      ':zero': 0,
      ':reason': reason,
    });
  }

  /**
   * Cancels a job: a QUEUED one at once (its message is dropped when it arrives), a RUNNING one
   * whose lease is stale (its worker died) at once too, a RUNNING one under a live lease by
   * flagging it for its worker (it stops at its next heartbeat). ConflictError for a finished job.
   */
  async requestCancel(id: string): Promise<TrainingJob> {
    for (;;) {
      const job = await this.getJob(id);
      if (job.status !== 'QUEUED' && job.status !== 'RUNNING') throw new ConflictError(`training job '${id}' is already ${job.status}`);
      const cancelled =
        job.status === 'QUEUED'
          ? await this.update(id, 'SET #status = :cancelled, #reason = :reason, #updatedAt = :at, #finishedAt = :at', '#status = :seen', {
              ':seen': job.status,
              ':cancelled': 'CANCELLED',
              ':reason': 'cancelled before it started',
            })
          : // A worker that died holds no live lease: nobody would read the flag, so the job ends now.
            ((await this.endAbandoned(id, 'CANCELLED', `cancelled; its worker had stopped (no heartbeat for over ${this.leaseMs / 1000} s)`)) ??
            (await this.update(id, 'SET #cancelRequested = :true, #updatedAt = :at', '#status = :seen', { ':seen': job.status, ':true': true })));
      if (cancelled !== undefined) return toJob(cancelled);
      // The status moved on meanwhile: look again.
    }
  }

  /**
   * Ends a RUNNING job whose worker died (its lease is stale): nothing else would. The new
   * item, or `undefined` when the job is not in that state.
   */
  async endAbandoned(id: string, status: 'FAILED' | 'CANCELLED', reason: string): Promise<Record<string, unknown> | undefined> {
    return this.update(
      id,
      'SET #status = :final, #reason = :reason, #updatedAt = :at, #finishedAt = :at REMOVE #leaseOwner, #leaseUntil',
      '#status = :running AND #leaseUntil < :now',
      { ':final': status, ':reason': reason, ':running': 'RUNNING', ':now': this.now().getTime() },
    );
  }

  private async finish(id: string, owner: string, status: 'SUCCEEDED' | 'FAILED' | 'CANCELLED', set: string, values: Record<string, unknown>): Promise<void> {
    await this.updateHeld(id, owner, `${set}, #status = :final, #finishedAt = :at, #updatedAt = :at REMOVE #leaseOwner, #leaseUntil`, {
      ...values,
      ':final': status,
    });
  }

  /** {@link updateHeld} that also renews `owner`'s lease for {@link JOB_LEASE_MS}. */
  private async renewHeld(id: string, owner: string, set: string, values: Record<string, unknown>): Promise<Record<string, unknown>> {
    return this.updateHeld(id, owner, `${set}, #leaseUntil = :until`, { ...values, ':until': this.now().getTime() + this.leaseMs });
  }

  /** An update that only applies while `owner` holds the RUNNING job; returns the new item, or throws {@link LeaseLostError}. */
  private async updateHeld(id: string, owner: string, update: string, values: Record<string, unknown>): Promise<Record<string, unknown>> {
    const updated = await this.update(id, update, '#status = :running AND #leaseOwner = :owner', { ...values, ':running': 'RUNNING', ':owner': owner });
    if (updated === undefined) throw new LeaseLostError(id);
    return updated;
  }

  /**
   * One conditional update of a job item (`:at` is the current time); the new item, or
   * `undefined` when the condition failed. Attributes are written `#name` (many, like
   * `metrics` or `status`, are DynamoDB reserved words).
   */
  private async update(id: string, update: string, condition: string, values: Record<string, unknown>): Promise<Record<string, unknown> | undefined> {
    const { model, sk } = keyOf(id);
    const names = Object.fromEntries([...`${update} ${condition}`.matchAll(/#(\w+)/g)].map((match) => [match[0], match[1]!]));
    try {
      const result = await this.table.send(() =>
        this.table.db.send(
          new UpdateCommand({
            TableName: this.table.tableName,
            Key: { pk: modelPk(model), sk },
            UpdateExpression: update,
            ConditionExpression: condition,
            ExpressionAttributeNames: names,
            ExpressionAttributeValues: { ...values, ':at': this.now().toISOString() },
            ReturnValues: 'ALL_NEW',
          }),
        ),
      );
      return result.Attributes;
    } catch (error) {
      if (isConditionFailure(error)) return undefined;
      throw error;
    }
  }
}
