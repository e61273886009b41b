import { randomUUID } from 'node:crypto';
import { ArtifactNotFoundError, ArtifactRequestRejectedError, parseS3Uri, sha256Hex, type ArtifactStore } from '../aws/artifact-store.js';
import { objectKeyProblem } from '../aws/object-keys.js';
import { InvalidRequestError, quote, UnusableArtifactError } from '../errors.js';
import { externalDataTensors, NotAnOnnxModelError } from './external-data.js';
import type { ModelRegistry } from './registry.js';
import { UnsupportedTensorError, type DeploymentNamer, type ModelSignature, type ModelVersion, type ServingBackend } from './types.js';

/** Reads the signature of model bytes, throwing if they do not load. */
export type ModelInspector = (bytes: Uint8Array) => Promise<ModelSignature>;

/** What registering a version needs. */
export interface RegisterVersionDeps {
  readonly registry: ModelRegistry;
  readonly artifacts: ArtifactStore;
  /** Artifacts must live in the lake bucket (the only bucket the platform may read). */
  readonly lakeBucket: string;
  readonly inspect: ModelInspector;
  /**
   * Names the SageMaker resources of versions registered on the SageMaker backend.
   *
   * @default - none: the SageMaker backend is refused (the platform has no SageMaker settings)
   */
  readonly nameDeployment?: DeploymentNamer;
}

/** A request to register an artifact as the next version of a model. */
export interface RegisterVersionRequest {
  /** `s3://<lake bucket>/models/<model>/<key>` */
  readonly artifactUri: string;
  /** When given, the artifact must hash to it. */
  readonly sha256?: string;
  readonly description?: string;
  readonly tags?: Readonly<Record<string, string>>;
  readonly metrics?: Readonly<Record<string, number>>;
  readonly lineage?: Readonly<Record<string, string>>;
  /** What serves the version. @default - the predict function */
  readonly backend?: ServingBackend;
}

/** A model's own area of the lake: its uploads, what training writes for it, and its registered artifacts. */
export const modelArea = (model: string): string => `models/${model}/`;

/**
 * Where registration keeps a version's artifact: a key of the registry's own, written once with
 * the bytes that were validated. No upload URL targets it, so the version's bytes never change.
 */
export const registeredArtifactKey = (model: string): string => `${modelArea(model)}versions/${randomUUID()}.onnx`;

/**
 * Registers a version only after validating its artifact: it must be in the model's own area of
 * the lake, under a usable key, exist, match the expected sha256 when one is given, carry all its
 * tensors in the file, and load in onnxruntime. The validated bytes are then written to a key the
 * registry owns ({@link registeredArtifactKey}), which the version records (with the S3 object
 * version, in AWS), so later uploads to the source key never change what the version serves.
 * Nothing is written to the registry when any check fails.
 */
export async function registerVersion(deps: RegisterVersionDeps, model: string, request: RegisterVersionRequest): Promise<ModelVersion> {
  const location = parseS3Uri(request.artifactUri);
  if (location === undefined) throw new InvalidRequestError(`artifactUri ${quote(request.artifactUri)} is not an s3://bucket/key URI`);
  if (location.bucket !== deps.lakeBucket) {
    throw new InvalidRequestError(`artifactUri must be in the lake bucket '${deps.lakeBucket}', got ${quote(location.bucket)}`);
  }
  const keyProblem = objectKeyProblem(location.key);
  if (keyProblem !== undefined) throw new InvalidRequestError(`artifactUri ${quote(request.artifactUri)}: the key ${keyProblem}`);
  if (!location.key.startsWith(modelArea(model))) {
    throw new InvalidRequestError(
      `artifactUri must be in model '${model}''s own area of the lake, s3://${deps.lakeBucket}/${modelArea(model)}… (upload with POST /models/${model}/uploads), got ${quote(request.artifactUri)}`,
    );
  }
  // Checked now (the lake, the model's own area, a usable key of at most 1,024 bytes), often the
  // upload key the platform generated: quoted whole so the object can be found (the 64-character
  // clip of `quote` is for values not checked yet).
  const artifact = `'${request.artifactUri}'`;
  await deps.registry.getModel(model);

  let fetched;
  try {
    fetched = await deps.artifacts.fetch(location);
  } catch (error) {
    if (error instanceof ArtifactNotFoundError) throw new InvalidRequestError(`artifact not found: ${artifact}`);
    if (error instanceof ArtifactRequestRejectedError) throw new InvalidRequestError(error.message, error);
    throw error;
  }
  const sha256 = sha256Hex(fetched.bytes);
  if (request.sha256 !== undefined && request.sha256.toLowerCase() !== sha256) {
    throw new InvalidRequestError(`artifact sha256 is ${sha256}, not the expected ${request.sha256}`);
  }
  const signature = await validatedSignature(deps, artifact, fetched.bytes);
  if (request.backend?.kind === 'sagemaker') assertDeclaresShapes(artifact, signature);
  const key = registeredArtifactKey(model);
  const stored = await deps.artifacts.put({ bucket: deps.lakeBucket, key }, fetched.bytes);
  return deps.registry.registerVersion({
    model,
    framework: 'onnx',
    artifact: {
      uri: `s3://${deps.lakeBucket}/${key}`,
      bucket: deps.lakeBucket,
      key,
      ...(stored.versionId === undefined ? {} : { versionId: stored.versionId }),
      sha256,
      sizeBytes: fetched.bytes.byteLength,
      registeredFrom: request.artifactUri,
    },
    signature,
    description: request.description ?? '',
    tags: request.tags ?? {},
    metrics: request.metrics ?? {},
    lineage: request.lineage ?? {},
    ...(request.backend === undefined || request.backend.kind === 'lambda' ? {} : { backend: request.backend }),
  }, deps.nameDeployment);
}

/**
 * On SageMaker, Triton is given the model's configuration (its tensors' datatypes and dimensions):
 * every tensor must declare its rank (422 otherwise, naming it).
 */
function assertDeclaresShapes(artifact: string, signature: ModelSignature): void {
  const undeclared = [...signature.inputs.map((t) => ['input', t] as const), ...signature.outputs.map((t) => ['output', t] as const)].find(([, t]) => t.shape === undefined);
  if (undeclared !== undefined) {
    throw new UnusableArtifactError(
      `artifact ${artifact} cannot be served on the SageMaker backend: ${undeclared[0]} '${undeclared[1].name}' does not declare its shape, which Triton needs (serve it on the lambda backend, or export it with shapes)`,
    );
  }
}

/** The signature of model bytes the platform can serve: self-contained (no external data) and loadable; UnusableArtifactError otherwise, naming the `artifact` (quoted). */
async function validatedSignature(deps: RegisterVersionDeps, artifact: string, bytes: Uint8Array): Promise<ModelSignature> {
  let external;
  try {
    external = externalDataTensors(bytes);
  } catch (error) {
    if (!(error instanceof NotAnOnnxModelError)) throw error;
    throw new UnusableArtifactError(`artifact ${artifact} is not an ONNX model: ${error.message}`, error.cause);
  }
  if (external.length > 0) {
    const named = external.slice(0, 3).map((t) => `'${t.name}' in '${t.location}'`).join(', ');
    throw new UnusableArtifactError(
      `artifact ${artifact} keeps ${external.length} tensor(s) as external data (${named}${external.length > 3 ? ', …' : ''}); the platform serves a model from its one file: save it with its weights inside (onnx.save_model(model, path, save_as_external_data=False))`,
    );
  }
  try {
    return await deps.inspect(bytes);
  } catch (error) {
    const problem = error instanceof UnsupportedTensorError ? 'cannot be served' : 'is not a loadable ONNX model';
    throw new UnusableArtifactError(`artifact ${artifact} ${problem}: ${(error as Error).message}`, error);
  }
}
