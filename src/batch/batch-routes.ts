/**
 * The batch scoring API: submit a job (202), read one with its progress, list jobs, cancel.
 */
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { NotFoundError } from '../errors.js';
import { callerOf, pageOf, parseBody, parseNoBody } from '../http/request.js';
import { jsonResponse } from '../http/response.js';
import { pathParam, type RouteTable } from '../http/router.js';
import type { ModelResolver } from '../inference/resolver.js';
import type { DatasetStore } from '../lake/dataset-store.js';
import { parseVersionSelector } from '../registry/names.js';
import { batchJobRequestSchema, resolveBatchJob } from './job-request.js';
import { newBatchJobId, type BatchJobStore } from './job-store.js';
import type { BatchQueues } from './messages.js';
import { progressOf } from './progress.js';
import type { BatchJob, BatchOutput } from './types.js';

/** What the batch routes need. */
export interface BatchRoutesDeps {
  readonly jobs: BatchJobStore;
  readonly datasets: Pick<DatasetStore, 'getVersion' | 'listVersions'>;
  readonly queues: Pick<BatchQueues, 'plan'>;
  /** Checks at submission that the model, alias or version exists (404 otherwise), as online calls do. */
  readonly resolver: Pick<ModelResolver, 'primary'>;
  readonly now?: () => Date;
}

/**
 * The dataset version the lake made of a finished job's output (or recorded it on, when its bytes
 * were the latest version's), found among the dataset's newest versions by its source key once the
 * lake has finished it (READY, or FAILED with the lake's reason), and then kept on the job; the
 * job's output as recorded until then.
 */
async function outputOf(deps: BatchRoutesDeps, job: BatchJob): Promise<BatchOutput> {
  if (job.output.status !== undefined || job.output.key === undefined) return job.output;
  try {
    const { items } = await deps.datasets.listVersions(job.output.dataset, { limit: 100 });
    // An output with the same bytes as the dataset's latest version makes no new version: the lake
    // records it on that version as a duplicate drop, which is then the output's version.
    const found =
      items.find((v) => (v.status === 'READY' || v.status === 'FAILED') && v.source.key === job.output.key) ??
      items.find((v) => v.status === 'READY' && v.lastDuplicateDrop?.source.key === job.output.key);
    if (found === undefined) return job.output;
    const version = found.status === 'FAILED' ? { version: found.version, status: 'FAILED' as const, reason: found.reason ?? 'the lake gave no reason' } : { version: found.version, status: 'READY' as const };
    await deps.jobs.recordOutputVersion(job.id, version);
    return { ...job.output, ...version };
  } catch (error) {
    if (error instanceof NotFoundError) return job.output;
    throw error;
  }
}

/** A job as the API shows it: with its progress and output version. */
async function view(deps: BatchRoutesDeps, job: BatchJob): Promise<BatchJob & { progress: ReturnType<typeof progressOf> }> {
  return { ...job, output: await outputOf(deps, job), progress: progressOf(job, (deps.now?.() ?? new Date()).getTime()) };
}

/** Creates the batch scoring routes. */
export function createBatchRoutes(deps: BatchRoutesDeps): RouteTable {
  const { jobs } = deps;
  const jobId = (event: APIGatewayProxyEvent) => pathParam(event, 'id');
  return {
    'POST /batch-jobs': async (event) => {
      const request = parseBody(event, batchJobRequestSchema, 'batch job');
      const id = newBatchJobId(deps.now?.() ?? new Date());
      const resolved = await resolveBatchJob(deps.datasets, request, { id, submittedBy: callerOf(event), trigger: 'api' });
      // Which version scores is decided once, when the job is planned; here only that there is one.
      await deps.resolver.primary(resolved.model, resolved.selector === undefined ? undefined : parseVersionSelector(resolved.selector));
      const { job } = await jobs.create(resolved);
      await deps.queues.plan(job.id);
      return jsonResponse(202, await view(deps, job), { location: `/batch-jobs/${job.id}` });
    },
    'GET /batch-jobs': async (event) => {
      const page = await jobs.list(pageOf(event));
      return jsonResponse(200, { jobs: await Promise.all(page.items.map((job) => view(deps, job))), nextCursor: page.nextCursor ?? null });
    },
    'GET /batch-jobs/{id}': async (event) => jsonResponse(200, await view(deps, await jobs.get(jobId(event)))),
    'POST /batch-jobs/{id}/cancel': async (event) => {
      parseNoBody(event, 'cancel request');
      return jsonResponse(202, await view(deps, await jobs.cancel(jobId(event), callerOf(event))));
    },
  };
}
