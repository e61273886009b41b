/**
 * Ingests one S3 object dropped under `raw/`: claims it (idempotently), stages it on local
 * disk, converts it, uploads the curated and rejected outputs, and records the dataset version.
 */
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, stat, statfs } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { isRejectedRequestAwsError } from '../aws/dependency-errors.js';
import type { DatasetStore } from './dataset-store.js';
import type { EngineSettings } from './engine.js';
import { failedIngest, ingestFile, type FileIngestResult } from './ingest-file.js';
import type { DatasetVersionStatus, SourceObject } from './types.js';
import { curatedKey, parseRawKey, rejectedKey } from './zones.js';

/** What ingestion needs. */
export interface IngestDeps {
  readonly store: DatasetStore;
  readonly s3: S3Client;
  /** The lake bucket: events about any other bucket are ignored. */
  readonly lakeBucket: string;
  /** Where objects are staged (Lambda's /tmp). */
  readonly scratchDir: string;
  readonly engine: Omit<EngineSettings, 'workDir'>;
  /** How long a claim is exclusive: the function's timeout. */
  readonly leaseMs: number;
  readonly now?: () => Date;
}

/** What became of one object. */
export type IngestOutcome =
  | { readonly kind: 'ingested'; readonly dataset: string; readonly version: number; readonly status: DatasetVersionStatus; readonly reason?: string }
  | { readonly kind: 'duplicate'; readonly dataset: string; readonly version: number }
  /** The bytes and dataset definition of the latest version: recorded on it as a duplicate drop, no new version. */
  | { readonly kind: 'unchanged'; readonly dataset: string; readonly version: number }
  | { readonly kind: 'ignored'; readonly reason: string };

/** Staged bytes per object byte: the source, its Parquet conversion, and DuckDB's spill files. */
const SCRATCH_PER_SOURCE_BYTE = 3;

/** An infrastructure failure of an attempt (S3, DynamoDB): worth retrying. */
export class IngestAttemptError extends Error {
  constructor(message: string, cause: unknown) {
    super(message, { cause });
    this.name = 'IngestAttemptError';
  }
}

/**
 * Another delivery of the same object holds the claim. The event is retried rather than dropped:
 * once the holder finishes, the retry finds the version done; if the holder died, its claim
 * expires and the retry takes over.
 */
export class ObjectBusyError extends Error {
  constructor(dataset: string, version: number, key: string) {
    super(`'${key}' is being ingested as version ${version} of dataset '${dataset}' by another delivery; retrying later`);
    this.name = 'ObjectBusyError';
  }
}

/**
 * Ingests one object. Bad data is not an error: it is recorded as a FAILED version with the
 * reason. Infrastructure failures are recorded on the version (RETRYING, with the reason) and
 * rethrown, so the event is redelivered and, after the last attempt, dead-lettered.
 */
export async function ingestObject(deps: IngestDeps, source: SourceObject): Promise<IngestOutcome> {
  if (source.bucket !== deps.lakeBucket) return { kind: 'ignored', reason: `bucket '${source.bucket}' is not the lake bucket` };
  const raw = parseRawKey(source.key);
  if (raw.kind === 'folder') return { kind: 'ignored', reason: `'${source.key}' is a folder placeholder` };
  if (raw.kind === 'refused') return { kind: 'ignored', reason: raw.reason };
  const { dataset } = raw;
  const definition = await deps.store.ensureDataset(dataset);
  const claim = await deps.store.claimSource(dataset, source, deps.leaseMs, definition.revision);
  if (claim.kind === 'done') return { kind: 'duplicate', dataset, version: claim.version };
  if (claim.kind === 'unchanged') return { kind: 'unchanged', dataset, version: claim.version };
  if (claim.kind === 'busy') throw new ObjectBusyError(dataset, claim.version, source.key);
  const { version } = claim;
  // A drop of the bytes of an unfinished version ingests that version's own source in its place.
  const ingested = claim.resumes ?? source;
  const now = deps.now ?? (() => new Date());
  const started = now().getTime();

  let workDir: string | undefined;
  try {
    await mkdir(deps.scratchDir, { recursive: true });
    await removeAbandonedWorkDirs(deps.scratchDir, now().getTime());
    workDir = await mkdtemp(join(deps.scratchDir, `${WORK_DIR_PREFIX}${dataset}-`));
    const staged = await stageObject(deps, ingested, workDir);
    const result: FileIngestResult =
      typeof staged === 'string'
        ? failedIngest(staged)
        : await ingestFile({
            sourcePath: staged.path,
            key: ingested.key,
            sizeBytes: ingested.sizeBytes,
            ...(definition.schema === undefined ? {} : { declared: definition.schema }),
            rejectThreshold: definition.rejectThreshold,
            engine: { ...deps.engine, workDir },
          });
    const curated = result.curatedPath === undefined ? [] : [await upload(deps, source.bucket, curatedKey(dataset, version), result.curatedPath, 'application/vnd.apache.parquet')];
    const rejected = result.rejectedPath === undefined ? undefined : await upload(deps, source.bucket, rejectedKey(dataset, version), result.rejectedPath, 'application/x-ndjson');
    await deps.store.completeVersion(dataset, ingested, version, {
      status: result.status,
      ...(result.reason === undefined ? {} : { reason: result.reason }),
      ...(result.format === undefined ? {} : { format: result.format, gzip: result.gzip ?? false }),
      rowsRead: result.rowsRead,
      rowsAccepted: result.rowsAccepted,
      rowsRejected: result.rowsRejected,
      ...(result.schema === undefined ? {} : { schema: result.schema }),
      statistics: result.statistics,
      notes: result.notes,
      curatedKeys: curated,
      ...(rejected === undefined ? {} : { rejectedKey: rejected }),
      finishedAt: now().toISOString(),
      durationMs: now().getTime() - started,
    });
    if (claim.resumes !== undefined) await deps.store.recordDuplicateDrop(dataset, source, version);
    return { kind: 'ingested', dataset, version, status: result.status, ...(result.reason === undefined ? {} : { reason: result.reason }) };
  } catch (error) {
    if (isRejectedRequestAwsError(error)) {
      // S3 or DynamoDB refused the request as sent (a key too long, an item it cannot store): a retry would be refused alike.
      const reason = `S3 or DynamoDB refused a request as sent, so it is not retried: ${(error as Error).message}`;
      await deps.store.completeVersion(dataset, source, version, { ...failedIngest(reason), curatedKeys: [], finishedAt: now().toISOString(), durationMs: now().getTime() - started });
      return { kind: 'ingested', dataset, version, status: 'FAILED', reason };
    }
    const reason = `attempt ${claim.attempt} failed: ${(error as Error).message}`;
    await deps.store.recordAttemptFailure(dataset, ingested, version, reason);
    throw new IngestAttemptError(`ingesting '${source.key}' as version ${version} of dataset '${dataset}' failed; it will be retried`, error);
  } finally {
    if (workDir !== undefined) await rm(workDir, { recursive: true, force: true });
  }
}

/**
 * Downloads the exact object version that was announced. Returns the reason instead when it
 * cannot be ingested (too big for the scratch space, deleted or overwritten since).
 */
async function stageObject(deps: IngestDeps, source: SourceObject, workDir: string): Promise<{ path: string } | string> {
  const disk = await statfs(workDir);
  const needed = source.sizeBytes * SCRATCH_PER_SOURCE_BYTE;
  if (needed > disk.blocks * disk.bsize) {
    return `the file is ${gib(source.sizeBytes)} GiB; ingesting it needs ${SCRATCH_PER_SOURCE_BYTE}× that on the ingest function's disk of ${gib(disk.blocks * disk.bsize)} GiB: split it into smaller files`;
  }
  if (needed > disk.bavail * disk.bsize) {
    // The disk is big enough, but busy (another ingestion, or leftovers of a killed one): retry later.
    throw new Error(`not enough free disk to stage ${gib(source.sizeBytes)} GiB now (${gib(disk.bavail * disk.bsize)} GiB free)`);
  }
  const path = join(workDir, 'source');
  try {
    const object = await deps.s3.send(
      new GetObjectCommand({
        Bucket: source.bucket,
        Key: source.key,
        ...(source.versionId === undefined ? { IfMatch: source.eTag } : { VersionId: source.versionId }),
      }),
    );
    await pipeline(object.Body as Readable, createWriteStream(path));
  } catch (error) {
    const name = (error as { name?: string }).name;
    if (name === 'NoSuchKey' || name === 'NoSuchVersion') return 'the object was deleted before it could be read';
    if (name === 'PreconditionFailed') return 'the object was overwritten before it could be read; the new upload is ingested as its own version';
    throw error;
  }
  return { path };
}

async function upload(deps: IngestDeps, bucket: string, key: string, path: string, contentType: string): Promise<string> {
  const { size } = await stat(path);
  const body = createReadStream(path);
  try {
    await deps.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentLength: size, ContentType: contentType }));
  } finally {
    body.destroy();
  }
  return key;
}

/** Prefix of the per-ingestion work folders in the scratch folder. */
const WORK_DIR_PREFIX = 'ingest-';
/** Lambda's longest invocation: a work folder older than this belongs to no running ingestion. */
const MAX_INVOCATION_MS = 15 * 60_000;

/**
 * Removes work folders left by invocations that were killed (timeout, out of memory) before
 * their own clean-up ran: on a reused container they would eat the disk the next file needs.
 */
export async function removeAbandonedWorkDirs(scratchDir: string, nowMs: number): Promise<void> {
  const entries = await readdir(scratchDir, { withFileTypes: true });
  await Promise.all(
    entries
      .filter((entry) => entry.isDirectory() && entry.name.startsWith(WORK_DIR_PREFIX))
      .map(async (entry) => {
        const path = join(scratchDir, entry.name);
        const { birthtimeMs, ctimeMs } = await stat(path);
        const created = birthtimeMs > 0 ? birthtimeMs : ctimeMs;
        if (nowMs - created > MAX_INVOCATION_MS) await rm(path, { recursive: true, force: true });
      }),
  );
}

const gib = (bytes: number) => (bytes / 1024 ** 3).toFixed(2);
