/**
 * Alias-based traffic through the local cloud: a weighted split is sticky per routing key, every
 * answer names its version, every change lands in the alias's ledger, and a rollback is one call.
 */
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalCloud, type LocalCloud } from '../../local/cloud.js';
import { lakeApi } from '../support/lake-api.js';

let cloud: LocalCloud;
let api: ReturnType<typeof lakeApi>;
const SETOSA = { sepal_length: 5.1, sepal_width: 3.5, petal_length: 1.4, petal_width: 0.2 };

beforeAll(async () => {
  cloud = await startLocalCloud({
    stateDir: await mkdtemp(join(tmpdir(), 'aliases-cloud-')),
    port: 0,
    seed: [{ name: 'iris', file: 'models/iris.onnx', description: 'iris' }],
    // Predict containers read aliases afresh on every request, so each change is seen at once.
    functionEnvironment: { ALIAS_CACHE_TTL_MS: '0' },
  });
  api = lakeApi(cloud);
  // A second version of the seeded iris model.
  const upload = await api.request<{ uploadUrl: string; artifactUri: string }>('POST', '/models/iris/uploads');
  await fetch(upload.body.uploadUrl, { method: 'PUT', body: await readFile('models/iris.onnx') });
  expect((await api.request('POST', '/models/iris/versions', { artifactUri: upload.body.artifactUri })).status).toBe(201);
});
afterAll(async () => {
  api?.s3.destroy();
  await cloud?.stop();
});

const predictAs = async (routingKey: string): Promise<{ version: string; header: string | null }> => {
  const reply = await api.request<{ model_version: string }>('POST', '/v1/models/iris:predict', { instances: [SETOSA] }, { 'x-routing-key': routingKey });
  return { version: reply.body.model_version, header: reply.headers.get('x-model-version') };
};

describe('aliases through the local cloud', () => {
  it('splits traffic stickily per routing key, records the change, and rolls back in one call', async () => {
    // Prepare
    const before = await api.request<{ revision: number }>('GET', '/models/iris/aliases/prod');

    // Act
    const split = await api.request(
      'PUT',
      '/models/iris/aliases/prod',
      { routes: [{ version: 1, weight: 50 }, { version: 2, weight: 50 }], reason: 'A/B' },
      { 'if-match': before.headers.get('etag')! },
    );
    // Version 2 gets traffic once the predict container has loaded it (warm before traffic).
    // Requests go one at a time, so one warm container answers them all.
    const deadline = Date.now() + 20_000;
    for (let probe = 0; (await predictAs(`probe-${probe}`)).version !== '2' && Date.now() < deadline; probe++) await new Promise((resolve) => setTimeout(resolve, 20));
    const inTurn = async (count: number) => {
      const out = [];
      for (let i = 0; i < count; i++) out.push(await predictAs(`user-${i}`));
      return out;
    };
    const answers = await inTurn(60);
    const again = await inTurn(60);
    const rollback = await api.request<{ routes: unknown[]; revision: number }>('POST', '/models/iris/aliases/prod/rollback', { reason: 'end of test' }, { 'if-match': split.headers.get('etag')! });
    const after = await inTurn(10);
    const ledger = await api.request<{ entries: { revision: number; kind: string; reason: string }[] }>('GET', '/models/iris/aliases/prod/ledger');

    // Assess
    expect(split.status).toBe(200);
    expect(new Set(answers.map((a) => a.version))).toEqual(new Set(['1', '2']));
    expect(answers.every((a) => a.header === a.version)).toBe(true);
    expect(again.map((a) => a.version)).toEqual(answers.map((a) => a.version));
    expect(rollback.body).toMatchObject({ routes: [{ version: 1, weight: 100 }], revision: before.body.revision + 2 });
    expect(new Set(after.map((a) => a.version))).toEqual(new Set(['1']));
    expect(ledger.body.entries.map((e) => [e.revision, e.kind, e.reason])).toEqual([
      [before.body.revision + 2, 'rollback', 'end of test'],
      [before.body.revision + 1, 'set', 'A/B'],
      [before.body.revision, 'set', 'sample model seeded by npm start'],
    ]);
  });

  it('refuses a split whose weights do not sum to 100, naming the problem', async () => {
    // Act
    const reply = await api.request<{ error: string }>('PUT', '/models/iris/aliases/prod', { routes: [{ version: 1, weight: 60 }, { version: 2, weight: 30 }] }, { 'if-match': '"1"' });

    // Assess
    expect(reply.status).toBe(400);
    expect(reply.body.error).toContain('weights must sum to 100');
  });
});
