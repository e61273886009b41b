/**
 * The serving dependencies of one Lambda container, built once at module load by every function
 * that answers predictions (the synchronous predict function, and the async, batch and stream
 * workers): the registry resolver, the backends (ONNX Runtime in this container, SageMaker
 * endpoints), and the serving counters with shadow copies. One wiring, so every entry point
 * serves through the same path with the same counters.
 */
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { createSageMakerRuntimeClient, type AwsClients } from '../aws/clients.js';
import { ArtifactStore } from '../aws/artifact-store.js';
import type { PlatformConfig } from '../config.js';
import type { Observability } from '../runtime/observability.js';
import { lazySink } from '../registry/events.js';
import { ModelRegistry } from '../registry/registry.js';
import { RegistryTable } from '../storage/table.js';
import { ServingBackends } from './backend.js';
import { ModelLoader } from './model-loader.js';
import { OnnxBackend } from './onnx-backend.js';
import { servingSessionOptions } from './onnx-session.js';
import { ModelResolver } from './resolver.js';
import { SageMakerBackend } from './sagemaker-backend.js';
import type { ServingDeps } from './serving.js';
import { ServingStatsStore } from './telemetry/serving-stats-store.js';
import { ServingTelemetry } from './telemetry/serving-telemetry.js';
import { publishVersionMetrics } from './telemetry/version-metrics.js';

/**
 * Serving dependencies over this container's clients and configuration. `component` names the
 * function in the per-version metrics (`predict`, `async`, …).
 */
export function createContainerServing(component: string, config: PlatformConfig, clients: AwsClients, observability: Observability): ServingDeps {
  const table = new RegistryTable(clients.dynamo, config.registryTable);
  const backends = createContainerBackends(config, clients, observability);
  const stats = new ServingStatsStore(table);
  // Counters and shadow copies are written every few seconds by the request that finds them due.
  const telemetry = new ServingTelemetry({
    addStats: (model, alias, version, bucketStart, counts, flushId) => {
      // CloudWatch metrics per version (a log line) for dashboards and alarms; the table is what rollouts read.
      publishVersionMetrics(component, model, alias, version, counts);
      return stats.add(model, alias, version, bucketStart, counts, flushId);
    },
    putObject: (key, body) => clients.s3.send(new PutObjectCommand({ Bucket: config.lakeBucket, Key: key, Body: body, ContentType: 'application/x-ndjson' })),
    onError: (what, error) => observability.logger.warn(`dropped ${what}`, { error: error as Error }),
  });
  return {
    // A version an alias starts routing to is loaded (or its endpoint checked) before it gets this container's traffic.
    resolver: new ModelResolver(new ModelRegistry(table), config.aliasCacheTtlMs, Date.now, (version) => backends.open(version)),
    backends,
    telemetry,
  };
}

/**
 * What answers a version in this container: ONNX Runtime for Lambda-backed versions (sessions
 * cached per version), the version's SageMaker endpoint behind this container's circuit breaker.
 */
export function createContainerBackends(config: PlatformConfig, clients: AwsClients, observability: Observability): ServingBackends {
  const loader = new ModelLoader(new ArtifactStore(clients.s3), config.modelCacheDir, servingSessionOptions(config.memoryMb));
  return new ServingBackends({
    lambda: new OnnxBackend(loader),
    sagemaker: new SageMakerBackend(createSageMakerRuntimeClient(), {
      // Breaker transitions are rare: the EventBridge client is loaded at the first one, not at every cold start.
      events: lazySink(async () => (await import('../registry/event-bridge-sink.js')).registryEventSink(observability.logger, config.registryEventBus)),
    }),
  });
}
