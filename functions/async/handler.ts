/**
 * Async inference worker: consumes the async queue's request pointers and answers each request
 * through the one inference path (src/async/run-async-request.ts), with the predict function's
 * serving wiring (backends, routing, counters, shadow copies).
 */
import { AsyncRequestStore } from '../../src/async/async-store.js';
import { createAsyncRecordHandler } from '../../src/async/async-records.js';
import { createAwsClients } from '../../src/aws/clients.js';
import { loadConfig, required } from '../../src/config.js';
import { createContainerServing } from '../../src/inference/container-serving.js';
import { createServing } from '../../src/inference/serving.js';
import { registryEventSink } from '../../src/registry/event-bridge-sink.js';
import { createSqsHandler } from '../../src/runtime/handler-stack.js';
import { createObservability } from '../../src/runtime/observability.js';
import { RegistryTable } from '../../src/storage/table.js';
import { ENV } from '../../topology/environment.js';

const config = loadConfig();
const observability = createObservability('async');
const { logger, metrics } = observability;
const clients = createAwsClients();
const recordHandler = createAsyncRecordHandler(
  {
    store: new AsyncRequestStore(new RegistryTable(clients.dynamo, config.registryTable)),
    serving: createServing(createContainerServing('async', config, clients, observability)),
    s3: clients.s3,
    lakeBucket: config.lakeBucket,
    events: registryEventSink(logger, config.registryEventBus),
    maxReceives: required(config, 'maxReceiveCount', ENV.maxReceiveCount),
  },
  logger,
  metrics,
);

/** Lambda entry point. */
export const handler = createSqsHandler(observability, () => recordHandler);
