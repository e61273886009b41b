import { GetObjectCommand, NoSuchKey, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { createHash } from 'node:crypto';
import { clip } from '../errors.js';
import { callDependency, isRejectedRequestAwsError } from './dependency-errors.js';

/** How failures of the artifact store are named in 503s. */
const DEPENDENCY = 'model artifact store';

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

/** S3 refused the request for an object as one that can never succeed (e.g. its key). */
export class ArtifactRequestRejectedError extends Error {
  constructor(
    readonly location: S3Location,
    cause: unknown,
  ) {
    super(`the lake refused the request for s3://${location.bucket}/${clip(location.key)}: ${(cause as Error).name}`, { cause });
    this.name = 'ArtifactRequestRejectedError';
  }
}

/** An object's bytes and identity. */
export interface FetchedArtifact {
  readonly bytes: Uint8Array;
  readonly versionId?: string;
}

/** Hex sha256 of bytes. */
/** Issues a presigned PUT URL for an object key in the lake. */
export type UploadSigner = (key: string, expiresInSeconds: number) => Promise<string>;

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Parses `s3://bucket/key`. */
export function parseS3Uri(uri: string): S3Location | undefined {
  const match = /^s3:\/\/([^/]+)\/(.+)$/.exec(uri);
  return match === null ? undefined : { bucket: match[1]!, key: match[2]! };
}

/**
 * Reads and writes model artifacts in S3. Transient failures become 503s naming the artifact
 * store; an object that is not there is an {@link ArtifactNotFoundError}, and a request S3
 * refuses as it stands (a key too long, say) an {@link ArtifactRequestRejectedError}.
 */
export class ArtifactStore {
  constructor(private readonly s3: S3Client) {}

  /** Downloads an object whole (model artifacts are bounded by the Lambda's memory). */
  async fetch(location: S3Location): Promise<FetchedArtifact> {
    try {
      return await callDependency(DEPENDENCY, async () => {
        const result = await this.s3.send(
          new GetObjectCommand({ Bucket: location.bucket, Key: location.key, VersionId: location.versionId }),
        );
        if (result.Body === undefined) throw new ArtifactNotFoundError(location);
        const bytes = await result.Body.transformToByteArray();
        return result.VersionId === undefined ? { bytes } : { bytes, versionId: result.VersionId };
      });
    } catch (error) {
      const name = (error as { name?: string }).name;
      const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      if (error instanceof NoSuchKey || name === 'NoSuchKey' || name === 'NoSuchVersion' || name === 'NotFound' || status === 404) {
        throw new ArtifactNotFoundError(location);
      }
      throw this.rejectedOr(location, error);
    }
  }

  /** Writes an object; returns its S3 version (in a versioned bucket), which pins these bytes. */
  async put(location: S3Location, bytes: Uint8Array): Promise<{ readonly versionId?: string }> {
    try {
      const result = await callDependency(DEPENDENCY, () =>
        this.s3.send(new PutObjectCommand({ Bucket: location.bucket, Key: location.key, Body: bytes, ContentType: 'application/octet-stream' })),
      );
      return result.VersionId === undefined ? {} : { versionId: result.VersionId };
    } catch (error) {
      throw this.rejectedOr(location, error);
    }
  }

  private rejectedOr(location: S3Location, error: unknown): unknown {
    return isRejectedRequestAwsError(error) ? new ArtifactRequestRejectedError(location, error) : error;
  }
}
