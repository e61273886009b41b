/**
 * The registry's routes on the emulators (dynalite, s3rver): request bodies as clients send
 * them, answers as they get them.
 */
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiEvent } from '../../test/support/api-event.js';
import { startTestEmulators, type TestEmulators } from '../../test/support/emulators.js';
import { ArtifactStore } from '../aws/artifact-store.js';
import { HttpError } from '../http/errors.js';
import type { RouteTable } from '../http/router.js';
import { inspectOnnxModel } from '../inference/onnx-session.js';
import { createControlPlaneRoutes } from './control-plane-routes.js';
import { ModelRegistry } from './registry.js';

let env: TestEmulators;
let routes: RouteTable;
let bucket: string;
let iris: Buffer;

beforeAll(async () => {
  env = await startTestEmulators();
  bucket = env.resources.bucketName;
  iris = await readFile('models/iris.onnx');
  routes = createControlPlaneRoutes({
    registry: new ModelRegistry(env.dynamo, env.resources.tableName),
    artifacts: new ArtifactStore(env.s3),
    lakeBucket: bucket,
    inspect: inspectOnnxModel,
    signUpload: async (key) => `http://127.0.0.1/${key}`,
  });
});
afterAll(async () => env?.stop());

interface Reply {
  readonly status: number;
  readonly body: Record<string, unknown>;
  readonly headers: Record<string, unknown>;
}

/** Calls a route as API Gateway would; errors answer as the API handler maps them. */
async function call(route: string, params: Record<string, string>, body?: string | object, headers: Record<string, string> = {}): Promise<Reply> {
  const [method, resource] = route.split(' ') as [string, string];
  try {
    const response = await routes[route]!(apiEvent({ method, resource, pathParameters: params, ...(body === undefined ? {} : { body }), headers }));
    return { status: response.statusCode, body: response.body === '' ? {} : (JSON.parse(response.body) as Record<string, unknown>), headers: response.headers ?? {} };
  } catch (error) {
    if (!(error instanceof HttpError)) throw error;
    return { status: error.statusCode, body: { error: error.message }, headers: {} };
  }
}

const putLake = async (key: string, bytes: Uint8Array) => {
  await env.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: bytes }));
  return `s3://${bucket}/${key}`;
};

describe('tag keys named like JavaScript built-ins', () => {
  it('stores constructor, toString and __defineGetter__ as ordinary tags (POST /models, PUT tags)', async () => {
    // Act
    const created = await call('POST /models', {}, '{"name":"builtins","tags":{"constructor":"a","toString":"b"}}');
    const replaced = await call('PUT /models/{name}/tags', { name: 'builtins' }, '{"tags":{"constructor":"c","__defineGetter__":"d"}}');
    const read = await call('GET /models/{name}', { name: 'builtins' });

    // Assess
    expect(created.status).toBe(201);
    expect(created.body['tags']).toEqual({ constructor: 'a', toString: 'b' });
    expect(replaced.status).toBe(200);
    expect(read.body['tags']).toEqual({ constructor: 'c', __defineGetter__: 'd' });
  });

  it('refuses a __proto__ tag key with a 400 and leaves the tags as they were', async () => {
    // Prepare
    await call('POST /models', {}, { name: 'protokey', tags: { team: 'risk' } });

    // Act
    const replaced = await call('PUT /models/{name}/tags', { name: 'protokey' }, '{"tags":{"__proto__":{"x":"y"}}}');
    const created = await call('POST /models', {}, '{"name":"protokey2","tags":{"__proto__":"x"}}');
    const read = await call('GET /models/{name}', { name: 'protokey' });

    // Assess
    expect(replaced.status).toBe(400);
    expect(replaced.body['error']).toBe("invalid tags: 'tags.__proto__': '__proto__' cannot be used as a key");
    expect(created.status).toBe(400);
    expect(read.body['tags']).toEqual({ team: 'risk' });
  });

  it('registers a version whose tags, metrics and lineage use such keys', async () => {
    // Prepare
    await call('POST /models', {}, { name: 'builtin-version' });
    const uri = await putLake('models/builtin-version/uploads/a.onnx', iris);

    // Act
    const registered = await call('POST /models/{name}/versions', { name: 'builtin-version' }, `{"artifactUri":"${uri}","tags":{"constructor":"x"},"metrics":{"valueOf":1},"lineage":{"hasOwnProperty":"y"}}`);

    // Assess
    expect(registered.status).toBe(201);
    expect(registered.body).toMatchObject({ tags: { constructor: 'x' }, metrics: { valueOf: 1 }, lineage: { hasOwnProperty: 'y' } });
  });
});

describe('unknown fields', () => {
  it('answers 400 naming a mistyped field of POST /models instead of dropping it', async () => {
    const reply = await call('POST /models', {}, { name: 'typo', descripton: 'x' });
    expect(reply.status).toBe(400);
    expect(reply.body['error']).toBe("invalid model: unknown field 'descripton' (did you mean 'description'?)");
    expect((await call('GET /models/{name}', { name: 'typo' })).status).toBe(404);
  });
});
