import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { apiEvent, type ApiEventInput } from '../../test/support/api-event.js';
import { draftVersion } from '../../test/support/model-versions.js';
import { ArtifactStore } from '../aws/artifact-store.js';
import { toErrorResponse } from '../http/response.js';
import { dispatch } from '../http/router.js';
import type { AliasRecord, ModelRecord, ModelVersion } from '../registry/types.js';
import type { VersionStats } from './telemetry/serving-stats.js';
import { ServingTelemetry } from './telemetry/serving-telemetry.js';
import { parseShadowCopy } from './telemetry/shadow-copy.js';
import { ServingBackends } from './backend.js';
import { ModelLoader } from './model-loader.js';
import { OnnxBackend } from './onnx-backend.js';
import { servingSessionOptions } from './onnx-session.js';
import { createPredictRoutes } from './predict-routes.js';
import { ModelResolver } from './resolver.js';

const s3Client = new S3Client({ region: 'us-east-1' });
const s3 = mockClient(s3Client);
let iris: Buffer;

const model: ModelRecord = { name: 'iris', description: '', defaultAlias: 'prod', tags: {}, createdAt: '', updatedAt: '' };
const prod: AliasRecord = { model: 'iris', alias: 'prod', routes: [{ version: 1, weight: 100 }], shadow: { version: 2, percent: 100 }, revision: 1, updatedAt: '', updatedBy: '', reason: '' };
const SETOSA = { sepal_length: 5.1, sepal_width: 3.5, petal_length: 1.4, petal_width: 0.2 };

beforeAll(async () => {
  iris = await readFile('models/iris.onnx');
  s3.on(GetObjectCommand).callsFake(() => ({ Body: { transformToByteArray: async () => new Uint8Array(iris) } }));
});

/** The data plane over an in-memory registry, with a loader that notes which versions it loads and telemetry written at every request. */
async function dataPlane(sha256 = createHash('sha256').update(iris).digest('hex')) {
  const versionOf = (version: number) =>
    ({ ...draftVersion('iris', { artifact: { uri: 's3://lake/iris.onnx', bucket: 'lake', key: 'iris.onnx', sha256, sizeBytes: iris.length } }), version, status: 'PENDING', createdAt: '' }) satisfies ModelVersion;
  const resolver = new ModelResolver({ findModelWithAliases: async () => ({ model, aliases: new Map([['prod', prod]]) }), getVersion: async (_, v) => versionOf(v), servableVersionNumbers: async () => [1, 2] }, 60_000);
  const loaded: number[] = [];
  const loader = new (class extends ModelLoader {
    override load(version: ModelVersion) {
      loaded.push(version.version);
      return super.load(version);
    }
  })(new ArtifactStore(s3Client), await mkdtemp(join(tmpdir(), 'predict-routes-')), servingSessionOptions(1769));
  const stats: { alias: string | undefined; version: number; stats: VersionStats }[] = [];
  const objects: string[] = [];
  const telemetry = new ServingTelemetry(
    { addStats: async (_m, alias, version, _b, counts) => void stats.push({ alias, version, stats: counts }), putObject: async (_k, body) => void objects.push(body), onError: () => undefined },
    () => Date.now(),
    0,
  );
  const routes = createPredictRoutes({ resolver, backends: new ServingBackends({ lambda: new OnnxBackend(loader) }), telemetry, random: () => 0 });
  const send = (input: ApiEventInput) => dispatch(routes, apiEvent(input)).catch((error: unknown) => toErrorResponse(error, 'c').response);
  const call = (body: unknown) => send({ method: 'POST', resource: '/v1/models/{nameAndVerb}', pathParameters: { nameAndVerb: 'iris:predict' }, body });
  return { call, send, loaded, stats, objects };
}

describe('predict routes with serving telemetry', () => {
  it('refuses a body over the payload limit with the way to send a larger input (an async upload)', async () => {
    // Prepare
    const { send } = await dataPlane();

    // Act
    const response = await send({ method: 'POST', resource: '/v2/models/{name}/infer', pathParameters: { name: 'iris' }, body: { inputs: [{ name: 'x', datatype: 'BYTES', shape: [1], data: ['x'.repeat(6_300_000)] }] } });

    // Assess
    expect(response.statusCode).toBe(413);
    expect((JSON.parse(response.body) as { error: string }).error).toContain('an inference input this large goes through an upload: POST /v2/async/uploads');
  });

  it('refuses x-input-location without Prefer: respond-async, saying the header names an async input', async () => {
    // Prepare
    const { send } = await dataPlane();

    // Act
    const response = await send({ method: 'POST', resource: '/v2/models/{name}/infer', pathParameters: { name: 'iris' }, headers: { 'x-input-location': 's3://lake/predictions/async/uploads/00000000-0000-4000-8000-000000000000' } });

    // Assess
    expect(response.statusCode).toBe(400);
    expect((JSON.parse(response.body) as { error: string }).error).toMatch(/^x-input-location names an uploaded input, which is served asynchronously: send the request with "Prefer: respond-async"/);
  });

  it('refuses x-input-location on v1 :predict, pointing at the v2 infer route (v1 has no async form)', async () => {
    // Prepare
    const { send } = await dataPlane();

    // Act
    const response = await send({ method: 'POST', resource: '/v1/models/{nameAndVerb}', pathParameters: { nameAndVerb: 'iris:predict' }, headers: { prefer: 'respond-async', 'x-input-location': 's3://lake/predictions/async/uploads/00000000-0000-4000-8000-000000000000' } });

    // Assess
    expect(response.statusCode).toBe(400);
    expect((JSON.parse(response.body) as { error: string }).error).toBe(
      'x-input-location names an uploaded input, which the v2 infer route serves asynchronously: POST /v2/models/iris/infer with "Prefer: respond-async" (KServe v1 :predict has no async form)',
    );
  });

  it('answers with the primary version and only hands a copy on: the caller never waits for the shadow version', async () => {
    // Prepare
    const { call, loaded, objects } = await dataPlane();

    // Act
    const response = await call({ instances: [SETOSA] });

    // Assess: the shadow version (2) was neither loaded nor run on the request path.
    expect(response.statusCode).toBe(200);
    expect(response.headers?.['x-model-version']).toBe('1');
    expect(loaded).toEqual([1]);
    const copy = parseShadowCopy(objects[0]!.trimEnd());
    expect(copy).toMatchObject({ model: 'iris', alias: 'prod', protocol: 'v1', request: { instances: [SETOSA] }, primary: { version: 1 }, shadowVersion: 2 });
    expect(copy.primary.response).toEqual(JSON.parse(response.body));
  });

  it('counts answers and refusals against the version the alias picked, and requests refused before any version was picked against none', async () => {
    // Prepare
    const { call, stats } = await dataPlane();

    // Act
    const answered = await call({ instances: [SETOSA] });
    const refused = await call({ instances: [{ sepal_length: 5.1 }] });
    const malformed = await call('{not json');

    // Assess
    expect([answered.statusCode, refused.statusCode, malformed.statusCode]).toEqual([200, 400, 400]);
    expect(stats.map((s) => [s.alias, s.version, s.stats.requests, s.stats.rejected, s.stats.failed])).toEqual([
      ['prod', 1, 1, 0, 0],
      ['prod', 1, 1, 1, 0],
    ]);
  });

  it('counts a version that fails to load as failed, without a latency sample (it never answered)', async () => {
    // Prepare: the registered sha256 no longer matches the artifact.
    const { call, stats } = await dataPlane('0'.repeat(64));

    // Act
    const response = await call({ instances: [SETOSA] });

    // Assess
    expect(response.statusCode).toBe(500);
    expect(stats).toHaveLength(1);
    expect(stats[0]!.stats).toMatchObject({ requests: 1, failed: 1, rejected: 0 });
    expect(stats[0]!.stats.latency.every((count) => count === 0)).toBe(true);
  });
});

describe('v2 model metadata', () => {
  it('describes the alias primary version and lists in versions every version a request may name', async () => {
    const { send } = await dataPlane();
    for (const version of [undefined, '2']) {
      const response = await send(
        version === undefined
          ? { method: 'GET', resource: '/v2/models/{name}', pathParameters: { name: 'iris' } }
          : { method: 'GET', resource: '/v2/models/{name}/versions/{version}', pathParameters: { name: 'iris', version } },
      );
      expect(response.statusCode).toBe(200);
      expect(JSON.parse(response.body)).toMatchObject({ name: 'iris', versions: ['1', '2'], platform: 'onnxruntime_onnx' });
      expect(response.headers?.['x-model-version']).toBe(version ?? '1');
    }
  });
});

describe('KServe v1 routes', () => {
  it('answers model status on GET /v1/models/{name}, loading the version the default alias picks', async () => {
    const { send, loaded } = await dataPlane();
    const response = await send({ method: 'GET', resource: '/v1/models/{nameAndVerb}', pathParameters: { nameAndVerb: 'iris' } });
    expect(response.statusCode).toBe(200);
    expect(JSON.parse(response.body)).toEqual({ name: 'iris', ready: true });
    expect(response.headers?.['x-model-version']).toBe('1');
    expect(loaded).toEqual([1]);
  });

  it('refuses GET of a :predict path with 405', async () => {
    const { send } = await dataPlane();
    const response = await send({ method: 'GET', resource: '/v1/models/{nameAndVerb}', pathParameters: { nameAndVerb: 'iris:predict' } });
    expect(response.statusCode).toBe(405);
  });

  it('predicts with the version (or alias) a /v1/models/{name}/versions/{v}:predict path names', async () => {
    const { send } = await dataPlane();
    const predictWith = (versionAndVerb: string) =>
      send({ method: 'POST', resource: '/v1/models/{nameAndVerb}/versions/{versionAndVerb}', pathParameters: { nameAndVerb: 'iris', versionAndVerb }, body: { instances: [SETOSA] } });
    const byNumber = await predictWith('2:predict');
    const byAlias = await predictWith('prod:predict');
    const otherVerb = await predictWith('2:explain');
    expect([byNumber.statusCode, byNumber.headers?.['x-model-version']]).toEqual([200, '2']);
    expect(JSON.parse(byNumber.body)).toMatchObject({ model_name: 'iris', model_version: '2' });
    expect([byAlias.statusCode, byAlias.headers?.['x-model-version']]).toEqual([200, '1']);
    expect(otherVerb.statusCode).toBe(404);
    expect(JSON.parse(otherVerb.body).error).toBe("no KServe v1 verb ':predict' in '2:explain'; use /v1/models/{name}:predict or /v1/models/{name}/versions/{version}:predict");
  });
});

describe('request values in error answers', () => {
  it('answers a 5 MB model name or input name with a short 400 body', async () => {
    const { send } = await dataPlane();
    const huge = 'n'.repeat(5_000_000);
    const byName = await send({ method: 'POST', resource: '/v1/models/{nameAndVerb}', pathParameters: { nameAndVerb: `${huge}:predict` }, body: { instances: [SETOSA] } });
    const byInput = await send({
      method: 'POST',
      resource: '/v2/models/{name}/infer',
      pathParameters: { name: 'iris' },
      body: { inputs: [{ name: huge, datatype: 'FP32', shape: [1, 1], data: [1] }] },
    });
    for (const response of [byName, byInput]) {
      expect(response.statusCode).toBe(400);
      expect(response.body.length).toBeLessThan(300);
      expect(JSON.parse(response.body).error).toContain("nnn…' (5000000 characters)");
    }
  });
});
