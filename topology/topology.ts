/**
 * The one description of the platform's topology: functions, their routes and
 * triggers, the lake bucket, the registry table and the queues.
 *
 * Both the CDK stack (`infra/`) and the local cloud (`local/`) read this file,
 * so the deployed platform and the one on a laptop cannot drift apart.
 * It is plain data: no CDK or AWS SDK import may appear here, and nothing of ours but
 * the rest of `topology/` (a lint rule keeps it so).
 */
import { ENV } from './environment.js';
import { TRAINING_MEMORY_MB } from './limits.js';
import { ASYNC_INPUTS_PATTERN, ASYNC_RESULTS_PATTERN, ASYNC_UPLOADS_PATTERN, SHADOW_REQUESTS_PREFIX } from './storage-layout.js';
import type { HttpMethod, RouteSpec, Topology } from './spec.js';

const dataPlane = (method: HttpMethod, path: string): RouteSpec => ({ method, path, auth: 'apiKey' });
const controlPlane = (method: HttpMethod, path: string, query?: readonly string[]): RouteSpec => ({ method, path, auth: 'iam', ...(query === undefined ? {} : { query }) });
/** The query parameters of a paged list (`src/http/request.ts`, `pageOf`). */
const PAGE = ['limit', 'cursor'];

/**
 * Lake key patterns of the zones functions read or write (`src/lake/zones.ts`; shadow copies:
 * `src/inference/telemetry/shadow-copy.ts`).
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
  /**
   * Triton serving packages of SageMaker-backed versions, `models/<name>/serving/v<version>/model.tar.gz`
   * (src/deployments/triton-package.ts): the only lake objects SageMaker's execution role reads.
   */
  servingPackages: 'models/*/serving/*',
  /** Sampled copies of requests for shadow versions, `shadow-requests/<model>/…`. */
  shadowRequests: `${SHADOW_REQUESTS_PREFIX}*`,
  /** Async inference inputs sent inline, `predictions/async/inputs/<id>` (src/async/async-keys.ts). */
  asyncInputs: ASYNC_INPUTS_PATTERN,
  /** Async inference inputs uploaded through presigned URLs, `predictions/async/uploads/<id>`. */
  asyncUploads: ASYNC_UPLOADS_PATTERN,
  /** Async inference results, `predictions/async/results/<id>`. */
  asyncResults: ASYNC_RESULTS_PATTERN,
  /** Scored micro-batches of streams, `predictions/stream/<model>/shard=<shard>/<first>-<last>.jsonl`. */
  streamPredictions: 'predictions/stream/*',
  // Batch scoring (src/batch/output.ts, src/batch/drop.ts).
  /** Files dropped to be scored, `batch/<model>/[<alias or version>/]<file>`. */
  batchDrops: 'batch/*',
  /** A job's parts and rejected rows, `predictions/<model>/batch/<job>/…`. */
  batchParts: 'predictions/*/batch/*',
  /** A job's combined predictions, dropped into its output dataset: `raw/<dataset>/batch-<job>.<format>`. */
  batchResults: 'raw/*/batch-*',
} as const;

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
      // Three attempts to train, and a last receive that ends a job whose worker died (src/training/run-job.ts).
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
      // Predict writes sampled copies of requests there (src/inference/telemetry/shadow-copy.ts).
      lakeNotifications: [{ prefix: 'shadow-requests/' }],
    },
    // Async inference (src/async/): a message points at a request item, never carries its input.
    {
      id: 'async',
      localName: 'async-inference',
      // Above the async worker's timeout, so a request is never run by two containers at once.
      visibilityTimeoutSeconds: 360,
      // Three attempts; the worker records each failure's reason on the request and ends it at the last.
      maxReceiveCount: 3,
      retentionDays: 4,
      urlEnv: ENV.asyncQueueUrl,
    },
    // Stream scoring: the on-failure destination of the stream trigger (metadata of batches given up on).
    {
      id: 'stream-failures',
      localName: 'stream-failures',
      visibilityTimeoutSeconds: 60,
      maxReceiveCount: 3,
      // Well under its DLQ's 14 days: a message keeps its first enqueue time when it moves there.
      retentionDays: 4,
      urlEnv: 'STREAM_FAILURES_QUEUE_URL',
    },
    // Batch scoring (src/batch): plan messages and drops under batch/ to the batch function...
    {
      id: 'batch',
      localName: 'batch-jobs',
      // Above the batch function's timeout.
      visibilityTimeoutSeconds: 360,
      maxReceiveCount: 3,
      retentionDays: 4,
      urlEnv: ENV.batchQueueUrl,
      lakeNotifications: [{ prefix: 'batch/' }],
    },
    // ...and one pointer message per chunk to the scoring function; a chunk's last failure is recorded on its job before the DLQ.
    {
      id: 'scoring',
      localName: 'batch-chunks',
      // Above the scoring function's timeout.
      visibilityTimeoutSeconds: 360,
      maxReceiveCount: 3,
      retentionDays: 4,
      urlEnv: ENV.scoringQueueUrl,
    },
  ],
  // Stream scoring: records put on this stream are scored by the `stream` function.
  streams: [
    {
      id: 'scoring',
      localName: 'scoring-records',
      shardCount: 2,
      retentionHours: 24,
      scoring: { model: 'iris', alias: 'prod', threshold: { output: 'probabilities', index: 2, above: 0.9 } },
    },
  ],
  functions: [
    {
      id: 'predict',
      entry: 'functions/predict/handler.ts',
      description: 'Data plane: Open Inference Protocol v2 and KServe v1 predictions with ONNX Runtime or SageMaker endpoints',
      memoryMb: 1769,
      timeoutSeconds: 29,
      layers: ['onnxruntime'],
      // Reads model artifacts only: never datasets, nor what users dropped. Invokes the platform's
      // SageMaker endpoints and announces its circuit breakers' transitions.
      // Async inference: submits requests (inline inputs and upload URLs under predictions/async/),
      // checks uploads exist, and signs links to results.
      access: {
        registry: 'read',
        lake: { read: [LAKE_KEYS.models, LAKE_KEYS.asyncUploads, LAKE_KEYS.asyncResults], write: [LAKE_KEYS.asyncInputs, LAKE_KEYS.asyncUploads] },
        servingTelemetry: 'write',
        sagemaker: 'invoke',
        registryEvents: 'publish',
        asyncRequests: 'submit',
        queues: { async: 'send' },
      },
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
        // Async inference (src/async/): infer routes with `Prefer: respond-async` answer 202 and point here.
        dataPlane('POST', '/v2/async/uploads'),
        dataPlane('GET', '/v2/async/{id}'),
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
        queues: { training: 'send', batch: 'send' },
        // Names the SageMaker resources of versions registered on the SageMaker backend: it learns
        // the resource prefix, and may neither call nor create them.
        sagemaker: 'name',
      },
      routes: [
        controlPlane('GET', '/models', PAGE),
        controlPlane('POST', '/models'),
        controlPlane('GET', '/models/{name}'),
        controlPlane('PUT', '/models/{name}/tags'),
        controlPlane('GET', '/models/{name}/versions', [...PAGE, 'status', 'tag', 'minMetric']),
        controlPlane('POST', '/models/{name}/versions'),
        controlPlane('GET', '/models/{name}/versions/{version}'),
        controlPlane('POST', '/models/{name}/versions/{version}/status'),
        controlPlane('PUT', '/models/{name}/versions/{version}/tags'),
        controlPlane('POST', '/models/{name}/versions/{version}/deployment'),
        controlPlane('DELETE', '/models/{name}/versions/{version}/deployment', ['reason']),
        controlPlane('POST', '/models/{name}/uploads'),
        controlPlane('GET', '/models/{name}/aliases', PAGE),
        controlPlane('GET', '/models/{name}/aliases/{alias}'),
        controlPlane('PUT', '/models/{name}/aliases/{alias}'),
        controlPlane('DELETE', '/models/{name}/aliases/{alias}', ['reason']),
        controlPlane('GET', '/models/{name}/aliases/{alias}/ledger', PAGE),
        controlPlane('POST', '/models/{name}/aliases/{alias}/rollback'),
        controlPlane('GET', '/models/{name}/aliases/{alias}/rollout'),
        controlPlane('POST', '/models/{name}/aliases/{alias}/rollout'),
        controlPlane('POST', '/models/{name}/aliases/{alias}/rollout/pause'),
        controlPlane('POST', '/models/{name}/aliases/{alias}/rollout/resume'),
        controlPlane('POST', '/models/{name}/aliases/{alias}/rollout/abort'),
        controlPlane('GET', '/models/{name}/aliases/{alias}/shadow', ['since', 'hours']),
        controlPlane('GET', '/datasets', PAGE),
        controlPlane('GET', '/datasets/{dataset}'),
        controlPlane('PUT', '/datasets/{dataset}'),
        controlPlane('POST', '/datasets/{dataset}/uploads'),
        controlPlane('GET', '/datasets/{dataset}/versions', PAGE),
        controlPlane('GET', '/datasets/{dataset}/versions/{version}'),
        controlPlane('GET', '/datasets/{dataset}/versions/{version}/preview', ['limit']),
        controlPlane('GET', '/datasets/{dataset}/jobs', PAGE),
        controlPlane('POST', '/jobs'),
        controlPlane('GET', '/jobs/{id}'),
        controlPlane('POST', '/jobs/{id}/cancel'),
        controlPlane('GET', '/models/{name}/jobs', PAGE),
        // Batch scoring (src/batch/batch-routes.ts).
        controlPlane('POST', '/batch-jobs'),
        controlPlane('GET', '/batch-jobs', PAGE),
        controlPlane('GET', '/batch-jobs/{id}'),
        controlPlane('POST', '/batch-jobs/{id}/cancel'),
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
        // A shadow version on SageMaker answers through the same backend (and breakers) as in predict.
        sagemaker: 'invoke',
        registryEvents: 'publish',
      },
      routes: [],
      // Shadow traffic is a sample of predict's: it must never compete with predict itself.
      queueTriggers: [{ queue: 'shadow', batchSize: 1, reportBatchItemFailures: true, maxConcurrency: 2 }],
    },
    // Batch scoring (src/batch): the batch function plans jobs, the scoring function scores chunks.
    {
      id: 'batch',
      entry: 'functions/batch/handler.ts',
      description: 'Batch scoring: plans jobs (resolves the version once, splits the input into chunks) and starts jobs for files dropped under batch/',
      // Planning reads a CSV input whole to cut it at record boundaries.
      memoryMb: 2048,
      timeoutSeconds: 300,
      layers: [],
      access: {
        registry: 'readWrite',
        lake: { read: [LAKE_KEYS.raw, LAKE_KEYS.batchDrops, LAKE_KEYS.curated] },
        queues: { batch: 'consume', scoring: 'send' },
      },
      routes: [],
      queueTriggers: [{ queue: 'batch', batchSize: 1, reportBatchItemFailures: true, maxConcurrency: 2 }],
    },
    {
      id: 'scoring',
      entry: 'functions/scoring/handler.ts',
      description: 'Batch scoring: scores one chunk of a job through the serving path and writes its part; the last chunk drops the output into the lake',
      memoryMb: 1769,
      timeoutSeconds: 300,
      layers: ['onnxruntime'],
      access: {
        registry: 'readWrite',
        lake: {
          read: [LAKE_KEYS.raw, LAKE_KEYS.batchDrops, LAKE_KEYS.curated, LAKE_KEYS.models, LAKE_KEYS.batchParts],
          write: [LAKE_KEYS.batchParts, LAKE_KEYS.batchResults],
        },
        queues: { scoring: 'consume' },
        // Serves like predict (src/inference/container-serving.ts): counters, shadow copies, SageMaker versions and their breakers.
        servingTelemetry: 'write',
        sagemaker: 'invoke',
        registryEvents: 'publish',
      },
      routes: [],
      // The concurrency cap: at most 4 chunks score at once, so a big job cannot take the
      // account's concurrency (and the versions' SageMaker capacity) from online predict.
      queueTriggers: [{ queue: 'scoring', batchSize: 1, reportBatchItemFailures: true, maxConcurrency: 4 }],
    },
    {
      id: 'async',
      entry: 'functions/async/handler.ts',
      description: 'Async inference: answers queued requests through the one inference path and writes their results to the lake',
      memoryMb: 1769,
      // A large input (up to 1 GB) takes its time to read; the queue's visibility timeout stays above this.
      timeoutSeconds: 300,
      layers: ['onnxruntime'],
      access: {
        registry: 'read',
        lake: { read: [LAKE_KEYS.models, LAKE_KEYS.asyncInputs, LAKE_KEYS.asyncUploads], write: [LAKE_KEYS.asyncResults] },
        servingTelemetry: 'write',
        asyncRequests: 'run',
        queues: { async: 'consume' },
        sagemaker: 'invoke',
        registryEvents: 'publish',
      },
      routes: [],
      // Async work must never take predict's concurrency: a burst waits in the queue.
      queueTriggers: [{ queue: 'async', batchSize: 1, reportBatchItemFailures: true, maxConcurrency: 5 }],
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
    {
      id: 'deployments',
      entry: 'functions/deployments/handler.ts',
      description: 'Deployments: packages, deploys and follows SageMaker-backed versions, and tears down the archived or deleted ones',
      memoryMb: 1024,
      // Packaging a multi-GB model streams it through the scratch disk; SageMaker calls are quick.
      timeoutSeconds: 900,
      ephemeralStorageMb: 10_240,
      layers: [],
      // Reads artifacts, writes serving packages (models/<name>/serving/), and drives SageMaker.
      access: { registry: 'readWrite', lake: { read: [LAKE_KEYS.models], write: [LAKE_KEYS.servingPackages] }, sagemaker: 'deploy' },
      routes: [],
      queueTriggers: [],
      // Runs that overlap are safe: every step finds what exists, and every state write is
      // conditional on the state it was read in (src/deployments/deployment-runner.ts).
      schedule: { everyMinutes: 1 },
    },
    // Stream scoring (src/stream): Kinesis records scored through the alias, micro-batches to the lake, threshold events.
    {
      id: 'stream',
      entry: 'functions/stream/handler.ts',
      description: 'Stream scoring: scores Kinesis records through an alias, writes micro-batches under predictions/stream/ and announces scores above a threshold',
      memoryMb: 1769,
      timeoutSeconds: 60,
      layers: ['onnxruntime'],
      access: {
        registry: 'read',
        lake: { read: [LAKE_KEYS.models], write: [LAKE_KEYS.streamPredictions] },
        servingTelemetry: 'write',
        sagemaker: 'invoke',
        registryEvents: 'publish',
      },
      routes: [],
      queueTriggers: [],
      streamTriggers: [{ stream: 'scoring', batchSize: 100, bisectBatchOnError: true, retryAttempts: 3, maxRecordAgeSeconds: 3600, onFailure: 'stream-failures' }],
    },
  ],
};

