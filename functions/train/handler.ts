/**
 * Training function: consumes job messages from the training queue and runs each job
 * (src/training): train on its own thread, evaluate, export ONNX, verify, register.
 */
import { createAwsClients } from '../../src/aws/clients.js';
import { loadConfig, required } from '../../src/config.js';
import { ENV } from '../../topology/environment.js';
import { inspectOnnxModel } from '../../src/inference/onnx-session.js';
import { DatasetStore } from '../../src/lake/dataset-store.js';
import { createSqsHandler } from '../../src/runtime/handler-stack.js';
import { createObservability } from '../../src/runtime/observability.js';
import { registryEventSink } from '../../src/registry/event-bridge-sink.js';
import { ModelRegistry } from '../../src/registry/registry.js';
import { RegistryTable } from '../../src/storage/table.js';
import { createJobRecordHandler } from '../../src/training/job-records.js';
import { JobStore } from '../../src/training/job-store.js';
import { startTrainingThread } from '../../src/ml/training-thread.js';

const config = loadConfig();
const observability = createObservability('train');
const { logger, metrics } = observability;
const clients = createAwsClients();
const table = new RegistryTable(clients.dynamo, config.registryTable);
const events = registryEventSink(logger, config.registryEventBus);
const deps = {
  registry: new ModelRegistry(table, undefined, events),
  jobs: new JobStore(table),
  datasets: new DatasetStore(table),
  s3: clients.s3,
  lakeBucket: config.lakeBucket,
  inspect: inspectOnnxModel,
  startTraining: startTrainingThread,
  codeVersion: config.codeVersion,
  progressIntervalMs: 5_000,
  maxReceives: required(config, 'maxReceiveCount', ENV.maxReceiveCount),
};

/** Lambda entry point. */
export const handler = createSqsHandler(observability, (context) =>
  createJobRecordHandler(deps, { owner: context.awsRequestId, remainingMs: () => context.getRemainingTimeInMillis() }, logger, metrics),
);
