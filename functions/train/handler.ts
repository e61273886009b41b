/**
 * Training function: consumes job messages from the training queue and runs each job
 * (src/training): train on its own thread, evaluate, export ONNX, verify, register.
 */
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { createAwsClients } from '../../src/aws/clients.js';
import { loadConfig, required } from '../../src/config.js';
import { ENV } from '../../topology/environment.js';
import { inspectOnnxModel } from '../../src/inference/onnx-session.js';
import { DatasetStore } from '../../src/lake/dataset-store.js';
import { createObservability } from '../../src/observability.js';
import { registryEventSink } from '../../src/registry/event-bridge-sink.js';
import { ModelRegistry } from '../../src/registry/registry.js';
import { RegistryTable } from '../../src/storage/table.js';
import { createJobRecordHandler } from '../../src/training/job-records.js';
import { JobStore } from '../../src/training/job-store.js';
import { startTrainingThread } from '../../src/ml/training-thread.js';

const config = loadConfig();
const { logger, metrics } = createObservability('train');
const clients = createAwsClients();
const table = new RegistryTable(clients.dynamo, config.registryTable);
const processor = new BatchProcessor(EventType.SQS);
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
export const handler = async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
  const invocation = { owner: context.awsRequestId, remainingMs: () => context.getRemainingTimeInMillis() };
  try {
    return await processPartialResponse(event, createJobRecordHandler(deps, invocation, logger, metrics), processor, { context });
  } finally {
    metrics.publishStoredMetrics();
  }
};
