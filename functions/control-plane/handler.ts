/**
 * Control-plane function: the model registry API (models, versions, aliases,
 * artifact uploads) and the dataset API, behind IAM-authenticated API Gateway routes.
 */
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import { ArtifactStore } from '../../src/aws/artifact-store.js';
import { createAwsClients } from '../../src/aws/clients.js';
import { loadConfig } from '../../src/config.js';
import { createApiHandler } from '../../src/http/api-handler.js';
import { inspectOnnxModel } from '../../src/inference/onnx-session.js';
import { createDatasetRoutes } from '../../src/lake/dataset-routes.js';
import { DatasetStore } from '../../src/lake/dataset-store.js';
import { previewParquet } from '../../src/lake/preview.js';
import { createObservability } from '../../src/observability.js';
import { createControlPlaneRoutes } from '../../src/registry/control-plane-routes.js';
import { ModelRegistry } from '../../src/registry/registry.js';

const config = loadConfig();
const observability = createObservability('control-plane');
const tracer = new Tracer({ serviceName: 'control-plane' });
const clients = createAwsClients();
tracer.captureAWSv3Client(clients.dynamo);
tracer.captureAWSv3Client(clients.s3);

const signUpload = (key: string, expiresIn: number) =>
  getSignedUrl(clients.s3, new PutObjectCommand({ Bucket: config.lakeBucket, Key: key }), { expiresIn });
const routes = {
  ...createControlPlaneRoutes({
    registry: new ModelRegistry(clients.dynamo, config.registryTable),
    artifacts: new ArtifactStore(clients.s3),
    lakeBucket: config.lakeBucket,
    inspect: inspectOnnxModel,
    signUpload,
  }),
  ...createDatasetRoutes({
    datasets: new DatasetStore(clients.dynamo, config.registryTable),
    lakeBucket: config.lakeBucket,
    signUpload,
    preview: (key, limit) => previewParquet(clients.s3, config.lakeBucket, key, limit),
  }),
};

/** Lambda entry point. */
export const handler = createApiHandler(routes, observability, [captureLambdaHandler(tracer, { captureResponse: false })]);
