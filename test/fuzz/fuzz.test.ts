/**
 * A bounded fuzz of every route on the local cloud (fixed seed): hostile paths,
 * methods, headers, query strings and bodies must never get a 5xx or a dropped
 * connection. `npm run fuzz` runs the long version (10,000 requests, any seed).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { topology } from '../../topology/topology.js';
import { startLocalCloud, type LocalCloud } from '../../local/cloud.js';
import { apiClient, SAMPLE_MODELS } from '../../local/seed.js';
import { topologyRoutes } from './requests.js';
import { describeFailure, runFuzz } from './run.js';

const SEED = 20_261_203;
const REQUESTS = 300;

let cloud: LocalCloud;
let stateDir: string;

beforeAll(async () => {
  stateDir = await mkdtemp(join(tmpdir(), 'fuzz-cloud-'));
  cloud = await startLocalCloud({ stateDir, port: 0, seed: SAMPLE_MODELS.filter((m) => m.name === 'iris') });
});
afterAll(async () => {
  await cloud?.stop();
  await rm(stateDir, { recursive: true, force: true });
});

it(`answers ${REQUESTS} hostile requests across all routes without a 5xx or a dropped connection (seed ${SEED})`, { timeout: 300_000 }, async () => {
  // Prepare
  const iris = await apiClient(cloud.baseUrl, cloud.apiKey)('GET', '/models/iris/versions/1');
  const artifactUris = [(iris.body['artifact'] as { uri: string }).uri];

  // Act
  const report = await runFuzz({
    baseUrl: cloud.baseUrl,
    routes: topologyRoutes(topology),
    context: { apiKey: cloud.apiKey, artifactUris },
    seed: SEED,
    requests: REQUESTS,
    concurrency: 4,
    timeoutMs: 120_000,
  });

  // Assess
  expect(report.failures.map((failure) => describeFailure(failure, SEED))).toEqual([]);
  expect(Object.values(report.byStatus).reduce((a, b) => a + b, 0)).toBe(REQUESTS);
});
