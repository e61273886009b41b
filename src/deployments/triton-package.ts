/**
 * A version's serving package for SageMaker: a Triton Inference Server model repository as
 * `model.tar.gz` — `<model>/config.pbtxt` (see `triton-config.ts`) and `<model>/1/model.onnx` —
 * under the version's key in the lake (`models/<model>/serving/v<version>/model.tar.gz`, which only
 * the `deployments` function writes and the SageMaker execution role reads). The artifact streams
 * from S3 through tar (`tar-stream`) and gzip to a file on the function's scratch disk, then to S3:
 * the model is never held in memory, and its bytes are checked against the version's sha256 on
 * the way. The archive is deterministic: the same version gives the same bytes.
 */
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { pack as tarPack, type Header, type Pack } from 'tar-stream';
import { callDependency } from '../aws/dependency-errors.js';
import { UnusableArtifactError } from '../errors.js';
import type { ModelVersion } from '../registry/types.js';
import { tritonModelConfig } from './triton-config.js';

const DEPENDENCY = 'model artifact store';
/** Largest object one S3 PutObject writes. */
export const MAX_PACKAGE_BYTES = 5 * 1024 ** 3;

/** Where a version's serving package is. */
export interface ServingPackage {
  readonly bucket: string;
  readonly key: string;
  /** `s3://bucket/key`, SageMaker's `ModelDataUrl`. */
  readonly uri: string;
  /** The Triton model name (`SAGEMAKER_TRITON_DEFAULT_MODEL_NAME`): the registry's model name. */
  readonly tritonModelName: string;
}

/** What packaging needs. */
export interface PackagerDeps {
  readonly s3: S3Client;
  /** The lake bucket, where artifacts are and packages go. */
  readonly lakeBucket: string;
  /** Where the package is staged (Lambda's /tmp; it needs the package's size free). */
  readonly scratchDir: string;
}

/** The key of a version's serving package (under `models/<model>/serving/`). */
export const servingPackageKey = (model: string, version: number): string => `models/${model}/serving/v${version}/model.tar.gz`;

const isMissing = (error: unknown): boolean => {
  const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e.name === 'NotFound' || e.name === 'NoSuchKey' || e.name === 'NoSuchVersion' || e.$metadata?.httpStatusCode === 404;
};

/** Passes `chunks` through, failing at the end when their sha256 is not `expected`. */
async function* checkedSha256(chunks: AsyncIterable<Uint8Array>, expected: string, what: string): AsyncGenerator<Uint8Array> {
  const hash = createHash('sha256');
  for await (const chunk of chunks) {
    hash.update(chunk);
    yield chunk;
  }
  const actual = hash.digest('hex');
  if (actual !== expected) throw new UnusableArtifactError(`${what} hashes to ${actual}, not the ${expected} the version recorded`);
}

/** Where a version's serving package is (whether or not it was written yet). */
export function servingPackageOf(deps: Pick<PackagerDeps, 'lakeBucket'>, version: ModelVersion): ServingPackage {
  const key = servingPackageKey(version.model, version.version);
  return { bucket: deps.lakeBucket, key, uri: `s3://${deps.lakeBucket}/${key}`, tritonModelName: version.model };
}

/**
 * Writes the version's serving package. A missing or changed artifact is an
 * {@link UnusableArtifactError}; an S3 outage a `DependencyUnavailableError`.
 */
export async function writeServingPackage(deps: PackagerDeps, version: ModelVersion): Promise<ServingPackage> {
  const written = servingPackageOf(deps, version);
  await writePackageObject(deps, version, written.key);
  return written;
}

/** A file of the archive: `size` bytes read from `body`. */
interface PackageFile {
  readonly path: string;
  readonly size: number;
  readonly body: AsyncIterable<Uint8Array> | Buffer;
}

/** The header of a file: fixed mode, owner and time, so that a version's package has the same bytes each time it is written. */
const fileHeader = (file: PackageFile, mtime: Date): Omit<Header, 'linkname' | 'devmajor' | 'devminor'> => ({ name: file.path, type: 'file', size: file.size, mode: 0o644, uid: 0, gid: 0, uname: 'root', gname: 'root', mtime });

/** Writes `files` into `archive` in order, each streamed as it is read, then ends the archive (or destroys it with the first error). */
async function packFiles(archive: Pack, files: readonly PackageFile[], mtime: Date): Promise<void> {
  try {
    for (const file of files) await pipeline(Readable.from(file.body), archive.entry(fileHeader(file, mtime)));
    archive.finalize();
  } catch (error) {
    archive.destroy(error as Error);
    throw error;
  }
}

/** Streams the artifact through tar and gzip to the scratch disk, then uploads the file to `key`. */
async function writePackageObject(deps: PackagerDeps, version: ModelVersion, key: string): Promise<void> {
  const { artifact } = version;
  const what = `the artifact of version ${version.version} of model '${version.model}'`;
  let object;
  try {
    object = await callDependency(DEPENDENCY, () =>
      deps.s3.send(new GetObjectCommand({ Bucket: artifact.bucket, Key: artifact.key, ...(artifact.versionId === undefined ? {} : { VersionId: artifact.versionId }) })),
    );
  } catch (error) {
    if (isMissing(error)) throw new UnusableArtifactError(`${what} is gone from the lake`, error);
    throw error;
  }
  if (object.Body === undefined) throw new UnusableArtifactError(`${what} is gone from the lake`);
  const name = version.model;
  const config = Buffer.from(tritonModelConfig(name, version.signature));
  const files: readonly PackageFile[] = [
    { path: `${name}/config.pbtxt`, size: config.byteLength, body: config },
    { path: `${name}/1/model.onnx`, size: object.ContentLength ?? artifact.sizeBytes, body: checkedSha256(object.Body as Readable, artifact.sha256, what) },
  ];
  // Deterministic bytes: the entries carry the version's registration time (whole seconds), gzip no timestamp.
  const mtime = new Date(version.createdAt);
  await mkdir(deps.scratchDir, { recursive: true });
  const file = join(deps.scratchDir, `serving-package-${randomUUID()}.tar.gz`);
  try {
    const archive = tarPack();
    const [packed, written] = await Promise.allSettled([packFiles(archive, files, mtime), pipeline(archive, createGzip(), createWriteStream(file))]);
    // The disk's error when writing failed (packing then stops too), else the artifact's.
    if (written.status === 'rejected') throw written.reason;
    if (packed.status === 'rejected') throw packed.reason;
    const bytes = (await stat(file)).size;
    if (bytes > MAX_PACKAGE_BYTES) throw new UnusableArtifactError(`the serving package of ${what} is ${bytes} bytes, over the ${MAX_PACKAGE_BYTES} one upload takes`);
    await callDependency(DEPENDENCY, () =>
      deps.s3.send(new PutObjectCommand({ Bucket: deps.lakeBucket, Key: key, Body: createReadStream(file), ContentLength: bytes, ContentType: 'application/gzip' })),
    );
  } finally {
    await rm(file, { force: true });
  }
}
