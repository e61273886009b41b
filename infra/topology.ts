/**
 * The one description of the platform's topology: functions, their routes and
 * triggers, the lake bucket, the registry table and the queues.
 *
 * Both the CDK stack (`infra/`) and the local cloud (`local/`) read this file,
 * so the deployed platform and the one on a laptop cannot drift apart.
 * It is plain data: no CDK or AWS SDK import may appear here.
 */

/** How a route is authenticated. `apiKey`: API Gateway API key + usage plan; `iam`: SigV4. */
export type RouteAuth = 'apiKey' | 'iam';

/** HTTP methods the platform uses. */
export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

/**
 * The methods a resource answers, as its `Allow` header lists them: its routes' methods, and HEAD
 * wherever GET is (HEAD is GET without the body, RFC 9110 §9.3.2), sorted.
 */
export function allowedMethods(methods: readonly string[]): string[] {
  return [...new Set(methods.flatMap((method) => (method === 'GET' ? ['GET', 'HEAD'] : [method])))].sort();
}

/** One API Gateway route, in REST API resource syntax (`/v2/models/{name}/infer`). */
export interface RouteSpec {
  readonly method: HttpMethod;
  readonly path: string;
  readonly auth: RouteAuth;
}

/** `ObjectCreated` notifications of lake objects whose key matches, sent by S3 to a queue. */
export interface LakeNotificationSpec {
  readonly prefix: string;
  readonly suffix?: string;
}

/** Lambda layers the platform builds: native Node.js modules for one platform each. */
export type LayerId = 'onnxruntime' | 'duckdb';

/** An SQS event source mapping. */
export interface QueueTriggerSpec {
  readonly queue: QueueId;
  readonly batchSize: number;
  /** Whether the handler returns `batchItemFailures` (partial batch responses). */
  readonly reportBatchItemFailures: boolean;
  /**
   * Most concurrent invocations the event source starts (SQS `MaximumConcurrency`, 2–1000):
   * a burst of messages cannot take the account's concurrency from the other functions
   * (predict first). Messages wait in the queue meanwhile. No concurrency is reserved for it.
   * The local cloud delivers one batch at a time.
   *
   * @default DEFAULT_MAX_CONCURRENCY
   */
  readonly maxConcurrency?: number;
}

/**
 * Objects of the lake a function reads or writes, as key patterns (`*` matches any characters,
 * `/` included, as in IAM). Each pattern starts with its zone (`raw/`, `curated/`, `rejected/`,
 * `models/`, `predictions/`, `shadow-requests/`: src/lake/zones.ts), so no grant covers the
 * whole bucket.
 */
export interface LakeAccess {
  /** Keys whose objects (any version) the function reads. */
  readonly read: readonly string[];
  /**
   * Keys the function writes (puts, including presigned upload URLs it signs; never deletes).
   *
   * @default - none
   */
  readonly write?: readonly string[];
}

/** Resources a function may touch; turned into least-privilege grants in AWS. */
export interface FunctionAccess {
  readonly registry?: 'read' | 'readWrite';
  readonly lake?: LakeAccess;
  readonly queues?: { readonly [K in QueueId]?: 'send' | 'consume' };
  /**
   * Serving telemetry (the predict function): add to per-version counters (registry items under
   * `STATS#` partition keys only) and write shadow copies (lake keys under `shadow-requests/` only).
   */
  readonly servingTelemetry?: 'write';
  /**
   * Shadow results (the shadow function): write comparison counts (registry items under `SHADOW#`
   * partition keys only) and side-by-side records (lake keys under `predictions/<model>/shadow/` only).
   */
  readonly shadowResults?: 'write';
}

/** Runs a function on a fixed schedule (EventBridge in AWS, a timer in the local cloud). */
export interface ScheduleSpec {
  /** Minutes between runs in AWS (EventBridge's smallest rate is one minute). */
  readonly everyMinutes: number;
}

/** One Lambda function of the platform. */
export interface FunctionSpec {
  /** Stable id: CDK construct id suffix and local-cloud name. Treated as a contract. */
  readonly id: string;
  /** Handler entry file, relative to the repository root; it exports `handler`. */
  readonly entry: string;
  readonly description: string;
  readonly memoryMb: number;
  readonly timeoutSeconds: number;
  /**
   * Size of the function's /tmp in MB (Lambda: 512–10,240).
   *
   * @default 512
   */
  readonly ephemeralStorageMb?: number;
  /** Layers the function needs (their modules are left out of its bundle). */
  readonly layers: readonly LayerId[];
  readonly access: FunctionAccess;
  readonly routes: readonly RouteSpec[];
  readonly queueTriggers: readonly QueueTriggerSpec[];
  /**
   * Runs the function on a schedule.
   *
   * @default - no schedule
   */
  readonly schedule?: ScheduleSpec;
}

/** Most concurrent invocations of a queue trigger that does not say (SQS `MaximumConcurrency`). */
export const DEFAULT_MAX_CONCURRENCY = 5;

/** Queue ids known to the platform. */
export type QueueId = 'training' | 'ingest' | 'shadow';

/** An SQS queue with its dead-letter queue. */
export interface QueueSpec {
  readonly id: QueueId;
  /** Local queue name; in AWS CloudFormation names it. */
  readonly localName: string;
  readonly visibilityTimeoutSeconds: number;
  /** Receives before a message is moved to the DLQ. */
  readonly maxReceiveCount: number;
  readonly retentionDays: number;
  /** Environment variable through which functions that send to the queue learn its URL. */
  readonly urlEnv: string;
  /**
   * Lake objects whose creation S3 announces on this queue (the message body is the S3 event).
   *
   * @default - none
   */
  readonly lakeNotifications?: readonly LakeNotificationSpec[];
}

/** Environment variable names through which functions learn where resources are. */
export const ENV = {
  registryTable: 'REGISTRY_TABLE',
  lakeBucket: 'LAKE_BUCKET',
  modelCacheDir: 'MODEL_CACHE_DIR',
  aliasCacheTtlMs: 'ALIAS_CACHE_TTL_MS',
  memoryMb: 'AWS_LAMBDA_FUNCTION_MEMORY_SIZE',
  /** Where a function stages large temporary files. @default the OS temporary directory (/tmp in Lambda) */
  scratchDir: 'SCRATCH_DIR',
  /** The platform's version, recorded in the lineage of trained models. */
  codeVersion: 'CODE_VERSION',
  /** The training queue's URL (the `training` queue's `urlEnv`). */
  trainingQueueUrl: 'TRAINING_QUEUE_URL',
  /** The EventBridge bus registry events go to (functions that write the registry; absent locally: events are logged). */
  registryEventBus: 'REGISTRY_EVENT_BUS',
} as const;

const dataPlane = (method: HttpMethod, path: string): RouteSpec => ({ method, path, auth: 'apiKey' });
const controlPlane = (method: HttpMethod, path: string): RouteSpec => ({ method, path, auth: 'iam' });

/** Memory of the training function, which also bounds the jobs the control plane accepts. */
export const TRAINING_MEMORY_MB = 4096;

/** Maximum request/response payload: the Lambda synchronous invocation limit. */
export const MAX_PAYLOAD_BYTES = 6 * 1024 * 1024;

/** Largest request line and headers together: API Gateway's REST API quota (10,240 bytes); the local gateway applies it too. */
export const MAX_REQUEST_HEADER_BYTES = 10_240;

/**
 * Lake key patterns of the zones functions read or write (`src/lake/zones.ts`; shadow copies:
 * `src/rollout/shadow-copy.ts`). Plain strings: this file imports nothing of ours.
 */
export const LAKE_KEYS = {
  /** Dropped files, `raw/<dataset>/<file>` (dataset uploads are signed for these keys). */
  raw: 'raw/*',
  /** Versioned datasets, `curated/<dataset>/v=<N>/…`. */
  curated: 'curated/*',
  /** Rows a dataset version refused, `rejected/<dataset>/v=<N>/…`. */
  rejected: 'rejected/*',
  /** Model artifacts: trained (`models/<name>/<version>/…`) and uploaded. */
  models: 'models/*',
  /** Artifact uploads, `models/<name>/uploads/<id>.onnx` (upload URLs are signed for these keys). */
  modelUploads: 'models/*/uploads/*',
  /** Sampled copies of requests for shadow versions, `shadow-requests/<model>/…`. */
  shadowRequests: 'shadow-requests/*',
} as const;

/** A platform topology; the local cloud also accepts others (its own tests use small ones). */
export interface Topology {
  readonly lake: { readonly localName: string };
  readonly registry: { readonly localName: string };
  readonly queues: readonly QueueSpec[];
  readonly functions: readonly FunctionSpec[];
}

/** The platform's topology. */
export const topology: Topology = {
  lake: { localName: 'lake' },
  registry: { localName: 'registry' },
  queues: [
    {
      id: 'training',
      localName: 'training-jobs',
      // Above the training function's timeout, so a job is never handed to two containers at once.
      visibilityTimeoutSeconds: 960,
      // Three attempts to train, and a last receive that ends a job whose worker died (src/training/jobs/run-job.ts).
      maxReceiveCount: 4,
      // Well under its DLQ's 14 days: a message keeps its first enqueue time when it moves there.
      retentionDays: 4,
      urlEnv: ENV.trainingQueueUrl,
    },
    {
      id: 'ingest',
      localName: 'lake-ingest',
      // Above the ingest function's timeout, so a file is never handed to two containers at once.
      visibilityTimeoutSeconds: 960,
      maxReceiveCount: 3,
      // Well under its DLQ's 14 days: a message keeps its first enqueue time when it moves there.
      retentionDays: 4,
      urlEnv: 'INGEST_QUEUE_URL',
      lakeNotifications: [{ prefix: 'raw/' }],
    },
    {
      id: 'shadow',
      localName: 'shadow-requests',
      // Above the shadow function's timeout.
      visibilityTimeoutSeconds: 180,
      maxReceiveCount: 3,
      retentionDays: 4,
      urlEnv: 'SHADOW_QUEUE_URL',
      // Predict writes sampled copies of requests there (src/rollout/shadow-copy.ts).
      lakeNotifications: [{ prefix: 'shadow-requests/' }],
    },
  ],
  functions: [
    {
      id: 'predict',
      entry: 'functions/predict/handler.ts',
      description: 'Data plane: Open Inference Protocol v2 and KServe v1 predictions with ONNX Runtime',
      memoryMb: 1769,
      timeoutSeconds: 29,
      layers: ['onnxruntime'],
      // Reads model artifacts only: never datasets, nor what users dropped.
      access: { registry: 'read', lake: { read: [LAKE_KEYS.models] }, servingTelemetry: 'write' },
      routes: [
        dataPlane('GET', '/v2'),
        dataPlane('GET', '/v2/health/live'),
        dataPlane('GET', '/v2/health/ready'),
        dataPlane('GET', '/v2/models/{name}'),
        dataPlane('GET', '/v2/models/{name}/ready'),
        dataPlane('POST', '/v2/models/{name}/infer'),
        dataPlane('GET', '/v2/models/{name}/versions/{version}'),
        dataPlane('GET', '/v2/models/{name}/versions/{version}/ready'),
        dataPlane('POST', '/v2/models/{name}/versions/{version}/infer'),
        // KServe v1: `/v1/models/iris:predict`; the segment carries name and verb. API Gateway gives
        // sibling parameters one name, so the status route (`GET /v1/models/iris`) and the versioned
        // predict (`/v1/models/iris/versions/2:predict`) name the model's segment `nameAndVerb` too.
        dataPlane('GET', '/v1/models/{nameAndVerb}'),
        dataPlane('POST', '/v1/models/{nameAndVerb}'),
        dataPlane('POST', '/v1/models/{nameAndVerb}/versions/{versionAndVerb}'),
      ],
      queueTriggers: [],
    },
    {
      id: 'control-plane',
      entry: 'functions/control-plane/handler.ts',
      description: 'Control plane: model registry, versions, aliases, artifact uploads, datasets and training jobs',
      memoryMb: 1024,
      timeoutSeconds: 29,
      layers: ['onnxruntime'],
      // Reads artifacts (registration) and curated data (previews); writes only through the
      // upload URLs it signs: artifacts under models/<name>/uploads/, dataset files under raw/.
      access: {
        registry: 'readWrite',
        lake: { read: [LAKE_KEYS.models, LAKE_KEYS.curated], write: [LAKE_KEYS.modelUploads, LAKE_KEYS.raw] },
        queues: { training: 'send' },
      },
      routes: [
        controlPlane('GET', '/models'),
        controlPlane('POST', '/models'),
        controlPlane('GET', '/models/{name}'),
        controlPlane('PUT', '/models/{name}/tags'),
        controlPlane('GET', '/models/{name}/versions'),
        controlPlane('POST', '/models/{name}/versions'),
        controlPlane('GET', '/models/{name}/versions/{version}'),
        controlPlane('POST', '/models/{name}/versions/{version}/status'),
        controlPlane('PUT', '/models/{name}/versions/{version}/tags'),
        controlPlane('POST', '/models/{name}/uploads'),
        controlPlane('GET', '/models/{name}/aliases'),
        controlPlane('GET', '/models/{name}/aliases/{alias}'),
        controlPlane('PUT', '/models/{name}/aliases/{alias}'),
        controlPlane('DELETE', '/models/{name}/aliases/{alias}'),
        controlPlane('GET', '/models/{name}/aliases/{alias}/ledger'),
        controlPlane('POST', '/models/{name}/aliases/{alias}/rollback'),
        controlPlane('GET', '/models/{name}/aliases/{alias}/rollout'),
        controlPlane('POST', '/models/{name}/aliases/{alias}/rollout'),
        controlPlane('POST', '/models/{name}/aliases/{alias}/rollout/pause'),
        controlPlane('POST', '/models/{name}/aliases/{alias}/rollout/resume'),
        controlPlane('POST', '/models/{name}/aliases/{alias}/rollout/abort'),
        controlPlane('GET', '/models/{name}/aliases/{alias}/shadow'),
        controlPlane('GET', '/datasets'),
        controlPlane('GET', '/datasets/{dataset}'),
        controlPlane('PUT', '/datasets/{dataset}'),
        controlPlane('POST', '/datasets/{dataset}/uploads'),
        controlPlane('GET', '/datasets/{dataset}/versions'),
        controlPlane('GET', '/datasets/{dataset}/versions/{version}'),
        controlPlane('GET', '/datasets/{dataset}/versions/{version}/preview'),
        controlPlane('GET', '/datasets/{dataset}/jobs'),
        controlPlane('POST', '/jobs'),
        controlPlane('GET', '/jobs/{id}'),
        controlPlane('POST', '/jobs/{id}/cancel'),
        controlPlane('GET', '/models/{name}/jobs'),
      ],
      queueTriggers: [],
    },
    {
      id: 'ingest',
      entry: 'functions/ingest/handler.ts',
      description: 'Lake: turns files dropped under raw/ into validated, versioned Parquet datasets',
      memoryMb: 2048,
      timeoutSeconds: 900,
      // The dropped object, its Parquet conversion and DuckDB's spill files are staged on /tmp.
      ephemeralStorageMb: 10_240,
      layers: ['duckdb'],
      // Sends a training job when a dataset with an auto-train spec gets a READY version.
      access: {
        registry: 'readWrite',
        lake: { read: [LAKE_KEYS.raw], write: [LAKE_KEYS.curated, LAKE_KEYS.rejected] },
        queues: { ingest: 'consume', training: 'send' },
      },
      routes: [],
      // Each ingestion may use 10 GB of /tmp and 2 GB of memory: a burst of drops waits in the queue.
      queueTriggers: [{ queue: 'ingest', batchSize: 1, reportBatchItemFailures: true, maxConcurrency: 5 }],
    },
    {
      id: 'train',
      entry: 'functions/train/handler.ts',
      description: 'Training: runs queued jobs (train, evaluate, export ONNX, verify, register)',
      // Training is single-threaded; memory bounds the data a job may hold (jobs that would not fit are refused at submission).
      memoryMb: TRAINING_MEMORY_MB,
      timeoutSeconds: 900,
      layers: ['onnxruntime'],
      access: { registry: 'readWrite', lake: { read: [LAKE_KEYS.curated], write: [LAKE_KEYS.models] }, queues: { training: 'consume' } },
      routes: [],
      // Jobs run up to 15 min with 4 GB each: a burst of jobs waits in the queue.
      queueTriggers: [{ queue: 'training', batchSize: 1, reportBatchItemFailures: true, maxConcurrency: 5 }],
    },
    {
      id: 'shadow',
      entry: 'functions/shadow/handler.ts',
      description: 'Shadow traffic: answers sampled copies of requests with the shadow version and records both answers side by side',
      memoryMb: 1769,
      timeoutSeconds: 120,
      layers: ['onnxruntime'],
      access: {
        registry: 'read',
        lake: { read: [LAKE_KEYS.shadowRequests, LAKE_KEYS.models] },
        shadowResults: 'write',
        queues: { shadow: 'consume' },
      },
      routes: [],
      // Shadow traffic is a sample of predict's: it must never compete with predict itself.
      queueTriggers: [{ queue: 'shadow', batchSize: 1, reportBatchItemFailures: true, maxConcurrency: 2 }],
    },
    {
      id: 'rollouts',
      entry: 'functions/rollouts/handler.ts',
      description: 'Rollouts: advances each active rollout a step, or rolls it back when a guard trips',
      memoryMb: 512,
      timeoutSeconds: 60,
      layers: [],
      access: { registry: 'readWrite' },
      routes: [],
      queueTriggers: [],
      // No reserved concurrency (it would fail deploys on accounts with the minimum quota): runs
      // that overlap are safe, since every rollout write is conditional on the revision it was
      // computed from (src/rollout/rollout-store.ts); the slower run's write fails and it moves on.
      schedule: { everyMinutes: 1 },
    },
  ],
};

/** Default CloudWatch namespace of the functions' Powertools metrics. */
export const DEFAULT_METRICS_NAMESPACE = 'ServerlessAiPlatform';

/** Names (or CloudFormation tokens) of the resources a function's environment points at. */
export interface ResourceNames {
  readonly registryTable: string;
  readonly lakeBucket: string;
  readonly queueUrls: Readonly<Partial<Record<QueueId, string>>>;
  /** The platform's version (package version and commit). */
  readonly codeVersion: string;
  /**
   * The registry's EventBridge bus.
   *
   * @default - none: registry events are only logged
   */
  readonly registryEventBus?: string;
  /** @default DEFAULT_METRICS_NAMESPACE */
  readonly metricsNamespace?: string;
}

/**
 * The environment of a function, the same in AWS and in the local cloud: Powertools
 * settings, and where the resources it may use are (only those its `access` names).
 */
export function functionEnvironment(spec: FunctionSpec, queues: readonly QueueSpec[], names: ResourceNames): Record<string, string> {
  const environment: Record<string, string> = {
    POWERTOOLS_SERVICE_NAME: spec.id,
    POWERTOOLS_METRICS_NAMESPACE: names.metricsNamespace ?? DEFAULT_METRICS_NAMESPACE,
    POWERTOOLS_LOG_LEVEL: 'INFO',
    [ENV.codeVersion]: names.codeVersion,
  };
  if (spec.access.registry !== undefined) environment[ENV.registryTable] = names.registryTable;
  if (spec.access.registry === 'readWrite' && names.registryEventBus !== undefined) environment[ENV.registryEventBus] = names.registryEventBus;
  if (spec.access.lake !== undefined) environment[ENV.lakeBucket] = names.lakeBucket;
  for (const queue of queues) {
    const url = names.queueUrls[queue.id];
    if (spec.access.queues?.[queue.id] === 'send' && url !== undefined) environment[queue.urlEnv] = url;
  }
  return environment;
}
