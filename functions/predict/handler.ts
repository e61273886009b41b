/**
 * Predict function (data plane): Open Inference Protocol v2 and KServe v1 over
 * API Gateway, answered by ONNX Runtime in this container or by a version's SageMaker
 * endpoint. Everything per container is built once, at module load.
 */
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { createAwsClients, createSageMakerRuntimeClient } from '../../src/aws/clients.js';
import { ArtifactStore } from '../../src/aws/artifact-store.js';
import { loadConfig } from '../../src/config.js';
import { createApiHandler } from '../../src/http/api-handler.js';
import { ServingBackends } from '../../src/inference/backend.js';
import { ModelLoader } from '../../src/inference/model-loader.js';
import { OnnxBackend } from '../../src/inference/onnx-backend.js';
import { SageMakerBackend } from '../../src/inference/sagemaker-backend.js';
import { servingSessionOptions } from '../../src/inference/onnx-session.js';
import { createPredictRoutes } from '../../src/inference/predict-routes.js';
import { ModelResolver } from '../../src/inference/resolver.js';
import { createObservability } from '../../src/runtime/observability.js';
import { lazySink } from '../../src/registry/events.js';
import { ModelRegistry } from '../../src/registry/registry.js';
import { RegistryTable } from '../../src/storage/table.js';
import { ServingStatsStore } from '../../src/inference/telemetry/serving-stats-store.js';
import { ServingTelemetry } from '../../src/inference/telemetry/serving-telemetry.js';
import { publishVersionMetrics } from '../../src/inference/telemetry/version-metrics.js';

const config = loadConfig();
const observability = createObservability('predict');
// No Powertools Tracer here: Lambda active tracing records the invocation, and the
// X-Ray SDK would add ~100 KB to the cold start of the latency-critical path.
const clients = createAwsClients();
const table = new RegistryTable(clients.dynamo, config.registryTable);

const registry = new ModelRegistry(table);
const loader = new ModelLoader(new ArtifactStore(clients.s3), config.modelCacheDir, servingSessionOptions(config.memoryMb));
const backends = new ServingBackends({
  lambda: new OnnxBackend(loader),
  sagemaker: new SageMakerBackend(createSageMakerRuntimeClient(), {
    // Breaker transitions are rare: the EventBridge client is loaded at the first one, not at every cold start.
    events: lazySink(async () => (await import('../../src/registry/event-bridge-sink.js')).registryEventSink(observability.logger, config.registryEventBus)),
  }),
});
const stats = new ServingStatsStore(table);
// Counters and shadow copies are written every few seconds by the request that finds them due.
const telemetry = new ServingTelemetry({
  addStats: (model, alias, version, bucketStart, counts, flushId) => {
    // CloudWatch metrics per version (a log line) for dashboards and alarms; the table is what rollouts read.
    publishVersionMetrics('predict', model, alias, version, counts);
    return stats.add(model, alias, version, bucketStart, counts, flushId);
  },
  putObject: (key, body) => clients.s3.send(new PutObjectCommand({ Bucket: config.lakeBucket, Key: key, Body: body, ContentType: 'application/x-ndjson' })),
  onError: (what, error) => observability.logger.warn(`dropped ${what}`, { error: error as Error }),
});
const routes = createPredictRoutes({
  // A version an alias starts routing to is loaded (or its endpoint checked) before it gets this container's traffic.
  resolver: new ModelResolver(registry, config.aliasCacheTtlMs, Date.now, (version) => backends.open(version)),
  backends,
  telemetry,
});

/** Lambda entry point. */
export const handler = createApiHandler(routes, observability);
