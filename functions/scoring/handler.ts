/**
 * Scoring function: scores the chunks of batch jobs (src/batch) through the one inference path
 * (src/inference/serving.ts), each into its own part of the job's output.
 */
import { createAwsClients } from '../../src/aws/clients.js';
import { createScoreRecordHandler } from '../../src/batch/batch-records.js';
import { BatchJobStore } from '../../src/batch/job-store.js';
import { loadConfig, required } from '../../src/config.js';
import { createContainerServing } from '../../src/inference/container-serving.js';
import { createServing } from '../../src/inference/serving.js';
import { createSqsHandler } from '../../src/runtime/handler-stack.js';
import { createObservability } from '../../src/runtime/observability.js';
import { RegistryTable } from '../../src/storage/table.js';
import { ENV } from '../../topology/environment.js';

const config = loadConfig();
const observability = createObservability('scoring');
const clients = createAwsClients();
const deps = {
  jobs: new BatchJobStore(new RegistryTable(clients.dynamo, config.registryTable)),
  serving: createServing(createContainerServing('batch', config, clients, observability)),
  s3: clients.s3,
  lakeBucket: config.lakeBucket,
  maxReceives: required(config, 'maxReceiveCount', ENV.maxReceiveCount),
};

/** Lambda entry point. */
export const handler = createSqsHandler(observability, () => createScoreRecordHandler(deps, observability.logger));
