/**
 * Cold start: fresh process → first prediction with the bundled predict function
 * (registry look-ups, artifact download and verification included), against the
 * floor: a minimal script that requires onnxruntime, creates the session, runs once.
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ENV } from '../infra/topology.js';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../local/emulators.js';
import { SAMPLE_MODELS } from '../local/seed.js';
import { bundleFunction } from './lib/bundle.js';
import { startBenchPlatform } from './lib/platform.js';
import { record, table, verdict } from './lib/record.js';
import { microsSince, summarize } from './lib/stats.js';

const RUNS = 15;

function timeProcess(args: string[], env: NodeJS.ProcessEnv, cwd: string): number {
  const start = process.hrtime.bigint();
  const result = spawnSync(process.execPath, args, { env, cwd, encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe'] });
  const elapsed = microsSince(start) / 1000;
  if (result.status !== 0) throw new Error(`${args.join(' ')} failed: ${result.stderr}`);
  return elapsed;
}

/** Measures cold starts and records them. */
export async function runColdStartBench(): Promise<void> {
  const platform = await startBenchPlatform(SAMPLE_MODELS.filter((m) => m.name === 'iris'));
  try {
    const bundle = await bundleFunction('functions/predict/handler.ts');
    const cwd = await mkdtemp(join(tmpdir(), 'cold-'));
    const base = { PATH: process.env['PATH'], NODE_PATH: resolve('node_modules') };
    const { cloud } = platform;
    const predictEnv = async () => ({
      ...base,
      AWS_REGION: LOCAL_REGION,
      AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
      AWS_ENDPOINT_URL_DYNAMODB: cloud.endpoints.dynamodb,
      AWS_ENDPOINT_URL_S3: cloud.endpoints.s3,
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '1769',
      POWERTOOLS_SERVICE_NAME: 'predict',
      [ENV.registryTable]: cloud.resources.tableName,
      [ENV.lakeBucket]: cloud.resources.bucketName,
      // A new container has an empty /tmp.
      [ENV.modelCacheDir]: await mkdtemp(join(tmpdir(), 'cold-cache-')),
    });
    const floorArgs = [resolve('bench/cold/floor.cjs'), resolve('models/iris.onnx')];
    const predictArgs = [resolve('bench/cold/predict-once.cjs'), bundle.file];

    // Warm the OS file cache for both, then alternate to share the machine's noise.
    timeProcess(floorArgs, base, cwd);
    timeProcess(predictArgs, await predictEnv(), cwd);
    const floor: number[] = [];
    const predict: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      floor.push(timeProcess(floorArgs, base, cwd));
      predict.push(timeProcess(predictArgs, await predictEnv(), cwd));
    }
    const f = summarize(floor);
    const p = summarize(predict);
    const ratio = p.p50 / f.p50;
    const ms = (v: number) => `${v.toFixed(0)} ms`;
    const body = [
      `Fresh \`node\` process per run, ${RUNS} runs each, alternated; iris model; the predict run includes 3 registry reads (dynalite), the artifact download (s3rver), sha256 check and /tmp write.`,
      'Floor: `bench/cold/floor.cjs` (require onnxruntime-node, create the session from the file, run once).',
      `Predict: \`bench/cold/predict-once.cjs\` loading the bundled predict function (${(bundle.bytes / 1024).toFixed(0)} KB).`,
      '',
      table(
        ['process', 'p50', 'p90', 'min'],
        [
          ['floor', ms(f.p50), ms(f.p90), ms(Math.min(...floor))],
          ['bundled predict', ms(p.p50), ms(p.p90), ms(Math.min(...predict))],
        ],
      ),
      '',
      `- Cold start p50 = ${ratio.toFixed(2)} × floor (target ≤ 1.5): ${verdict(ratio <= 1.5)}`,
    ].join('\n');
    console.log(body);
    await record('Cold start', 'npm run bench -- cold-start', body);
  } finally {
    await platform.stop();
  }
}
