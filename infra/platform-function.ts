/**
 * One Lambda function of the platform, built from its topology {@link FunctionSpec}: bundle,
 * layer, log group, environment, least-privilege grants and event sources.
 */
import path from 'node:path';
import { Annotations, Duration, Size } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { LogLevel, NodejsFunction, OutputFormat, type ICommandHooks } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { SHADOW_PREDICTIONS_PATTERN, SHADOW_REQUESTS_PREFIX } from '../topology/storage-layout.js';
import { FUNCTION_BUNDLING } from '../topology/bundling.js';
import type { JobQueue } from './job-queue.js';
import type { Lake } from './lake.js';
import { acknowledgeNag, cfnOf, iam5ArnWildcardFinding } from './nag.js';
import type { NativeModuleLayer } from './native-module-layer.js';
import { REPO_ROOT } from '../topology/paths.js';
import type { Registry } from './registry.js';
import { DEPLOY_DESCRIBE_ACTIONS_REASON, type SageMakerServing } from './sagemaker-serving.js';
import { DEFAULT_METRICS_NAMESPACE, functionEnvironment } from '../topology/environment.js';
import { DEFAULT_MAX_CONCURRENCY, type FunctionSpec, type LayerId, type QueueId, type StreamSpec } from '../topology/spec.js';
import { assertIntegerInRange } from './validation.js';

/** API Gateway REST integration timeout (default quota). */
const API_GATEWAY_TIMEOUT_SECONDS = 29;

/** Largest SQS batch without a batching window. */
const MAX_SQS_BATCH_SIZE = 10;

/** Bounds of an SQS event source's `MaximumConcurrency`. */
const MIN_SQS_MAX_CONCURRENCY = 2;
const MAX_SQS_MAX_CONCURRENCY = 1000;

/** Highest reserved concurrency accepted (Lambda's default account quota is 1,000). */
const MAX_CONCURRENCY = 1000;

/** Lambda's /tmp: 512 MB by default, up to 10,240 MB. */
const DEFAULT_EPHEMERAL_STORAGE_MB = 512;
const MAX_EPHEMERAL_STORAGE_MB = 10_240;

/** Lambda's limit on function code plus all its layers, unzipped: 250 MB. */
const MAX_UNZIPPED_CODE_AND_LAYERS_BYTES = 250 * 1024 * 1024;

/**
 * Writes `{"type":"commonjs"}` next to the bundle, so that `index.js` is CommonJS wherever it is
 * loaded from (the repository's own package.json says `"type": "module"`, which would otherwise
 * apply to bundles run from `cdk.out`). Lambda treats it the same either way.
 */
const COMMONJS_MARKER_HOOKS: ICommandHooks = {
  beforeBundling: () => [],
  beforeInstall: () => [],
  afterBundling: (_inputDir: string, outputDir: string) => [`echo '{"type":"commonjs"}' > "${outputDir}/package.json"`],
};

/** Properties of a {@link PlatformFunction}. */
export interface PlatformFunctionProps {
  /** The function's description in the topology: entry, memory, timeout, access, triggers. */
  readonly spec: FunctionSpec;

  /** The platform's code version (`CODE_VERSION`), recorded in trained models' lineage. */
  readonly codeVersion: string;

  /**
   * The registry; required when `spec.access.registry` is set.
   *
   * @default - no registry access
   */
  readonly registry?: Registry;

  /**
   * The lake; required when `spec.access.lake` is set.
   *
   * @default - no lake access
   */
  readonly lake?: Lake;

  /**
   * Where SageMaker-backed versions run; required when `spec.access.sagemaker` is set.
   *
   * @default - no SageMaker access
   */
  readonly sagemaker?: SageMakerServing;

  /**
   * The platform's queues; each queue named in `spec.access.queues` or `spec.queueTriggers`
   * must be among them.
   *
   * @default - no queues
   */
  readonly queues?: readonly JobQueue[];

  /**
   * The platform's layers; each layer named in `spec.layers` must be among them. The function
   * takes its layers' architecture (they must agree).
   *
   * @default - no layers; the function runs on x86_64
   */
  readonly layers?: readonly NativeModuleLayer[];

  /**
   * How long the function's log group keeps logs.
   *
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;

  /**
   * Concurrent executions reserved for the function (and the most it may run). Reserving
   * needs the account's unreserved concurrency to stay at 10 or more: leave it off on
   * accounts with the minimum concurrency quota.
   *
   * @default - none reserved: the function shares the account's unreserved concurrency
   */
  readonly reservedConcurrency?: number;

  /**
   * Most concurrent invocations of each of the function's queue triggers (SQS
   * `MaximumConcurrency`, 2–1000), overriding `maxConcurrency` of its `spec.queueTriggers`.
   *
   * @default - each trigger's `maxConcurrency`, or DEFAULT_MAX_CONCURRENCY
   */
  readonly queueMaxConcurrency?: Readonly<Partial<Record<QueueId, number>>>;

  /**
   * CloudWatch namespace of the function's Powertools metrics.
   *
   * @default 'ServerlessAiPlatform'
   */
  readonly metricsNamespace?: string;

  /**
   * The topology's streams: a function with a stream trigger learns what it scores from its stream's spec.
   *
   * @default - no streams
   */
  readonly streams?: readonly StreamSpec[];
}

/**
 * A `NodejsFunction` for one topology function: nodejs22.x, esbuild bundle (CommonJS, minified,
 * no source maps, AWS SDK bundled, layer-provided modules left out: `topology/bundling.ts`), its own
 * log group, active tracing, an execution role with no managed policies and only the grants its
 * `spec.access` asks for, and SQS event sources for its queue triggers.
 */
export class PlatformFunction extends Construct {
  /** The Lambda function. */
  public readonly function: NodejsFunction;

  /** The function's execution role. */
  public readonly role: iam.Role;

  /** The function's log group. */
  public readonly logGroup: logs.LogGroup;

  /** The function's description in the topology. */
  public readonly spec: FunctionSpec;

  constructor(scope: Construct, id: string, props: PlatformFunctionProps) {
    super(scope, id);
    const { spec } = props;
    this.spec = spec;
    const where = `${this.node.path} (function '${spec.id}')`;
    validateSpec(where, spec);
    if (spec.routes.length > 0 && spec.timeoutSeconds > API_GATEWAY_TIMEOUT_SECONDS) {
      // Regional REST APIs can raise the integration timeout by quota: a warning, not an error.
      Annotations.of(this).addWarningV2(
        '@platform:functionTimeoutOverApiGatewayTimeout',
        `${where} timeoutSeconds ${spec.timeoutSeconds} exceeds API Gateway's ${API_GATEWAY_TIMEOUT_SECONDS} s integration timeout`,
      );
    }
    const layers = resolveLayers(where, spec, props.layers ?? []);
    if (spec.access.registry !== undefined && props.registry === undefined) {
      throw new Error(`${where} has registry access '${spec.access.registry}' but no registry was given`);
    }
    const lake = props.lake;
    if (spec.access.lake !== undefined && lake === undefined) {
      throw new Error(`${where} has lake access but no lake was given`);
    }
    if (spec.access.sagemaker !== undefined && props.sagemaker === undefined) {
      throw new Error(`${where} has SageMaker access '${spec.access.sagemaker}' but no SageMaker serving was given`);
    }
    const queues = new Map((props.queues ?? []).map((queue) => [queue.queueId, queue]));
    const queueFor = (queueId: QueueId, use: string): JobQueue => {
      const queue = queues.get(queueId);
      if (queue === undefined) {
        throw new Error(`${where} ${use} queue '${queueId}' but it is not among the given queues [${[...queues.keys()].join(', ')}]`);
      }
      return queue;
    };
    if (props.reservedConcurrency !== undefined) {
      assertIntegerInRange(`${where} reservedConcurrency`, props.reservedConcurrency, 1, MAX_CONCURRENCY);
    }
    const metricsNamespace = props.metricsNamespace ?? DEFAULT_METRICS_NAMESPACE;
    if (!/^[\w./#:-]{1,255}$/.test(metricsNamespace)) {
      throw new Error(`${where} metricsNamespace must be 1-255 characters of [A-Za-z0-9_./#:-], got '${metricsNamespace}'`);
    }

    this.logGroup = new logs.LogGroup(this, 'LogGroup', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
    });

    // Own role without the AWSLambdaBasicExecutionRole managed policy: logs go to this
    // function's log group only.
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Execution role of the ${spec.id} function`,
    });
    this.logGroup.grantWrite(this.role);

    for (const [queueId, use] of queueAccessEntries(spec)) {
      if (use === 'send') queueFor(queueId, 'sends to');
    }
    const environment = functionEnvironment(spec, [...queues.values()].map((queue) => queue.spec), {
      registryTable: props.registry?.table.tableName ?? '',
      lakeBucket: lake?.bucket.bucketName ?? '',
      queueUrls: Object.fromEntries([...queues].map(([id, queue]) => [id, queue.queue.queueUrl])),
      metricsNamespace,
      codeVersion: props.codeVersion,
      ...(props.registry === undefined ? {} : { registryEventBus: props.registry.eventBus.eventBusName }),
      ...(props.sagemaker === undefined ? {} : { sagemaker: props.sagemaker.names }),
    }, props.streams);

    this.function = new NodejsFunction(this, 'Function', {
      entry: path.join(REPO_ROOT, spec.entry),
      handler: 'handler',
      description: spec.description,
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: layers[0]?.architecture ?? lambda.Architecture.X86_64,
      memorySize: spec.memoryMb,
      timeout: Duration.seconds(spec.timeoutSeconds),
      // Left out at the default, so the template only says it where the topology does.
      ...(spec.ephemeralStorageMb === undefined ? {} : { ephemeralStorageSize: Size.mebibytes(spec.ephemeralStorageMb) }),
      role: this.role,
      logGroup: this.logGroup,
      tracing: lambda.Tracing.ACTIVE,
      layers: layers.map((layer) => layer.layerVersion),
      ...(props.reservedConcurrency === undefined ? {} : { reservedConcurrentExecutions: props.reservedConcurrency }),
      environment,
      projectRoot: REPO_ROOT,
      depsLockFilePath: path.join(REPO_ROOT, 'package-lock.json'),
      bundling: {
        // Shared with bench/ (topology/bundling.ts) so benchmarks measure the bundle Lambda runs:
        // `topology/bundling.ts`: CommonJS (NODE_PATH reaches the layers), minified, layer modules external.
        format: FUNCTION_BUNDLING.format === 'cjs' ? OutputFormat.CJS : OutputFormat.ESM,
        target: FUNCTION_BUNDLING.target,
        minify: FUNCTION_BUNDLING.minify,
        mainFields: [...FUNCTION_BUNDLING.mainFields],
        sourceMap: false,
        externalModules: [...FUNCTION_BUNDLING.externalModules],
        define: { ...FUNCTION_BUNDLING.define },
        banner: FUNCTION_BUNDLING.banner,
        logLevel: LogLevel.WARNING,
        forceDockerBundling: false,
        commandHooks: COMMONJS_MARKER_HOOKS,
      },
    });

    this.grantAccess(where, props, queueFor);
    this.addQueueTriggers(where, spec, props.queueMaxConcurrency ?? {}, queueFor);
    if (spec.schedule !== undefined) {
      assertIntegerInRange(`${where} schedule.everyMinutes`, spec.schedule.everyMinutes, 1, 1440);
      new events.Rule(this, 'Schedule', {
        description: `Runs the ${spec.id} function every ${spec.schedule.everyMinutes} minute(s)`,
        schedule: events.Schedule.rate(Duration.minutes(spec.schedule.everyMinutes)),
        targets: [new targets.LambdaFunction(this.function, { retryAttempts: 0 })],
      });
      // A scheduled deployer also runs when one of the platform's endpoints changes state, so a
      // version's deployment follows its endpoint within seconds rather than at the next run.
      if (spec.access.sagemaker === 'deploy' && props.sagemaker !== undefined) {
        new events.Rule(this, 'EndpointStateChange', {
          description: `Runs the ${spec.id} function when an endpoint named ${props.sagemaker.resourcePrefix}* changes state`,
          eventPattern: props.sagemaker.endpointStateChangePattern(),
          targets: [new targets.LambdaFunction(this.function, { retryAttempts: 0 })],
        });
      }
    }
    this.acknowledgeNagFindings(props);
  }

  private grantAccess(where: string, props: PlatformFunctionProps, queueFor: (queueId: QueueId, use: string) => JobQueue): void {
    const { spec } = props;
    if (props.registry !== undefined) {
      if (spec.access.registry === 'read') props.registry.grantRead(this.function);
      if (spec.access.registry === 'readWrite') props.registry.grantReadWrite(this.function);
      if (spec.access.registryEvents === 'publish') props.registry.eventBus.grantPutEventsTo(this.function);
    }
    if (props.lake !== undefined && spec.access.lake !== undefined) {
      props.lake.grantRead(this.function, spec.access.lake.read);
      if (spec.access.lake.write !== undefined) props.lake.grantWrite(this.function, spec.access.lake.write);
    }
    if (spec.access.servingTelemetry === 'write') {
      if (props.registry === undefined || props.lake === undefined) throw new Error(`${where} writes serving telemetry but no registry or lake was given`);
      props.registry.grantWriteServingStats(this.function);
      props.lake.grantWriteShadowCopies(this.function);
    }
    if (spec.access.shadowResults === 'write') {
      if (props.registry === undefined || props.lake === undefined) throw new Error(`${where} writes shadow results but no registry or lake was given`);
      props.registry.grantWriteShadowComparisons(this.function);
      props.lake.grantWriteShadowPredictions(this.function);
    }
    if (spec.access.asyncRequests !== undefined) {
      if (props.registry === undefined) throw new Error(`${where} writes async requests but no registry was given`);
      props.registry.grantWriteAsyncRequests(this.function, spec.access.asyncRequests);
    }
    if (props.sagemaker !== undefined) {
      if (spec.access.sagemaker === 'invoke') props.sagemaker.grantInvoke(this.function);
      if (spec.access.sagemaker === 'deploy') props.sagemaker.grantDeploy(this.function);
    }
    for (const [queueId, use] of queueAccessEntries(spec)) {
      if (use === 'send') queueFor(queueId, 'sends to').grantSend(this.function);
      else if (use === 'consume') queueFor(queueId, 'consumes from').grantConsume(this.function);
      else throw new Error(`${where} access to queue '${queueId}' must be 'send' or 'consume', got '${String(use)}'`);
    }
  }

  private addQueueTriggers(
    where: string,
    spec: FunctionSpec,
    maxConcurrencyOverrides: Readonly<Partial<Record<QueueId, number>>>,
    queueFor: (queueId: QueueId, use: string) => JobQueue,
  ): void {
    for (const queueId of Object.keys(maxConcurrencyOverrides)) {
      if (!spec.queueTriggers.some((trigger) => trigger.queue === queueId)) {
        throw new Error(`${where} has no trigger on queue '${queueId}' to set maxConcurrency of; its triggers: [${spec.queueTriggers.map((trigger) => trigger.queue).join(', ')}]`);
      }
    }
    for (const trigger of spec.queueTriggers) {
      const jobQueue = queueFor(trigger.queue, 'is triggered by');
      assertIntegerInRange(`${where} queueTriggers['${trigger.queue}'].batchSize`, trigger.batchSize, 1, MAX_SQS_BATCH_SIZE);
      const maxConcurrency = maxConcurrencyOverrides[trigger.queue] ?? trigger.maxConcurrency ?? DEFAULT_MAX_CONCURRENCY;
      assertIntegerInRange(`${where} queueTriggers['${trigger.queue}'].maxConcurrency`, maxConcurrency, MIN_SQS_MAX_CONCURRENCY, MAX_SQS_MAX_CONCURRENCY);
      const visibilitySeconds = jobQueue.spec.visibilityTimeoutSeconds;
      if (visibilitySeconds < spec.timeoutSeconds) {
        throw new Error(
          `${where} is triggered by queue '${trigger.queue}' whose visibility timeout (${visibilitySeconds} s) is shorter than the function timeout (${spec.timeoutSeconds} s)`,
        );
      }
      this.function.addEventSource(
        new SqsEventSource(jobQueue.queue, {
          batchSize: trigger.batchSize,
          reportBatchItemFailures: trigger.reportBatchItemFailures,
          maxConcurrency,
        }),
      );
    }
  }

  /** Acknowledges, on this function's role only, the wildcards its grants need. */
  private acknowledgeNagFindings(props: PlatformFunctionProps): void {
    acknowledgeNag(
      this.function,
      'AwsSolutions-L1',
      'nodejs22.x is pinned on purpose: the native-module layers (onnxruntime, duckdb) are built, proven and declared compatible for nodejs22.x (Amazon Linux 2023); move to a newer runtime together with the layers.',
    );
    const deploysSageMaker = props.sagemaker !== undefined && props.spec.access.sagemaker === 'deploy';
    acknowledgeNag(
      this.role,
      'AwsSolutions-IAM5[Resource::*]',
      [
        'Active tracing: xray:PutTraceSegments and xray:PutTelemetryRecords do not support resource-level permissions, so AWS requires Resource "*".',
        ...(deploysSageMaker ? [DEPLOY_DESCRIBE_ACTIONS_REASON] : []),
      ].join(' '),
    );
    if (props.sagemaker !== undefined && props.spec.access.sagemaker === 'invoke') props.sagemaker.acknowledgeInvokeFindings(this.role);
    if (props.sagemaker !== undefined && deploysSageMaker) props.sagemaker.acknowledgeDeployFindings(this.role);
    if (props.registry !== undefined && props.spec.access.registry !== undefined) {
      acknowledgeNag(
        this.role,
        iam5ArnWildcardFinding(cfnOf(props.registry.table), '/index/*'),
        'Covers only the indexes of the registry table (gsi1 lists models); the data actions are the least-privilege set of Table.grantReadData/grantReadWriteData.',
      );
    }
    if (props.lake !== undefined && props.spec.access.servingTelemetry === 'write') {
      acknowledgeNag(
        this.role,
        iam5ArnWildcardFinding(cfnOf(props.lake.bucket), `/${SHADOW_REQUESTS_PREFIX}*`),
        'Shadow copies of requests get keys at run time; the statement allows only s3:PutObject, only under shadow-requests/ of the lake bucket.',
      );
    }
    if (props.lake !== undefined && props.spec.access.shadowResults === 'write') {
      acknowledgeNag(
        this.role,
        iam5ArnWildcardFinding(cfnOf(props.lake.bucket), `/${SHADOW_PREDICTIONS_PATTERN}`),
        'Shadow records get keys at run time (model, alias, time); the statement allows only s3:PutObject, only under predictions/<model>/shadow/ of the lake bucket.',
      );
    }
    const lakeAccess = props.spec.access.lake;
    if (props.lake !== undefined && lakeAccess !== undefined) {
      for (const pattern of new Set([...lakeAccess.read, ...(lakeAccess.write ?? [])])) {
        acknowledgeNag(
          this.role,
          iam5ArnWildcardFinding(cfnOf(props.lake.bucket), `/${pattern}`),
          `Lake object keys are created at run time; the statement covers only keys matching ${pattern} of the lake bucket, with explicit object actions.`,
        );
      }
    }
  }
}

function validateSpec(where: string, spec: FunctionSpec): void {
  if (!/^[a-z][a-z0-9-]{0,39}$/.test(spec.id)) {
    throw new Error(`${where} id must be lowercase letters, digits and dashes (max 40), got '${spec.id}'`);
  }
  if (path.isAbsolute(spec.entry) || !spec.entry.endsWith('.ts')) {
    throw new Error(`${where} entry must be a repository-relative .ts file, got '${spec.entry}'`);
  }
  assertIntegerInRange(`${where} memoryMb`, spec.memoryMb, 128, 10_240);
  assertIntegerInRange(`${where} timeoutSeconds`, spec.timeoutSeconds, 1, 900);
  if (spec.ephemeralStorageMb !== undefined) {
    assertIntegerInRange(`${where} ephemeralStorageMb`, spec.ephemeralStorageMb, DEFAULT_EPHEMERAL_STORAGE_MB, MAX_EPHEMERAL_STORAGE_MB);
  }
}

/**
 * The layers `spec.layers` names: each given, none twice, all of one architecture,
 * and their size budgets together within Lambda's 250 MB for code plus layers.
 */
function resolveLayers(where: string, spec: FunctionSpec, given: readonly NativeModuleLayer[]): NativeModuleLayer[] {
  const byId = new Map<LayerId, NativeModuleLayer>(given.map((layer) => [layer.layerId, layer]));
  const layers = spec.layers.map((layerId) => {
    const layer = byId.get(layerId);
    if (layer === undefined) {
      throw new Error(`${where} needs the ${layerId} layer but it is not among the given layers [${[...byId.keys()].join(', ')}]`);
    }
    return layer;
  });
  if (new Set(spec.layers).size !== spec.layers.length) {
    throw new Error(`${where} names a layer twice: [${spec.layers.join(', ')}]`);
  }
  const architectures = new Set(layers.map((layer) => layer.architecture.name));
  if (architectures.size > 1) {
    throw new Error(`${where} layers target different architectures: ${layers.map((layer) => `${layer.layerId} ${layer.architecture.name}`).join(', ')}`);
  }
  const budgets = layers.reduce((sum, layer) => sum + layer.budgetBytes, 0);
  if (budgets >= MAX_UNZIPPED_CODE_AND_LAYERS_BYTES) {
    throw new Error(
      `${where} layers' size budgets add up to ${(budgets / 1024 / 1024).toFixed(0)} MB, leaving no room for code in Lambda's 250 MB (unzipped code plus layers)`,
    );
  }
  return layers;
}

function queueAccessEntries(spec: FunctionSpec): Array<[QueueId, 'send' | 'consume']> {
  const entries: Array<[QueueId, 'send' | 'consume']> = [];
  const queues = spec.access.queues ?? {};
  for (const queueId of Object.keys(queues) as QueueId[]) {
    const use = queues[queueId];
    if (use !== undefined) entries.push([queueId, use]);
  }
  return entries;
}
