/** KServe v2 tensor datatypes. */
export type V2Datatype =
  | 'BOOL'
  | 'UINT8'
  | 'UINT16'
  | 'UINT32'
  | 'UINT64'
  | 'INT8'
  | 'INT16'
  | 'INT32'
  | 'INT64'
  | 'FP16'
  | 'FP32'
  | 'FP64'
  | 'BYTES';

/**
 * One input or output of a model, as read from its ONNX file. `-1` marks a dynamic dimension;
 * `shape` is left out when the model does not declare the tensor's rank (`[]` is a scalar).
 */
export interface TensorSpec {
  readonly name: string;
  readonly datatype: V2Datatype;
  readonly shape?: readonly number[];
}

/** The input/output signature of a model version. */
export interface ModelSignature {
  readonly inputs: readonly TensorSpec[];
  readonly outputs: readonly TensorSpec[];
}

/** A registered model: the named container of versions and aliases. */
export interface ModelRecord {
  readonly name: string;
  readonly description: string;
  /** Alias used when a request names no version. */
  readonly defaultAlias: string;
  readonly tags: Readonly<Record<string, string>>;
  readonly createdAt: string;
  readonly updatedAt: string;
}

/** Where a version's artifact lives and what it must hash to. */
export interface ArtifactRef {
  /** `s3://bucket/key` */
  readonly uri: string;
  readonly bucket: string;
  readonly key: string;
  /** S3 object version, when the bucket is versioned: pins the exact bytes. */
  readonly versionId?: string;
  readonly sha256: string;
  readonly sizeBytes: number;
  /** The URI the version was registered from, when registration copied its bytes to `uri`. */
  readonly registeredFrom?: string;
}

/**
 * Lifecycle of a version: registered versions (which validated) start PENDING; a reviewer
 * APPROVES or REJECTS them; ARCHIVED versions are no longer served. PENDING → APPROVED |
 * REJECTED | ARCHIVED, APPROVED → ARCHIVED, REJECTED → ARCHIVED.
 */
export type VersionStatus = 'PENDING' | 'APPROVED' | 'REJECTED' | 'ARCHIVED';

/** The statuses each status may move to. */
export const VERSION_TRANSITIONS: Readonly<Record<VersionStatus, readonly VersionStatus[]>> = {
  PENDING: ['APPROVED', 'REJECTED', 'ARCHIVED'],
  APPROVED: ['ARCHIVED'],
  REJECTED: ['ARCHIVED'],
  ARCHIVED: [],
};

/** SageMaker's serverless (CPU) mode for a version: no instances to manage, scales to zero, no GPU. */
export interface ServerlessSpec {
  /** Memory per concurrent invocation, 1024–6144 MB in 1024 MB steps. */
  readonly memorySizeMb: number;
  /** Concurrent invocations at most, 1–200. */
  readonly maxConcurrency: number;
}

/**
 * How a SageMaker-backed version is deployed: an instance type and an instance range, or
 * SageMaker's serverless mode (which has no instances). `minInstances: 0` scales to zero (through
 * an inference component, woken by its first requests).
 */
export type SageMakerDeploymentSpec =
  | {
      /** SageMaker instance type, e.g. `ml.g5.xlarge` (the default: one NVIDIA A10G GPU). */
      readonly instanceType: string;
      readonly minInstances: number;
      readonly maxInstances: number;
      readonly serverless?: undefined;
    }
  | {
      /** Serverless (CPU) mode instead of instances. */
      readonly serverless: ServerlessSpec;
      readonly instanceType?: undefined;
      readonly minInstances?: undefined;
      readonly maxInstances?: undefined;
    };

/**
 * What serves a version: the predict function (ONNX Runtime in its layer, the default) or a
 * SageMaker endpoint the platform deploys (Triton Inference Server, OIP v2 end to end).
 */
export type ServingBackend = { readonly kind: 'lambda' } | SageMakerBackend;

/** A version's SageMaker backend. */
export type SageMakerBackend = { readonly kind: 'sagemaker' } & SageMakerDeploymentSpec;

/**
 * Where a SageMaker-backed version's deployment is: DEPLOYING → IN_SERVICE | FAILED; archiving
 * (or deleting the deployment) moves it to DELETING → DELETED, so nothing keeps billing.
 */
export type DeploymentState = 'DEPLOYING' | 'IN_SERVICE' | 'FAILED' | 'DELETING' | 'DELETED';

/** A SageMaker-backed version's deployment, as the platform last saw it. */
export interface Deployment {
  readonly state: DeploymentState;
  /** The SageMaker endpoint that serves the version. */
  readonly endpointName: string;
  /** The inference component on that endpoint, when the version can scale to zero. */
  readonly inferenceComponentName?: string;
  /** Why the deployment FAILED (SageMaker's failure reason), or what it is waiting for. */
  readonly reason?: string;
  /** DELETING only: deploy again once everything is deleted (a redeploy of a FAILED deployment). */
  readonly redeploy?: boolean;
  /** DELETING only: why the deployment failed; once what it created is deleted it is FAILED again with this reason. */
  readonly failure?: string;
  readonly updatedAt: string;
}

/** The SageMaker names of a version's deployment (`src/deployments/names.ts` makes them). */
export type DeploymentNames = Pick<Deployment, 'endpointName' | 'inferenceComponentName'>;

/** Names a version's SageMaker resources: a function of the model, the version number and its backend. */
export type DeploymentNamer = (model: string, version: number, backend: SageMakerBackend) => DeploymentNames;

/** An immutable, numbered model version. */
export interface ModelVersion {
  readonly model: string;
  readonly version: number;
  readonly framework: 'onnx';
  readonly artifact: ArtifactRef;
  readonly signature: ModelSignature;
  readonly description: string;
  readonly tags: Readonly<Record<string, string>>;
  /** Evaluation metrics (filled by training; empty for uploaded models). */
  readonly metrics: Readonly<Record<string, number>>;
  /** Provenance: dataset and version, training job, parameters, code version. */
  readonly lineage: Readonly<Record<string, string>>;
  readonly status: VersionStatus;
  /** Who last changed the status, when and why (absent while it is the registration's PENDING). */
  readonly statusChange?: { readonly by: string; readonly at: string; readonly reason: string };
  /** What serves the version. @default - `{ kind: 'lambda' }`: the predict function */
  readonly backend?: ServingBackend;
  /** The SageMaker deployment of a SageMaker-backed version (absent for the Lambda backend). */
  readonly deployment?: Deployment;
  readonly createdAt: string;
}

/** One target of an alias: a version and its share of traffic (weights sum to 100). */
export interface AliasRoute {
  readonly version: number;
  readonly weight: number;
}

/** A version that gets a sampled copy of an alias's requests, answered in the background and never returned. */
export interface AliasShadow {
  readonly version: number;
  /** Share of the alias's requests copied to the shadow version (1–100). */
  readonly percent: number;
}

/**
 * A mutable named pointer to versions: one route, or a weighted split. `revision` drives
 * optimistic concurrency (If-Match) and numbers the alias's ledger entries.
 */
export interface AliasRecord {
  readonly model: string;
  readonly alias: string;
  readonly routes: readonly AliasRoute[];
  readonly revision: number;
  readonly updatedAt: string;
  readonly updatedBy: string;
  readonly reason: string;
  /** Whether the alias may only route to APPROVED versions. */
  readonly requireApproved?: boolean;
  /** The shadow version, if any. */
  readonly shadow?: AliasShadow;
  /**
   * What answers while a route's backend cannot (its circuit breaker open, its SageMaker endpoint
   * not in service): a version of the same model, or another of its aliases. Typically a CPU
   * (Lambda-backed) version of the same model family.
   */
  readonly fallback?: AliasFallback;
}

/** An alias's fallback: a version number or an alias of the same model. */
export type AliasFallback = { readonly version: number } | { readonly alias: string };

/** The model loads, but uses a tensor the platform cannot serve (what a model inspector throws at registration). */
export class UnsupportedTensorError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnsupportedTensorError';
  }
}
