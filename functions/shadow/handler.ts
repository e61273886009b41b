/**
 * Shadow function: consumes the lake's `shadow-requests/` ObjectCreated notifications from SQS,
 * answers each copied request with the alias's shadow version, writes both answers side by side
 * under `predictions/` and adds their comparison to the alias's counters (src/rollout).
 */
import { createAwsClients } from '../../src/aws/clients.js';
import { loadConfig } from '../../src/config.js';
import { createContainerBackends } from '../../src/inference/container-serving.js';
import { createSqsHandler } from '../../src/runtime/handler-stack.js';
import { createObservability } from '../../src/runtime/observability.js';
import { ModelRegistry } from '../../src/registry/registry.js';
import { RegistryTable } from '../../src/storage/table.js';
import { ShadowComparisons } from '../../src/rollout/shadow-comparisons.js';
import { createShadowRecordHandler } from '../../src/rollout/shadow-records.js';

const config = loadConfig();
const observability = createObservability('shadow');
const { logger, metrics } = observability;
const clients = createAwsClients();
const table = new RegistryTable(clients.dynamo, config.registryTable);
// The predict function's backends: a shadow version on SageMaker answers through its endpoint, behind this container's breaker.
const backend = createContainerBackends(config, clients, observability);
const recordHandler = createShadowRecordHandler(
  {
    s3: clients.s3,
    registry: new ModelRegistry(table),
    backend,
    comparisons: new ShadowComparisons(table),
    lakeBucket: config.lakeBucket,
  },
  logger,
  metrics,
);

/** Lambda entry point. */
export const handler = createSqsHandler(observability, () => recordHandler);
