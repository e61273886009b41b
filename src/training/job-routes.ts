/**
 * The training API: submit a job (202), read one, list a model's or a dataset's jobs, cancel.
 */
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { NotFoundError } from '../errors.js';
import { callerOf, pageOf, parseBody, parseNoBody } from '../http/request.js';
import { jsonResponse } from '../http/response.js';
import { pathParam, type RouteTable } from '../http/router.js';
import type { DatasetStore } from '../lake/dataset-store.js';
import { assertDatasetName } from '../lake/zones.js';
import { assertModelName } from '../registry/names.js';
import { jobRequestSchema, resolveJobSpec, type TrainingLimits } from './job-request.js';
import { submitJob, type SubmitDeps } from './submit-job.js';

/** What the training routes need. */
export interface JobRoutesDeps extends SubmitDeps {
  readonly datasets: DatasetStore;
  readonly limits: TrainingLimits;
  /** The registry's models: a model's job list is 404 when neither the model nor any job of it exists. */
  readonly models: { findModel(name: string): Promise<object | undefined> };
}

/** Creates the training routes. */
export function createJobRoutes(deps: JobRoutesDeps): RouteTable {
  const { jobs } = deps;
  const jobId = (event: APIGatewayProxyEvent) => pathParam(event, 'id');
  return {
    'POST /jobs': async (event) => {
      const request = parseBody(event, jobRequestSchema, 'training job');
      const spec = await resolveJobSpec(deps.datasets, request, deps.limits);
      const { job, created } = await submitJob(deps, spec, {
        submittedBy: callerOf(event),
        trigger: 'api',
        ...(request.idempotencyKey === undefined ? {} : { idempotencyKey: request.idempotencyKey, request }),
      });
      return jsonResponse(created ? 202 : 200, job, { location: `/jobs/${encodeURIComponent(job.id)}` });
    },
    'GET /jobs/{id}': async (event) => jsonResponse(200, await jobs.getJob(jobId(event))),
    'POST /jobs/{id}/cancel': async (event) => {
      parseNoBody(event, 'cancel request');
      return jsonResponse(202, await jobs.requestCancel(jobId(event)));
    },
    'GET /models/{name}/jobs': async (event) => {
      const model = assertModelName(pathParam(event, 'name'));
      const paging = pageOf(event);
      const page = await jobs.listModelJobs(model, paging);
      // A model is created by its first version: its jobs exist before it does.
      if (page.items.length === 0 && paging.cursor === undefined && (await deps.models.findModel(model)) === undefined) {
        throw new NotFoundError(`model '${model}' not found, and no training job names it`);
      }
      return jsonResponse(200, { jobs: page.items, nextCursor: page.nextCursor ?? null });
    },
    'GET /datasets/{dataset}/jobs': async (event) => {
      const dataset = assertDatasetName(pathParam(event, 'dataset'));
      await deps.datasets.getDataset(dataset);
      const page = await jobs.listDatasetJobs(dataset, pageOf(event));
      return jsonResponse(200, { jobs: page.items, nextCursor: page.nextCursor ?? null });
    },
  };
}
