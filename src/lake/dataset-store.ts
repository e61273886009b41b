/**
 * Datasets in the registry table: definitions, numbered versions, and the claims that make
 * ingestion idempotent. Single-item conditional writes only (DynamoDB and dynalite alike).
 */
import { PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { ConflictError, NotFoundError, RevisionMismatchError } from '../errors.js';
import { ATTR, isConditionFailure, LIST_INDEX, stripKeys, type RegistryTable, type Page, type PageRequest } from '../storage/table.js';
import { VERSION_PREFIX, versionSk } from '../storage/version-numbers.js';
import { toStorable } from '../storage/numbers.js';
import { DATASET_SK, DATASETS_GSI_PK, datasetPk, sourceSk, VERSION_COUNTER_SK } from './keys.js';
import type { AutoTrainOutcome, DatasetDefinition, DatasetVersion, SourceObject } from './types.js';

const DEPENDENCY = 'dataset registry';
/** Attempts at claiming a version number when drops race. */
const CLAIM_ATTEMPTS = 8;

/** Default share of rejected rows a version may have and still be READY. */
export const DEFAULT_REJECT_THRESHOLD = 0.1;

/** The editable part of a dataset definition. */
export type DatasetSettings = Pick<DatasetDefinition, 'description' | 'schema' | 'rejectThreshold' | 'autoTrain'>;

/** The outcome of claiming an S3 object for ingestion. */
export type SourceClaim =
  /**
   * This delivery ingests the object as `version` (first attempt, or a retry after a failure or a
   * crash). With `resumes`, the object has the bytes of the latest version, whose ingestion was cut
   * short: this delivery ingests that version's source in its place, then records itself as a
   * duplicate drop of it.
   */
  | { readonly kind: 'claimed'; readonly version: number; readonly attempt: number; readonly resumes?: SourceObject }
  /** The object was ingested already: a duplicate delivery. */
  | { readonly kind: 'done'; readonly version: number }
  /**
   * Another object with the same bytes (ETag and size) was the dataset's latest version, ingested
   * under the same definition: the drop is recorded on that version, and no new version is made.
   */
  | { readonly kind: 'unchanged'; readonly version: number }
  /** Another delivery of the same object is being ingested right now. */
  | { readonly kind: 'busy'; readonly version: number };

interface SourceItem {
  readonly version: number;
  readonly state: 'ACTIVE' | 'DONE';
  readonly leaseUntil: number;
  readonly attempts: number;
}

/** The version counter: the last number handed out, and what it was handed out for. */
interface CounterItem {
  readonly lastVersion?: number;
  /** Content of the latest version's source (see `contentOf`). */
  readonly lastContent?: string;
  /** Claim key of the latest version's source. */
  readonly lastSourceSk?: string;
}

/**
 * What a version is made of: the object's bytes (S3's ETag is their MD5 for a single-part upload,
 * and of its parts for a multipart one; with the size) and the revision of the dataset definition
 * (schema, threshold, auto-train) it is ingested under.
 */
const contentOf = (source: SourceObject, definitionRevision: number): string => `${source.eTag}\n${source.sizeBytes}\n${definitionRevision}`;

/** The outcome of reserving a version number: a new one, the latest one (same content), or `retry` when the counter moved meanwhile. */
type Reservation = { readonly kind: 'new'; readonly version: number } | { readonly kind: 'unchanged'; readonly version: number } | { readonly kind: 'retry' };

/** Lets a conditional write that lost its condition pass (the state it guarded has moved on). */
function ignoreConditionFailure(error: unknown): void {
  if (!isConditionFailure(error)) throw error;
}

/** A version without the key of its source claim (internal). */
function withoutClaim(version: DatasetVersion): DatasetVersion {
  const view: DatasetVersion & { sourceSk?: string } = { ...version };
  delete view.sourceSk;
  return view;
}

const jitter = (attempt: number) => new Promise((resolve) => setTimeout(resolve, Math.random() * 20 * (attempt + 1)));

/** The dataset side of the registry table. */
export class DatasetStore {
  private readonly table: RegistryTable;

  constructor(
    table: RegistryTable,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.table = table.named(DEPENDENCY);
  }

  /** Reads a dataset definition, or `undefined`. */
  async findDataset(name: string): Promise<DatasetDefinition | undefined> {
    const item = await this.table.getItem(datasetPk(name), DATASET_SK);
    return item === undefined ? undefined : stripKeys<DatasetDefinition>(item);
  }

  /** Reads a dataset definition; NotFoundError if unknown. */
  async getDataset(name: string): Promise<DatasetDefinition> {
    const found = await this.findDataset(name);
    if (found === undefined) throw new NotFoundError(`dataset '${name}' not found`);
    return found;
  }

  /**
   * Creates or replaces a dataset definition. With `expectedRevision` the write only happens if
   * the stored revision still matches (RevisionMismatchError otherwise); revision 0 means "must not exist yet".
   */
  async putDataset(name: string, settings: DatasetSettings, expectedRevision?: number): Promise<DatasetDefinition> {
    const at = this.now().toISOString();
    const existing = await this.findDataset(name);
    if (expectedRevision !== undefined && (existing?.revision ?? 0) !== expectedRevision) {
      throw new RevisionMismatchError(
        existing === undefined
          ? `dataset '${name}' does not exist (revision ${expectedRevision} was expected); create it with If-Match "0" or without If-Match`
          : expectedRevision === 0
            ? `dataset '${name}' already exists, at revision ${existing.revision} (If-Match "0" means it must not exist); read it and send If-Match "${existing.revision}" to replace it`
            : `dataset '${name}' is at revision ${existing.revision}, not ${expectedRevision}; read it again and retry`,
      );
    }
    const record: DatasetDefinition = {
      ...settings,
      name,
      createdAt: existing?.createdAt ?? at,
      updatedAt: at,
      revision: (existing?.revision ?? 0) + 1,
    };
    try {
      await this.table.send(() =>
        this.table.db.send(
          new PutCommand({
            TableName: this.table.tableName,
            Item: { pk: datasetPk(name), sk: DATASET_SK, gsi1pk: DATASETS_GSI_PK, gsi1sk: name, type: 'DATASET', ...record },
            ConditionExpression: existing === undefined ? 'attribute_not_exists(pk)' : 'revision = :seen',
            ExpressionAttributeValues: existing === undefined ? undefined : { ':seen': existing.revision },
          }),
        ),
      );
    } catch (error) {
      if (isConditionFailure(error)) throw new RevisionMismatchError(`dataset '${name}' changed while it was being written; read it again and retry`);
      throw error;
    }
    return record;
  }

  /** The dataset's definition, created with defaults if this is its first file. */
  async ensureDataset(name: string): Promise<DatasetDefinition> {
    const found = await this.findDataset(name);
    if (found !== undefined) return found;
    try {
      return await this.putDataset(name, { description: '', rejectThreshold: DEFAULT_REJECT_THRESHOLD }, 0);
    } catch (error) {
      if (error instanceof RevisionMismatchError) return this.getDataset(name); // created concurrently
      throw error;
    }
  }

  /** Lists dataset definitions by name. */
  listDatasets(page: PageRequest = {}): Promise<Page<DatasetDefinition>> {
    return this.table.queryPage<DatasetDefinition>(
      { IndexName: LIST_INDEX, KeyConditionExpression: 'gsi1pk = :pk', ExpressionAttributeValues: { ':pk': DATASETS_GSI_PK } },
      page,
      {
        [ATTR.pk]: (v) => v.startsWith('DATASET#'),
        [ATTR.sk]: (v) => v === DATASET_SK,
        [ATTR.gsi1pk]: (v) => v === DATASETS_GSI_PK,
        [ATTR.gsi1sk]: () => true,
      },
    );
  }

  /** Lists a dataset's versions, newest first; NotFoundError if the dataset is unknown. */
  async listVersions(dataset: string, page: PageRequest = {}): Promise<Page<DatasetVersion>> {
    await this.getDataset(dataset);
    const found = await this.table.pageByPrefix<DatasetVersion>({ pk: datasetPk(dataset), prefix: VERSION_PREFIX, newestFirst: true }, page);
    return { ...found, items: found.items.map(withoutClaim) };
  }

  /** The newest READY version among the dataset's last 100; NotFoundError if the dataset is unknown. */
  async latestReadyVersion(dataset: string): Promise<DatasetVersion | undefined> {
    return (await this.listVersions(dataset, { limit: 100 })).items.find((v) => v.status === 'READY');
  }

  /** Reads a dataset version; NotFoundError if the dataset or version is unknown. */
  async getVersion(dataset: string, version: number): Promise<DatasetVersion> {
    const item = await this.table.getItem(datasetPk(dataset), versionSk(version));
    if (item === undefined) {
      await this.getDataset(dataset);
      throw new NotFoundError(`dataset '${dataset}' has no version ${version}`);
    }
    return withoutClaim(stripKeys<DatasetVersion>(item));
  }

  /**
   * Claims an S3 object for ingestion. The first delivery of an object claims the next version
   * number, unless its bytes and the dataset definition are those of the dataset's latest version
   * (`unchanged`: recorded on that version as a duplicate drop); a duplicate delivery finds the
   * claim (`done` or, while another delivery holds the lease, `busy`); a delivery after a crash or
   * a failed attempt takes the expired lease over and ingests the same version number again.
   *
   * @param leaseMs - How long the claim is exclusive: at least the function's timeout.
   * @param definitionRevision - Revision of the dataset definition the object is ingested under.
   */
  async claimSource(dataset: string, source: SourceObject, leaseMs: number, definitionRevision: number): Promise<SourceClaim> {
    const pk = datasetPk(dataset);
    const sk = sourceSk(source);
    for (let attempt = 0; attempt < CLAIM_ATTEMPTS; attempt++) {
      const now = this.now().getTime();
      const existing = (await this.table.getItem(pk, sk)) as SourceItem | undefined;
      let claim: { version: number; attempt: number };
      try {
        if (existing === undefined) {
          const reserved = await this.reserveVersion(dataset, sk, contentOf(source, definitionRevision));
          if (reserved.kind === 'retry') {
            await jitter(attempt);
            continue;
          }
          if (reserved.kind === 'unchanged') {
            const resumed = await this.resumeUnfinished(dataset, reserved.version, leaseMs, definitionRevision);
            if (resumed !== undefined) return resumed;
            await this.recordUnchangedDrop(dataset, source, sk, reserved.version);
            return reserved;
          }
          const { version } = reserved;
          await this.write(
            new PutCommand({
              TableName: this.table.tableName,
              Item: { pk, sk, type: 'SOURCE', key: source.key, version, state: 'ACTIVE', leaseUntil: now + leaseMs, attempts: 1 },
              ConditionExpression: 'attribute_not_exists(pk)',
            }),
          );
          claim = { version, attempt: 1 };
        } else {
          if (existing.state === 'DONE') return { kind: 'done', version: existing.version };
          if (existing.leaseUntil > now) return { kind: 'busy', version: existing.version };
          await this.write(
            new UpdateCommand({
              TableName: this.table.tableName,
              Key: { pk, sk },
              UpdateExpression: 'SET leaseUntil = :lease, attempts = attempts + :one',
              ConditionExpression: 'leaseUntil = :seen AND #state = :active',
              ExpressionAttributeNames: { '#state': 'state' },
              ExpressionAttributeValues: { ':lease': now + leaseMs, ':one': 1, ':seen': existing.leaseUntil, ':active': 'ACTIVE' },
            }),
          );
          claim = { version: existing.version, attempt: existing.attempts + 1 };
        }
        if (!(await this.ensureVersion(dataset, source, sk, claim))) return { kind: 'claimed', version: claim.version, attempt: claim.attempt };
        // An earlier attempt recorded the outcome but stopped before closing the claim.
        await this.markSourceDone(dataset, source);
        return { kind: 'done', version: claim.version };
      } catch (error) {
        if (!isConditionFailure(error)) throw error;
        await jitter(attempt);
      }
    }
    throw new ConflictError(`too many concurrent drops into dataset '${dataset}'; the event will be retried`);
  }

  /**
   * A drop of the same bytes as a version that is not finished is no duplicate (yet): it claims
   * that version's own source (taking an expired lease over, as a redelivery would) so that the
   * version is ingested again; `busy` while another delivery holds it. `undefined` when the version
   * is finished (READY or FAILED): the drop is then a duplicate.
   */
  private async resumeUnfinished(dataset: string, version: number, leaseMs: number, definitionRevision: number): Promise<SourceClaim | undefined> {
    const latest = (await this.table.getItem(datasetPk(dataset), versionSk(version))) as DatasetVersion | undefined;
    // No item yet: the delivery that reserved the number is about to create it.
    if (latest === undefined) return { kind: 'busy', version };
    if (latest.status === 'READY' || latest.status === 'FAILED') return undefined;
    const claim = await this.claimSource(dataset, latest.source, leaseMs, definitionRevision);
    if (claim.kind === 'claimed') return { ...claim, resumes: latest.source };
    return claim.kind === 'busy' ? claim : undefined;
  }

  /** Records a drop of the bytes of `version`'s source, once that version is finished (see `resumeUnfinished`). */
  async recordDuplicateDrop(dataset: string, source: SourceObject, version: number): Promise<void> {
    await this.recordUnchangedDrop(dataset, source, sourceSk(source), version);
  }

  /**
   * Versions whose ingestion did not finish (INGESTING or RETRYING), with how long until their
   * claim's lease expires and a new delivery can take them over. Scans the table: for recovery
   * at the start of the local cloud, whose queue lost its messages.
   */
  async unfinishedVersions(): Promise<{ readonly version: DatasetVersion; readonly takeoverInMs: number }[]> {
    const now = this.now().getTime();
    const found: { version: DatasetVersion; takeoverInMs: number }[] = [];
    for (const item of await this.table.scanByStatus('DATASET_VERSION', ['INGESTING', 'RETRYING'])) {
      const version = stripKeys<DatasetVersion & { sourceSk: string }>(item);
      const claim = (await this.table.getItem(datasetPk(version.dataset), version.sourceSk)) as SourceItem | undefined;
      found.push({ version: withoutClaim(version), takeoverInMs: Math.max(0, (claim?.leaseUntil ?? now) + 1 - now) });
    }
    return found;
  }

  /**
   * Takes the next version number of a dataset from its counter item (one atomic update that also
   * records the content and claim it is for), unless the latest version has the same content. A
   * number the counter reserved for this very object (a delivery that stopped before claiming it)
   * is taken over, so duplicate deliveries leave no gap.
   */
  private async reserveVersion(dataset: string, sk: string, content: string): Promise<Reservation> {
    const key = { pk: datasetPk(dataset), sk: VERSION_COUNTER_SK };
    try {
      const result = await this.table.send(() =>
        this.table.db.send(
          new UpdateCommand({
            TableName: this.table.tableName,
            Key: key,
            UpdateExpression: 'SET lastVersion = if_not_exists(lastVersion, :zero) + :one, lastContent = :content, lastSourceSk = :sk',
            ConditionExpression: 'attribute_not_exists(lastContent) OR lastContent <> :content',
            ExpressionAttributeValues: { ':zero': 0, ':one': 1, ':content': content, ':sk': sk },
            ReturnValues: 'UPDATED_NEW',
          }),
        ),
      );
      return { kind: 'new', version: Number(result.Attributes?.['lastVersion']) };
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
    const counter = (await this.table.getItem(key.pk, key.sk)) as CounterItem | undefined;
    if (counter?.lastContent !== content || counter.lastVersion === undefined) return { kind: 'retry' };
    return { kind: counter.lastSourceSk === sk ? 'new' : 'unchanged', version: counter.lastVersion };
  }

  /**
   * Records a drop of the latest version's content on that version (`duplicateDrops`,
   * `lastDuplicateDrop`), then closes the drop's claim pointing at it: its redeliveries are
   * duplicate deliveries. A delivery that stops in between is counted again when redelivered.
   */
  private async recordUnchangedDrop(dataset: string, source: SourceObject, sk: string, version: number): Promise<void> {
    const pk = datasetPk(dataset);
    await this.write(
      new UpdateCommand({
        TableName: this.table.tableName,
        Key: { pk, sk: versionSk(version) },
        UpdateExpression: 'SET lastDuplicateDrop = :drop, duplicateDrops = if_not_exists(duplicateDrops, :zero) + :one',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeValues: { ':drop': { source, droppedAt: this.now().toISOString() }, ':zero': 0, ':one': 1 },
      }),
    );
    await this.write(
      new PutCommand({
        TableName: this.table.tableName,
        Item: { pk, sk, type: 'SOURCE', key: source.key, version, state: 'DONE', leaseUntil: 0, attempts: 1 },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    ).catch(ignoreConditionFailure);
  }

  /**
   * Makes sure the claimed version item exists and belongs to this source: creates it, or resumes
   * it after a failed or crashed attempt. Returns whether an earlier attempt already finished it.
   * Numbers come from the counter, so no other source can hold this one.
   */
  private async ensureVersion(dataset: string, source: SourceObject, sk: string, claim: { version: number; attempt: number }): Promise<boolean> {
    const pk = datasetPk(dataset);
    try {
      await this.write(
        new UpdateCommand({
          TableName: this.table.tableName,
          Key: { pk, sk: versionSk(claim.version) },
          UpdateExpression:
            'SET #type = :type, dataset = :dataset, version = :version, #status = :ingesting, #source = :source, sourceSk = :sk, attempts = :attempt, createdAt = if_not_exists(createdAt, :at)',
          ConditionExpression: 'attribute_not_exists(pk) OR (sourceSk = :sk AND #status <> :ready AND #status <> :failed)',
          ExpressionAttributeNames: { '#type': 'type', '#status': 'status', '#source': 'source' },
          ExpressionAttributeValues: {
            ':type': 'DATASET_VERSION',
            ':dataset': dataset,
            ':version': claim.version,
            ':ingesting': 'INGESTING',
            ':source': source,
            ':sk': sk,
            ':attempt': claim.attempt,
            ':at': this.now().toISOString(),
            ':ready': 'READY',
            ':failed': 'FAILED',
          },
        }),
      );
      return false;
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
    const taken = await this.table.getItem(pk, versionSk(claim.version));
    if (taken?.['sourceSk'] !== sk) {
      throw new Error(`version ${claim.version} of dataset '${dataset}' belongs to another source: the version counter was bypassed`);
    }
    return true;
  }

  /**
   * Records the outcome of an ingestion (READY or FAILED with its reason) on the claimed
   * version, then marks the source done. Only the claim's own source can complete a version,
   * and only once.
   */
  async completeVersion(dataset: string, source: SourceObject, version: number, outcome: Omit<DatasetVersion, 'dataset' | 'version' | 'source' | 'attempts' | 'createdAt'>): Promise<void> {
    const pk = datasetPk(dataset);
    const sk = sourceSk(source);
    const fields = Object.entries(outcome).filter(([, v]) => v !== undefined);
    const names = Object.fromEntries(fields.map(([name], i) => [`#f${i}`, name]));
    // Statistics are computed from the data: a number beyond the table's range is kept as text, never a failed write.
    const values = Object.fromEntries(fields.map(([, value], i) => [`:f${i}`, toStorable(value)]));
    try {
      await this.write(
        new UpdateCommand({
          TableName: this.table.tableName,
          Key: { pk, sk: versionSk(version) },
          UpdateExpression: `SET ${fields.map((_, i) => `#f${i} = :f${i}`).join(', ')} REMOVE lastError`,
          ConditionExpression: 'sourceSk = :sk AND (#s = :ingesting OR #s = :retrying)',
          ExpressionAttributeNames: { ...names, '#s': 'status' },
          ExpressionAttributeValues: { ...values, ':sk': sk, ':ingesting': 'INGESTING', ':retrying': 'RETRYING' },
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      // Completed already by another attempt: the version stays as that attempt recorded it.
    }
    await this.markSourceDone(dataset, source);
  }

  private async markSourceDone(dataset: string, source: SourceObject): Promise<void> {
    const pk = datasetPk(dataset);
    const sk = sourceSk(source);
    await this.write(
      new UpdateCommand({
        TableName: this.table.tableName,
        Key: { pk, sk },
        UpdateExpression: 'SET #state = :done',
        ExpressionAttributeNames: { '#state': 'state' },
        ExpressionAttributeValues: { ':done': 'DONE' },
      }),
    );
  }

  /** Records what auto-training did with a version. */
  async recordAutoTrain(dataset: string, version: number, outcome: AutoTrainOutcome): Promise<void> {
    await this.write(
      new UpdateCommand({
        TableName: this.table.tableName,
        Key: { pk: datasetPk(dataset), sk: versionSk(version) },
        UpdateExpression: 'SET autoTrain = :outcome',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeValues: { ':outcome': outcome },
      }),
    );
  }

  /** Records a transient failure of an attempt: the version is RETRYING with the reason, and the lease is released. */
  async recordAttemptFailure(dataset: string, source: SourceObject, version: number, reason: string): Promise<void> {
    const pk = datasetPk(dataset);
    await this.write(
      new UpdateCommand({
        TableName: this.table.tableName,
        Key: { pk, sk: versionSk(version) },
        UpdateExpression: 'SET #s = :retrying, lastError = :reason',
        ConditionExpression: 'sourceSk = :sk AND (#s = :ingesting OR #s = :retrying)',
        ExpressionAttributeNames: { '#s': 'status' },
        ExpressionAttributeValues: { ':retrying': 'RETRYING', ':reason': reason, ':sk': sourceSk(source), ':ingesting': 'INGESTING' },
      }),
    ).catch(ignoreConditionFailure);
    await this.write(
      new UpdateCommand({
        TableName: this.table.tableName,
        Key: { pk, sk: sourceSk(source) },
        UpdateExpression: 'SET leaseUntil = :zero',
        ConditionExpression: '#state = :active',
        ExpressionAttributeNames: { '#state': 'state' },
        ExpressionAttributeValues: { ':zero': 0, ':active': 'ACTIVE' },
      }),
    ).catch(ignoreConditionFailure);
  }

  private write(command: PutCommand | UpdateCommand): Promise<unknown> {
    return this.table.send(() => this.table.db.send(command as UpdateCommand));
  }
}
