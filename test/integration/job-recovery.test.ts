/**
 * A restart of the local cloud strands no training job: local-aws-sqs keeps messages in memory,
 * so the messages of a job still queued and of a job whose worker went down with the previous
 * run are gone; the next start re-queues both from the job items, and both finish.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startLocalCloud, type LocalCloud } from '../../local/cloud.js';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../local/emulators.js';
import { DOCUMENT_TRANSLATION } from '../../src/aws/clients.js';
import { RegistryTable } from '../../src/storage/table.js';
import { ALGORITHMS } from '../../src/ml/algorithms/index.js';
import { JobStore } from '../../src/training/job-store.js';
import type { JobSpec, TrainingJob } from '../../src/training/types.js';
import { lakeApi } from '../support/lake-api.js';

const irisSpec = (modelName: string): JobSpec => ({
  modelName,
  dataset: 'iris',
  datasetVersion: 1,
  target: 'species',
  features: ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'],
  task: 'classification',
  algorithm: 'gbdt',
  hyperparameters: ALGORITHMS.gbdt.parameters.parse({ maxIterations: 10 }) as Record<string, unknown>,
  seed: 1,
});

/** The job store of a running local cloud, as its functions see it. */
function jobStoreOf(cloud: LocalCloud): { jobs: JobStore; destroy: () => void } {
  const client = new DynamoDBClient({ region: LOCAL_REGION, endpoint: cloud.endpoints.dynamodb, credentials: LOCAL_CREDENTIALS });
  const table = new RegistryTable(DynamoDBDocumentClient.from(client, DOCUMENT_TRANSLATION), cloud.resources.tableName);
  return { jobs: new JobStore(table), destroy: () => client.destroy() };
}

/** Polls the jobs until none is QUEUED or RUNNING, or `timeoutMs` has passed; resolves with their last state. */
async function settled(lake: ReturnType<typeof lakeApi>, ids: readonly string[], timeoutMs: number): Promise<TrainingJob[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const jobs = await Promise.all(ids.map(async (id) => (await lake.request<TrainingJob>('GET', `/jobs/${encodeURIComponent(id)}`)).body));
    if (jobs.every((job) => job.status !== 'QUEUED' && job.status !== 'RUNNING') || Date.now() > deadline) return jobs;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

describe('local cloud restart with unfinished training jobs', () => {
  it('re-queues a queued job and a job whose worker died with the previous run, and both finish', async () => {
    // Prepare: a dataset, then two jobs whose messages live only in the first run's memory.
    const stateDir = await mkdtemp(join(tmpdir(), 'job-recovery-'));
    const first = await startLocalCloud({ stateDir, port: 0 });
    let queued: TrainingJob;
    let running: TrainingJob;
    try {
      const lake = lakeApi(first);
      await lake.drop('raw/iris/iris.csv', await readFile('data/iris.csv'));
      expect((await lake.finishedVersions('iris'))[0]?.status).toBe('READY');
      lake.s3.destroy();
      const store = jobStoreOf(first);
      queued = (await store.jobs.createJob(irisSpec('iris-recovered-queued'), { submittedBy: 'test', trigger: 'api' })).job;
      running = (await store.jobs.createJob(irisSpec('iris-recovered-running'), { submittedBy: 'test', trigger: 'api' })).job;
      expect((await store.jobs.claim(running.id, 'worker-of-the-first-run')).kind).toBe('claimed');
      store.destroy();
    } finally {
      await first.stop();
    }

    // Act
    const lines: string[] = [];
    const second = await startLocalCloud({ stateDir, port: 0, log: (line) => lines.push(line) });
    try {
      const lake = lakeApi(second);
      const [queuedAfter, runningAfter] = await settled(lake, [queued.id, running.id], 240_000);
      lake.s3.destroy();

      // Assess
      const requeued = lines.find((line) => line.startsWith('re-queued 2 training job(s) the previous run left unfinished: '));
      expect(requeued).toContain(queued.id);
      expect(requeued).toContain(running.id);
      expect(queuedAfter).toMatchObject({ status: 'SUCCEEDED', attempts: 1, modelVersion: 1 });
      expect(runningAfter).toMatchObject({ status: 'SUCCEEDED', attempts: 2, modelVersion: 1 });
    } finally {
      await second.stop();
    }
  }, 400_000);
});
