import type { InferenceSession } from 'onnxruntime-node';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ArtifactNotFoundError, sha256Hex, type ArtifactStore } from '../aws/artifact-store.js';
import { ModelVersionUnavailableError } from '../errors.js';
import type { ModelVersion, TensorSpec } from '../registry/types.js';
import { missingValueInputs, readOnnxMetadata } from './model-metadata.js';
import { createSession, dimensionNamesOf, signatureOf } from './onnx-session.js';

/** A model version ready to run: one session, created once per container. */
export interface LoadedModel {
  readonly version: ModelVersion;
  readonly session: InferenceSession;
  /** Input specs by name, as the session reports them. */
  readonly inputs: ReadonlyMap<string, TensorSpec>;
  readonly outputs: readonly TensorSpec[];
  /** Names of the symbolic dimensions of each input (`undefined` where a dimension is fixed or unnamed). */
  readonly dimensionNames: ReadonlyMap<string, readonly (string | undefined)[]>;
  /** Inputs whose `null` elements the model handles (its declared missing-value handling). */
  readonly missingValueInputs: ReadonlySet<string>;
}

/**
 * Loads model versions once per container: the artifact is fetched from S3 once,
 * its sha256 checked against the registry, cached in `cacheDir` (Lambda's /tmp)
 * and in memory as one `InferenceSession` per version. Concurrent requests for a
 * version share one load. A failed load is not cached, so the next request retries;
 * a version whose bytes no longer match fails alone, others keep serving.
 */
export class ModelLoader {
  private readonly loads = new Map<string, Promise<LoadedModel>>();

  constructor(
    private readonly artifacts: ArtifactStore,
    private readonly cacheDir: string,
    private readonly sessionOptions: InferenceSession.SessionOptions,
  ) {}

  /** Number of sessions held (loaded or loading). */
  get size(): number {
    return this.loads.size;
  }

  /** The loaded model of a version, loading it on first use. */
  load(version: ModelVersion): Promise<LoadedModel> {
    const key = `${version.model}@${version.version}`;
    let pending = this.loads.get(key);
    if (pending === undefined) {
      pending = this.loadUncached(version);
      this.loads.set(key, pending);
      pending.catch(() => this.loads.delete(key));
    }
    return pending;
  }

  private async loadUncached(version: ModelVersion): Promise<LoadedModel> {
    const { source, bytes } = await this.verifiedArtifact(version);
    // Read before the session exists: a version that fails here never creates (and leaks) one.
    let nullable: ReadonlySet<string>;
    try {
      nullable = missingValueInputs(readOnnxMetadata(bytes));
    } catch (error) {
      throw new ModelVersionUnavailableError(version.model, version.version, 'its metadata is invalid', error);
    }
    let session: InferenceSession;
    try {
      session = await createSession(source, this.sessionOptions);
    } catch (error) {
      throw new ModelVersionUnavailableError(version.model, version.version, 'the artifact no longer loads in onnxruntime', error);
    }
    const signature = signatureOf(session, bytes);
    return {
      version,
      session,
      inputs: new Map(signature.inputs.map((spec) => [spec.name, spec])),
      outputs: signature.outputs,
      dimensionNames: dimensionNamesOf(session),
      missingValueInputs: nullable,
    };
  }

  /**
   * The verified artifact's bytes, and what to create the session from: the path of a local
   * copy whose sha256 matches the registry (downloaded if needed), or the bytes when /tmp
   * cannot hold them.
   */
  private async verifiedArtifact(version: ModelVersion): Promise<{ source: string | Uint8Array; bytes: Uint8Array }> {
    const { artifact } = version;
    const path = join(this.cacheDir, `${artifact.sha256}.onnx`);
    const cached = await readFile(path).catch(() => undefined);
    if (cached !== undefined && sha256Hex(cached) === artifact.sha256) return { source: path, bytes: cached };

    let bytes: Uint8Array;
    try {
      ({ bytes } = await this.artifacts.fetch(artifact));
    } catch (error) {
      if (error instanceof ArtifactNotFoundError) {
        throw new ModelVersionUnavailableError(version.model, version.version, 'its artifact is missing', error);
      }
      throw error;
    }
    const actual = sha256Hex(bytes);
    if (actual !== artifact.sha256) {
      throw new ModelVersionUnavailableError(
        version.model,
        version.version,
        'artifact integrity check failed',
        new Error(`sha256 of ${artifact.uri} is ${actual}, registered ${artifact.sha256}`),
      );
    }
    return { source: (await this.cacheOnDisk(path, bytes)) ? path : bytes, bytes };
  }

  /** Writes a verified artifact to the disk cache; false (and no partial file) when the disk is full. */
  private async cacheOnDisk(path: string, bytes: Uint8Array): Promise<boolean> {
    const partial = `${path}.${process.pid}.${Date.now()}.partial`;
    try {
      await mkdir(this.cacheDir, { recursive: true });
      await writeFile(partial, bytes);
      await rename(partial, path);
      return true;
    } catch {
      await rm(partial, { force: true }).catch(() => undefined);
      return false;
    }
  }
}
