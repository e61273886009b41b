/**
 * Batch function: plans batch scoring jobs (src/batch): resolves each job's version once,
 * splits its input into chunks and hands them to the scoring queue; a file dropped under
 * `batch/<model>/` starts a job.
 */
import { createAwsClients, createSqsClient } from '../../src/aws/clients.js';
import { createPlanRecordHandler } from '../../src/batch/batch-records.js';
import { BatchJobStore } from '../../src/batch/job-store.js';
import { sqsBatchQueues } from '../../src/batch/messages.js';
import { loadConfig, required } from '../../src/config.js';
import { ENV } from '../../topology/environment.js';
import { ModelResolver } from '../../src/inference/resolver.js';
import { ModelRegistry } from '../../src/registry/registry.js';
import { createSqsHandler } from '../../src/runtime/handler-stack.js';
import { createObservability } from '../../src/runtime/observability.js';
import { RegistryTable } from '../../src/storage/table.js';

const config = loadConfig();
const observability = createObservability('batch');
const clients = createAwsClients();
const table = new RegistryTable(clients.dynamo, config.registryTable);
const deps = {
  jobs: new BatchJobStore(table),
  // No cache: a job resolves its alias once, at planning, as the registry says it then.
  resolver: new ModelResolver(new ModelRegistry(table), 0),
  s3: clients.s3,
  lakeBucket: config.lakeBucket,
  queues: sqsBatchQueues(createSqsClient(), { scoring: required(config, 'scoringQueueUrl', ENV.scoringQueueUrl) }),
  maxReceives: required(config, 'maxReceiveCount', ENV.maxReceiveCount),
};

/** Lambda entry point. */
export const handler = createSqsHandler(observability, () => createPlanRecordHandler(deps, observability.logger));
