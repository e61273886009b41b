/**
 * `npm run fuzz`: starts the local cloud on free loopback ports (fresh state, sample
 * models seeded), sends generated hostile requests to every route of the topology,
 * prints what came back, and exits 1 on any 5xx or request without an answer.
 *
 * Options: `--requests N` (default 10000), `--seed S` (default: random, printed),
 * `--concurrency C` (default 8), `--keep` (keep the state folder, for the functions' logs).
 * A failure reproduces with the seed it prints (each request depends only on seed and index).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { topology } from '../../topology/topology.js';
import { startLocalCloud } from '../../local/cloud.js';
import { apiClient, SAMPLE_MODELS } from '../../local/seed.js';
import { topologyRoutes } from './requests.js';
import { formatReport, runFuzz } from './run.js';

const { values } = parseArgs({
  options: {
    requests: { type: 'string', default: '10000' },
    seed: { type: 'string' },
    concurrency: { type: 'string', default: '8' },
    keep: { type: 'boolean', default: false },
  },
});
const positiveInteger = (text: string, what: string) => {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${what} must be a positive integer, got '${text}'`);
  return n;
};
const requests = positiveInteger(values.requests, 'requests');
const concurrency = positiveInteger(values.concurrency, 'concurrency');
const seed = values.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : positiveInteger(values.seed, 'seed');

const stateDir = await mkdtemp(join(tmpdir(), 'fuzz-cloud-'));
console.log(`fuzz: starting the local cloud (state in ${stateDir}) ...`);
const cloud = await startLocalCloud({ stateDir, port: 0, seed: SAMPLE_MODELS });
let failed = true;
try {
  const api = apiClient(cloud.baseUrl, cloud.apiKey);
  const artifactUris: string[] = [];
  for (const model of SAMPLE_MODELS) {
    const version = await api('GET', `/models/${model.name}/versions/1`);
    const artifact = version.body['artifact'] as { uri?: unknown } | undefined;
    if (typeof artifact?.uri === 'string') artifactUris.push(artifact.uri);
  }
  console.log(`fuzz: ${requests} requests, seed ${seed}, concurrency ${concurrency}, against ${cloud.baseUrl}`);
  const started = Date.now();
  const report = await runFuzz({
    baseUrl: cloud.baseUrl,
    routes: topologyRoutes(topology),
    context: { apiKey: cloud.apiKey, artifactUris },
    seed,
    requests,
    concurrency,
    timeoutMs: 120_000,
  });
  console.log(formatReport(report));
  console.log(`\nfuzz: done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  failed = report.failures.length > 0;
} finally {
  await cloud.stop();
  if (values.keep) console.log(`fuzz: state and function logs kept in ${stateDir}`);
  else await rm(stateDir, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
