/**
 * Control-plane function: the model registry API (models, versions, aliases,
 * artifact uploads, SageMaker deployments), the dataset API, the training jobs API and the batch scoring jobs API, behind IAM-authenticated
 * API Gateway routes.
 */
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import { ArtifactStore } from '../../src/aws/artifact-store.js';
import { createAwsClients, createSqsClient } from '../../src/aws/clients.js';
import { loadConfig, required, sagemakerResourcePrefix } from '../../src/config.js';
import { ENV } from '../../topology/environment.js';
import { createDeploymentRoutes } from '../../src/deployments/deployment-routes.js';
import { deploymentNamer } from '../../src/deployments/names.js';
import { createApiHandler } from '../../src/http/api-handler.js';
import { inspectOnnxModel } from '../../src/inference/onnx-session.js';
import { createDatasetRoutes } from '../../src/lake/dataset-routes.js';
import { autoTrainChecker } from '../../src/training/auto-train.js';
import { DatasetStore } from '../../src/lake/dataset-store.js';
import { previewParquet } from '../../src/lake/preview.js';
import { createObservability } from '../../src/runtime/observability.js';
import { createBatchRoutes } from '../../src/batch/batch-routes.js';
import { BatchJobStore } from '../../src/batch/job-store.js';
import { sqsBatchQueues } from '../../src/batch/messages.js';
import { createControlPlaneRoutes } from '../../src/registry/control-plane-routes.js';
import { registryEventSink } from '../../src/registry/event-bridge-sink.js';
import { ModelRegistry } from '../../src/registry/registry.js';
import { ModelResolver } from '../../src/inference/resolver.js';
import { RegistryTable } from '../../src/storage/table.js';
import { createRolloutRoutes } from '../../src/rollout/rollout-routes.js';
import { rolloutsOnTable } from '../../src/rollout/rollouts.js';
import { ShadowComparisons } from '../../src/rollout/shadow-comparisons.js';
import { createShadowRoutes } from '../../src/rollout/shadow-routes.js';
import { sqsJobQueue } from '../../src/training/job-queue.js';
import { createJobRoutes } from '../../src/training/job-routes.js';
import { JobStore } from '../../src/training/job-store.js';
import { trainingLimits } from '../../src/training/limits.js';

const config = loadConfig();
const observability = createObservability('control-plane');
const tracer = new Tracer({ serviceName: 'control-plane' });
const clients = createAwsClients();
const sqs = createSqsClient();
const table = new RegistryTable(clients.dynamo, config.registryTable);
tracer.captureAWSv3Client(clients.dynamo);
tracer.captureAWSv3Client(clients.s3);

const events = registryEventSink(observability.logger, config.registryEventBus);
const signUpload = (key: string, expiresIn: number) =>
  getSignedUrl(clients.s3, new PutObjectCommand({ Bucket: config.lakeBucket, Key: key }), { expiresIn });
const datasets = new DatasetStore(table);
const registry = new ModelRegistry(table, undefined, events);
const resourcePrefix = sagemakerResourcePrefix();
const routes = {
  ...createControlPlaneRoutes({
    registry,
    artifacts: new ArtifactStore(clients.s3),
    lakeBucket: config.lakeBucket,
    inspect: inspectOnnxModel,
    signUpload,
    ...(resourcePrefix === undefined ? {} : { nameDeployment: deploymentNamer(resourcePrefix) }),
  }),
  ...createDeploymentRoutes({ registry }),
  ...createDatasetRoutes({
    datasets,
    lakeBucket: config.lakeBucket,
    signUpload,
    preview: (key, limit) => previewParquet(clients.s3, config.lakeBucket, key, limit),
    autoTrain: autoTrainChecker,
  }),
  ...createJobRoutes({
    datasets,
    jobs: new JobStore(table),
    queue: sqsJobQueue(sqs, config.trainingQueueUrl),
    limits: trainingLimits(),
    models: registry,
  }),
  ...createBatchRoutes({ jobs: new BatchJobStore(table), datasets, queues: sqsBatchQueues(sqs, { batch: required(config, 'batchQueueUrl', ENV.batchQueueUrl) }), resolver: new ModelResolver(registry, 0) }),
  ...createRolloutRoutes(rolloutsOnTable(table, registry, events)),
  ...createShadowRoutes({ comparisons: new ShadowComparisons(table), registry }),
};

/** Lambda entry point. */
export const handler = createApiHandler(routes, observability, [captureLambdaHandler(tracer, { captureResponse: false })]);
