/**
 * The platform stack, generated from the topology (`topology/topology.ts`) that the local cloud
 * reads as well: one lake, one registry, a queue per `QueueSpec` (with the lake notifications it
 * receives), a layer per `LayerId` some function needs, a function per `FunctionSpec`, and one
 * REST API serving every function's routes.
 */
import { CfnOutput, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { PlatformApi } from './api.js';
import { platformCodeVersion } from '../topology/code-version.js';
import { JobQueue } from './job-queue.js';
import { Lake } from './lake.js';
import { Monitoring, type MonitoringProps } from './monitoring.js';
import { pascalCase } from './names.js';
import { NativeModuleLayer } from './native-module-layer.js';
import { PlatformFunction } from './platform-function.js';
import { Registry } from './registry.js';
import { SageMakerServing } from './sagemaker-serving.js';
import { ScoringStreams } from './stream-scoring.js';
import { type LayerId, type QueueId, type Topology } from '../topology/spec.js';
import { topology as platformTopology } from '../topology/topology.js';

/** Construct id of each layer: a contract, since it names the layer's CloudFormation resource. */
const LAYER_CONSTRUCT_IDS: Readonly<Record<LayerId, string>> = {
  onnxruntime: 'OnnxRuntimeLayer',
  duckdb: 'DuckDbLayer',
};

/** Properties of a {@link PlatformStack}. */
export interface PlatformStackProps extends StackProps {
  /**
   * The topology to deploy.
   *
   * @default - the platform's topology from `topology/topology.ts`
   */
  readonly topology?: Topology;

  /**
   * Removal policy of the stateful resources: lake buckets and registry table.
   *
   * @default RemovalPolicy.RETAIN
   */
  readonly dataRemovalPolicy?: RemovalPolicy;

  /**
   * The platform's code version, set as `CODE_VERSION` on every function and recorded in the
   * lineage of trained models.
   *
   * @default - the package version and git commit of this checkout (`platformCodeVersion()`)
   */
  readonly codeVersion?: string;

  /**
   * Retention of every log group (functions and API access logs).
   *
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;

  /**
   * ARN of a regional WAFv2 web ACL to associate with the API stage.
   *
   * @default - no web ACL
   */
  readonly webAclArn?: string;

  /**
   * Whether this stack sets the account's API Gateway CloudWatch role (one per account and region).
   *
   * @default true
   */
  readonly apiGatewayCloudWatchRole?: boolean;

  /**
   * An address to subscribe to the alarm topic (SNS asks it to confirm first).
   *
   * @default - no subscription: subscribe to the `AlarmTopicArn` output yourself
   */
  readonly alarmEmail?: string;

  /**
   * Alarm thresholds and periods (`infra/monitoring.ts`).
   *
   * @default - the defaults of `MonitoringProps`
   */
  readonly alarms?: Omit<MonitoringProps, 'api' | 'functions' | 'queues' | 'alarmEmail'>;

  /**
   * Most concurrent invocations of each queue's consumer (SQS `MaximumConcurrency`, 2–1000),
   * by queue id: a burst of drops or jobs never takes more of the account's concurrency.
   *
   * @default - each queue trigger's `maxConcurrency` in the topology
   */
  readonly maxConcurrency?: Readonly<Partial<Record<QueueId, number>>>;

  /**
   * Concurrency reserved for functions, by function id (e.g. `{ predict: 50 }` so that nothing
   * else can take predict's capacity). Opt-in: reserving needs the account's unreserved
   * concurrency to stay at 10 or more, which new accounts with a quota of 10 cannot give.
   *
   * @default - none reserved
   */
  readonly reservedConcurrency?: Readonly<Record<string, number>>;

  /**
   * The Triton Inference Server image SageMaker-backed versions on instances run (an ECR image
   * URI), for a region the built-in table lacks or another Triton release.
   *
   * @default - AWS's `sagemaker-tritonserver` GPU image of the stack's region (`infra/triton-image.ts`)
   */
  readonly tritonImageUri?: string;

  /**
   * The Triton Inference Server image serverless SageMaker versions run (an ECR image URI; no
   * GPU there), for a region the built-in table lacks or another Triton release.
   *
   * @default - AWS's `sagemaker-tritonserver` CPU image of the stack's region (`infra/triton-image.ts`)
   */
  readonly tritonCpuImageUri?: string;

  /**
   * Prefix of every SageMaker resource (and alarm) name the platform creates, to which its
   * SageMaker grants are scoped: lowercase letters, digits and inner dashes, at most 20 characters.
   *
   * @default - derived from the stack name: up to 10 of its letters and digits, a dash and 6 hex digits of its hash
   */
  readonly sagemakerResourcePrefix?: string;
}

/** The serverless AI platform. */
export class PlatformStack extends Stack {
  /** The data lake. */
  public readonly lake: Lake;

  /** The model registry. */
  public readonly registry: Registry;

  /** The queues, in topology order. */
  public readonly queues: readonly JobQueue[];

  /**
   * Where SageMaker-backed versions run (execution role, Triton image, resource prefix).
   *
   * @default - none when no function of the topology has `sagemaker` access
   */
  public readonly sagemaker?: SageMakerServing;

  /** The layers some function needs, in order of first use in the topology. */
  public readonly layers: readonly NativeModuleLayer[];

  /** The functions, in topology order. */
  public readonly functions: readonly PlatformFunction[];

  /** The REST API. */
  public readonly api: PlatformApi;

  /** Stream scoring: the topology's Kinesis streams (absent when it has none). */
  public readonly streams?: ScoringStreams;

  /** Alarms, their SNS topic and the platform's dashboard. */
  public readonly monitoring: Monitoring;

  constructor(scope: Construct, id: string, props: PlatformStackProps = {}) {
    super(scope, id, {
      description: 'Serverless AI platform: ONNX model serving, model registry, data lake with ingest, and training queues',
      ...props,
    });
    const topology = props.topology ?? platformTopology;
    validateTopology(this.node.path, topology);
    const removalPolicy = props.dataRemovalPolicy ?? RemovalPolicy.RETAIN;
    const codeVersion = props.codeVersion ?? platformCodeVersion();
    const reservedConcurrency = props.reservedConcurrency ?? {};
    for (const functionId of Object.keys(reservedConcurrency)) {
      if (!topology.functions.some((spec) => spec.id === functionId)) {
        throw new Error(`${this.node.path} reservedConcurrency names no function: '${functionId}' (functions: ${topology.functions.map((spec) => spec.id).join(', ')})`);
      }
    }
    const maxConcurrency = props.maxConcurrency ?? {};
    const consumerOf = (queueId: string) => topology.functions.find((spec) => spec.queueTriggers.some((trigger) => trigger.queue === queueId));
    for (const queueId of Object.keys(maxConcurrency)) {
      if (consumerOf(queueId) === undefined) throw new Error(`${this.node.path} maxConcurrency names no queue that triggers a function: '${queueId}'`);
    }

    this.lake = new Lake(this, 'Lake', { removalPolicy });
    this.registry = new Registry(this, 'Registry', { removalPolicy });
    this.queues = topology.queues.map((spec) => new JobQueue(this, `${pascalCase(spec.id)}Queue`, { spec }));
    for (const queue of this.queues) {
      for (const notification of queue.spec.lakeNotifications ?? []) {
        this.lake.notifyObjectCreated(queue.queue, notification);
      }
    }
    if (topology.functions.some((spec) => spec.access.sagemaker !== undefined)) {
      this.sagemaker = new SageMakerServing(this, 'SageMaker', {
        lake: this.lake,
        resourcePrefix: props.sagemakerResourcePrefix,
        tritonImageUri: props.tritonImageUri,
        tritonCpuImageUri: props.tritonCpuImageUri,
      });
    }
    const layerIds = [...new Set(topology.functions.flatMap((spec) => spec.layers))];
    this.layers = layerIds.map((layer) => new NativeModuleLayer(this, LAYER_CONSTRUCT_IDS[layer], { layer }));

    this.functions = topology.functions.map(
      (spec) =>
        new PlatformFunction(this, `${pascalCase(spec.id)}Function`, {
          spec,
          codeVersion,
          registry: this.registry,
          lake: this.lake,
          sagemaker: this.sagemaker,
          queues: this.queues,
          layers: this.layers,
          logRetention: props.logRetention,
          reservedConcurrency: reservedConcurrency[spec.id],
          queueMaxConcurrency: Object.fromEntries(Object.entries(maxConcurrency).filter(([queueId]) => consumerOf(queueId) === spec)),
          streams: topology.streams,
        }),
    );
    // Stream scoring: the streams, and the Kinesis event sources of the functions that score them.
    if ((topology.streams ?? []).length > 0) {
      const streams = new ScoringStreams(this, 'Streams', { streams: topology.streams! });
      const queueFor = (queueId: string) => {
        const queue = this.queues.find((candidate) => candidate.queueId === queueId);
        if (queue === undefined) throw new Error(`${this.node.path} stream trigger names no queue of the topology: '${queueId}'`);
        return queue;
      };
      for (const fn of this.functions) streams.addTriggers(fn, queueFor);
      this.streams = streams;
    }

    this.api = new PlatformApi(this, 'Api', {
      functions: this.functions,
      logRetention: props.logRetention,
      webAclArn: props.webAclArn,
      cloudWatchRole: props.apiGatewayCloudWatchRole,
    });

    this.monitoring = new Monitoring(this, 'Monitoring', {
      ...props.alarms,
      api: this.api,
      functions: this.functions,
      queues: this.queues,
      alarmEmail: props.alarmEmail,
    });

    new CfnOutput(this, 'ApiUrl', { value: this.api.url, description: 'REST API base URL (stage included)' });
    new CfnOutput(this, 'ApiKeyId', {
      value: this.api.apiKey.keyId,
      description: 'Id of the default data-plane API key; its value: aws apigateway get-api-key --include-value --api-key <id>',
    });
    new CfnOutput(this, 'LakeBucketName', { value: this.lake.bucket.bucketName, description: 'Data lake bucket' });
    new CfnOutput(this, 'RegistryTableName', { value: this.registry.table.tableName, description: 'Model registry table' });
    new CfnOutput(this, 'RegistryEventBusName', { value: this.registry.eventBus.eventBusName, description: 'EventBridge bus of registry events' });
    new CfnOutput(this, 'AlarmTopicArn', { value: this.monitoring.alarmTopic.topicArn, description: 'SNS topic of the platform alarms: subscribe to be told' });
    if (this.sagemaker !== undefined) {
      new CfnOutput(this, 'SageMakerResourcePrefix', {
        value: this.sagemaker.resourcePrefix,
        description: 'Prefix of the SageMaker endpoints, models, inference components and alarms the platform creates',
      });
    }
    new CfnOutput(this, 'DashboardName', { value: this.monitoring.dashboard.dashboardName, description: 'CloudWatch dashboard of the platform' });
    for (const queue of this.queues) {
      const name = pascalCase(queue.queueId);
      new CfnOutput(this, `${name}QueueUrl`, { value: queue.queue.queueUrl, description: `${queue.queueId} queue URL` });
      new CfnOutput(this, `${name}DeadLetterQueueUrl`, {
        value: queue.deadLetterQueue.queueUrl,
        description: `${queue.queueId} dead-letter queue URL`,
      });
    }
  }
}

/**
 * Cross-function checks the constructs cannot make alone: unique ids (they become construct
 * ids) and lake notification filters that do not overlap, across all queues (S3 rejects
 * overlapping filters for the same event type, whatever their destinations).
 */
function validateTopology(where: string, topology: Topology): void {
  const seen = new Map<string, string>();
  for (const [kind, id] of [
    ...topology.functions.map((spec) => ['function', spec.id] as const),
    ...topology.queues.map((spec) => ['queue', spec.id] as const),
  ]) {
    const key = `${kind}:${pascalCase(id)}`;
    const previous = seen.get(key);
    if (previous !== undefined) {
      throw new Error(`${where} topology has two ${kind}s with the same id: '${previous}' and '${id}'`);
    }
    seen.set(key, id);
  }
  const notifications = topology.queues.flatMap((spec) =>
    (spec.lakeNotifications ?? []).map((notification) => ({ queueId: spec.id, prefix: notification.prefix, suffix: notification.suffix ?? '' })),
  );
  notifications.forEach((a, i) => {
    for (const b of notifications.slice(i + 1)) {
      const prefixesOverlap = a.prefix.startsWith(b.prefix) || b.prefix.startsWith(a.prefix);
      const suffixesOverlap = a.suffix.endsWith(b.suffix) || b.suffix.endsWith(a.suffix);
      if (prefixesOverlap && suffixesOverlap) {
        throw new Error(
          `${where} lake notifications overlap: queue '${a.queueId}' (prefix '${a.prefix}', suffix '${a.suffix}') and queue '${b.queueId}' (prefix '${b.prefix}', suffix '${b.suffix}')`,
        );
      }
    }
  });
}
