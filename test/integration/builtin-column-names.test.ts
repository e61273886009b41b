/**
 * Column names that are JavaScript built-ins (`__proto__`, `constructor`, `toString`,
 * `hasOwnProperty`, `valueOf`) are ordinary names end to end on the local cloud: a dropped file
 * with them is ingested, previewed, trained on (linear and gradient-boosted trees) and served
 * through KServe v1 records and v2 tensors.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalCloud, type LocalCloud } from '../../local/cloud.js';
import type { DatasetVersion } from '../../src/lake/types.js';
import type { TrainingJob } from '../../src/training/types.js';
import { lakeApi } from '../support/lake-api.js';

let cloud: LocalCloud;
let lake: ReturnType<typeof lakeApi>;

/** Feature columns, named like properties of `Object.prototype`, and the target. */
const FEATURES = ['__proto__', 'constructor', 'toString', 'hasOwnProperty'] as const;
const TARGET = 'valueOf';
const ROWS = 120;

/** Row `i`: two numbers, a category and a boolean; the target is a function of them. */
function row(i: number): [number, number, string, boolean, number] {
  const proto = (i * 7) % 23;
  const ctor = (i * 5) % 11;
  const text = ['red', 'green', 'blue'][i % 3]!;
  const flag = i % 4 === 0;
  return [proto, ctor, text, flag, 3 * proto - 2 * ctor + (text === 'red' ? 10 : 0) + (flag ? 5 : 0)];
}

/** A record keyed by column name, with every key an own property (`__proto__` included). */
const record = (names: readonly string[], values: readonly unknown[]) => Object.fromEntries(names.map((name, i) => [name, values[i]]));

beforeAll(async () => {
  cloud = await startLocalCloud({ stateDir: await mkdtemp(join(tmpdir(), 'builtin-names-cloud-')), port: 0 });
  lake = lakeApi(cloud);
});
afterAll(async () => {
  lake?.s3.destroy();
  await cloud?.stop();
});

/** Polls a job until it is finished; fails after `timeoutMs`. */
async function finishedJob(id: string, timeoutMs = 120_000): Promise<TrainingJob> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { body } = await lake.request<TrainingJob>('GET', `/jobs/${encodeURIComponent(id)}`);
    if (body.status === 'SUCCEEDED' || body.status === 'FAILED' || body.status === 'CANCELLED') return body;
    if (Date.now() > deadline) throw new Error(`job ${id} is still ${body.status} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

describe('columns named like JavaScript built-ins', () => {
  it('are ingested, previewed, trained on (linear, gbdt) and served through v1 records and v2 tensors', async () => {
    // Prepare
    const csv = [[...FEATURES, TARGET].join(','), ...Array.from({ length: ROWS }, (_, i) => row(i).join(','))].join('\n');
    await lake.drop('raw/builtins/data.csv', csv);
    const [version] = await lake.finishedVersions('builtins');

    // Act
    const preview = await lake.request<{ rows: Record<string, unknown>[] }>('GET', '/datasets/builtins/versions/1/preview?limit=2');
    const jobs = await Promise.all(
      (['linear', 'gbdt'] as const).map(async (algorithm) => {
        const submitted = await lake.request<TrainingJob>('POST', '/jobs', { dataset: 'builtins', target: TARGET, task: 'regression', algorithm, modelName: `builtins-${algorithm}`, alias: 'prod' });
        expect(submitted.status).toBe(202);
        return finishedJob(submitted.body.id);
      }),
    );
    const instances = [0, 1, 4].map((i) => record(FEATURES, row(i)));
    const v1 = await Promise.all(jobs.map((job) => lake.request<{ predictions: number[] }>('POST', `/v1/models/${job.spec.modelName}:predict`, { instances })));
    const inputs = FEATURES.map((name, f) => ({
      name,
      shape: [instances.length, 1],
      datatype: f === 2 ? 'BYTES' : f === 3 ? 'BOOL' : 'FP32',
      data: instances.map((instance) => instance[name]),
    }));
    const v2 = await Promise.all(jobs.map((job) => lake.request<{ outputs: { data: number[] }[] }>('POST', `/v2/models/${job.spec.modelName}/infer`, { inputs })));

    // Assess
    expect(version).toMatchObject({ status: 'READY', rowsAccepted: ROWS });
    const ready = version as DatasetVersion;
    expect(ready.schema?.columns.map((c) => [c.name, c.type])).toEqual([['__proto__', 'integer'], ['constructor', 'integer'], ['toString', 'string'], ['hasOwnProperty', 'boolean'], ['valueOf', 'integer']]);
    expect(ready.statistics?.map((s) => s.name)).toEqual([...FEATURES, TARGET]);
    expect(preview.status).toBe(200);
    expect(preview.body.rows.map((r) => Object.entries(r))).toEqual([0, 1].map((i) => Object.entries(record([...FEATURES, TARGET], row(i)))));
    for (const job of jobs) {
      expect(job).toMatchObject({ status: 'SUCCEEDED', spec: { features: [...FEATURES] } });
      expect(job.metrics?.r2).toBeGreaterThan(0.9);
    }
    for (const [m, reply] of v1.entries()) {
      expect(reply.status).toBe(200);
      expect(reply.body.predictions).toHaveLength(instances.length);
      expect(v2[m]?.status).toBe(200);
      expect(v2[m]?.body.outputs[0]?.data).toEqual(reply.body.predictions);
    }
    // Both models get close to the targets of the rows they were asked about.
    const targets = [0, 1, 4].map((i) => row(i)[4]);
    for (const reply of v1) reply.body.predictions.forEach((p, i) => expect(Math.abs(p - targets[i]!)).toBeLessThan(8));
  }, 180_000);
});
