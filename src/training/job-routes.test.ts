import { describe, expect, it } from 'vitest';
import { apiEvent } from '../../test/support/api-event.js';
import { NotFoundError } from '../errors.js';
import { createJobRoutes, type JobRoutesDeps } from './job-routes.js';
import type { TrainingJob } from './types.js';

/** The routes over a job list (per model) and a set of existing models. */
function routesWith(jobsOf: Record<string, readonly Partial<TrainingJob>[]>, models: readonly string[]) {
  const deps = {
    jobs: { listModelJobs: async (model: string) => ({ items: jobsOf[model] ?? [] }) },
    models: { findModel: async (name: string) => (models.includes(name) ? { name } : undefined) },
  } as unknown as JobRoutesDeps;
  const route = createJobRoutes(deps)['GET /models/{name}/jobs']!;
  return (name: string) => route(apiEvent({ method: 'GET', resource: '/models/{name}/jobs', pathParameters: { name } }));
}

describe('GET /models/{name}/jobs', () => {
  it('answers 404 for a model that does not exist and that no job names, like the other model routes', async () => {
    // Act
    const listing = routesWith({}, [])('nosuch');

    // Assess
    await expect(listing).rejects.toThrowError(NotFoundError);
    await expect(listing).rejects.toThrowError("model 'nosuch' not found, and no training job names it");
  });

  it('lists the jobs of a model their first version has not created yet, and an empty list for a model without jobs', async () => {
    // Prepare
    const list = routesWith({ fresh: [{ id: 'fresh~1' }] }, ['trained']);

    // Act
    const [fresh, trained] = await Promise.all([list('fresh'), list('trained')]);

    // Assess
    expect([fresh.statusCode, JSON.parse(fresh.body)]).toEqual([200, { jobs: [{ id: 'fresh~1' }], nextCursor: null }]);
    expect([trained.statusCode, JSON.parse(trained.body)]).toEqual([200, { jobs: [], nextCursor: null }]);
  });
});
