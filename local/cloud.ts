import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ENV, functionEnvironment, type SageMakerNames } from '../topology/environment.js';
import { BINARY_MEDIA_TYPES, MAX_PAYLOAD_BYTES } from '../topology/limits.js';
import { type FunctionSpec, type QueueId, type Topology } from '../topology/spec.js';
import { topology as platformTopology } from '../topology/topology.js';
import { platformCodeVersion } from '../topology/code-version.js';
import { DOCUMENT_TRANSLATION } from '../src/aws/clients.js';
import { RegistryTable } from '../src/storage/table.js';
import { JobStore } from '../src/training/job-store.js';
import { DatasetStore } from '../src/lake/dataset-store.js';
import { LOCAL_CREDENTIALS, LOCAL_REGION, startEmulators, type EmulatorEndpoints } from './emulators.js';
import { createGateway } from './gateway.js';
import { ACCOUNT } from './sagemaker/arns.js';
import type { EmulatorDelays } from './sagemaker/settings.js';
import { buildArtifacts, buildHost, watchBundles } from './lambda-artifacts.js';
import { LocalFunction, sourceCode, type FunctionCode } from './local-function.js';
import { assertPortsFree, listen } from './ports.js';
import { provisionResources, type ProvisionedResources } from './provision.js';
import { requeueUnfinishedIngests } from './recover-ingests.js';
import { requeueUnfinishedJobs } from './recover-jobs.js';
import { createS3Dispatcher } from './s3-notifications.js';
import { apiClient, seedModel, type SeedModel } from './seed.js';
import { requeueUnfinishedAsyncRequests } from './recover-async.js';
import { startSchedules } from './schedules.js';
import { SqsEventSource } from './sqs-event-source.js';
import { KinesisEventSource } from './kinesis-event-source.js';
import { createKinesisClient } from '../src/aws/clients.js';

/** Options of {@link startLocalCloud}. */
export interface LocalCloudOptions {
  /** State folder (DynamoDB, S3, API key, logs). */
  readonly stateDir: string;
  /** Gateway port; emulators take the next five. 0: all ports picked freely. */
  readonly port: number;
  /** @default the platform topology */
  readonly topology?: Topology;
  /** Sample models to register on first start. @default none */
  readonly seed?: readonly SeedModel[];
  /** Where progress and delivery failures are reported. @default silent */
  readonly log?: (line: string) => void;
  /** The SageMaker emulator's timings (tests shorten them). @default DEFAULT_DELAYS of `local/sagemaker/settings.ts` */
  readonly sagemakerDelays?: Partial<EmulatorDelays>;
  /** Extra environment for every function (e.g. `ALIAS_CACHE_TTL_MS`). @default none */
  readonly functionEnvironment?: Readonly<Record<string, string>>;
  /**
   * Time between runs of scheduled functions (the rollout advancer). Shorter than in AWS (a
   * minute), so a rollout on a laptop moves in seconds.
   *
   * @default DEFAULT_SCHEDULE_INTERVAL_MS
   */
  readonly scheduleIntervalMs?: number;
  /**
   * What the containers run: `bundles`, the artifact Lambda runs (each function bundled with the
   * stack's settings, its layers built as the stack builds them and reached through NODE_PATH,
   * plain `node`); or `sources`, the TypeScript under tsx (faster to start, for tests of logic).
   *
   * @default 'bundles'
   */
  readonly code?: 'bundles' | 'sources';
  /**
   * Rebuild a function's bundle when its sources change and move its traffic to new containers
   * (`code: 'bundles'` only).
   *
   * @default false
   */
  readonly watch?: boolean;
}

/** Time between runs of scheduled functions in the local cloud. */
export const DEFAULT_SCHEDULE_INTERVAL_MS = 10_000;

/** A running local cloud. */
export interface LocalCloud {
  readonly baseUrl: string;
  readonly apiKey: string;
  readonly endpoints: EmulatorEndpoints;
  readonly resources: ProvisionedResources;
  readonly stateDir: string;
  stop(): Promise<void>;
}

/** Path of the file `npm start` writes the base URL, API key and endpoints to. */
export const endpointsFile = (stateDir: string) => join(stateDir, 'endpoints.json');
/** The log file of a function's containers in the state folder. */
export const functionLogFile = (stateDir: string, functionId: string) => join(stateDir, 'logs', `${functionId}.log`);

async function loadOrCreateApiKey(stateDir: string): Promise<string> {
  const file = join(stateDir, 'api-key');
  const existing = await readFile(file, 'utf8').catch(() => undefined);
  if (existing !== undefined && existing.trim() !== '') return existing.trim();
  const key = randomBytes(24).toString('base64url');
  await writeFile(file, `${key}\n`, { mode: 0o600 });
  return key;
}

/** What a container inherits from the developer's shell: the basics a process needs, nothing else (no AWS account). */
/** Computed once: every container of this local cloud runs the same checkout. */
const CODE_VERSION = platformCodeVersion();

/**
 * Where SageMaker-backed versions run locally: the SageMaker emulator takes any execution role
 * and hosts the Triton images (GPU and CPU builds, by name: `sagemaker-tritonserver`) with the emulated Triton.
 */
export const LOCAL_SAGEMAKER: SageMakerNames = {
  resourcePrefix: 'local-ai',
  executionRoleArn: `arn:aws:iam::${ACCOUNT}:role/local-sagemaker-execution`,
  tritonImageUri: '785573368785.dkr.ecr.us-east-1.amazonaws.com/sagemaker-tritonserver:24.09-py3',
  tritonCpuImageUri: '785573368785.dkr.ecr.us-east-1.amazonaws.com/sagemaker-tritonserver:24.09-py3-cpu',
};

/**
 * What containers take from the host's environment: the basics, and the AWS SDK's switch for its
 * Node-version notice (npm start sets it; Lambda runs Node 22, where the notice never shows).
 */
const HOST_VARIABLES = ['PATH', 'HOME', 'TMPDIR', 'LANG', 'LC_ALL', 'TZ', 'AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] as const;

function hostEssentials(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(HOST_VARIABLES.filter((name) => env[name] !== undefined).map((name) => [name, env[name]]));
}

/**
 * The environment of a function container: the same variables the CDK stack sets
 * (`functionEnvironment`), plus what Lambda itself provides, pointed at the emulators.
 */
export function containerEnvironment(
  topology: Topology,
  spec: FunctionSpec,
  endpoints: EmulatorEndpoints,
  resources: ProvisionedResources,
  stateDir: string,
  overrides: Readonly<Record<string, string>> = {},
): NodeJS.ProcessEnv {
  return {
    ...hostEssentials(process.env),
    ...functionEnvironment(spec, topology.queues, {
      registryTable: resources.tableName,
      lakeBucket: resources.bucketName,
      queueUrls: Object.fromEntries(Object.entries(resources.queues).map(([id, queue]) => [id, queue.url])),
      codeVersion: CODE_VERSION,
      sagemaker: LOCAL_SAGEMAKER,
    }, topology.streams),
    AWS_REGION: LOCAL_REGION,
    AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
    AWS_ENDPOINT_URL_DYNAMODB: endpoints.dynamodb,
    AWS_ENDPOINT_URL_S3: endpoints.s3,
    AWS_ENDPOINT_URL_SQS: endpoints.sqs,
    // One emulator answers all four (local/sagemaker/server.ts).
    AWS_ENDPOINT_URL_SAGEMAKER: endpoints.sagemaker,
    AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME: endpoints.sagemaker,
    AWS_ENDPOINT_URL_APPLICATION_AUTO_SCALING: endpoints.sagemaker,
    AWS_ENDPOINT_URL_CLOUDWATCH: endpoints.sagemaker,
    AWS_ENDPOINT_URL_KINESIS: endpoints.kinesis,
    // s3rver stores an aws-chunked upload (what the SDK sends for streamed bodies with a
    // checksum) verbatim; send checksums only where S3 requires them. A standard SDK setting.
    AWS_REQUEST_CHECKSUM_CALCULATION: 'WHEN_REQUIRED',
    AWS_LAMBDA_FUNCTION_NAME: spec.id,
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(spec.memoryMb),
    // What Lambda sets for on-demand containers: Powertools reports a cold start only with it.
    AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
    // No X-Ray daemon here.
    POWERTOOLS_TRACE_ENABLED: 'false',
    [ENV.modelCacheDir]: join(stateDir, 'tmp', spec.id),
    [ENV.scratchDir]: join(stateDir, 'tmp', spec.id, 'scratch'),
    ...overrides,
  };
}

/** The code every function's containers run, and where bundles are built (none for sources). */
async function functionCode(
  functions: readonly FunctionSpec[],
  options: Pick<LocalCloudOptions, 'code'>,
  log: (line: string) => void,
): Promise<{ of: (spec: FunctionSpec) => FunctionCode; root?: string }> {
  if (options.code === 'sources') return { of: sourceCode };
  // Outside the repository: Node must find the layers through NODE_PATH, not the checkout's node_modules.
  const root = await mkdtemp(join(tmpdir(), 'lambda-artifacts-'));
  const started = Date.now();
  const [artifacts, host] = await Promise.all([buildArtifacts(functions, { bundles: root }), buildHost(root)]);
  log(`built ${artifacts.size} function bundles and their layers in ${((Date.now() - started) / 1000).toFixed(1)} s (${root})`);
  return {
    root,
    of: (spec) => {
      const artifact = artifacts.get(spec.id)!;
      return { host, execArgv: [], entry: artifact.bundle, nodePath: artifact.nodePath };
    },
  };
}

/**
 * Starts the whole platform on this machine: emulators, the stack's resources,
 * a pool of containers per function, the API gateway, bucket notifications and SQS
 * event sources, all from the same topology the CDK stack reads.
 */
export async function startLocalCloud(options: LocalCloudOptions): Promise<LocalCloud> {
  const topology = options.topology ?? platformTopology;
  const log = options.log ?? (() => undefined);
  const { stateDir } = options;
  await mkdir(join(stateDir, 'logs'), { recursive: true });
  const apiKey = await loadOrCreateApiKey(stateDir);
  const port = (offset: number) => (options.port === 0 ? 0 : options.port + offset);
  await assertPortsFree([
    { port: port(0), role: 'API gateway' },
    { port: port(1), role: 'DynamoDB emulator' },
    { port: port(2), role: 'S3 emulator' },
    { port: port(3), role: 'SQS emulator' },
    { port: port(4), role: 'SageMaker emulator' },
    { port: port(5), role: 'Kinesis emulator' },
  ]);

  const emulators = await startEmulators({
    stateDir,
    ports: { dynamodb: port(1), s3: port(2), sqs: port(3), sagemaker: port(4), kinesis: port(5) },
    buckets: [topology.lake.localName],
    ...(options.sagemakerDelays === undefined ? {} : { sagemakerDelays: options.sagemakerDelays }),
  });
  const { endpoints } = emulators;
  const sdkConfig = (endpoint: string) => ({ region: LOCAL_REGION, endpoint, credentials: LOCAL_CREDENTIALS });
  const dynamo = new DynamoDBClient(sdkConfig(endpoints.dynamodb));
  const sqs = new SQSClient(sdkConfig(endpoints.sqs));
  const kinesis = createKinesisClient(sdkConfig(endpoints.kinesis));
  const resources = await provisionResources(topology, { dynamo, sqs, kinesis });

  const code = await functionCode(topology.functions, options, log);
  const functions = new Map(
    topology.functions.map((spec) => [
      spec.id,
      new LocalFunction(
        spec,
        containerEnvironment(topology, spec, endpoints, resources, stateDir, options.functionEnvironment),
        functionLogFile(stateDir, spec.id),
        undefined,
        code.of(spec),
      ),
    ]),
  );
  const stopWatching = code.root !== undefined && options.watch === true
    ? await watchBundles(
        topology.functions,
        code.root,
        (functionId) => {
          const fn = functions.get(functionId)!;
          void fn.replaceCode(code.of(fn.spec)).then(() => log(`${functionId}: sources changed; rebuilt its bundle, new containers run it`));
        },
        (functionId, message) => log(`${functionId}: sources changed but the bundle does not build (the previous one keeps running): ${message}`),
      )
    : async () => undefined;
  const invoke = (functionId: string, event: unknown) => {
    const fn = functions.get(functionId);
    if (fn === undefined) return Promise.reject(new Error(`no function '${functionId}'`));
    return fn.invoke(event);
  };
  await Promise.all([...functions.values()].map((fn) => fn.warm()));

  const gateway = createGateway({ functions: topology.functions, invoke, apiKey, maxRequestBytes: MAX_PAYLOAD_BYTES, maxResponseBytes: MAX_PAYLOAD_BYTES, binaryMediaTypes: BINARY_MEDIA_TYPES });
  const gatewayPort = await listen(gateway, port(0), 'API gateway');
  const baseUrl = `http://127.0.0.1:${gatewayPort}`;

  const sendToQueue = async (queueId: QueueId, body: string) => {
    await sqs.send(new SendMessageCommand({ QueueUrl: resources.queues[queueId].url, MessageBody: body }));
  };
  const dispatch = createS3Dispatcher(topology.queues, sendToQueue, (queueId, record, error) =>
    log(`S3 notification for ${record.s3.object.key} to queue ${queueId} failed after retries: ${(error as Error).message}`),
  );
  const deliveries = new Set<Promise<void>>();
  emulators.onS3Event((event) => {
    const delivery = dispatch(event).finally(() => deliveries.delete(delivery));
    deliveries.add(delivery);
  });

  const sources = topology.functions.flatMap((spec) =>
    spec.queueTriggers.map(
      (trigger) =>
        new SqsEventSource(sqs, resources.queues[trigger.queue], spec.id, trigger, invoke, (error) =>
          log(`${spec.id} batch from ${trigger.queue} failed: ${(error as Error).message}`),
        ),
    ),
  );
  sources.forEach((source) => source.start());
  // Stream scoring: one Kinesis event source per stream trigger, with Lambda's Kinesis rules.
  const streamSources = topology.functions.flatMap((spec) =>
    (spec.streamTriggers ?? []).map(
      (trigger) =>
        new KinesisEventSource(kinesis, sqs, { ...resources.streams[trigger.stream]!, onFailureQueueUrl: resources.queues[trigger.onFailure].url }, spec.id, trigger, invoke, (error) =>
          log(`${spec.id} batch from stream ${trigger.stream} failed: ${(error as Error).message}`),
        ),
    ),
  );
  await Promise.all(streamSources.map((source) => source.start()));
  // The queues live in memory: jobs and ingestions the previous run left unfinished get their messages again.
  const table = new RegistryTable(DynamoDBDocumentClient.from(dynamo, DOCUMENT_TRANSLATION), resources.tableName);
  const recovered = resources.queues.training === undefined ? [] : await requeueUnfinishedJobs(new JobStore(table), sqs, resources.queues.training.url);
  if (recovered.length > 0) log(`re-queued ${recovered.length} training job(s) the previous run left unfinished: ${recovered.join(', ')}`);
  const ingests = resources.queues.ingest === undefined ? [] : await requeueUnfinishedIngests(new DatasetStore(table), sqs, resources.queues.ingest.url);
  if (ingests.length > 0) log(`re-queued the ingestion of ${ingests.length} dataset version(s) the previous run left unfinished: ${ingests.join(', ')}`);
  // Async inference (src/async/): requests the previous run left queued or running.
  const asyncRequests = resources.queues.async === undefined ? [] : await requeueUnfinishedAsyncRequests(table, sqs, resources.queues.async.url);
  if (asyncRequests.length > 0) log(`re-queued ${asyncRequests.length} async inference request(s) the previous run left unfinished`);
  const schedules = startSchedules(topology.functions, options.scheduleIntervalMs ?? DEFAULT_SCHEDULE_INTERVAL_MS, invoke, (functionId, error) =>
    log(`scheduled run of ${functionId} failed: ${(error as Error).message}`),
  );

  const api = apiClient(baseUrl, apiKey);
  for (const model of options.seed ?? []) {
    if (await seedModel(api, model)) log(`registered sample model '${model.name}' and pointed its 'prod' alias at it`);
  }

  await writeFile(endpointsFile(stateDir), `${JSON.stringify({ baseUrl, apiKey, endpoints, resources }, null, 2)}\n`, { mode: 0o600 });

  return {
    baseUrl,
    apiKey,
    endpoints,
    resources,
    stateDir,
    stop: async () => {
      // No new work: polling and timers stop at once. Batches in flight end when their
      // containers stop below (a job cut short is recovered at the next start).
      const polling = Promise.all([...sources.map((s) => s.stop()), ...streamSources.map((s) => s.stop()), schedules.stop()]);
      // Let notifications in flight finish (or exhaust their retries) before the functions go.
      while (deliveries.size > 0) await Promise.all([...deliveries]);
      await new Promise<void>((resolve) => {
        gateway.closeAllConnections();
        gateway.close(() => resolve());
      });
      await stopWatching();
      await Promise.all([...functions.values()].map((fn) => fn.stop()));
      await polling;
      if (code.root !== undefined) await rm(code.root, { recursive: true, force: true });
      dynamo.destroy();
      sqs.destroy();
      kinesis.destroy();
      await emulators.close();
    },
  };
}

