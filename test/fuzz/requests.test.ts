import { describe, expect, it } from 'vitest';
import { topology } from '../../topology/topology.js';
import { fuzzRequest, topologyRoutes } from './requests.js';
import { runFuzz } from './run.js';

const routes = topologyRoutes(topology);
const context = { apiKey: 'key', artifactUris: ['s3://lake/models/iris/uploads/a.onnx'] };

describe('fuzzRequest', () => {
  it('gives the same request for the same seed and index, so a failure reproduces', () => {
    // Act
    const first = fuzzRequest(routes, context, 7, 123);
    const again = fuzzRequest(routes, context, 7, 123);

    // Assess
    expect(again).toEqual(first);
  });

  it('gives different requests for different indexes and seeds', () => {
    // Act
    const requests = [fuzzRequest(routes, context, 7, 1), fuzzRequest(routes, context, 7, 2), fuzzRequest(routes, context, 8, 1)];

    // Assess
    expect(new Set(requests.map((r) => JSON.stringify(r))).size).toBe(3);
  });

  it('fuzzes every route of the topology', () => {
    // Act
    const fuzzed = new Set(Array.from({ length: 1_000 }, (_, i) => fuzzRequest(routes, context, 1, i).route));

    // Assess
    expect([...fuzzed].sort()).toEqual(routes.map((r) => `${r.method} ${r.path}`).sort());
  });
});

describe('runFuzz', () => {
  it('refuses a target that is not on loopback', async () => {
    // Act
    const run = runFuzz({ baseUrl: 'http://example.com', routes, context, seed: 1, requests: 1, concurrency: 1, timeoutMs: 1_000 });

    // Assess
    await expect(run).rejects.toThrow(/only targets loopback, not example.com/);
  });
});
