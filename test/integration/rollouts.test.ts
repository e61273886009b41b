/**
 * Rollouts and shadow traffic through the local cloud, with the same functions as in AWS: predict
 * counts requests per version and copies sampled requests; the scheduled rollouts function
 * advances or rolls back; the shadow function answers the copies with the shadow version.
 */
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalCloud, type LocalCloud } from '../../local/cloud.js';
import type { Rollout } from '../../src/rollout/rollout.js';
import type { ShadowSummary } from '../../src/rollout/shadow-comparisons.js';
import { lakeApi } from '../support/lake-api.js';

let cloud: LocalCloud;
let api: ReturnType<typeof lakeApi>;
const SETOSA = { sepal_length: 5.1, sepal_width: 3.5, petal_length: 1.4, petal_width: 0.2 };

/** Registers a model file as the next version of iris. */
async function registerVersion(file: string): Promise<number> {
  const upload = await api.request<{ uploadUrl: string; artifactUri: string }>('POST', '/models/iris/uploads');
  await fetch(upload.body.uploadUrl, { method: 'PUT', body: await readFile(file) });
  const registered = await api.request<{ version: number }>('POST', '/models/iris/versions', { artifactUri: upload.body.artifactUri });
  expect(registered.status).toBe(201);
  return registered.body.version;
}

beforeAll(async () => {
  cloud = await startLocalCloud({
    stateDir: await mkdtemp(join(tmpdir(), 'rollouts-cloud-')),
    port: 0,
    seed: [{ name: 'iris', file: 'models/iris.onnx', description: 'iris' }],
    // Alias changes are seen at once, and the advancer runs twice a second.
    functionEnvironment: { ALIAS_CACHE_TTL_MS: '0' },
    scheduleIntervalMs: 500,
  });
  api = lakeApi(cloud);
  // v2: the same model (a healthy candidate); v3: a model with other inputs, which refuses iris requests.
  expect(await registerVersion('models/iris.onnx')).toBe(2);
  expect(await registerVersion('models/dtypes.onnx')).toBe(3);
});
afterAll(async () => {
  api?.s3.destroy();
  await cloud?.stop();
});

const predict = () => api.request('POST', '/v1/models/iris:predict', { instances: [SETOSA] });

/** Sends requests one at a time until `done` says so (bounded). */
async function trafficUntil<T>(done: () => Promise<T | undefined>, what: string, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    for (let i = 0; i < 10; i++) await predict();
    const result = await done();
    if (result !== undefined) return result;
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${timeoutMs} ms`);
  }
}

const alias = () => api.request<{ revision: number; routes: { version: number; weight: number }[] }>('GET', '/models/iris/aliases/prod');
const rolloutIn = (states: readonly Rollout['state'][]) => async () => {
  const reply = await api.request<Rollout>('GET', '/models/iris/aliases/prod/rollout');
  return states.includes(reply.body.state) ? reply.body : undefined;
};

describe('rollouts and shadow traffic through the local cloud', () => {
  it('copies sampled requests to a shadow version and shows how its answers compare', async () => {
    // Prepare
    const before = await alias();
    const set = await api.request('PUT', '/models/iris/aliases/prod', { version: 1, shadow: { version: 2, percent: 100 }, reason: 'shadow v2' }, { 'if-match': `"${before.body.revision}"` });
    expect(set.status).toBe(200);

    // Act: callers get v1's answers; the shadow function answers the copies with v2.
    const answered = await predict();
    const summary = await trafficUntil(async () => {
      const reply = await api.request<{ comparisons: ShadowSummary[] }>('GET', '/models/iris/aliases/prod/shadow');
      const pair = reply.body.comparisons.find((c) => c.primaryVersion === 1 && c.shadowVersion === 2);
      return pair !== undefined && pair.copies >= 5 ? pair : undefined;
    }, 'shadow comparisons');
    const records = await api.s3.send(new ListObjectsV2Command({ Bucket: cloud.resources.bucketName, Prefix: 'predictions/iris/shadow/prod/' }));
    const record = JSON.parse(new TextDecoder().decode(await api.read(records.Contents![0]!.Key!)).split('\n')[0]!) as Record<string, { version: number; response?: unknown }>;
    const off = await alias();
    await api.request('PUT', '/models/iris/aliases/prod', { version: 1, shadow: null, reason: 'shadow off' }, { 'if-match': `"${off.body.revision}"` });

    // Assess
    expect(answered.headers.get('x-model-version')).toBe('1');
    expect(summary).toMatchObject({ shadowErrors: 0, agreementRate: 1, meanAbsDiff: 0 });
    expect(record['primary']).toMatchObject({ version: 1 });
    expect((record['shadow']!.response as { predictions: unknown }).predictions).toEqual((record['primary']!.response as { predictions: unknown }).predictions);
  });

  it('takes a healthy candidate to 100 % by itself', async () => {
    // Prepare
    const before = await alias();

    // Act
    const started = await api.request<Rollout>(
      'POST',
      '/models/iris/aliases/prod/rollout',
      { candidate: 2, steps: [50, 100], bakeSeconds: 1, guards: { maxErrorRate: 0.05, minRequests: 10 }, reason: 'ship v2' },
      { 'if-match': `"${before.body.revision}"` },
    );
    const done = await trafficUntil(rolloutIn(['SUCCEEDED', 'ROLLED_BACK', 'ABORTED']), 'the rollout of v2');

    // Assess
    expect(started.status).toBe(201);
    expect(started.body).toMatchObject({ state: 'RUNNING', baseline: 1, candidate: 2, step: 0 });
    expect(done).toMatchObject({ state: 'SUCCEEDED', step: 1 });
    expect((await alias()).body.routes).toEqual([{ version: 2, weight: 100 }]);
  });

  it('rolls a candidate that refuses requests back by itself, with the reason in the ledger', async () => {
    // Prepare
    const before = await alias();

    // Act
    const started = await api.request<Rollout>(
      'POST',
      '/models/iris/aliases/prod/rollout',
      { candidate: 3, steps: [50, 100], bakeSeconds: 1, guards: { maxErrorRate: 0.05, minRequests: 10 }, reason: 'ship v3' },
      { 'if-match': `"${before.body.revision}"` },
    );
    const done = await trafficUntil(rolloutIn(['SUCCEEDED', 'ROLLED_BACK', 'ABORTED']), 'the rollout of v3');
    const ledger = await api.request<{ entries: { kind: string; by: string; reason: string; to: unknown }[] }>('GET', '/models/iris/aliases/prod/ledger');

    // Assess
    expect(started.status).toBe(201);
    expect(done).toMatchObject({ state: 'ROLLED_BACK', step: 0, outcome: expect.stringContaining('rolled back automatically at step 1 of 2 (50 %): error rate above 5.0 %') });
    expect((await alias()).body.routes).toEqual([{ version: 2, weight: 100 }]);
    expect(ledger.body.entries[0]).toMatchObject({ kind: 'rollback', by: `rollout ${started.body.id}`, reason: done.outcome, to: [{ version: 2, weight: 100 }] });
    expect(done.outcome).toMatch(/refused\)$/);
  });
});
