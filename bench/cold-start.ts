/**
 * Cold start: fresh process → first prediction with the bundled predict function
 * (registry look-ups, artifact download and verification included), against the
 * floor: a minimal script that requires onnxruntime, creates the session, runs once.
 */
import { spawn } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { SAMPLE_MODELS } from '../local/seed.js';
import { bundleFunction } from './lib/bundle.js';
import { predictEnvironment, startBenchPlatform } from './lib/platform.js';
import { record, table, verdict } from './lib/record.js';
import { microsSince, summarize } from './lib/stats.js';

const RUNS = 15;

/**
 * Wall time of a fresh process, spawned asynchronously: the emulators it talks to
 * run in this process, so its event loop must stay free.
 */
function timeProcess(args: string[], env: NodeJS.ProcessEnv, cwd: string): Promise<{ ms: number; stdout: string }> {
  const start = process.hrtime.bigint();
  const child = spawn(process.execPath, args, { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      const ms = microsSince(start) / 1000;
      if (code === 0) resolve({ ms, stdout });
      else reject(new Error(`${args.join(' ')} failed: ${stderr}`));
    });
  });
}

/** The phase timings predict-once.cjs prints as its last line. */
function phases(stdout: string): { loadedAt: number; answeredAt: number } {
  const line = stdout.trim().split('\n').pop() ?? '{}';
  return JSON.parse(line) as { loadedAt: number; answeredAt: number };
}

/** Measures cold starts and records them. */
export async function runColdStartBench(): Promise<void> {
  const platform = await startBenchPlatform(SAMPLE_MODELS.filter((m) => m.name === 'iris'));
  try {
    const bundle = await bundleFunction('functions/predict/handler.ts');
    const cwd = await mkdtemp(join(tmpdir(), 'cold-'));
    const base = { PATH: process.env['PATH'], NODE_PATH: resolve('node_modules') };
    const { cloud } = platform;
    const predictEnv = async () => ({ ...(await predictEnvironment(cloud)), ...base });
    const floorArgs = [resolve('bench/cold/floor.cjs'), resolve('models/iris.onnx')];
    const predictArgs = [resolve('bench/cold/predict-once.cjs'), bundle.file];

    // Warm the OS file cache for both, then alternate to share the machine's noise.
    await timeProcess(floorArgs, base, cwd);
    await timeProcess(predictArgs, await predictEnv(), cwd);
    const floor: number[] = [];
    const predict: number[] = [];
    const loaded: number[] = [];
    const firstAnswer: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      floor.push((await timeProcess(floorArgs, base, cwd)).ms);
      const run = await timeProcess(predictArgs, await predictEnv(), cwd);
      predict.push(run.ms);
      const { loadedAt, answeredAt } = phases(run.stdout);
      loaded.push(loadedAt);
      firstAnswer.push(answeredAt - loadedAt);
    }
    const f = summarize(floor);
    const p = summarize(predict);
    const ratio = p.p50 / f.p50;
    const ms = (v: number) => `${v.toFixed(0)} ms`;
    const body = [
      `Fresh \`node\` process per run, ${RUNS} runs each, alternated; iris model; the predict run includes 2 registry reads (dynalite), the artifact download (s3rver), sha256 check and /tmp write.`,
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
      `Inside the predict process (p50): bundle loaded (Node start, onnxruntime-node, AWS SDK, Powertools, module init) at ${ms(summarize(loaded).p50)}; first answer ${ms(summarize(firstAnswer).p50)} later (registry query + version read, S3 download, sha256, /tmp write, session creation, first run).`,
      '',
      `- Cold start p50 = ${ratio.toFixed(2)} × floor (target ≤ 1.5): ${verdict(ratio <= 1.5)}`,
    ].join('\n');
    console.log(body);
    await record('Cold start', 'npm run bench -- cold-start', body);
  } finally {
    await platform.stop();
  }
}
