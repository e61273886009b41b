import { describe, expect, it } from 'vitest';
import { apiEvent } from '../../test/support/api-event.js';
import type { DatasetVersion } from '../lake/types.js';
import { createBatchRoutes, type BatchRoutesDeps } from './batch-routes.js';
import type { BatchJob, BatchOutput } from './types.js';

const KEY = 'raw/m-predictions/batch-20260101000000000-0000abcd.parquet';

/** GET /batch-jobs/{id} of a succeeded job, over the dataset versions given; the body, and what was recorded on the job. */
async function getJob(versions: readonly Partial<DatasetVersion>[]) {
  const recorded: unknown[] = [];
  const job = { id: '20260101000000000-0000abcd', status: 'succeeded', chunksDone: 1, chunksFailed: 0, rowsScored: 3, rowsRejected: 0, failedChunks: [], output: { dataset: 'm-predictions', prefix: 'p/', key: KEY } } as unknown as BatchJob;
  const deps = {
    jobs: { get: async () => job, recordOutputVersion: async (_: string, version: unknown) => void recorded.push(version) },
    datasets: { listVersions: async () => ({ items: versions }) },
  } as unknown as BatchRoutesDeps;
  const reply = await createBatchRoutes(deps)['GET /batch-jobs/{id}']!(apiEvent({ method: 'GET', resource: '/batch-jobs/{id}', pathParameters: { id: job.id } }));
  return { output: (JSON.parse(reply.body) as { output: BatchOutput }).output, recorded };
}

describe('GET /batch-jobs/{id}', () => {
  it('shows an output version the lake failed (e.g. not fitting the declared schema) with the lake\'s reason, and keeps it on the job', async () => {
    // Act
    const { output, recorded } = await getJob([{ version: 2, status: 'FAILED', source: { key: KEY } as DatasetVersion['source'], reason: "column 'score' is not in the declared schema" }]);

    // Assess
    expect(output).toEqual({ dataset: 'm-predictions', prefix: 'p/', key: KEY, version: 2, status: 'FAILED', reason: "column 'score' is not in the declared schema" });
    expect(recorded).toEqual([{ version: 2, status: 'FAILED', reason: "column 'score' is not in the declared schema" }]);
  });

  it('shows a READY output version, and no version while the lake is still ingesting', async () => {
    // Act
    const ready = await getJob([{ version: 3, status: 'READY', source: { key: KEY } as DatasetVersion['source'] }]);
    const ingesting = await getJob([{ version: 3, status: 'INGESTING', source: { key: KEY } as DatasetVersion['source'] }]);

    // Assess
    expect(ready.output).toMatchObject({ version: 3, status: 'READY' });
    expect(ingesting.output).toEqual({ dataset: 'm-predictions', prefix: 'p/', key: KEY });
    expect(ingesting.recorded).toEqual([]);
  });
});
