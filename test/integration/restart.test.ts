/**
 * The local cloud keeps its state across restarts: the registry (dynalite on disk),
 * the lake (s3rver on disk) and the API key survive, and sample models are not
 * registered twice.
 */
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { endpointsFile, startLocalCloud } from '../../local/cloud.js';
import { SAMPLE_MODELS } from '../../local/seed.js';

const iris = SAMPLE_MODELS.filter((m) => m.name === 'iris');
const instance = { sepal_length: 6.7, sepal_width: 3.0, petal_length: 5.2, petal_width: 2.3 };

async function predict(baseUrl: string, apiKey: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${baseUrl}/v1/models/iris:predict`, {
    method: 'POST',
    headers: { 'x-api-key': apiKey, 'content-type': 'application/json' },
    body: JSON.stringify({ instances: [instance] }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe('local cloud restart', () => {
  it('serves the seeded model again after a restart, with the same key and no second registration', async () => {
    // Prepare: a first start seeds iris.
    const stateDir = await mkdtemp(join(tmpdir(), 'restart-'));
    const lines: string[] = [];
    const first = await startLocalCloud({ stateDir, port: 0, seed: iris, log: (line) => lines.push(line) });
    const before = await predict(first.baseUrl, first.apiKey);
    await first.stop();

    // Act
    const second = await startLocalCloud({ stateDir, port: 0, seed: iris, log: (line) => lines.push(line) });
    try {
      const after = await predict(second.baseUrl, second.apiKey);
      const versions = await fetch(`${second.baseUrl}/models/iris/versions`, { headers: { 'x-api-key': second.apiKey } });
      const written = JSON.parse(await readFile(endpointsFile(stateDir), 'utf8')) as { baseUrl: string; apiKey: string };

      // Assess
      expect(before).toEqual({ status: 200, body: { model_name: 'iris', model_version: '1', predictions: [expect.objectContaining({ label: 2 })] } });
      expect(after).toEqual(before);
      expect(second.apiKey).toBe(first.apiKey);
      expect(((await versions.json()) as { versions: unknown[] }).versions).toHaveLength(1);
      expect(lines.filter((line) => line.startsWith("registered sample model 'iris'"))).toHaveLength(1);
      expect(written).toMatchObject({ baseUrl: second.baseUrl, apiKey: second.apiKey });
    } finally {
      await second.stop();
    }
    // Two starts of the whole local cloud: more than the default 30 s on a loaded 2-core machine.
  }, 180_000);
});
