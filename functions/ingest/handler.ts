/**
 * Ingest function: consumes the lake's `raw/` ObjectCreated notifications from SQS and turns
 * each dropped file into a validated, versioned dataset (src/lake), then starts the dataset's
 * auto-train job, if it has one (src/training).
 */
import { createAwsClients, createSqsClient } from '../../src/aws/clients.js';
import { threadsForMemory } from '../../src/aws/lambda-resources.js';
import { loadConfig } from '../../src/config.js';
import { DatasetStore } from '../../src/lake/dataset-store.js';
import { engineMemoryLimitMb, MAX_LINE_BYTES } from '../../src/lake/engine-limits.js';
import { createIngestRecordHandler } from '../../src/lake/ingest-records.js';
import { createSqsHandler } from '../../src/runtime/handler-stack.js';
import { createObservability } from '../../src/runtime/observability.js';
import { RegistryTable } from '../../src/storage/table.js';
import { autoTrain } from '../../src/training/auto-train.js';
import { sqsJobQueue } from '../../src/training/job-queue.js';
import { JobStore } from '../../src/training/job-store.js';
import { trainingLimits } from '../../src/training/limits.js';

const config = loadConfig();
const observability = createObservability('ingest');
const { logger, metrics } = observability;
const clients = createAwsClients();
const table = new RegistryTable(clients.dynamo, config.registryTable);
const store = new DatasetStore(table);
const autoTrainDeps = {
  datasets: store,
  jobs: new JobStore(table),
  queue: sqsJobQueue(createSqsClient(), config.trainingQueueUrl),
  limits: trainingLimits(),
};
const engine = { memoryLimitMb: engineMemoryLimitMb(config.memoryMb), threads: threadsForMemory(config.memoryMb), maxLineBytes: MAX_LINE_BYTES };

/** Lambda entry point. */
export const handler = createSqsHandler(observability, (context) =>
  createIngestRecordHandler(
    {
      store,
      s3: clients.s3,
      lakeBucket: config.lakeBucket,
      scratchDir: config.scratchDir,
      engine,
      // The claim on an object lasts as long as this invocation may.
      leaseMs: context.getRemainingTimeInMillis(),
    },
    async (dataset, version) => {
      const outcome = await autoTrain(autoTrainDeps, dataset, version);
      if (outcome !== undefined) logger.info('auto-train', { dataset, version, ...outcome });
    },
    logger,
    metrics,
  ),
);
