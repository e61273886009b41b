/**
 * Predict function (data plane): Open Inference Protocol v2 and KServe v1 over
 * API Gateway, answered by ONNX Runtime in this container or by a version's SageMaker
 * endpoint. Everything per container is built once, at module load; async inference's SQS client
 * and presigner (src/async/async-transport.ts) are loaded at the first request that needs them.
 */
import { createContainerAsyncApi } from '../../src/async/container-async.js';
import { createAwsClients } from '../../src/aws/clients.js';
import { loadConfig } from '../../src/config.js';
import { createApiHandler } from '../../src/http/api-handler.js';
import { createContainerServing } from '../../src/inference/container-serving.js';
import { createPredictRoutes } from '../../src/inference/predict-routes.js';
import { createObservability } from '../../src/runtime/observability.js';

const observability = createObservability('predict');
const config = loadConfig();
const clients = createAwsClients();
// No Powertools Tracer here: Lambda active tracing records the invocation, and the
// X-Ray SDK would add ~100 KB to the cold start of the latency-critical path.
const asyncApi = createContainerAsyncApi(config, clients);
const routes = { ...createPredictRoutes(createContainerServing('predict', config, clients, observability), asyncApi), ...asyncApi.routes };

/** Lambda entry point. */
export const handler = createApiHandler(routes, observability);
