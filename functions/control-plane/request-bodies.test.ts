/**
 * Every route that takes a body reads it strictly: a field it does not know is a 400 naming it,
 * at the top level and in nested objects, before anything else happens.
 */
import { describe, expect, it } from 'vitest';
import { topology } from '../../topology/topology.js';
import { apiEvent } from '../../test/support/api-event.js';
import { asHttpError } from '../../src/http/response.js';
import type { RouteTable } from '../../src/http/router.js';
import { createPredictRoutes } from '../../src/inference/predict-routes.js';
import { createAsyncApi } from '../../src/async/async-routes.js';
import { createDatasetRoutes } from '../../src/lake/dataset-routes.js';
import { autoTrainChecker } from '../../src/training/auto-train.js';
import { createDeploymentRoutes } from '../../src/deployments/deployment-routes.js';
import { createControlPlaneRoutes } from '../../src/registry/control-plane-routes.js';
import { createRolloutRoutes } from '../../src/rollout/rollout-routes.js';
import { createJobRoutes } from '../../src/training/job-routes.js';
import { createBatchRoutes } from '../../src/batch/batch-routes.js';

/** Dependencies that must not be used: the body is refused first. Any property of one is another; calling one throws. */
const unreachable: never = new Proxy(() => undefined, {
  get: () => unreachable,
  apply: () => {
    throw new Error('a dependency was used before the body was checked');
  },
}) as never;

const routes: RouteTable = {
  ...createControlPlaneRoutes(unreachable),
  ...createDeploymentRoutes(unreachable),
  // The auto-train checker is read when the routes are made: the training context's rules, as in the handler.
  ...createDatasetRoutes(new Proxy({ autoTrain: autoTrainChecker }, { get: (deps, key) => (key === 'autoTrain' ? deps.autoTrain : unreachable) }) as never),
  ...createJobRoutes(unreachable),
  ...createRolloutRoutes(unreachable),
  ...createPredictRoutes(unreachable),
  ...createAsyncApi(unreachable).routes,
  ...createBatchRoutes(unreachable),
};

const training = { modelName: 'm', target: 'y', task: 'classification' };
/** A valid body of each route, and where a nested object of it is. */
const BODIES: Record<string, { body: Record<string, unknown>; nested?: string }> = {
  'POST /models': { body: { name: 'm', tags: {} } },
  'PUT /models/{name}/tags': { body: { tags: {} } },
  'POST /models/{name}/versions': { body: { artifactUri: 's3://lake/models/m/a.onnx', backend: { kind: 'sagemaker', serverless: { memorySizeMb: 1024, maxConcurrency: 1 } } }, nested: 'backend.serverless' },
  'POST /models/{name}/versions/{version}/deployment': { body: {} },
  'POST /models/{name}/versions/{version}/status': { body: { status: 'APPROVED' } },
  'PUT /models/{name}/versions/{version}/tags': { body: { tags: {} } },
  'POST /models/{name}/uploads': { body: {} },
  'PUT /models/{name}/aliases/{alias}': { body: { routes: [{ version: 1, weight: 100 }], shadow: { version: 2, percent: 5 } }, nested: 'shadow' },
  'POST /models/{name}/aliases/{alias}/rollback': { body: {} },
  'POST /models/{name}/aliases/{alias}/rollout': { body: { candidate: 2, guards: { maxErrorRate: 0.1 } }, nested: 'guards' },
  'POST /models/{name}/aliases/{alias}/rollout/pause': { body: {} },
  'POST /models/{name}/aliases/{alias}/rollout/resume': { body: {} },
  'POST /models/{name}/aliases/{alias}/rollout/abort': { body: {} },
  'PUT /datasets/{dataset}': { body: { autoTrain: { ...training } }, nested: 'autoTrain' },
  'POST /datasets/{dataset}/uploads': { body: { fileName: 'a.csv' } },
  'POST /jobs': { body: { ...training, dataset: 'd' } },
  'POST /jobs/{id}/cancel': { body: {} },
  'POST /batch-jobs': { body: { model: 'm', input: { dataset: 'd', version: 1 } }, nested: 'input' },
  'POST /batch-jobs/{id}/cancel': { body: {} },
  'POST /v2/models/{name}/infer': { body: { inputs: [{ name: 'x', shape: [1], datatype: 'FP32', data: [1] }] }, nested: 'inputs.0' },
  'POST /v2/models/{name}/versions/{version}/infer': { body: { inputs: [{ name: 'x', shape: [1], datatype: 'FP32', data: [1] }] } },
  'POST /v2/async/uploads': { body: {} },
};

const params = { name: 'm', alias: 'prod', version: '1', dataset: 'd', id: 'j' };
async function send(route: string, body: unknown): Promise<{ status: number; message: string }> {
  const [method, resource] = route.split(' ') as [string, string];
  const event = apiEvent({ method, resource, pathParameters: params, body, headers: { 'if-match': '"1"' } });
  try {
    const response = await routes[route]!(event);
    return { status: response.statusCode, message: response.body };
  } catch (error) {
    return { status: asHttpError(error).statusCode, message: (error as Error).message };
  }
}

/** Sets `field` in the object at `path` (`a.0.b`) of a copy of `body`. */
function withField(body: Record<string, unknown>, path: string | undefined, field: string): Record<string, unknown> {
  const copy = structuredClone(body);
  let target: Record<string, unknown> = copy;
  for (const step of path === undefined ? [] : path.split('.')) target = target[step] as Record<string, unknown>;
  target[field] = 1;
  return copy;
}

describe('request bodies are strict on every route', () => {
  it('covers every route of the topology that takes a body (but the KServe v1 record, parsed after the model loads)', () => {
    const bodyRoutes = topology.functions.flatMap((f) => f.routes).filter((r) => r.method === 'POST' || r.method === 'PUT').map((r) => `${r.method} ${r.path}`);
    expect(bodyRoutes.filter((route) => BODIES[route] === undefined)).toEqual(['POST /v1/models/{nameAndVerb}', 'POST /v1/models/{nameAndVerb}/versions/{versionAndVerb}']);
  });

  it.each(Object.entries(BODIES))('%s: 400 naming an unknown field at the top level and in a nested object', async (route, { body, nested }) => {
    const top = await send(route, withField(body, undefined, 'unexpectedField'));
    expect(top.status).toBe(400);
    expect(top.message).toContain("unknown field 'unexpectedField'");
    if (nested !== undefined) {
      const inner = await send(route, withField(body, nested, 'unexpectedField'));
      expect(inner.status).toBe(400);
      expect(inner.message).toContain(`unknown field '${nested}.unexpectedField'`);
    }
  });
});

describe('numbers the registry cannot store (DynamoDB: 0 or magnitudes 1e-130 … 9.99e125)', () => {
  it.each([
    ['POST /models/{name}/aliases/{alias}/rollout', { candidate: 2, guards: { maxErrorRate: 1e-200 } }, 'guards.maxErrorRate'],
    ['POST /models/{name}/aliases/{alias}/rollout', { candidate: 2, guards: { minRequests: 1e200 } }, 'guards.minRequests'],
    ['PUT /datasets/{dataset}', { rejectThreshold: 1e-200 }, 'rejectThreshold'],
    ['POST /models/{name}/versions', { artifactUri: 's3://lake/models/m/a.onnx', metrics: { x: 1e200 } }, 'metrics.x'],
  ])('%s refuses %j before anything is used (400 naming %s)', async (route, body, field) => {
    // Act
    const answer = await send(route, body);

    // Assess
    expect(answer.status).toBe(400);
    expect(answer.message).toContain(field);
    expect(answer.message).toContain('1e-130');
  });
});
