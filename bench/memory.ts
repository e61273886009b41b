/**
 * Memory: RSS growth over 10,000 predictions through the predict handler in one
 * process, and the number of ONNX Runtime sessions created meanwhile.
 */
import { InferenceSession } from 'onnxruntime-node';
import { SAMPLE_MODELS } from '../local/seed.js';
import { startBenchPlatform, withQuietStdout } from './lib/platform.js';
import { record, table, verdict } from './lib/record.js';

const PREDICTIONS = 10_000;
const WARM_UP = 1_000;

/** Measures memory growth and session reuse, and records them. */
export async function runMemoryBench(): Promise<void> {
  let sessionsCreated = 0;
  const create = InferenceSession.create.bind(InferenceSession);
  (InferenceSession as { create: typeof InferenceSession.create }).create = ((...args: Parameters<typeof create>) => {
    sessionsCreated++;
    return create(...args);
  }) as typeof InferenceSession.create;

  const platform = await startBenchPlatform(SAMPLE_MODELS.filter((m) => m.name === 'iris'));
  try {
    const body = JSON.stringify({
      inputs: ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'].map((name, i) => ({ name, shape: [1, 1], datatype: 'FP32', data: [[5.1, 3.5, 1.4, 0.2][i]] })),
    });
    const predict = platform.predictCall('/v2/models/{name}/infer', { name: 'iris' }, body);
    const predictOnce = async () => {
      const response = await predict();
      if (response.statusCode !== 200) throw new Error(response.body);
    };
    const sessionsBefore = sessionsCreated;
    await withQuietStdout(async () => {
      for (let i = 0; i < WARM_UP; i++) await predictOnce();
    });
    global.gc?.();
    const before = process.memoryUsage().rss;
    await withQuietStdout(async () => {
      for (let i = 0; i < PREDICTIONS; i++) await predictOnce();
    });
    global.gc?.();
    const after = process.memoryUsage().rss;
    const growth = (after - before) / before;
    const sessions = sessionsCreated - sessionsBefore;
    const mb = (v: number) => `${(v / 2 ** 20).toFixed(1)} MB`;
    const out = [
      `Predict handler in process (iris, v2 infer), ${WARM_UP} warm-up predictions, then ${PREDICTIONS}; RSS read after a GC (\`node --expose-gc\`) when available. Baseline: RSS after warm-up.`,
      '',
      table(
        ['measure', 'value', 'target', 'verdict'],
        [
          ['RSS after warm-up', mb(before), '—', '—'],
          [`RSS after ${PREDICTIONS} more`, mb(after), '—', '—'],
          ['RSS growth', `${(growth * 100).toFixed(2)} %`, '≤ 5 %', verdict(growth <= 0.05)],
          ['sessions created (all requests)', String(sessions), '1 (no session per request)', verdict(sessions === 1)],
        ],
      ),
    ].join('\n');
    console.log(out);
    await record('Memory', 'npm run bench -- memory', out);
  } finally {
    await platform.stop();
  }
}
