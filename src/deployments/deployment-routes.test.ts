/**
 * The SageMaker side of the control plane on the emulators (dynalite, s3rver): registering a version
 * with a `backend` (validated strictly), and the deployment routes (delete, redeploy).
 */
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiEvent } from '../../test/support/api-event.js';
import { startTestEmulators, type TestEmulators } from '../../test/support/emulators.js';
import { ArtifactStore } from '../aws/artifact-store.js';
import { PlatformError } from '../errors.js';
import { HttpError } from '../http/errors.js';
import { asHttpError } from '../http/response.js';
import type { RouteTable } from '../http/router.js';
import { inspectOnnxModel } from '../inference/onnx-session.js';
import { createControlPlaneRoutes } from '../registry/control-plane-routes.js';
import { ModelRegistry } from '../registry/registry.js';
import { RegistryTable } from '../storage/table.js';
import { createDeploymentRoutes } from './deployment-routes.js';
import { deploymentNamer } from './names.js';

let env: TestEmulators;
let registry: ModelRegistry;
let routes: RouteTable;
let withoutSageMaker: RouteTable;
let artifactUri: string;

beforeAll(async () => {
  env = await startTestEmulators();
  const bucket = env.resources.bucketName;
  registry = new ModelRegistry(new RegistryTable(env.dynamo, env.resources.tableName));
  const deps = { registry, artifacts: new ArtifactStore(env.s3), lakeBucket: bucket, inspect: inspectOnnxModel, signUpload: async (key: string) => `http://127.0.0.1/${key}` };
  routes = { ...createControlPlaneRoutes({ ...deps, nameDeployment: deploymentNamer('sap') }), ...createDeploymentRoutes({ registry }) };
  withoutSageMaker = createControlPlaneRoutes(deps);
  await registry.createModel({ name: 'gpu' });
  await env.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'models/gpu/iris.onnx', Body: await readFile('models/iris.onnx') }));
  artifactUri = `s3://${bucket}/models/gpu/iris.onnx`;
});
afterAll(async () => env?.stop());

interface Reply {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

/** Calls a route as API Gateway would; errors answer as the API handler maps them. */
async function call(table: RouteTable, route: string, params: Record<string, string>, body?: object, query?: Record<string, string>): Promise<Reply> {
  const [method, resource] = route.split(' ') as [string, string];
  try {
    const response = await table[route]!(apiEvent({ method, resource, pathParameters: params, ...(body === undefined ? {} : { body }), ...(query === undefined ? {} : { query }) }));
    return { status: response.statusCode, body: JSON.parse(response.body) as Record<string, unknown> };
  } catch (error) {
    if (!(error instanceof HttpError || error instanceof PlatformError)) throw error;
    return { status: asHttpError(error).statusCode, body: { error: error.message } };
  }
}
const register = (backend: unknown, table = routes) => call(table, 'POST /models/{name}/versions', { name: 'gpu' }, { artifactUri, backend });

describe('registering a version on the SageMaker backend', () => {
  it('fills the defaults (ml.g5.xlarge, 0 to 1 instances: an inference component) and starts DEPLOYING', async () => {
    // Act
    const reply = await register({ kind: 'sagemaker' });

    // Assess
    expect(reply.status).toBe(201);
    expect(reply.body['backend']).toEqual({ kind: 'sagemaker', instanceType: 'ml.g5.xlarge', minInstances: 0, maxInstances: 1 });
    expect(reply.body['deployment']).toEqual({
      state: 'DEPLOYING',
      endpointName: expect.stringMatching(/^sap-gpu-v\d+-[0-9a-f]{8}$/),
      inferenceComponentName: (reply.body['deployment'] as { endpointName: string }).endpointName,
      updatedAt: expect.any(String),
    });
  });

  it('takes instances and serverless specs as given, and the lambda backend as the default it is', async () => {
    // Act
    const instances = await register({ kind: 'sagemaker', instanceType: 'ml.g6e.2xlarge', minInstances: 2 });
    const serverless = await register({ kind: 'sagemaker', serverless: { memorySizeMb: 6144, maxConcurrency: 5 } });
    const lambda = await register({ kind: 'lambda' });

    // Assess
    expect(instances.body['backend']).toEqual({ kind: 'sagemaker', instanceType: 'ml.g6e.2xlarge', minInstances: 2, maxInstances: 2 });
    expect(instances.body['deployment']).not.toHaveProperty('inferenceComponentName');
    expect(serverless.body['backend']).toEqual({ kind: 'sagemaker', serverless: { memorySizeMb: 6144, maxConcurrency: 5 } });
    expect(serverless.body['deployment']).toMatchObject({ state: 'DEPLOYING' });
    expect(lambda.status).toBe(201);
    expect(lambda.body).not.toHaveProperty('backend');
    expect(lambda.body).not.toHaveProperty('deployment');
  });

  it.each([
    [{ kind: 'gpu' }, 'backend.kind'],
    [{ kind: 'sagemaker', instanceType: 'g5.xlarge' }, 'expected a SageMaker instance type'],
    [{ kind: 'sagemaker', instanceType: 'ml.g5.xlarge; rm' }, 'expected a SageMaker instance type'],
    [{ kind: 'sagemaker', minInstances: 3, maxInstances: 2 }, 'minInstances must be at most maxInstances'],
    [{ kind: 'sagemaker', minInstances: -1 }, 'backend.minInstances'],
    [{ kind: 'sagemaker', maxInstances: 0 }, 'backend.maxInstances'],
    [{ kind: 'sagemaker', maxInstances: 21 }, 'backend.maxInstances'],
    [{ kind: 'sagemaker', minInstances: 1.5 }, 'backend.minInstances'],
    [{ kind: 'sagemaker', serverless: { memorySizeMb: 1500, maxConcurrency: 5 } }, 'backend.serverless.memorySizeMb: must be one of 1024, 2048, 3072, 4096, 5120, 6144'],
    [{ kind: 'sagemaker', serverless: { memorySizeMb: 7168, maxConcurrency: 5 } }, 'backend.serverless.memorySizeMb'],
    [{ kind: 'sagemaker', serverless: { memorySizeMb: 2048, maxConcurrency: 201 } }, 'backend.serverless.maxConcurrency'],
    [{ kind: 'sagemaker', serverless: { memorySizeMb: 2048 } }, 'backend.serverless.maxConcurrency'],
    [{ kind: 'sagemaker', minInstances: 0, serverless: { memorySizeMb: 2048, maxConcurrency: 1 } }, 'a serverless backend has no instances'],
    [{ kind: 'sagemaker', gpus: 1 }, "unknown field 'backend.gpus'"],
    [{ kind: 'lambda', instanceType: 'ml.g5.xlarge' }, "'backend.instanceType' does not apply here: it belongs to another form of 'backend'"],
  ])('refuses %j with 400', async (backend, message) => {
    // Act
    const reply = await register(backend);

    // Assess
    expect(reply.status).toBe(400);
    expect(reply.body['error']).toContain(message);
  });

  it('refuses the SageMaker backend where the platform has no SageMaker settings', async () => {
    // Act
    const reply = await register({ kind: 'sagemaker' }, withoutSageMaker);

    // Assess
    expect(reply.status).toBe(400);
    expect(reply.body['error']).toBe('this platform has no SageMaker settings: register the version on the lambda backend');
  });
});

describe('the deployment routes', () => {
  it('DELETE …/deployment asks for the teardown (202, DELETING); POST …/deployment refuses while it is deleting (409)', async () => {
    // Prepare
    const registered = await register({ kind: 'sagemaker', serverless: { memorySizeMb: 1024, maxConcurrency: 1 } });
    const version = String(registered.body['version']);

    // Act
    const deleted = await call(routes, 'DELETE /models/{name}/versions/{version}/deployment', { name: 'gpu', version }, undefined, { reason: 'save money' });
    const redeploy = await call(routes, 'POST /models/{name}/versions/{version}/deployment', { name: 'gpu', version }, { reason: 'try again' });
    const lambda = await register({ kind: 'lambda' });
    const none = await call(routes, 'DELETE /models/{name}/versions/{version}/deployment', { name: 'gpu', version: String(lambda.body['version']) });
    const unknown = await call(routes, 'POST /models/{name}/versions/{version}/deployment', { name: 'gpu', version: '999' }, {});

    // Assess
    expect(deleted.status).toBe(202);
    expect(deleted.body['deployment']).toMatchObject({ state: 'DELETING', reason: expect.stringMatching(/: save money$/) });
    expect(redeploy.status).toBe(409);
    expect(none.status).toBe(409);
    expect(none.body['error']).toContain('served by the predict function');
    expect(unknown.status).toBe(404);
  });

  it('DELETE …/deployment of a DELETED deployment is a conflict that names the state, and changes nothing', async () => {
    // Prepare: a deployment the deployments function tore down.
    const registered = await register({ kind: 'sagemaker', minInstances: 1, maxInstances: 1 });
    const version = Number(registered.body['version']);
    const deleting = (await registry.deleteDeployment('gpu', version, { by: 'ops', reason: '' })).deployment!;
    await registry.moveDeployment('gpu', version, deleting, { ...deleting, state: 'DELETED', updatedAt: new Date().toISOString() });

    // Act
    const again = await call(routes, 'DELETE /models/{name}/versions/{version}/deployment', { name: 'gpu', version: String(version) });

    // Assess
    expect(again).toEqual({
      status: 409,
      body: { error: `the deployment of version ${version} of model 'gpu' is DELETED; only a DEPLOYING, IN_SERVICE or FAILED deployment can be deleted` },
    });
    expect((await registry.getVersion('gpu', version)).deployment?.state).toBe('DELETED');
  });
});
