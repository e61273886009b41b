import { ArtifactNotFoundError, parseS3Uri, sha256Hex, type ArtifactStore } from '../aws/artifact-store.js';
import { BadRequestError, quote, UnprocessableError } from '../http/errors.js';
import { UnsupportedTensorError } from '../inference/datatypes.js';
import type { ModelRegistry } from './registry.js';
import type { ModelSignature, ModelVersion } from './types.js';

/** Reads the signature of model bytes, throwing if they do not load. */
export type ModelInspector = (bytes: Uint8Array) => Promise<ModelSignature>;

/** What registering a version needs. */
export interface RegisterVersionDeps {
  readonly registry: ModelRegistry;
  readonly artifacts: ArtifactStore;
  /** Artifacts must live in the lake bucket (the only bucket the platform may read). */
  readonly lakeBucket: string;
  readonly inspect: ModelInspector;
}

/** A request to register an artifact as the next version of a model. */
export interface RegisterVersionRequest {
  /** `s3://<lake bucket>/<key>` */
  readonly artifactUri: string;
  /** When given, the artifact must hash to it. */
  readonly sha256?: string;
  readonly description?: string;
  readonly tags?: Readonly<Record<string, string>>;
  readonly metrics?: Readonly<Record<string, number>>;
  readonly lineage?: Readonly<Record<string, string>>;
}

/**
 * Registers a version only after validating its artifact: it must be in the lake,
 * exist, match the expected sha256 when one is given, and load in onnxruntime.
 * Nothing is written to the registry when any check fails.
 */
export async function registerVersion(deps: RegisterVersionDeps, model: string, request: RegisterVersionRequest): Promise<ModelVersion> {
  const location = parseS3Uri(request.artifactUri);
  if (location === undefined) throw new BadRequestError(`artifactUri ${quote(request.artifactUri)} is not an s3://bucket/key URI`);
  if (location.bucket !== deps.lakeBucket) {
    throw new BadRequestError(`artifactUri must be in the lake bucket '${deps.lakeBucket}', got ${quote(location.bucket)}`);
  }
  await deps.registry.getModel(model);

  let fetched;
  try {
    fetched = await deps.artifacts.fetch(location);
  } catch (error) {
    if (error instanceof ArtifactNotFoundError) throw new BadRequestError(`artifact not found: ${quote(request.artifactUri)}`);
    throw error;
  }
  const sha256 = sha256Hex(fetched.bytes);
  if (request.sha256 !== undefined && request.sha256.toLowerCase() !== sha256) {
    throw new BadRequestError(`artifact sha256 is ${sha256}, not the expected ${request.sha256}`);
  }
  let signature: ModelSignature;
  try {
    signature = await deps.inspect(fetched.bytes);
  } catch (error) {
    const problem = error instanceof UnsupportedTensorError ? 'cannot be served' : 'is not a loadable ONNX model';
    throw new UnprocessableError(`artifact ${quote(request.artifactUri)} ${problem}: ${(error as Error).message}`, error);
  }
  return deps.registry.registerVersion({
    model,
    framework: 'onnx',
    artifact: {
      uri: request.artifactUri,
      bucket: location.bucket,
      key: location.key,
      ...(fetched.versionId === undefined ? {} : { versionId: fetched.versionId }),
      sha256,
      sizeBytes: fetched.bytes.byteLength,
    },
    signature,
    description: request.description ?? '',
    tags: request.tags ?? {},
    metrics: request.metrics ?? {},
    lineage: request.lineage ?? {},
  });
}
