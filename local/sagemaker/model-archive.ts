/**
 * Model archives: `model.tar.gz` at a model's `ModelDataUrl`, streamed from the local S3 emulator
 * through gunzip and `tar-stream` into a folder, as SageMaker extracts it into `/opt/ml/model`.
 * Only files and folders inside that folder are extracted: an entry with an absolute path or a
 * `..` step, or a link or device, fails the archive. Failures carry SageMaker's endpoint failure
 * reasons.
 */
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { dirname, isAbsolute, join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { extract as tarExtract, type Header } from 'tar-stream';

/** The archive cannot be used: its text is the endpoint's `FailureReason`. */
export class ModelArchiveError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ModelArchiveError';
  }
}

/** The bucket and key of an `s3://bucket/key` URL, or `undefined` when it is not one. */
export function parseS3Url(url: string): { readonly bucket: string; readonly key: string } | undefined {
  const match = /^s3:\/\/([^/]+)\/(.+)$/.exec(url);
  return match === null ? undefined : { bucket: match[1]!, key: match[2]! };
}

/** Whether an entry's path stays inside the folder it is extracted into. */
const staysInside = (path: string): boolean => !isAbsolute(path) && !path.split(/[/\\]/).includes('..');

/** Writes one entry under `into`; `false` when the archive holds what is refused (a path leaving `into`, a link, a device). */
async function extractEntry(header: Header, body: AsyncIterable<unknown> & { resume(): unknown }, into: string): Promise<boolean> {
  if (!staysInside(header.name)) return false;
  const path = join(into, header.name);
  if (header.type === 'directory') {
    await mkdir(path, { recursive: true });
    body.resume();
    return true;
  }
  if (header.type !== 'file' && header.type !== 'contiguous-file') return false;
  await mkdir(dirname(path), { recursive: true });
  await pipeline(body, createWriteStream(path));
  return true;
}

/** Extracts a tar.gz stream into `into`; rejects with `refused` for an entry it does not extract. */
async function extractArchive(archive: Readable, into: string, refused: () => Error): Promise<void> {
  const entries = tarExtract();
  entries.on('entry', (header, body, next) => {
    extractEntry(header, body, into).then((extracted) => next(extracted ? null : refused()), next);
  });
  await pipeline(archive, createGunzip(), entries);
}

/** Downloads and extracts the archive at `modelDataUrl` into `into` (replacing what was there). */
export async function extractModelArchive(s3: S3Client, modelDataUrl: string, into: string): Promise<void> {
  const location = parseS3Url(modelDataUrl);
  if (location === undefined) throw new ModelArchiveError(`Could not parse the model data URL "${modelDataUrl}": expected s3://<bucket>/<key>.`);
  let archive: Readable;
  try {
    archive = (await s3.send(new GetObjectCommand({ Bucket: location.bucket, Key: location.key }))).Body as Readable;
  } catch (error) {
    const name = (error as { name?: string }).name;
    if (name !== 'NoSuchKey' && name !== 'NoSuchBucket' && name !== 'NotFound') throw error;
    throw new ModelArchiveError(
      `Failed to download model data(bucket: ${location.bucket}, key: ${location.key}). Please ensure that there is an object located at the URL and that the role passed to CreateModel has permissions to download the model.`,
    );
  }
  const invalid = () => new ModelArchiveError(`Failed to extract model data archive from URL "${modelDataUrl}". Please ensure that the model data is a valid tar.gz archive.`);
  await rm(into, { recursive: true, force: true });
  await mkdir(into, { recursive: true });
  try {
    await extractArchive(archive, into, invalid);
  } catch (error) {
    // The machine's failures (disk, network) carry the system call that failed; the others are the archive's (gzip, tar, refused entries).
    if (error instanceof ModelArchiveError || (error as { syscall?: string }).syscall !== undefined) throw error;
    throw invalid();
  }
}
