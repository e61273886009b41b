/**
 * The registry's routes on the emulators (dynalite, s3rver): request bodies as clients send
 * them, answers as they get them.
 */
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiEvent } from '../../test/support/api-event.js';
import { startTestEmulators, type TestEmulators } from '../../test/support/emulators.js';
import { ArtifactStore, sha256Hex } from '../aws/artifact-store.js';
import { PlatformError } from '../errors.js';
import { HttpError } from '../http/errors.js';
import { asHttpError } from '../http/response.js';
import type { RouteTable } from '../http/router.js';
import { ModelLoader } from '../inference/model-loader.js';
import { inspectOnnxModel, servingSessionOptions } from '../inference/onnx-session.js';
import { onnx } from '../ml/onnx/writer.js';
import { createControlPlaneRoutes } from './control-plane-routes.js';
import { ModelRegistry } from './registry.js';
import { draftVersion } from '../../test/support/model-versions.js';
import { RegistryTable } from '../storage/table.js';

let env: TestEmulators;
let registry: ModelRegistry;
let routes: RouteTable;
let bucket: string;
let iris: Buffer;

beforeAll(async () => {
  env = await startTestEmulators();
  bucket = env.resources.bucketName;
  iris = await readFile('models/iris.onnx');
  registry = new ModelRegistry(new RegistryTable(env.dynamo, env.resources.tableName));
  routes = createControlPlaneRoutes({
    registry,
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
async function call(route: string, params: Record<string, string>, body?: string | object, headers: Record<string, string> = {}, query?: Record<string, string>): Promise<Reply> {
  const [method, resource] = route.split(' ') as [string, string];
  try {
    const response = await routes[route]!(apiEvent({ method, resource, pathParameters: params, ...(body === undefined ? {} : { body }), headers, ...(query === undefined ? {} : { query }) }));
    return { status: response.statusCode, body: response.body === '' ? {} : (JSON.parse(response.body) as Record<string, unknown>), headers: response.headers ?? {} };
  } catch (error) {
    if (!(error instanceof HttpError || error instanceof PlatformError)) throw error;
    return { status: asHttpError(error).statusCode, body: { error: error.message }, headers: {} };
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

describe('alias changes check their precondition first', () => {
  const aliasRoute = 'PUT /models/{name}/aliases/{alias}';
  const prod = { name: 'shadowed', alias: 'prod' };

  beforeAll(async () => {
    await registry.createModel({ name: 'shadowed' });
    for (let i = 0; i < 3; i++) await registry.registerVersion(draftVersion('shadowed'));
    // prod serves v1 and shadows v2: revision 1.
    await registry.setAlias('shadowed', 'prod', { routes: [{ version: 1, weight: 100 }], shadow: { version: 2, percent: 10 }, updatedBy: 't', reason: '', expectedRevision: 0 });
  });

  it('answers 428 without If-Match and 412 with a stale one before judging a move to the shadow version', async () => {
    const missing = await call(aliasRoute, prod, { version: 2 });
    const stale = await call(aliasRoute, prod, { version: 2 }, { 'if-match': '"0"' });
    expect(missing.status).toBe(428);
    expect(stale.status).toBe(412);
  });

  it('then says the version is the alias\'s shadow (409), and moves once the shadow ends in the same change', async () => {
    const refused = await call(aliasRoute, prod, { version: 2 }, { 'if-match': '"1"' });
    const promoted = await call(aliasRoute, prod, { version: 2, shadow: null }, { 'if-match': '"1"' });
    expect(refused.status).toBe(409);
    expect(refused.body['error']).toContain("version 2 is the shadow of alias 'prod'");
    expect(refused.body['error']).toContain('"shadow": null');
    expect(promoted.status).toBe(200);
    expect(promoted.body).toMatchObject({ routes: [{ version: 2, weight: 100 }], revision: 2 });
    expect(promoted.body['shadow']).toBeUndefined();
  });
});

describe('If-Match takes the ETag as given', () => {
  it('moves an alias with the ETag it read, and refuses a weak tag (412) or an unquoted one (400) without changing it', async () => {
    // Prepare
    await registry.createModel({ name: 'etags' });
    await registry.registerVersion(draftVersion('etags'));
    await registry.setAlias('etags', 'prod', { routes: [{ version: 1, weight: 100 }], updatedBy: 't', reason: '', expectedRevision: 0 });
    const read = await call('GET /models/{name}/aliases/{alias}', { name: 'etags', alias: 'prod' });
    const etag = read.headers['etag'] as string;

    // Act
    const weak = await call('PUT /models/{name}/aliases/{alias}', { name: 'etags', alias: 'prod' }, { version: 1 }, { 'if-match': `W/${etag}` });
    const unquoted = await call('PUT /models/{name}/aliases/{alias}', { name: 'etags', alias: 'prod' }, { version: 1 }, { 'if-match': etag.slice(1, -1) });
    const moved = await call('PUT /models/{name}/aliases/{alias}', { name: 'etags', alias: 'prod' }, { version: 1, reason: 'same' }, { 'if-match': etag });

    // Assess
    expect(etag).toBe('"1"');
    expect(weak.status).toBe(412);
    expect(unquoted.status).toBe(400);
    expect(moved.status).toBe(200);
    expect(moved.headers['etag']).toBe('"2"');
  });
});

describe('rollback', () => {
  const staging = { name: 'flipper', alias: 'staging' };

  beforeAll(async () => {
    await registry.createModel({ name: 'flipper' });
    for (let i = 0; i < 2; i++) await registry.registerVersion(draftVersion('flipper'));
    await registry.setAlias('flipper', 'staging', { routes: [{ version: 1, weight: 100 }], updatedBy: 't', reason: '', expectedRevision: 0 });
    await registry.setAlias('flipper', 'staging', { routes: [{ version: 2, weight: 100 }], updatedBy: 't', reason: '', expectedRevision: 1 });
  });

  it('needs If-Match (428 without it), and does not offer "0" (a rollback creates nothing)', async () => {
    const reply = await call('POST /models/{name}/aliases/{alias}/rollback', staging, { reason: 'retry me' });
    expect(reply.status).toBe(428);
    expect(reply.body['error']).toBe('rolling an alias back needs If-Match with the revision you read (the ETag): changes are never blind');
    expect((await registry.getAlias('flipper', 'staging')).revision).toBe(2);
  });

  it('refuses (409) to roll back an alias at its first revision, saying there is no earlier one', async () => {
    // Prepare
    await registry.setAlias('flipper', 'fresh', { routes: [{ version: 1, weight: 100 }], updatedBy: 't', reason: '', expectedRevision: 0 });

    // Act
    const reply = await call('POST /models/{name}/aliases/{alias}/rollback', { name: 'flipper', alias: 'fresh' }, {}, { 'if-match': '"1"' });

    // Assess
    expect(reply).toMatchObject({ status: 409, body: { error: "alias 'fresh' of model 'flipper' is at its first revision: there is no earlier one to roll back to" } });
  });

  it('answers 404 for the ledger of an alias that never existed, and keeps the ledger of a deleted one', async () => {
    // Prepare
    await registry.setAlias('flipper', 'gone', { routes: [{ version: 1, weight: 100 }], updatedBy: 't', reason: '', expectedRevision: 0 });
    await registry.deleteAlias('flipper', 'gone', { by: 't', reason: '', expectedRevision: 1 });

    // Act
    const never = await call('GET /models/{name}/aliases/{alias}/ledger', { name: 'flipper', alias: 'never' });
    const deleted = await call('GET /models/{name}/aliases/{alias}/ledger', { name: 'flipper', alias: 'gone' });

    // Assess
    expect(never).toMatchObject({ status: 404, body: { error: "model 'flipper' has no alias 'never'" } });
    expect([deleted.status, (deleted.body['entries'] as unknown[]).length]).toEqual([200, 2]);
  });

  it('takes a bare POST (no body, no content type) with If-Match as a rollback to the previous entry', async () => {
    // Prepare
    await registry.createModel({ name: 'bare' });
    for (let i = 0; i < 2; i++) await registry.registerVersion(draftVersion('bare'));
    await registry.setAlias('bare', 'prod', { routes: [{ version: 1, weight: 100 }], updatedBy: 't', reason: '', expectedRevision: 0 });
    await registry.setAlias('bare', 'prod', { routes: [{ version: 2, weight: 100 }], updatedBy: 't', reason: '', expectedRevision: 1 });

    // Act
    const reply = await call('POST /models/{name}/aliases/{alias}/rollback', { name: 'bare', alias: 'prod' }, undefined, { 'If-Match': '"2"' });

    // Assess
    expect(reply.status).toBe(200);
    expect(reply.body).toMatchObject({ revision: 3, routes: [{ version: 1, weight: 100 }] });
  });

  it('rolls back once however often a client retries it: 20 concurrent calls, one change', async () => {
    // Act
    const replies = await Promise.all(
      Array.from({ length: 20 }, () => call('POST /models/{name}/aliases/{alias}/rollback', staging, { reason: 'v2 errors' }, { 'if-match': '"2"' })),
    );

    // Assess
    const statuses = replies.map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    expect(statuses.filter((s) => s === 412)).toHaveLength(19);
    const alias = await registry.getAlias('flipper', 'staging');
    expect(alias).toMatchObject({ revision: 3, routes: [{ version: 1, weight: 100 }] });
    expect((await registry.listAliasLedger('flipper', 'staging')).items.map((e) => e.kind)).toEqual(['rollback', 'set', 'set']);
  });
});

describe('artifact keys and areas', () => {
  beforeAll(async () => {
    await call('POST /models', {}, { name: 'keys' });
    await call('POST /models', {}, { name: 'other' });
  });
  const register = (artifactUri: string) => call('POST /models/{name}/versions', { name: 'keys' }, { artifactUri });

  it.each([
    ['an empty segment', 'models/keys/a//b.onnx', 'has an empty path segment'],
    ['a key over 1,024 bytes', `models/keys/${'a/'.repeat(600)}m.onnx`, 'S3 keys are at most 1024 bytes'],
    ['a 16,000-character key', `models/keys/${'a'.repeat(16_000)}`, 'S3 keys are at most 1024 bytes'],
    ['a 300-byte segment', `models/keys/${'a'.repeat(300)}.onnx`, 'segments are at most 255 bytes'],
  ])('answers 400 for %s, never 500 or 503', async (_, key, problem) => {
    const reply = await register(`s3://${bucket}/${key}`);
    expect(reply.status).toBe(400);
    expect(reply.body['error']).toContain(problem);
    expect((reply.body['error'] as string).length).toBeLessThan(400);
  });

  it.each(['raw/iris/iris.csv', 'curated/iris/v=1/part-00000.parquet', 'models/other/model.onnx', 'models/keys-too/model.onnx'])(
    'refuses %s: only the model\'s own area of the lake',
    async (key) => {
      await putLake(key, iris);
      const reply = await register(`s3://${bucket}/${key}`);
      expect(reply.status).toBe(400);
      expect(reply.body['error']).toContain("own area of the lake, s3://");
    },
  );

  it.each([
    ['a text file', 'hi\n', 'could not parse its 3 bytes as an ONNX ModelProto (protobuf)'],
    ['an empty file', '', 'it parses as protobuf but holds no ONNX graph'],
  ])('says %s is not an ONNX model (422), without the protobuf decoder\'s words', async (_, content, reason) => {
    const uri = await putLake('models/keys/not-onnx.onnx', Buffer.from(content));
    const reply = await register(uri);
    expect(reply.status).toBe(422);
    expect(reply.body['error']).toBe(`artifact '${uri}' is not an ONNX model: ${reason}`);
  });

  it('quotes a checked artifact URI longer than 64 characters whole (an upload key the platform made), and one that is not there', async () => {
    // Prepare
    const uri = await putLake('models/keys/uploads/e762db90-a25e-4530-aa2f-9236f901af71.onnx', Buffer.from('hi\n'));

    // Act
    const notOnnx = await register(uri);
    const missing = await register(uri.replace('.onnx', '-gone.onnx'));

    // Assess
    expect(uri.length).toBeGreaterThan(64);
    expect(notOnnx.body['error']).toBe(`artifact '${uri}' is not an ONNX model: could not parse its 3 bytes as an ONNX ModelProto (protobuf)`);
    expect(missing.body['error']).toBe(`artifact not found: '${uri.replace('.onnx', '-gone.onnx')}'`);
  });

  it('refuses an ONNX model whose tensors are external data (422 naming it), registering nothing', async () => {
    // Prepare: iris with one initializer moved out to a side file, as large exports are saved.
    const model = onnx.ModelProto.decode(iris);
    const tensor = model.graph!.initializer![0]!;
    tensor.rawData = new Uint8Array();
    tensor.floatData = [];
    tensor.doubleData = [];
    tensor.int64Data = [];
    tensor.dataLocation = onnx.TensorProto.DataLocation.EXTERNAL;
    tensor.externalData = [onnx.StringStringEntryProto.create({ key: 'location', value: 'weights.bin' })];
    const uri = await putLake('models/keys/external.onnx', onnx.ModelProto.encode(model).finish());

    // Act
    const reply = await register(uri);

    // Assess
    expect(reply.status).toBe(422);
    expect(reply.body['error']).toContain(`keeps 1 tensor(s) as external data ('${tensor.name}' in 'weights.bin')`);
    expect((await call('GET /models/{name}/versions', { name: 'keys' })).body['versions']).toEqual([]);
  });
});

describe('a registered version keeps its bytes', () => {
  it('serves the bytes it was registered with after its upload key is overwritten', async () => {
    // Prepare: v1 registered from an upload key, which is then overwritten (its URL is valid 15 min).
    await call('POST /models', {}, { name: 'pinned' });
    const uploaded = await putLake('models/pinned/uploads/u.onnx', iris);
    const registered = await call('POST /models/{name}/versions', { name: 'pinned' }, { artifactUri: uploaded });
    await putLake('models/pinned/uploads/u.onnx', await readFile('models/mlp.onnx'));

    // Act: a container that loads v1 now (sha256 checked at load).
    const version = await registry.getVersion('pinned', 1);
    const loader = new ModelLoader(new ArtifactStore(env.s3), await mkdtemp(join(tmpdir(), 'pinned-')), servingSessionOptions(1769));
    const loaded = await loader.load(version);

    // Assess
    expect(registered.status).toBe(201);
    expect(version.artifact).toMatchObject({ key: expect.stringMatching(/^models\/pinned\/versions\/[0-9a-f-]{36}\.onnx$/), registeredFrom: uploaded, sha256: sha256Hex(iris) });
    expect(loaded.inputs.has('sepal_length')).toBe(true);
  });
});

describe('version filters', () => {
  it.each(['', '=prod', 'k'.repeat(129)])('refuses the tag filter %j with a 400 naming it and stating the key rule', async (tag) => {
    // Prepare
    await call('POST /models', {}, { name: 'filters' });

    // Act
    const reply = await call('GET /models/{name}/versions', { name: 'filters' }, undefined, {}, { tag });

    // Assess
    expect(reply.status).toBe(400);
    expect(reply.body['error']).toContain('invalid tag');
    expect(reply.body['error']).toContain('tag keys must be 1–128 characters');
  });
});

describe('tag, metric and lineage keys', () => {
  beforeAll(async () => {
    await call('POST /models', {}, { name: 'tagrules' });
  });

  it.each([
    ['PUT /models/{name}/tags', { name: 'tagrules' }],
    ['PUT /models/{name}/versions/{version}/tags', { name: 'tagrules', version: '1' }],
  ])('%s states the tag key rule for an empty or over-long key', async (route, params) => {
    const empty = await call(route, params, { tags: { '': 'v' } });
    const long = await call(route, params, { tags: { ['k'.repeat(5000)]: 'v' } });
    expect(empty.status).toBe(400);
    expect(empty.body['error']).toBe("invalid tags: tags: key '': tag keys must be 1–128 characters");
    expect(long.status).toBe(400);
    expect(long.body['error']).toBe(`invalid tags: tags: key '${'k'.repeat(64)}…' (5000 characters): tag keys must be 1–128 characters`);
  });

  it('states the rule of each kind of key on POST /models and version registration', async () => {
    const created = await call('POST /models', {}, { name: 'tagrules2', tags: { ['t'.repeat(129)]: 'v' } });
    const registered = await call('POST /models/{name}/versions', { name: 'tagrules' }, { artifactUri: `s3://${bucket}/models/tagrules/a.onnx`, metrics: { '': 1 }, lineage: { '': 'x' } });
    expect(created.body['error']).toContain('tag keys must be 1–128 characters');
    expect(registered.status).toBe(400);
    expect(registered.body['error']).toContain("metrics: key '': metric names must be 1–128 characters");
    expect(registered.body['error']).toContain("lineage: key '': lineage keys must be 1–128 characters");
  });
});

describe('version numbers', () => {
  it('states the range of version numbers for a version path segment beyond it', async () => {
    await call('POST /models', {}, { name: 'ranged' });
    const reply = await call('GET /models/{name}/versions/{version}', { name: 'ranged', version: '99999999999' });
    expect(reply.status).toBe(400);
    expect(reply.body['error']).toContain('versions are numbered from 1 to 9999999999');
  });

  it('states the range for a version in an alias change beyond it', async () => {
    const reply = await call('PUT /models/{name}/aliases/{alias}', { name: 'ranged', alias: 'prod' }, { version: 99_999_999_999 }, { 'if-match': '"0"' });
    expect(reply.status).toBe(400);
    expect(reply.body['error']).toBe('invalid alias: version: versions are numbered from 1 to 9999999999');
  });
});

describe('numbers beyond what the registry stores', () => {
  beforeAll(async () => {
    await call('POST /models', {}, { name: 'huge' });
  });

  it.each([1e200, 1e-200])('refuses a metric of %s with a 400 naming it and the range, registering nothing', async (metric) => {
    // Act
    const registered = await call('POST /models/{name}/versions', { name: 'huge' }, { artifactUri: `s3://${bucket}/models/huge/a.onnx`, metrics: { x: metric } });
    const versions = await call('GET /models/{name}/versions', { name: 'huge' });

    // Assess
    expect(registered.status).toBe(400);
    expect(registered.body['error']).toContain(`metrics.x: ${String(metric)} is outside the range the registry stores (0 or a magnitude from 1e-130 to 9.99e125)`);
    expect(versions.body['versions']).toEqual([]);
  });

  it('refuses a minMetric filter beyond the range with a 400 naming it', async () => {
    // Act
    const reply = await call('GET /models/{name}/versions', { name: 'huge' }, undefined, {}, { minMetric: 'x:1e200' });

    // Assess
    expect(reply.status).toBe(400);
    expect(reply.body['error']).toBe("invalid minMetric 'x:1e200': 1e200 is outside the range the registry stores (0 or a magnitude from 1e-130 to 9.99e125)");
  });
});

describe('alias fallbacks over HTTP', () => {
  it('takes a fallback version or alias in PUT, shows it in GET, and refuses a malformed one (400)', async () => {
    // Prepare
    await registry.createModel({ name: 'falls' });
    await registry.registerVersion(draftVersion('falls'));
    await registry.registerVersion(draftVersion('falls'));
    const route = 'PUT /models/{name}/aliases/{alias}';

    // Act
    const cpu = await call(route, { name: 'falls', alias: 'cpu' }, { version: 1 }, { 'if-match': '"0"' });
    const byVersion = await call(route, { name: 'falls', alias: 'prod' }, { version: 2, fallback: { version: 1 } }, { 'if-match': '"0"' });
    const byAlias = await call(route, { name: 'falls', alias: 'prod' }, { version: 2, fallback: { alias: 'cpu' } }, { 'if-match': '"1"' });
    const read = await call('GET /models/{name}/aliases/{alias}', { name: 'falls', alias: 'prod' });
    const malformed = await call(route, { name: 'falls', alias: 'prod' }, { version: 2, fallback: { version: 1, alias: 'cpu' } }, { 'if-match': '"2"' });
    const badName = await call(route, { name: 'falls', alias: 'prod' }, { version: 2, fallback: { alias: 'no spaces' } }, { 'if-match': '"2"' });

    // Assess
    expect([cpu.status, byVersion.status, byAlias.status]).toEqual([200, 200, 200]);
    expect(byVersion.body['fallback']).toEqual({ version: 1 });
    expect(read.body['fallback']).toEqual({ alias: 'cpu' });
    expect(malformed.status).toBe(400);
    expect(badName.status).toBe(400);
  });
});
