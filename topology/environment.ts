/**
 * The environment every platform function gets, the same in AWS and in the local cloud:
 * variable names (read by `src/config.ts`) and the function that fills them in for a function
 * of the topology (called by the CDK stack and by the local cloud).
 */
import type { FunctionSpec, QueueId, QueueSpec, StreamSpec } from './spec.js';

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
  /** Deliveries of a message before SQS moves it to the dead-letter queue (functions with a queue trigger: its queue's `maxReceiveCount`). */
  maxReceiveCount: 'QUEUE_MAX_RECEIVE_COUNT',
  /** Prefix of every SageMaker resource name the platform creates (functions with `sagemaker` access); IAM grants are scoped to it. */
  sagemakerResourcePrefix: 'SAGEMAKER_RESOURCE_PREFIX',
  /** The role SageMaker assumes to run the platform's endpoints (functions with `sagemaker: 'deploy'`). */
  sagemakerExecutionRoleArn: 'SAGEMAKER_EXECUTION_ROLE_ARN',
  /** The Triton Inference Server image that serves ONNX versions on SageMaker instances (functions with `sagemaker: 'deploy'`). */
  tritonImageUri: 'TRITON_IMAGE_URI',
  /** Triton's CPU image, for serverless SageMaker versions (functions with `sagemaker: 'deploy'`). */
  tritonCpuImageUri: 'TRITON_CPU_IMAGE_URI',
  /** The async inference queue's URL (the `async` queue's `urlEnv`). */
  asyncQueueUrl: 'ASYNC_QUEUE_URL',
  /** The batch queue's URL (the `batch` queue's `urlEnv`): jobs to plan. */
  batchQueueUrl: 'BATCH_QUEUE_URL',
  /** The scoring queue's URL (the `scoring` queue's `urlEnv`): chunks to score. */
  scoringQueueUrl: 'SCORING_QUEUE_URL',
  /** What a stream function scores (JSON `StreamScoringSpec` of its trigger's stream). */
  streamScoring: 'STREAM_SCORING',
} as const;

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
  /**
   * Where SageMaker-backed versions run.
   *
   * @default - none: functions get no SageMaker settings
   */
  readonly sagemaker?: SageMakerNames;
}

/** The SageMaker settings functions get (see {@link ENV}). */
export interface SageMakerNames {
  /** Prefix of the SageMaker resources the platform creates. */
  readonly resourcePrefix: string;
  /** The execution role SageMaker assumes for the platform's models. */
  readonly executionRoleArn: string;
  /** The Triton Inference Server image URI in this region (GPU build: endpoints on instances). */
  readonly tritonImageUri: string;
  /** Triton's CPU image URI in this region (serverless endpoints). */
  readonly tritonCpuImageUri: string;
}

/**
 * The environment of a function, the same in AWS and in the local cloud: Powertools
 * settings, and where the resources it may use are (only those its `access` names).
 */
export function functionEnvironment(spec: FunctionSpec, queues: readonly QueueSpec[], names: ResourceNames, streams: readonly StreamSpec[] = []): Record<string, string> {
  const environment: Record<string, string> = {
    POWERTOOLS_SERVICE_NAME: spec.id,
    POWERTOOLS_METRICS_NAMESPACE: names.metricsNamespace ?? DEFAULT_METRICS_NAMESPACE,
    POWERTOOLS_LOG_LEVEL: 'INFO',
    [ENV.codeVersion]: names.codeVersion,
  };
  if (spec.access.registry !== undefined) environment[ENV.registryTable] = names.registryTable;
  if ((spec.access.registry === 'readWrite' || spec.access.registryEvents === 'publish') && names.registryEventBus !== undefined) {
    environment[ENV.registryEventBus] = names.registryEventBus;
  }
  if (spec.access.lake !== undefined) environment[ENV.lakeBucket] = names.lakeBucket;
  if (spec.access.sagemaker !== undefined && names.sagemaker !== undefined) {
    environment[ENV.sagemakerResourcePrefix] = names.sagemaker.resourcePrefix;
    if (spec.access.sagemaker === 'deploy') {
      environment[ENV.sagemakerExecutionRoleArn] = names.sagemaker.executionRoleArn;
      environment[ENV.tritonImageUri] = names.sagemaker.tritonImageUri;
      environment[ENV.tritonCpuImageUri] = names.sagemaker.tritonCpuImageUri;
    }
  }
  for (const trigger of spec.queueTriggers) {
    const queue = queues.find((candidate) => candidate.id === trigger.queue);
    if (queue !== undefined) environment[ENV.maxReceiveCount] = String(queue.maxReceiveCount);
  }
  // Stream scoring: a stream function scores one stream, as its spec says.
  const scored = streams.find((stream) => spec.streamTriggers?.some((trigger) => trigger.stream === stream.id));
  if (scored !== undefined) environment[ENV.streamScoring] = JSON.stringify(scored.scoring);
  for (const queue of queues) {
    const url = names.queueUrls[queue.id];
    if (spec.access.queues?.[queue.id] === 'send' && url !== undefined) environment[queue.urlEnv] = url;
  }
  return environment;
}
