/**
 * `npm run bench [-- <name> ...]`: runs the benchmarks (all by default) and
 * appends their results to BENCHMARKS.md. Each benchmark runs in a process of its
 * own: the predict handler is loaded once per process, against one local cloud.
 */
import { spawnSync } from 'node:child_process';
import { runAliasPropagationBench } from './alias-propagation.js';
import { runAsyncInferenceBench } from './async-inference.js';
import { runBatchInputBench } from './batch-input.js';
import { runBatchScoringBench } from './batch-scoring.js';
import { runBinaryTensorsBench } from './binary-tensors.js';
import { runColdStartBench } from './cold-start.js';
import { runFootprintBench } from './footprint.js';
import { runIngestBench } from './ingest.js';
import { runIngestLibrariesBench } from './ingest-libraries.js';
import { runMemoryBench } from './memory.js';
import { runRolloutOverheadBench } from './rollout-overhead.js';
import { runSageMakerServingBench } from './sagemaker-serving.js';
import { runServingBench } from './serving.js';
import { runStreamBench } from './stream.js';
import { runTrainingBench } from './training.js';

const BENCHES: Record<string, () => Promise<void>> = {
  footprint: runFootprintBench,
  serving: runServingBench,
  'cold-start': runColdStartBench,
  memory: runMemoryBench,
  'ingest-libraries': () => runIngestLibrariesBench(),
  ingest: runIngestBench,
  'alias-propagation': runAliasPropagationBench,
  'rollout-overhead': runRolloutOverheadBench,
  'sagemaker-serving': runSageMakerServingBench,
  'binary-tensors': runBinaryTensorsBench,
  training: runTrainingBench,
  'async-inference': runAsyncInferenceBench,
  stream: runStreamBench,
  'batch-scoring': runBatchScoringBench,
  'batch-input': runBatchInputBench,
};

// Options (`--quick`) are read by the benchmarks themselves from process.argv and passed on to each.
const flags = process.argv.slice(2).filter((arg) => arg.startsWith('--'));
const wanted = process.argv.slice(2).filter((arg) => !arg.startsWith('--'));
const unknown = wanted.filter((name) => !(name in BENCHES));
if (unknown.length > 0) {
  console.error(`unknown benchmark(s): ${unknown.join(', ')}; choose from ${Object.keys(BENCHES).join(', ')}`);
  process.exit(2);
}
const names = wanted.length > 0 ? wanted : Object.keys(BENCHES);
if (names.length === 1) {
  await BENCHES[names[0]!]!();
} else {
  for (const name of names) {
    console.error(`== ${name}`);
    const run = spawnSync(process.execPath, [...process.execArgv, process.argv[1]!, name, ...flags], { stdio: 'inherit' });
    if (run.status !== 0) process.exit(run.status ?? 1);
  }
}
process.exit(0);
