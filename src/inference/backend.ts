/**
 * What answers a resolved version: a backend. The predict function serves a version in one of
 * two ways, behind this one interface: ONNX Runtime in its own container (`onnx-backend.ts`, the
 * default) or a SageMaker endpoint the platform deployed (`sagemaker-backend.ts`). The protocols
 * (v2 `infer`, v1 `predict`, metadata, readiness) only see a {@link ServedModel}, so a caller
 * cannot tell the backends apart except by the version and the `x-model-backend` header.
 */
import { ModelVersionUnavailableError } from '../errors.js';
import type { ModelVersion, TensorSpec } from '../registry/types.js';
import type { V2TensorInput, V2TensorOutput } from './tensors.js';

/** Which backend serves a version: the predict function (`lambda`) or a SageMaker endpoint. */
export type BackendKind = 'lambda' | 'sagemaker';

/** The backend of a version (`lambda` when it names none). */
export const backendKindOf = (version: ModelVersion): BackendKind => version.backend?.kind ?? 'lambda';

/** What a request is checked against before it runs: the version's inputs and outputs as served. */
export interface ServedSignature {
  /** Input specs by name. */
  readonly inputs: ReadonlyMap<string, TensorSpec>;
  readonly outputs: readonly TensorSpec[];
  /** Names of the symbolic dimensions of each input, where the backend knows them (inputs that share one must agree). */
  readonly dimensionNames: ReadonlyMap<string, readonly (string | undefined)[]>;
  /** Inputs whose `null` elements the model handles (its declared missing-value handling). */
  readonly missingValueInputs: ReadonlySet<string>;
}

/** A version ready to answer, whatever serves it. */
export interface ServedModel extends ServedSignature {
  readonly version: ModelVersion;
  readonly backend: BackendKind;
  /**
   * Checks request tensors against the signature and runs them: `outputNames` selects outputs
   * (all by default). Refusals are invalid requests naming the input or output.
   */
  run(inputs: readonly V2TensorInput[], outputNames?: readonly string[]): Promise<V2TensorOutput[]>;
}

/** Serves versions of one kind. */
export interface Backend {
  /**
   * The version ready to answer: loaded (ONNX) or with its endpoint in service and its circuit
   * closed (SageMaker). Throws when it cannot answer now (`BackendUnavailableError` for a
   * SageMaker version that is not ready).
   */
  open(version: ModelVersion): Promise<ServedModel>;
}

/** Sends each version to the backend of its kind. */
export class ServingBackends implements Backend {
  /** @param byKind - The backends; without `sagemaker`, SageMaker-backed versions cannot be served here (tools, benchmarks). */
  constructor(private readonly byKind: { readonly lambda: Backend; readonly sagemaker?: Backend }) {}

  async open(version: ModelVersion): Promise<ServedModel> {
    const backend = this.byKind[backendKindOf(version)];
    if (backend === undefined) throw new ModelVersionUnavailableError(version.model, version.version, `no ${backendKindOf(version)} backend is configured here`);
    return backend.open(version);
  }
}
