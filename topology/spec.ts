/**
 * The vocabulary of the topology: what a function, a route, a queue and a trigger are.
 * Plain types; `topology.ts` holds the platform's values.
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
  /**
   * The query parameters the route reads. Any other is refused (400 naming it and these), as an
   * unknown body field is: a misspelled filter must not pass for no filter.
   *
   * @default - none
   */
  readonly query?: readonly string[];
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
   * The local cloud runs as many batches at once (its functions start up to four containers each).
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
  /**
   * SageMaker endpoints of the platform (names under its resource prefix only): `name` only
   * learns the prefix (to name a version's resources at registration; no grant); `invoke` calls
   * them (InvokeEndpoint); `deploy` creates, follows and deletes them (models, endpoint
   * configurations, endpoints, inference components, their scaling and alarms) and passes the
   * platform's SageMaker execution role.
   */
  readonly sagemaker?: 'name' | 'invoke' | 'deploy';
  /**
   * Publishing to the registry's event bus without writing the registry (`REGISTRY_EVENT_BUS`;
   * functions with `registry: 'readWrite'` have it anyway): the predict and shadow functions
   * announce their circuit breakers' transitions.
   */
  readonly registryEvents?: 'publish';
  /**
   * Async inference requests (registry items under `ASYNC#` partition keys only): `submit` (the
   * predict function) creates and reads them; `run` (the async worker) reads and updates them.
   */
  readonly asyncRequests?: 'submit' | 'run';
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
  /**
   * Kinesis event source mappings (stream scoring).
   *
   * @default - none
   */
  readonly streamTriggers?: readonly StreamTriggerSpec[];
}

/** Most concurrent invocations of a queue trigger that does not say (SQS `MaximumConcurrency`). */
export const DEFAULT_MAX_CONCURRENCY = 5;

/** Queue ids known to the platform. */
export type QueueId =
  | 'training'
  | 'ingest'
  | 'shadow'
  // Async inference (src/async): pointers to request items.
  | 'async'
  // Stream scoring: the stream trigger's on-failure destination.
  | 'stream-failures'
  // Batch scoring (src/batch): jobs to plan and drops under batch/; chunks to score.
  | 'batch'
  | 'scoring';

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

/** A platform topology; the local cloud also accepts others (its own tests use small ones). */
export interface Topology {
  readonly lake: { readonly localName: string };
  readonly registry: { readonly localName: string };
  readonly queues: readonly QueueSpec[];
  readonly functions: readonly FunctionSpec[];
  /**
   * Kinesis Data Streams scored by the platform.
   *
   * @default - none
   */
  readonly streams?: readonly StreamSpec[];
}

// --- Stream scoring (Kinesis) ---

/** Stream ids known to the platform. */
export type StreamId = 'scoring';

/**
 * Which score of a prediction crosses a threshold: `output` names the field of a prediction
 * with several outputs (`probabilities`), `index` the element of an array score, and `above`
 * the value a score must exceed to be announced.
 */
export interface ThresholdRule {
  /** @default - the prediction itself (a model with one output) */
  readonly output?: string;
  /** @default - the score is a number, not an array */
  readonly index?: number;
  readonly above: number;
}

/** What a stream's records are scored by, and which scores are announced on the event bus. */
export interface StreamScoringSpec {
  readonly model: string;
  /** The alias (or version) records are served by; the partition key is the sticky routing key. */
  readonly alias: string;
  /** @default - no announcements */
  readonly threshold?: ThresholdRule;
}

/** A Kinesis Data Stream (encrypted) whose records a function scores. */
export interface StreamSpec {
  readonly id: StreamId;
  /** Local stream name; in AWS CloudFormation names it. */
  readonly localName: string;
  readonly shardCount: number;
  readonly retentionHours: number;
  readonly scoring: StreamScoringSpec;
}

/** A Kinesis event source mapping, with Lambda's semantics. */
export interface StreamTriggerSpec {
  readonly stream: StreamId;
  /** Records per invocation at most (Kinesis: 1–10,000). */
  readonly batchSize: number;
  /** Split a batch in two and retry each half when the function fails. */
  readonly bisectBatchOnError: boolean;
  /** Retries of a batch before its metadata goes to `onFailure` and the shard moves on. */
  readonly retryAttempts: number;
  /** Records older than this are not processed; their metadata goes to `onFailure` (60–604,800). */
  readonly maxRecordAgeSeconds: number;
  /** The queue that receives the metadata of batches given up on. */
  readonly onFailure: QueueId;
}

/**
 * A smaller topology (tests and benchmarks run part of the platform): the functions named, the
 * queues they send to or consume, and the queues named in `extraQueues` (e.g. an on-failure
 * destination no function consumes).
 */
export function subsetTopology(topology: Topology, functionIds: readonly string[], extraQueues: readonly QueueId[] = []): Topology {
  const functions = topology.functions.filter((fn) => functionIds.includes(fn.id));
  return {
    ...topology,
    queues: topology.queues.filter((queue) => extraQueues.includes(queue.id) || functions.some((fn) => fn.access.queues?.[queue.id] !== undefined)),
    functions,
  };
}
