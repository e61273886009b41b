/**
 * Model archives: `model.tar.gz` at a model's `ModelDataUrl`, read from the local S3 emulator and
 * extracted (with the system's `tar`) into a folder, as SageMaker extracts it into
 * `/opt/ml/model`. Failures carry SageMaker's endpoint failure reasons.
 */
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { execFile } from 'node:child_process';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { promisify } from 'node:util';

const run = promisify(execFile);

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

/** Downloads and extracts the archive at `modelDataUrl` into `into` (replacing what was there). */
export async function extractModelArchive(s3: S3Client, modelDataUrl: string, into: string): Promise<void> {
  const location = parseS3Url(modelDataUrl);
  if (location === undefined) throw new ModelArchiveError(`Could not parse the model data URL "${modelDataUrl}": expected s3://<bucket>/<key>.`);
  let bytes: Uint8Array;
  try {
    const object = await s3.send(new GetObjectCommand({ Bucket: location.bucket, Key: location.key }));
    bytes = await object.Body!.transformToByteArray();
  } catch (error) {
    const name = (error as { name?: string }).name;
    if (name !== 'NoSuchKey' && name !== 'NoSuchBucket' && name !== 'NotFound') throw error;
    throw new ModelArchiveError(
      `Failed to download model data(bucket: ${location.bucket}, key: ${location.key}). Please ensure that there is an object located at the URL and that the role passed to CreateModel has permissions to download the model.`,
    );
  }
  await rm(into, { recursive: true, force: true });
  await mkdir(into, { recursive: true });
  const archive = `${into}.tar.gz`;
  await writeFile(archive, bytes);
  try {
    await run('tar', ['-xzf', archive, '-C', into, '--no-same-owner']);
  } catch {
    throw new ModelArchiveError(`Failed to extract model data archive from URL "${modelDataUrl}". Please ensure that the model data is a valid tar.gz archive.`);
  } finally {
    await rm(archive, { force: true });
  }
}
