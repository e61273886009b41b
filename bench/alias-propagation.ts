/**
 * `npm run bench -- alias-propagation`: how long an alias change takes to reach serving. Through
 * the local cloud (gateway → predict container, default alias cache TTL), the alias is moved and
 * one caller polls until the answering version changes. Target: ≤ the TTL + 1 s, for a move to a
 * version the container already routes to, and for one it must load first (warm before traffic).
 */
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLocalCloud } from '../local/cloud.js';
import { record, table, verdict } from './lib/record.js';
import { summarize } from './lib/stats.js';

const TTL_MS = 10_000;
const REPEATS = 3;
const SETOSA = { sepal_length: 5.1, sepal_width: 3.5, petal_length: 1.4, petal_width: 0.2 };

/** Runs the benchmark and records it. */
export async function runAliasPropagationBench(): Promise<void> {
  const cloud = await startLocalCloud({
    stateDir: await mkdtemp(join(tmpdir(), 'bench-alias-')),
    port: 0,
    seed: [{ name: 'iris', file: 'models/iris.onnx', description: 'iris' }],
  });
  const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const response = await fetch(`${cloud.baseUrl}${path}`, {
      method,
      headers: { 'x-api-key': cloud.apiKey, 'content-type': 'application/json', ...headers },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: response.status, headers: response.headers, body: (await response.json()) as Record<string, unknown> };
  };
  try {
    const bytes = await readFile('models/iris.onnx');
    for (let i = 0; i < 2; i++) {
      const upload = await call('POST', '/models/iris/uploads');
      await fetch(upload.body['uploadUrl'] as string, { method: 'PUT', body: bytes });
      await call('POST', '/models/iris/versions', { artifactUri: upload.body['artifactUri'] });
    }
    const answering = async () => (await call('POST', '/v1/models/iris:predict', { instances: [SETOSA] })).headers.get('x-model-version');
    const move = async (alias: string, version: number) => {
      const current = await call('GET', `/models/iris/aliases/${alias}`);
      const put = await call('PUT', `/models/iris/aliases/${alias}`, { version, reason: 'bench' }, { 'if-match': current.headers.get('etag') ?? '"0"' });
      if (put.status !== 200) throw new Error(`alias change failed: ${put.status} ${JSON.stringify(put.body)}`);
      return performance.now();
    };
    /**
     * Points prod at `from` and staging at `staging`, lets the container settle on that, then moves
     * prod to `to` and polls one caller until `to` answers; returns the ms it took.
     */
    const measure = async (from: number, staging: number, to: number): Promise<number> => {
      await move('prod', from);
      await move('staging', staging);
      // Let every cached view expire and settle on the setup.
      await new Promise((resolve) => setTimeout(resolve, TTL_MS + 500));
      for (let i = 0; i < 5; i++) await answering();
      const changed = await move('prod', to);
      for (;;) {
        if ((await answering()) === String(to)) return performance.now() - changed;
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    };
    const rows: (string | number)[][] = [];
    const scenarios = [
      // staging already routes to the target: prod moves at once after the TTL.
      { name: 'to a version the container already routes to (through another alias)', staging: (to: number) => to },
      // nothing routes to the target: the container loads it before switching prod's traffic.
      { name: 'to a version no alias routed to (loaded before its traffic)', staging: () => 1 },
    ];
    for (const scenario of scenarios) {
      const times: number[] = [];
      for (let r = 0; r < REPEATS; r++) {
        const to = r % 2 === 0 ? 3 : 2;
        times.push(await measure(1, scenario.staging(to), to));
      }
      const worst = Math.max(...times);
      rows.push([scenario.name, times.map((t) => (t / 1000).toFixed(2)).join(', '), (summarize(times).p50 / 1000).toFixed(2), ((TTL_MS + 1000) / 1000).toFixed(1), verdict(worst <= TTL_MS + 1000)]);
    }
    const body = [
      `Alias cache TTL ${TTL_MS / 1000} s (the default). Each run: the alias is set, left for a TTL so the warm predict container settles on it, then moved; one caller polls every 25 ms until the new version answers. Time from the change's response to that answer. Local cloud (one warm predict container answers the sequential calls); in AWS every warm container follows the same rule independently.`,
      '',
      table(['move', `seconds (${REPEATS} runs)`, 'median s', 'target ≤ s', 'target'], rows),
    ].join('\n');
    console.log(body);
    await record('Alias change propagation', 'npm run bench -- alias-propagation', body);
  } finally {
    await cloud.stop();
  }
}
