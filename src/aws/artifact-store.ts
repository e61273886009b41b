import { GetObjectCommand, NoSuchKey, type S3Client } from '@aws-sdk/client-s3';
import { createHash } from 'node:crypto';
import { callDependency } from './dependency-errors.js';

/** Where an object is. */
export interface S3Location {
  readonly bucket: string;
  readonly key: string;
  readonly versionId?: string;
}

/** The object does not exist (or the pinned version is gone). */
export class ArtifactNotFoundError extends Error {
  constructor(readonly location: S3Location) {
    super(`no object at s3://${location.bucket}/${location.key}`);
    this.name = 'ArtifactNotFoundError';
  }
}

/** An object's bytes and identity. */
export interface FetchedArtifact {
  readonly bytes: Uint8Array;
  readonly versionId?: string;
}

/** Hex sha256 of bytes. */
export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Parses `s3://bucket/key`. */
export function parseS3Uri(uri: string): S3Location | undefined {
  const match = /^s3:\/\/([^/]+)\/(.+)$/.exec(uri);
  return match === null ? undefined : { bucket: match[1]!, key: match[2]! };
}

/** Reads model artifacts from S3. Transient failures become 503s naming the artifact store. */
export class ArtifactStore {
  constructor(private readonly s3: S3Client) {}

  /** Downloads an object whole (model artifacts are bounded by the Lambda's memory). */
  async fetch(location: S3Location): Promise<FetchedArtifact> {
    try {
      return await callDependency('model artifact store', async () => {
        const result = await this.s3.send(
          new GetObjectCommand({ Bucket: location.bucket, Key: location.key, VersionId: location.versionId }),
        );
        if (result.Body === undefined) throw new ArtifactNotFoundError(location);
        const bytes = await result.Body.transformToByteArray();
        return result.VersionId === undefined ? { bytes } : { bytes, versionId: result.VersionId };
      });
    } catch (error) {
      const name = (error as { name?: string }).name;
      if (error instanceof NoSuchKey || name === 'NoSuchKey' || name === 'NoSuchVersion' || name === 'NotFound') {
        throw new ArtifactNotFoundError(location);
      }
      throw error;
    }
  }
}
