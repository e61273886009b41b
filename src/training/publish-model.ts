/**
 * Registers a trained model: its artifact goes to `models/<name>/<version>/<job>/model.onnx` and
 * the version records metrics, signature and lineage; the requested alias then moves to it.
 * The version number the job is about to take is written on the job just before it registers,
 * so a worker that dies in between is recognised by the next attempt, which finishes instead of
 * registering twice. That write is conditional on the worker's lease and renews it: a worker
 * whose lease was taken over registers nothing, and no other attempt can take the job over
 * between the write and the registration.
 */
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { sha256Hex } from '../aws/artifact-store.js';
import { callDependency } from '../aws/dependency-errors.js';
import { ConflictError, NotFoundError } from '../errors.js';
import type { ModelInspector } from '../registry/register-version.js';
import type { ModelRegistry } from '../registry/registry.js';
import type { ModelVersion } from '../registry/types.js';
import { TrainingFailedError } from '../ml/errors.js';
import type { JobStore } from './job-store.js';
import type { TrainingJob } from './types.js';

/** Attempts at taking the next version number when registrations race. */
const NUMBER_ATTEMPTS = 8;

/**
 * Key of a trained model's artifact: under its version, in a folder of the job that made it, so
 * two jobs racing for one version number never write the same key (the loser's upload would
 * otherwise replace the winner's bytes, and in AWS leave the winner's pinned object version to
 * the lake's noncurrent-version expiry).
 */
export const trainedModelKey = (job: Pick<TrainingJob, 'id' | 'spec'>, version: number): string =>
  `models/${job.spec.modelName}/${version}/${job.id.slice(job.id.lastIndexOf('~') + 1)}/model.onnx`;

/** What publishing needs. */
export interface PublishDeps {
  readonly registry: ModelRegistry;
  readonly jobs: JobStore;
  readonly s3: S3Client;
  readonly lakeBucket: string;
  readonly inspect: ModelInspector;
}

/** A trained model and what the version records about it. */
export interface TrainedArtifact {
  readonly onnx: Uint8Array;
  readonly metrics: Readonly<Record<string, number>>;
  readonly lineage: Readonly<Record<string, string>>;
  readonly description: string;
}

/** The version an earlier attempt of this job registered, if it got that far. */
export async function findPublishedVersion(registry: ModelRegistry, job: TrainingJob): Promise<ModelVersion | undefined> {
  if (job.registeringVersion === undefined) return undefined;
  try {
    const version = await registry.getVersion(job.spec.modelName, job.registeringVersion);
    return version.lineage.trainingJob === job.id ? version : undefined;
  } catch (error) {
    if (error instanceof NotFoundError) return undefined; // the attempt died before registering
    throw error;
  }
}

/** Uploads and registers the artifact as the model's next version (creating the model on its first version). */
export async function publishModel(deps: PublishDeps, job: TrainingJob, owner: string, artifact: TrainedArtifact): Promise<ModelVersion> {
  const { registry, jobs } = deps;
  const model = job.spec.modelName;
  let signature;
  try {
    signature = await deps.inspect(artifact.onnx);
  } catch (error) {
    throw new TrainingFailedError(`the exported model cannot be served: ${(error as Error).message}`, { ...artifact.metrics });
  }
  if ((await registry.findModel(model)) === undefined) {
    try {
      await registry.createModel({ name: model, description: `Trained on dataset '${job.spec.dataset}'`, tags: { createdBy: 'training' } });
    } catch (error) {
      if (!(error instanceof ConflictError)) throw error; // created concurrently
    }
  }
  const sha256 = sha256Hex(artifact.onnx);
  for (let attempt = 0; attempt < NUMBER_ATTEMPTS; attempt++) {
    const version = (await registry.latestVersionNumber(model)) + 1;
    const key = trainedModelKey(job, version);
    const put = await callDependency('lake', () =>
      deps.s3.send(new PutObjectCommand({ Bucket: deps.lakeBucket, Key: key, Body: artifact.onnx, ContentType: 'application/octet-stream' })),
    );
    await jobs.markRegistering(job.id, owner, version);
    const registered = await registry.registerVersionAs(
      {
        model,
        framework: 'onnx',
        artifact: {
          uri: `s3://${deps.lakeBucket}/${key}`,
          bucket: deps.lakeBucket,
          key,
          // Pins the bytes uploaded here, even if a racing job overwrites the key before losing the number.
          ...(put.VersionId === undefined ? {} : { versionId: put.VersionId }),
          sha256,
          sizeBytes: artifact.onnx.byteLength,
        },
        signature,
        description: artifact.description,
        tags: { algorithm: job.spec.algorithm, task: job.spec.task },
        metrics: artifact.metrics,
        lineage: artifact.lineage,
      },
      version,
    );
    if (registered !== undefined) return registered;
  }
  throw new ConflictError(`too many concurrent registrations for model '${model}'`);
}
